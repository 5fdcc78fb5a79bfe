"""Working days on the official China calendar: holidays and make-up working days (调休).

The dates come from the maintained `chinesecalendar` package, which holds each year's
official schedule once the State Council publishes it (each November for the next year).
For a later year the statutory holidays are still known — 元旦, 春节, 清明, 劳动节, 端午,
中秋, 国庆 fall on fixed or lunar dates — and come from `holidays` (python-holidays); the
days off that are bridged to them and the make-up working days are not, so such a year is
still not `knows`n: the deadline arithmetic (rules.working_time) reports it as assumed and the
caller warns loudly. An override file wins over both, and a year it lists is its own.
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


# How far past the official schedule the statutory holidays are filled in; a deadline is at
# most 180 days out, and a hold can push it a few years at most (rules.working_time searches ten).
STATUTORY_YEARS_AHEAD = 10


def statutory_holidays(years: range) -> set[date]:
    """The statutory public holidays of China in `years`, without the observed or bridged
    days off (those come with the official schedule only)."""
    import holidays

    return set(holidays.China(years=years, observed=False))


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
        ahead = range(last + 1, last + 1 + STATUTORY_YEARS_AHEAD)
        covered = set(overrides.years) if overrides is not None else set()
        holidays |= {day for day in statutory_holidays(ahead) if day.year not in covered}
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
