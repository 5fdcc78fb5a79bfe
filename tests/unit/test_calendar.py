"""Working days on the 2026 China calendar: holidays, 调休 make-up days, unknown years."""

from __future__ import annotations

from datetime import date

import pytest

from rules.calendar import CalendarOverrides, WorkCalendar

CHINA = WorkCalendar.china()


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


def test_an_override_file_teaches_the_calendar_a_new_year():
    overrides = CalendarOverrides(
        holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 9)], years=[2027]
    )
    calendar = WorkCalendar.china(overrides)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 9))  # a Saturday made a working day
    assert calendar.knows(2027)
    assert not CHINA.knows(2027)


def test_the_round_the_clock_mode_knows_every_day_as_working():
    calendar = WorkCalendar.round_the_clock()
    assert calendar.is_working_day(date(2026, 10, 1))
    assert calendar.knows(2030)


@pytest.mark.parametrize(
    "day",
    [date(2027, 1, 1), date(2027, 2, 6), date(2027, 4, 5), date(2027, 10, 1), date(2028, 10, 3)],
)
def test_a_year_before_its_official_schedule_still_has_its_statutory_holidays(day: date):
    assert not CHINA.is_working_day(day)
    assert not CHINA.knows(day.year)  # the bridged days off and make-up days are not known


def test_a_year_in_the_override_file_is_taken_from_the_file_alone():
    # The file's 2027 says nothing of 1 October: it is the user's schedule, not a guess.
    calendar = WorkCalendar.china(CalendarOverrides(holidays=[date(2027, 1, 1)], years=[2027]))
    assert calendar.is_working_day(date(2027, 10, 1))
    assert not calendar.is_working_day(date(2028, 10, 2))
