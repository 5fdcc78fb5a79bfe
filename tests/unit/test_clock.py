"""SLA clock rules on the 2026 China calendar: hours, working days, business hours, pauses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from rules.calendar import CalendarOverrides, WorkCalendar
from rules.working_time import BusinessHours, Clock, Limit, Pause, Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINA = WorkCalendar.china()
ROUND_THE_CLOCK = Clock(CHINA, SHANGHAI)
OFFICE = Clock(CHINA, SHANGHAI, BusinessHours(start=time(9), end=time(18)))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def due(clock: Clock, start: str, limit: str, pauses: tuple[Pause, ...] = ()) -> datetime | None:
    parsed = Limit.model_validate(limit)
    reached = clock.reach(at(start), parsed.counted_time(clock.working_day), parsed.unit, pauses)
    assert reached.assumed_years == frozenset()
    return reached.at


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        ("2026-11-23 10:00", "24h", "2026-11-24 10:00"),
        ("2026-11-23 23:30", "2h", "2026-11-24 01:30"),  # crosses midnight
        ("2026-11-21 10:00", "12h", "2026-11-21 22:00"),  # a Saturday: hours count every day
        ("2026-09-30 16:00", "48h", "2026-10-02 16:00"),  # hours run through National Day
        ("2026-11-23 10:00", "90s", "2026-11-23 10:01:30"),
    ],
)
def test_hour_limits_count_round_the_clock_without_business_hours(start, limit, expected):
    assert due(ROUND_THE_CLOCK, start, limit) == at(expected)


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        ("2026-11-23 10:00", "4wd", "2026-11-27 10:00"),  # Monday → Friday
        ("2026-11-26 23:30", "4wd", "2026-12-02 23:30"),  # crosses a weekend and midnight
        ("2026-11-27 15:00", "1wd", "2026-11-30 15:00"),  # Friday → Monday
        ("2026-11-21 15:00", "1wd", "2026-11-24 00:00"),  # received Saturday: Monday counts whole
        ("2026-09-30 16:00", "4wd", "2026-10-12 16:00"),  # 10-08, 10-09, 10-10 (调休 Saturday)
        ("2026-02-13 09:00", "2wd", "2026-02-24 09:00"),  # Spring Festival: 02-14 (调休) counts
        ("2026-09-19 10:00", "1wd", "2026-09-21 00:00"),  # Saturday off; Sunday 09-20 is 调休
        ("2026-09-20 10:00", "1wd", "2026-09-21 10:00"),  # received on the 调休 Sunday itself
        ("2026-10-01 10:00", "1wd", "2026-10-09 00:00"),  # received during the holiday
    ],
)
def test_working_day_limits_follow_the_official_calendar(start, limit, expected):
    assert due(ROUND_THE_CLOCK, start, limit) == at(expected)


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        ("2026-11-23 17:00", "2h", "2026-11-24 10:00"),  # after hours: next morning, not night
        ("2026-11-27 17:30", "1h", "2026-11-30 09:30"),  # Friday evening → Monday
        ("2026-11-24 22:00", "2h", "2026-11-25 11:00"),  # received at night
        ("2026-11-23 09:00", "9h", "2026-11-23 18:00"),  # ends at closing time, not next day
        ("2026-09-30 17:00", "2h", "2026-10-08 10:00"),  # National Day in between
        ("2026-10-09 17:00", "2h", "2026-10-10 10:00"),  # 调休 Saturday is a working day
        ("2026-11-27 15:00", "4wd", "2026-12-03 15:00"),  # working days of business hours
    ],
)
def test_business_hours_count_only_office_hours_of_working_days(start, limit, expected):
    assert due(OFFICE, start, limit) == at(expected)


def test_a_paused_interval_does_not_count():
    pause = Pause(at("2026-11-23 12:00"), at("2026-11-23 15:00"))
    assert due(ROUND_THE_CLOCK, "2026-11-23 10:00", "24h", (pause,)) == at("2026-11-24 13:00")


def test_a_clock_still_paused_has_no_deadline():
    pause = Pause(at("2026-11-23 12:00"))
    assert due(ROUND_THE_CLOCK, "2026-11-23 10:00", "24h", (pause,)) is None


def test_a_deadline_reached_before_a_pause_starts_stands():
    pause = Pause(at("2026-11-23 13:00"))
    assert due(ROUND_THE_CLOCK, "2026-11-23 10:00", "2h", (pause,)) == at("2026-11-23 12:00")


def test_a_pause_over_a_weekend_costs_only_the_working_time_it_covered():
    # Thu 10:00 + 2 working days, waiting on the customer Fri 09:00 → Mon 09:00:
    # Thursday 14 h + Friday 9 h count, then Monday from 09:00 (15 h) and Tuesday 10 h.
    pause = Pause(at("2026-11-27 09:00"), at("2026-11-30 09:00"))
    assert due(ROUND_THE_CLOCK, "2026-11-26 10:00", "2wd") == at("2026-11-30 10:00")
    assert due(ROUND_THE_CLOCK, "2026-11-26 10:00", "2wd", (pause,)) == at("2026-12-01 10:00")


def test_a_pause_on_a_day_off_does_not_move_a_working_day_deadline():
    pause = Pause(at("2026-11-28 09:00"), at("2026-11-29 20:00"))  # Saturday → Sunday
    assert due(ROUND_THE_CLOCK, "2026-11-27 10:00", "1wd", (pause,)) == at("2026-11-30 10:00")


def test_several_pauses_and_one_before_the_start_add_up():
    pauses = (
        Pause(at("2026-11-22 08:00"), at("2026-11-23 11:00")),  # partly before the start
        Pause(at("2026-11-23 14:00"), at("2026-11-23 16:00")),
        Pause(at("2026-11-23 15:00"), at("2026-11-23 17:00")),  # overlaps the previous one
    )
    # Counted: nothing until 11:00, 11:00–14:00 (3 h), then from 17:00 on.
    assert due(ROUND_THE_CLOCK, "2026-11-23 10:00", "5h", pauses) == at("2026-11-23 19:00")


def test_counted_time_leaves_out_nights_days_off_and_pauses():
    pause = Pause(at("2026-11-24 10:00"), at("2026-11-24 12:00"))
    used = OFFICE.counted(at("2026-11-23 17:00"), at("2026-11-24 13:00"), Unit.HOURS, (pause,))
    assert used == timedelta(hours=1 + 1 + 1)  # 17–18, 09–10, 12–13
    assert OFFICE.counted(at("2026-11-24 13:00"), at("2026-11-23 17:00"), Unit.HOURS) == timedelta(
        0
    )


def test_counted_time_stops_at_a_pause_that_has_not_ended():
    pause = Pause(at("2026-11-23 12:00"))
    used = ROUND_THE_CLOCK.counted(
        at("2026-11-23 10:00"), at("2026-11-23 20:00"), Unit.HOURS, (pause,)
    )
    assert used == timedelta(hours=2)


def test_a_year_without_its_official_schedule_keeps_its_statutory_holidays_but_says_so():
    # 元旦 2027 is a Friday: a 4-working-day limit from 28 December is not due on it.
    reached = ROUND_THE_CLOCK.reach(at("2026-12-28 10:00"), timedelta(days=4), Unit.WORKING_DAYS)
    assert reached.at == at("2027-01-04 10:00")
    # The make-up working days of 2027 are not published yet: the caller must warn.
    assert reached.assumed_years == frozenset({2027})


def test_an_override_file_teaches_the_calendar_a_new_year():
    overrides = CalendarOverrides(
        holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 9)], years=[2027]
    )
    clock = Clock(WorkCalendar.china(overrides), SHANGHAI)
    reached = clock.reach(at("2026-12-30 10:00"), timedelta(days=4), Unit.WORKING_DAYS)
    assert reached.at == at("2027-01-06 10:00")
    assert reached.assumed_years == frozenset()


def test_the_round_the_clock_mode_counts_every_day_as_a_working_day():
    clock = Clock(WorkCalendar.round_the_clock(), SHANGHAI)
    assert due(clock, "2026-10-01 08:00", "3wd") == at("2026-10-04 08:00")


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("24h", 24, Unit.HOURS),
        ("4wd", 4, Unit.WORKING_DAYS),
        ("30m", 0.5, Unit.HOURS),
        ("90s", 0.025, Unit.HOURS),
        (12, 12, Unit.HOURS),
        (" 2 H ", 2, Unit.HOURS),
    ],
)
def test_limits_are_written_as_hours_or_working_days(text, amount, unit):
    limit = Limit.model_validate(text)
    assert (limit.amount, limit.unit) == (pytest.approx(amount), unit)


@pytest.mark.parametrize("text", ["24", "four days", "-3h", "4d", ""])
def test_an_unreadable_limit_is_refused_with_an_example(text):
    with pytest.raises(ValidationError, match="time limit"):
        Limit.model_validate(text)


def test_business_hours_must_start_before_they_end():
    with pytest.raises(ValidationError, match="start before"):
        BusinessHours(start=time(18), end=time(9))
