"""Working days on the official China calendar: holidays and make-up working days (调休).

The dates come from the maintained `chinesecalendar` package plus an override file for
years it does not know yet (next year's schedule is announced each November). Deadline
arithmetic never fails on an unknown year: it assumes Monday–Friday there and says which
years it assumed, so the caller can warn loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field


class CalendarOverrides(BaseModel):
    """Dates the library does not know yet, e.g. next year's official schedule."""

    holidays: list[date] = Field(default_factory=list, description="days off (放假)")
    workdays: list[date] = Field(
        default_factory=list, description="make-up working days (调休上班)"
    )
    years: list[int] = Field(default_factory=list, description="years these lists cover completely")


@dataclass(frozen=True)
class Deadline:
    at: datetime
    assumed_years: frozenset[int] = frozenset()  # years with no data: Monday–Friday assumed


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date]
    workdays: frozenset[date]
    known_years: frozenset[int]
    always_open: bool = False  # 24×7: every day counts

    @classmethod
    def china(cls, overrides: CalendarOverrides | None = None) -> WorkCalendar:
        import chinese_calendar

        holidays = set(chinese_calendar.holidays)
        workdays = set(chinese_calendar.workdays)
        # The package holds the official schedule of every year from its first to its last.
        first, last = min(holidays).year, max(holidays).year
        years = set(range(first, last + 1))
        if overrides is not None:
            holidays |= set(overrides.holidays)
            workdays |= set(overrides.workdays)
            holidays -= set(overrides.workdays)
            workdays -= set(overrides.holidays)
            years |= set(overrides.years)
        return cls(frozenset(holidays), frozenset(workdays), frozenset(years))

    @classmethod
    def round_the_clock(cls) -> WorkCalendar:
        return cls(frozenset(), frozenset(), frozenset(), always_open=True)

    def knows(self, year: int) -> bool:
        return self.always_open or year in self.known_years

    def is_working_day(self, day: date) -> bool:
        if self.always_open:
            return True
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int, tz: ZoneInfo) -> Deadline:
        """The same local time of day on the `days`-th working day after `start`.

        A start on a day off counts from the beginning of the next working day.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        local = start.astimezone(tz)
        assumed = set()
        day, clock = local.date(), local.timetz().replace(tzinfo=None)
        if not self.knows(day.year):
            assumed.add(day.year)
        if not self.is_working_day(day):
            clock = time(0)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if not self.knows(day.year):
                assumed.add(day.year)
            if self.is_working_day(day):
                counted += 1
        at = datetime.combine(day, clock, tzinfo=tz)
        return Deadline(at, frozenset(assumed))
