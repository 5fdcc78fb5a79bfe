"""Reporting: the analysis figures from the ledger, their rendering and delivery, and the
corrective actions the half-year notices open."""
