"""The ledger (台账): SQLAlchemy 2 typed mappings, repositories and the unit of work."""
