"""Step deadlines (rules.sla): plain hours from the policy, no working-day calendar yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from rules.enums import Scope, Severity
from rules.sla import SlaPolicy, response_promise_hours, step_due_at
from rules.steps import HUMAN_STEPS, Step

CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
POLICY = SlaPolicy()


@pytest.mark.parametrize(
    ("severity", "hours"),
    [(Severity.GENERAL, 24), (Severity.SERIOUS, 12), (Severity.MAJOR, 2)],
)
def test_verification_is_due_within_the_response_time_of_the_severity(severity, hours):
    due = step_due_at(Step.VERIFY, START, POLICY, severity)
    assert due == START + timedelta(hours=hours)


def test_a_serious_complaint_must_be_verified_within_12_hours():
    due = step_due_at(Step.VERIFY, START, POLICY, Severity.SERIOUS)
    assert due == datetime(2026, 11, 23, 21, 0, tzinfo=CST)


def test_a_major_complaint_must_be_verified_within_2_hours():
    due = step_due_at(Step.VERIFY, START, POLICY, Severity.MAJOR)
    assert due == datetime(2026, 11, 23, 11, 0, tzinfo=CST)


@pytest.mark.parametrize(
    ("severity", "hours"),
    [(Severity.GENERAL, 24), (Severity.SERIOUS, 12), (Severity.MAJOR, 2)],
)
def test_the_response_time_promised_to_the_customer_follows_the_severity(severity, hours):
    assert response_promise_hours(POLICY, severity) == hours


@pytest.mark.parametrize(
    ("scope", "hours"),
    [(Scope.DEPARTMENT, 24), (Scope.CITY, 48), (Scope.PREFECTURE, 96)],
)
def test_the_plan_is_due_within_the_handling_time_of_the_scope(scope, hours):
    due = step_due_at(Step.PLAN, START, POLICY, Severity.GENERAL, scope=scope)
    assert due == START + timedelta(hours=hours)


@pytest.mark.parametrize("severity", list(Severity))
def test_the_plan_deadline_does_not_depend_on_severity(severity):
    due = step_due_at(Step.PLAN, START, POLICY, severity, scope=Scope.CITY)
    assert due == START + timedelta(hours=48)


def test_a_plan_defaults_to_department_scope():
    assert step_due_at(Step.PLAN, START, POLICY, Severity.GENERAL) == START + timedelta(hours=24)


def test_execution_is_due_at_the_deadline_of_the_approved_plan():
    plan_deadline = datetime(2026, 12, 1, 18, 0, tzinfo=CST)
    due = step_due_at(Step.EXECUTE, START, POLICY, Severity.MAJOR, plan_deadline=plan_deadline)
    assert due == plan_deadline


def test_execution_without_a_plan_deadline_has_no_due_time():
    assert step_due_at(Step.EXECUTE, START, POLICY, Severity.GENERAL) is None


@pytest.mark.parametrize(
    ("step", "hours"),
    [
        (Step.GRADE, 8),
        (Step.APPROVE_GRADE, 8),
        (Step.APPROVE_PLAN, 8),
        (Step.FEEDBACK, 24),
        (Step.CALLBACK, 48),
    ],
)
def test_the_other_waiting_steps_have_fixed_limits(step, hours):
    for severity in Severity:
        due = step_due_at(step, START, POLICY, severity, scope=Scope.PREFECTURE)
        assert due == START + timedelta(hours=hours)


@pytest.mark.parametrize("step", [step for step in Step if step not in HUMAN_STEPS])
def test_a_step_that_does_not_wait_for_a_person_has_no_due_time(step):
    assert step_due_at(step, START, POLICY, Severity.MAJOR) is None


def test_every_waiting_step_except_execution_gets_a_due_time_from_the_default_policy():
    for step in HUMAN_STEPS:
        due = step_due_at(step, START, POLICY, Severity.GENERAL)
        assert (due is None) == (step is Step.EXECUTE), step


def test_a_configured_policy_replaces_the_defaults():
    policy = SlaPolicy(response_hours={"一般": 48, "严重": 12, "重大": 2})
    assert step_due_at(Step.VERIFY, START, policy, Severity.GENERAL) == START + timedelta(hours=48)


def test_fractional_hours_are_allowed():
    policy = SlaPolicy(response_hours={"一般": 24, "严重": 12, "重大": 0.5})
    due = step_due_at(Step.VERIFY, START, policy, Severity.MAJOR)
    assert due == START + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("response_hours", {"一般": 24, "严重": 12}, "重大"),
        ("response_hours", {"一般": 24}, "严重, 重大"),
        ("handling_hours", {"部门内": 24, "市级/跨县": 48}, "跨地市"),
        (
            "step_hours",
            {"grade": 8, "approve_grade": 8, "approve_plan": 8, "feedback": 24},
            "callback",
        ),
    ],
)
def test_a_policy_without_a_limit_for_some_case_is_rejected_naming_it(field, value, named):
    with pytest.raises(ValidationError) as caught:
        SlaPolicy(**{field: value})
    assert f"SLA policy has no limit for: {named}" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("response_hours", {"一般": 24, "严重": 0, "重大": 2}),
        ("response_hours", {"一般": 24, "严重": 12, "重大": -2}),
        ("handling_hours", {"部门内": 24, "市级/跨县": 0, "跨地市": 96}),
        (
            "step_hours",
            {"grade": 8, "approve_grade": -1, "approve_plan": 8, "feedback": 24, "callback": 48},
        ),
    ],
)
def test_a_policy_with_a_limit_that_is_not_positive_is_rejected(field, value):
    with pytest.raises(ValidationError) as caught:
        SlaPolicy(**{field: value})
    assert "SLA limits must be positive" in str(caught.value)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # 20:00 + 12 h crosses midnight
        (datetime(2026, 11, 23, 20, 0, tzinfo=CST), 12, datetime(2026, 11, 24, 8, 0, tzinfo=CST)),
        # 30 November + 24 h crosses the month end
        (datetime(2026, 11, 30, 15, 0, tzinfo=CST), 24, datetime(2026, 12, 1, 15, 0, tzinfo=CST)),
        # New Year's Eve + 2 h crosses the year end
        (datetime(2026, 12, 31, 23, 0, tzinfo=CST), 2, datetime(2027, 1, 1, 1, 0, tzinfo=CST)),
        # a Friday evening + 24 h lands on Saturday: no working-day calendar yet
        (datetime(2026, 11, 27, 18, 0, tzinfo=CST), 24, datetime(2026, 11, 28, 18, 0, tzinfo=CST)),
        # 28 February 2027 (not a leap year) + 24 h
        (datetime(2027, 2, 28, 10, 0, tzinfo=CST), 24, datetime(2027, 3, 1, 10, 0, tzinfo=CST)),
    ],
)
def test_deadlines_are_plain_hours_across_midnight_month_and_year_ends(start, hours, due):
    policy = SlaPolicy(response_hours={"一般": hours, "严重": hours, "重大": hours})
    assert step_due_at(Step.VERIFY, start, policy, Severity.GENERAL) == due


def test_a_deadline_is_the_same_instant_whatever_zone_the_start_is_in():
    start_utc = START.astimezone(UTC)
    due = step_due_at(Step.VERIFY, start_utc, POLICY, Severity.SERIOUS)
    assert due == step_due_at(Step.VERIFY, START, POLICY, Severity.SERIOUS)
    assert due is not None and due.tzinfo is UTC


@pytest.mark.parametrize("hours", [float("nan"), float("inf")])
def test_a_policy_with_a_limit_that_is_not_a_finite_number_is_rejected(hours):
    with pytest.raises(ValidationError):
        SlaPolicy(response_hours={"一般": hours, "严重": 12, "重大": 2})
