"""Prefect flows: orchestration only — the order of steps, the waits, the branches."""
