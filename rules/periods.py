"""Report periods: a month (2026-10), a half year (2026-H1) or a year (2026), in local time.

A period is a half-open interval [start, end) of local calendar time, converted to UTC for
the ledger's queries, so a complaint received at 23:30 on 31 October in Shanghai belongs
to October however the database stores it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class Kind(StrEnum):
    MONTHLY = "monthly"
    HALF_YEAR = "half_year"
    ANNUAL = "annual"

    @property
    def label(self) -> str:
        return {
            Kind.MONTHLY: "月度投诉分析报告 / Monthly complaint analysis",
            Kind.HALF_YEAR: "半年度投诉分析报告 / Half-year complaint analysis",
            Kind.ANNUAL: "年度投诉总结 / Annual complaint summary",
        }[self]


_FORMS = {
    Kind.MONTHLY: re.compile(r"^(\d{4})-(\d{2})$"),
    Kind.HALF_YEAR: re.compile(r"^(\d{4})-H([12])$"),
    Kind.ANNUAL: re.compile(r"^(\d{4})$"),
}
_EXAMPLES = {Kind.MONTHLY: "2026-10", Kind.HALF_YEAR: "2026-H1", Kind.ANNUAL: "2026"}


@dataclass(frozen=True, order=True)
class Period:
    kind: Kind
    year: int
    index: int  # month 1–12, half 1–2, or 1 for a year

    @classmethod
    def parse(cls, kind: Kind | str, text: str) -> Period:
        kind = Kind(kind)
        found = _FORMS[kind].match(text.strip())
        if found is None:
            raise ValueError(
                f"{text!r} is not a {kind.value} period: write it like {_EXAMPLES[kind]}"
            )
        year = int(found.group(1))
        index = int(found.group(2)) if kind is not Kind.ANNUAL else 1
        if kind is Kind.MONTHLY and not 1 <= index <= 12:
            raise ValueError(f"{text!r}: there is no month {index}")
        if not 2000 <= year <= 2999:
            raise ValueError(f"{text!r}: the year is out of range")
        return cls(kind, year, index)

    @classmethod
    def containing(cls, kind: Kind | str, moment: datetime, tz: ZoneInfo) -> Period:
        local = moment.astimezone(tz)
        kind = Kind(kind)
        if kind is Kind.MONTHLY:
            return cls(kind, local.year, local.month)
        if kind is Kind.HALF_YEAR:
            return cls(kind, local.year, 1 if local.month <= 6 else 2)
        return cls(kind, local.year, 1)

    @classmethod
    def last_complete(cls, kind: Kind | str, now: datetime, tz: ZoneInfo) -> Period:
        """The period a scheduled report covers: the one before the period of `now`."""
        return cls.containing(kind, now, tz).previous()

    def __str__(self) -> str:
        if self.kind is Kind.MONTHLY:
            return f"{self.year}-{self.index:02d}"
        if self.kind is Kind.HALF_YEAR:
            return f"{self.year}-H{self.index}"
        return str(self.year)

    @property
    def first_day(self) -> date:
        if self.kind is Kind.MONTHLY:
            return date(self.year, self.index, 1)
        if self.kind is Kind.HALF_YEAR:
            return date(self.year, 1 if self.index == 1 else 7, 1)
        return date(self.year, 1, 1)

    def next(self) -> Period:
        size = {Kind.MONTHLY: 12, Kind.HALF_YEAR: 2, Kind.ANNUAL: 1}[self.kind]
        if self.index < size:
            return Period(self.kind, self.year, self.index + 1)
        return Period(self.kind, self.year + 1, 1)

    def previous(self) -> Period:
        size = {Kind.MONTHLY: 12, Kind.HALF_YEAR: 2, Kind.ANNUAL: 1}[self.kind]
        if self.index > 1:
            return Period(self.kind, self.year, self.index - 1)
        return Period(self.kind, self.year - 1, size)

    def year_before(self) -> Period:
        return Period(self.kind, self.year - 1, self.index)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC, from local midnights."""
        start = datetime.combine(self.first_day, time(0), tzinfo=tz)
        end = datetime.combine(self.next().first_day, time(0), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def months(self) -> list[Period]:
        """The months of this period, in order."""
        first = Period(Kind.MONTHLY, self.year, self.first_day.month)
        count = {Kind.MONTHLY: 1, Kind.HALF_YEAR: 6, Kind.ANNUAL: 12}[self.kind]
        months = [first]
        while len(months) < count:
            months.append(months[-1].next())
        return months


def trailing_months(last: Period, count: int = 12) -> list[Period]:
    """The `count` months ending with the last month of `last`, oldest first."""
    month = last.months()[-1]
    months = [month]
    while len(months) < count:
        months.insert(0, months[0].previous())
    return months
