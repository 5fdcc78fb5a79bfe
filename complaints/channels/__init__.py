"""The ways complaints arrive by themselves and customers reach their case: the intake API
per channel, the customer's own status and survey pages, their signed links."""
