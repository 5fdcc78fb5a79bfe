"""Which event escalates to whom, and which clocks a step starts and stops."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rules.alerts import Level, Trigger
from rules.enums import Severity
from rules.escalation import (
    HANDLING,
    clock_start,
    clocks_stopped_by,
    on_clock,
    on_grading,
    on_plan_rejection,
    on_registration,
    on_run_failed,
    on_survey,
)
from rules.steps import Step

CASE = "TS-20261123-0001"
RECEIVED = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def fired(called: list) -> list[tuple[str, Trigger, Level]]:
    return [(c.key, c.trigger, c.level) for c in called]


def test_a_general_first_complaint_tells_nobody():
    assert on_registration(CASE, Severity.GENERAL, None) == []


def test_a_major_repeat_complaint_warns_its_handlers_and_tells_leadership():
    called = on_registration(CASE, Severity.MAJOR, "TS-20261101-0003")
    assert fired(called) == [
        (f"repeat:{CASE}", Trigger.REPEAT, Level.WARNING),
        (f"major:{CASE}", Trigger.MAJOR, Level.LEADERSHIP),
    ]
    assert called[0].reason is not None and "TS-20261101-0003" in called[0].reason


@pytest.mark.parametrize(
    ("was", "graded", "tells"),
    [
        (Severity.GENERAL, Severity.MAJOR, True),
        (Severity.MAJOR, Severity.MAJOR, False),  # told at registration already
        (Severity.MAJOR, Severity.SERIOUS, False),
        (Severity.GENERAL, Severity.SERIOUS, False),
    ],
)
def test_grading_up_to_major_tells_leadership_under_the_registrations_key(was, graded, tells):
    expected = [(f"major:{CASE}", Trigger.MAJOR, Level.LEADERSHIP)] if tells else []
    assert fired(on_grading(CASE, was, graded)) == expected


def test_the_second_plan_rejection_of_a_cycle_goes_to_the_operations_director():
    assert on_plan_rejection(CASE, 1, ["成本过高"]) == []
    (called,) = on_plan_rejection(CASE, 1, ["成本过高", "未覆盖赔偿"])
    assert (called.key, called.level, called.step, called.reason) == (
        f"plan-rejected:{CASE}:c1",
        Level.OPERATIONS_DIRECTOR,
        Step.PLAN.value,
        "未覆盖赔偿",
    )


def test_a_customer_rejecting_the_result_tells_leadership_once_per_cycle():
    assert on_survey(CASE, 0, True, None) == []
    assert fired(on_survey(CASE, 2, False, "不满意")) == [
        (f"rejected:{CASE}:c2", Trigger.REJECTED, Level.LEADERSHIP)
    ]


def test_a_failed_run_tells_the_department_head_once_per_failure():
    (first,) = on_run_failed(CASE, "grade", NOW, "FAILED: boom")
    (later,) = on_run_failed(CASE, "grade", datetime(2026, 11, 25, tzinfo=UTC), "FAILED: boom")
    assert first.level is Level.DEPARTMENT_HEAD and first.key != later.key
    assert first.reason == f"FAILED: boom — complaints retry {CASE}"


def test_each_rung_of_a_clock_has_its_own_key():
    levels = [Level.WARNING, Level.DEPARTMENT_HEAD]
    assert [c.key for c in on_clock(CASE, "verify", 0, levels)] == [
        f"sla:{CASE}:verify:c0:W",
        f"sla:{CASE}:verify:c0:L1",
    ]


@pytest.mark.parametrize(
    ("clock", "cycle", "starts"),
    [
        (Step.VERIFY, 0, RECEIVED),  # the response promised counts from receipt
        (HANDLING, 0, RECEIVED),
        (HANDLING, 1, NOW),  # a reopened cycle counts from reopening
        (Step.GRADE, 0, NOW),
        (Step.PLAN, 1, NOW),
    ],
)
def test_when_a_clock_starts_counting(clock, cycle, starts):
    assert clock_start(clock, cycle, RECEIVED, NOW) == starts


def test_feedback_stops_the_handling_clock_and_a_progress_report_stops_nothing():
    assert clocks_stopped_by(Step.FEEDBACK, True) == [Step.FEEDBACK.value, HANDLING]
    assert clocks_stopped_by(Step.EXECUTE, False) == []
    assert clocks_stopped_by(Step.EXECUTE, True) == [Step.EXECUTE.value]


def test_a_chase_after_the_promised_time_escalates_like_an_overdue_step_once_an_hour() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from rules.alerts import Level, Trigger
    from rules.escalation import on_chase

    promised = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    tz = ZoneInfo("Asia/Shanghai")

    assert on_chase("TS-20261130-0001", promised - timedelta(minutes=1), promised, tz) == []
    assert on_chase("TS-20261130-0001", promised, promised, tz) == []
    assert on_chase("TS-20261130-0001", promised + timedelta(days=1), None, tz) == []  # on hold
    (late,) = on_chase("TS-20261130-0001", promised + timedelta(minutes=5), promised, tz)
    (again,) = on_chase("TS-20261130-0001", promised + timedelta(minutes=50), promised, tz)
    (next_hour,) = on_chase("TS-20261130-0001", promised + timedelta(minutes=65), promised, tz)
    assert (late.trigger, late.level) == (Trigger.CHASED, Level.DEPARTMENT_HEAD)
    assert late.key == again.key != next_hour.key
    assert "2026-12-01 10:00" in (late.reason or "")  # the promise in local time
