"""SLA clocks: which time counts, and when a limit of counted time is reached.

A limit is hours or working days. Hours count round the clock unless business hours are
configured; then they count only business hours on working days. Working days count whole
working days of the official calendar (or their business hours). Time while the case
waits on the customer does not count: paused intervals are cut out of the counted time.

Everything here is pure: a start, an amount, the paused intervals, and the answer. The
deadline is derived from that history every time, never from a stored counter, so a
pause, a resumption or a regrading moves it exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, model_validator

from rules.calendar import WorkCalendar

HORIZON_DAYS = 3660  # no deadline is searched for further than ten years ahead
DAY = timedelta(days=1)


class Unit(StrEnum):
    HOURS = "hours"
    WORKING_DAYS = "working_days"


_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|wd)\s*$")
_SECONDS = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0}


class Limit(BaseModel, frozen=True):
    """A time limit: ``"24h"``, ``"4wd"`` (working days); ``"90s"`` and ``"30m"`` for tests."""

    amount: float
    unit: Unit = Unit.HOURS

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"amount": value, "unit": Unit.HOURS}
        if isinstance(value, str):
            found = _LIMIT.match(value.lower())
            if found is None:
                raise ValueError(
                    f"{value!r} is not a time limit: write e.g. '24h', '4wd' (working days), "
                    "'30m' or '90s'"
                )
            amount, suffix = float(found.group(1)), found.group(2)
            if suffix == "wd":
                return {"amount": amount, "unit": Unit.WORKING_DAYS}
            return {"amount": amount * _SECONDS[suffix], "unit": Unit.HOURS}
        return value

    @model_validator(mode="after")
    def _not_negative(self) -> Limit:
        if self.amount < 0:
            raise ValueError("a time limit cannot be negative")
        return self

    def counted_time(self, working_day: timedelta) -> timedelta:
        """How much counted time the limit allows on a clock whose working day is this long."""
        if self.unit is Unit.WORKING_DAYS:
            return working_day * self.amount
        return timedelta(hours=self.amount)

    def __str__(self) -> str:
        if self.unit is Unit.WORKING_DAYS:
            return f"{self.amount:g}wd"
        return f"{self.amount:g}h"


class BusinessHours(BaseModel, frozen=True):
    start: time = time(9)
    end: time = time(18)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if not self.start < self.end:
            raise ValueError("business hours must start before they end on the same day")
        return self

    @property
    def length(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)


@dataclass(frozen=True)
class Pause:
    """The case waited on the customer from `start` until `end` (None: still waiting)."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Reached:
    """When an amount of counted time is reached; `at` is None while the clock is paused."""

    at: datetime | None
    assumed_years: frozenset[int] = frozenset()  # no calendar data: Monday–Friday assumed


@dataclass(frozen=True)
class Clock:
    calendar: WorkCalendar
    tz: ZoneInfo
    business_hours: BusinessHours | None = None

    @property
    def working_day(self) -> timedelta:
        return self.business_hours.length if self.business_hours else DAY

    def reach(
        self,
        start: datetime,
        amount: timedelta,
        unit: Unit,
        pauses: Sequence[Pause] = (),
    ) -> Reached:
        """The moment `amount` of counted time has passed since `start`."""
        remaining = amount
        assumed: set[int] = set()
        if remaining <= timedelta(0):
            return Reached(start.astimezone(UTC))
        for lo, hi, year in self._spans(start, unit):
            if year is not None:
                assumed.add(year)
            for piece_lo, piece_hi in _cut(lo, hi, pauses):
                if piece_hi is None:  # paused with no end: the clock stands still
                    return Reached(None, frozenset(assumed))
                length = piece_hi - piece_lo
                if remaining <= length:
                    return Reached(piece_lo + remaining, frozenset(assumed))
                remaining -= length
        raise ValueError(f"no {amount} of counted time within {HORIZON_DAYS} days of {start}")

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself within business hours on a working day (or without business hours);
        else when they next open."""
        if self.business_hours is None:
            return at.astimezone(UTC)
        for lo, _hi, _year in self._spans(at, Unit.HOURS):
            return lo
        raise ValueError(f"no business hours within {HORIZON_DAYS} days of {at}")

    def counted(
        self, start: datetime, end: datetime, unit: Unit, pauses: Sequence[Pause] = ()
    ) -> timedelta:
        """Counted time between two moments (zero if `end` is not after `start`)."""
        total = timedelta(0)
        end = end.astimezone(UTC)
        for lo, hi, _ in self._spans(start, unit):
            if lo >= end:
                break
            for piece_lo, piece_hi in _cut(lo, min(hi, end), pauses):
                if piece_hi is None:  # still paused: nothing after the pause counts
                    return total
                total += piece_hi - piece_lo
        return total

    def _spans(
        self, start: datetime, unit: Unit
    ) -> Iterator[tuple[datetime, datetime, int | None]]:
        """Counted spans from `start` on, in UTC, with the year assumed for each (or None)."""
        start = start.astimezone(UTC)
        if unit is Unit.HOURS and self.business_hours is None:
            yield start, start + timedelta(days=HORIZON_DAYS), None
            return
        day = start.astimezone(self.tz).date()
        for _ in range(HORIZON_DAYS):
            if self.calendar.is_working_day(day):
                lo, hi = self._day_span(day)
                if hi > start:
                    unknown = None if self.calendar.knows(day.year) else day.year
                    yield max(lo, start), hi, unknown
            day += DAY

    def _day_span(self, day: date) -> tuple[datetime, datetime]:
        if self.business_hours is None:
            lo = datetime.combine(day, time(0), tzinfo=self.tz)
            hi = datetime.combine(day + DAY, time(0), tzinfo=self.tz)
        else:
            lo = datetime.combine(day, self.business_hours.start, tzinfo=self.tz)
            hi = datetime.combine(day, self.business_hours.end, tzinfo=self.tz)
        return lo.astimezone(UTC), hi.astimezone(UTC)


def _cut(
    lo: datetime, hi: datetime, pauses: Sequence[Pause]
) -> Iterator[tuple[datetime, datetime | None]]:
    """The parts of [lo, hi) outside the paused intervals; (x, None) if a pause never ends."""
    cursor = lo
    for pause in sorted(pauses, key=lambda p: p.start):
        p_lo = pause.start.astimezone(UTC)
        p_hi = pause.end.astimezone(UTC) if pause.end is not None else None
        if p_hi is not None and p_hi <= cursor:
            continue
        if p_lo >= hi:
            break
        if p_lo > cursor:
            yield cursor, p_lo
        if p_hi is None:
            yield max(cursor, p_lo), None
            return
        cursor = max(cursor, p_hi)
        if cursor >= hi:
            return
    if cursor < hi:
        yield cursor, hi
