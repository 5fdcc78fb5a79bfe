"""Notifications: messages to the customer (templates, e-mail) and the Slack outbox."""
