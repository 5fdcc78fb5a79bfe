"""The product's deployments, declared once (see definitions.py)."""
