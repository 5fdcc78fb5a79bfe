"""Case numbers: TS-YYYYMMDD-NNNN, numbered per local calendar day of receipt."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

PATTERN = re.compile(r"TS-[0-9]{8}-[0-9]{4,}")


def local_day(received_at: datetime, tz: ZoneInfo) -> date:
    return received_at.astimezone(tz).date()


def format_case_number(day: date, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("sequence starts at 1")
    return f"TS-{day:%Y%m%d}-{sequence:04d}"


def is_case_number(text: str) -> bool:
    return bool(PATTERN.fullmatch(text))


def normalize(text: object) -> object:
    """What a person types for a case number, as it is stored: `ts-20261201-0001 ` is
    TS-20261201-0001. Anything that is not text is left for the validator to refuse."""
    return text.strip().upper() if isinstance(text, str) else text
