"""Working days on the official China calendar: holidays and make-up working days (调休).

The dates come from the maintained `chinesecalendar` package plus an override file for
years it does not know yet (next year's schedule is announced each November). A year with
no data counts Monday–Friday; `knows` tells the deadline arithmetic (rules.clock) so it
can say which years it assumed and the caller can warn loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field


class CalendarOverrides(BaseModel):
    """Dates the library does not know yet, e.g. next year's official schedule."""

    holidays: list[date] = Field(default_factory=list, description="days off (放假)")
    workdays: list[date] = Field(
        default_factory=list, description="make-up working days (调休上班)"
    )
    years: list[int] = Field(default_factory=list, description="years these lists cover completely")


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
