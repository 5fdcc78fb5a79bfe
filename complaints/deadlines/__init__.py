"""Deadlines and escalation: a case's SLA clocks in the ledger, recording escalations, and
the watch that fires them (the rules themselves are in rules.escalation and rules.sla)."""
