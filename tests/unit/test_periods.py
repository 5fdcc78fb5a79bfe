"""Report periods in local time: months, half years, years, and their UTC bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from rules.periods import Kind, Period, trailing_months

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("kind", "text", "start", "end"),
    [
        ("monthly", "2026-10", "2026-09-30 16:00", "2026-10-31 16:00"),
        ("monthly", "2026-12", "2026-11-30 16:00", "2026-12-31 16:00"),
        ("half_year", "2026-H1", "2025-12-31 16:00", "2026-06-30 16:00"),
        ("half_year", "2026-H2", "2026-06-30 16:00", "2026-12-31 16:00"),
        ("annual", "2026", "2025-12-31 16:00", "2026-12-31 16:00"),
    ],
)
def test_a_period_runs_from_local_midnight_to_local_midnight(kind, text, start, end):
    period = Period.parse(kind, text)
    assert str(period) == text
    assert period.bounds(SHANGHAI) == (
        datetime.fromisoformat(start).replace(tzinfo=UTC),
        datetime.fromisoformat(end).replace(tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("kind", "text"),
    [("monthly", "2026-13"), ("monthly", "2026-1"), ("half_year", "2026-H3"), ("annual", "26")],
)
def test_a_malformed_period_is_refused_with_an_example(kind, text):
    with pytest.raises(ValueError, match=r"write it like|no month"):
        Period.parse(kind, text)


def test_a_scheduled_report_covers_the_period_before_the_one_it_runs_in():
    seventh = datetime(2026, 1, 7, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert str(Period.last_complete(Kind.MONTHLY, seventh, SHANGHAI)) == "2025-12"
    assert str(Period.last_complete(Kind.HALF_YEAR, seventh, SHANGHAI)) == "2025-H2"
    assert str(Period.last_complete(Kind.ANNUAL, seventh, SHANGHAI)) == "2025"
    july = datetime(2026, 7, 7, 1, 0, tzinfo=UTC)
    assert str(Period.last_complete(Kind.HALF_YEAR, july, SHANGHAI)) == "2026-H1"


def test_the_local_day_decides_the_period_not_the_utc_day():
    late = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 November in Shanghai
    assert str(Period.containing(Kind.MONTHLY, late, SHANGHAI)) == "2026-11"


def test_comparisons_use_the_previous_period_and_the_same_period_a_year_before():
    october = Period.parse("monthly", "2026-10")
    assert str(october.previous()) == "2026-09"
    assert str(Period.parse("monthly", "2026-01").previous()) == "2025-12"
    assert str(october.year_before()) == "2025-10"
    assert str(Period.parse("half_year", "2026-H1").previous()) == "2025-H2"


def test_the_trend_covers_the_twelve_months_up_to_the_period():
    months = trailing_months(Period.parse("half_year", "2026-H1"))
    assert [str(m) for m in months][:1] + [str(m) for m in months][-1:] == ["2025-07", "2026-06"]
    assert len(months) == 12
    assert [str(m) for m in Period.parse("annual", "2026").months()][::11] == ["2026-01", "2026-12"]
