"""The one clock. Nothing else calls datetime.now(): rules take `now` as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
