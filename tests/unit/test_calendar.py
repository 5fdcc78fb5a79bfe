"""Working days on the 2026 China calendar: holidays, 调休 make-up days, unknown years."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from rules.calendar import CalendarOverrides, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINA = WorkCalendar.china()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, 调休 working day
        (date(2026, 9, 20), True),  # Sunday, 调休 working day
        (date(2026, 2, 14), True),  # Saturday before Spring Festival, 调休
        (date(2026, 2, 17), False),  # Spring Festival
        (date(2026, 11, 21), False),  # an ordinary Saturday
        (date(2026, 11, 23), True),  # an ordinary Monday
    ],
)
def test_the_2026_calendar_knows_holidays_and_make_up_working_days(day: date, working: bool):
    assert CHINA.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        ("2026-11-23 10:00", 4, "2026-11-27 10:00"),  # Monday + 4 → Friday
        ("2026-11-26 23:30", 4, "2026-12-02 23:30"),  # crosses a weekend and midnight
        ("2026-11-21 15:00", 1, "2026-11-23 00:00"),  # received on Saturday: counts from Monday
        ("2026-09-30 16:00", 4, "2026-10-12 16:00"),  # 10-08, 10-09, 10-10 (调休 Saturday), 10-12
        ("2026-02-13 09:00", 2, "2026-02-24 09:00"),  # Spring Festival: 02-14 counts, 15–23 off
        ("2026-11-23 10:00", 0, "2026-11-23 10:00"),
    ],
)
def test_working_days_skip_weekends_and_holidays_and_count_make_up_days(
    start: str, days: int, due: str
):
    deadline = CHINA.add_working_days(at(start), days, SHANGHAI)
    assert deadline.at == at(due)
    assert deadline.assumed_years == frozenset()


def test_a_deadline_in_a_year_without_data_says_it_assumed_monday_to_friday():
    deadline = CHINA.add_working_days(at("2026-12-30 10:00"), 4, SHANGHAI)
    assert deadline.at == at("2027-01-05 10:00")  # 1 January 2027 not yet known: weekday rule
    assert deadline.assumed_years == frozenset({2027})


def test_an_override_file_teaches_the_calendar_a_new_year():
    overrides = CalendarOverrides(
        holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 9)], years=[2027]
    )
    calendar = WorkCalendar.china(overrides)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 9))  # a Saturday made a working day
    deadline = calendar.add_working_days(at("2026-12-30 10:00"), 4, SHANGHAI)
    assert deadline.at == at("2027-01-06 10:00")
    assert deadline.assumed_years == frozenset()


def test_the_round_the_clock_mode_counts_every_day():
    calendar = WorkCalendar.round_the_clock()
    assert calendar.add_working_days(at("2026-10-01 08:00"), 3, SHANGHAI).at == at(
        "2026-10-04 08:00"
    )


def test_a_negative_number_of_days_is_refused():
    with pytest.raises(ValueError, match="negative"):
        CHINA.add_working_days(at("2026-11-23 10:00"), -1, SHANGHAI)
