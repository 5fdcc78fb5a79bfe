"""A flow that does nothing: the yardstick deployment `empty/empty` of `intake_rate`."""

from __future__ import annotations

from prefect import flow


@flow(name="empty")
def empty() -> None:
    """Nothing: only the creation of its runs is measured (no worker runs them)."""
