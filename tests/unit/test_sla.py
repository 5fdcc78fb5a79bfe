"""The SLA policy: limits by severity, scope and step; warning point; escalation ladder."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from rules.alerts import Level
from rules.enums import Scope, Severity
from rules.sla import HANDLING, SlaPolicy, plan_fixed, plan_limit, response_promise
from rules.steps import Step
from rules.working_time import BusinessHours, Limit, Pause

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = SlaPolicy()
CLOCK = POLICY.clock(SHANGHAI)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def due_of(step, severity=Severity.GENERAL, scope=None, start="2026-11-23 10:00", policy=POLICY):
    limit = policy.limit(step, severity, scope)
    return plan_limit(policy, policy.clock(SHANGHAI), limit, at(start)).due_at


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.GENERAL, "2026-11-24 10:00"),
        (Severity.SERIOUS, "2026-11-23 22:00"),
        (Severity.MAJOR, "2026-11-23 12:00"),
    ],
)
def test_verification_is_due_within_the_response_promised_for_the_severity(severity, expected):
    assert due_of(Step.VERIFY, severity) == at(expected)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope.DEPARTMENT, "2026-10-01 16:00"),
        (Scope.CITY, "2026-10-02 16:00"),
        (Scope.PREFECTURE, "2026-10-12 16:00"),  # 4 working days across National Day
        (None, "2026-10-01 16:00"),  # not graded yet: the strictest scope
    ],
)
def test_the_handling_limit_follows_the_coordination_scope(scope, expected):
    assert due_of(HANDLING, scope=scope, start="2026-09-30 16:00") == at(expected)


def test_regrading_to_a_wider_scope_moves_the_handling_deadline_from_the_same_start():
    before = due_of(HANDLING, scope=Scope.DEPARTMENT, start="2026-11-27 15:00")
    after = due_of(HANDLING, scope=Scope.PREFECTURE, start="2026-11-27 15:00")
    assert (before, after) == (at("2026-11-28 15:00"), at("2026-12-03 15:00"))


def test_raising_the_severity_shortens_the_response_promise():
    assert due_of(Step.VERIFY, Severity.GENERAL) == at("2026-11-24 10:00")
    assert due_of(Step.VERIFY, Severity.MAJOR) == at("2026-11-23 12:00")


def test_every_waiting_step_but_execution_has_a_limit():
    for step in (Step.GRADE, Step.APPROVE_GRADE, Step.PLAN, Step.APPROVE_PLAN, Step.FEEDBACK):
        assert POLICY.limit(step, Severity.GENERAL, None) is not None
    assert POLICY.limit(Step.EXECUTE, Severity.GENERAL, None) is None
    assert due_of(Step.CALLBACK) == at("2026-11-25 10:00")


def test_the_warning_fires_at_80_percent_and_the_ladder_climbs_after_the_deadline():
    plan = plan_limit(POLICY, CLOCK, Limit.model_validate("24h"), at("2026-11-23 10:00"))
    assert plan.alerts == (
        (Level.WARNING, at("2026-11-24 05:12")),
        (Level.DEPARTMENT_HEAD, at("2026-11-24 10:00")),
        (Level.OPERATIONS_DIRECTOR, at("2026-11-24 14:00")),
        (Level.LEADERSHIP, at("2026-11-25 10:00")),
    )
    assert plan.warn_at == at("2026-11-24 05:12")


def test_with_business_hours_no_rung_of_the_ladder_fires_at_night():
    policy = SlaPolicy(business_hours=BusinessHours(start=time(9), end=time(18)))
    plan = plan_limit(
        policy, policy.clock(SHANGHAI), Limit.model_validate("2h"), at("2026-11-27 16:30")
    )
    assert [a for _, a in plan.alerts] == [
        at("2026-11-30 09:06"),  # 80 % of 2 h = 96 min: Friday 90 min + Monday 6 min
        at("2026-11-30 09:30"),  # Friday 1.5 h + Monday 0.5 h
        at("2026-11-30 13:30"),
        at("2026-12-02 15:30"),  # 24 office hours after the deadline
    ]
    assert all(time(9) <= a.astimezone(SHANGHAI).time() <= time(18) for _, a in plan.alerts)


def test_which_rungs_are_due_depends_on_what_already_fired():
    plan = plan_limit(POLICY, CLOCK, Limit.model_validate("24h"), at("2026-11-23 10:00"))
    assert plan.due_levels(-1, at("2026-11-24 15:00")) == [
        Level.WARNING,
        Level.DEPARTMENT_HEAD,
        Level.OPERATIONS_DIRECTOR,
    ]
    assert plan.due_levels(Level.OPERATIONS_DIRECTOR, at("2026-11-24 15:00")) == []
    assert plan.next_alert(Level.OPERATIONS_DIRECTOR) == (Level.LEADERSHIP, at("2026-11-25 10:00"))
    assert plan.next_alert(Level.LEADERSHIP) is None


def test_a_paused_clock_schedules_nothing_after_the_pause():
    pause = Pause(at("2026-11-24 06:00"))  # after the warning, before the deadline
    plan = plan_limit(POLICY, CLOCK, Limit.model_validate("24h"), at("2026-11-23 10:00"), (pause,))
    assert plan.paused and plan.due_at is None
    assert plan.alerts == ((Level.WARNING, at("2026-11-24 05:12")),)
    assert plan.next_alert(Level.WARNING) is None


def test_a_resumed_clock_moves_every_rung_by_the_paused_time():
    pause = Pause(at("2026-11-23 12:00"), at("2026-11-23 15:00"))
    plan = plan_limit(POLICY, CLOCK, Limit.model_validate("24h"), at("2026-11-23 10:00"), (pause,))
    assert not plan.paused
    assert plan.due_at == at("2026-11-24 13:00")
    assert plan.alerts[-1] == (Level.LEADERSHIP, at("2026-11-25 13:00"))


def test_execution_is_due_by_the_plan_and_warns_at_80_percent_of_that_time():
    plan = plan_fixed(POLICY, CLOCK, at("2026-11-28 10:00"), at("2026-11-23 10:00"))
    assert plan.due_at == at("2026-11-28 10:00")
    assert plan.warn_at == at("2026-11-27 10:00")
    assert plan.alerts[2] == (Level.OPERATIONS_DIRECTOR, at("2026-11-28 14:00"))


def test_a_plan_deadline_already_past_is_overdue_at_once():
    plan = plan_fixed(POLICY, CLOCK, at("2026-11-20 10:00"), at("2026-11-23 10:00"))
    assert plan.due_at == at("2026-11-23 10:00")


def test_with_business_hours_execution_is_due_at_the_plans_deadline_as_written():
    policy = SlaPolicy(business_hours=BusinessHours(start=time(9), end=time(18)))
    # Due at noon on a Saturday: not moved back to Friday 18:00.
    plan = plan_fixed(
        policy, policy.clock(SHANGHAI), at("2026-11-28 12:00"), at("2026-11-23 10:00")
    )
    assert plan.due_at == at("2026-11-28 12:00")
    # 80 % of the 44 office hours (Mon 10:00 – Fri 18:00) is 35.2 h: Friday 09:12.
    assert plan.warn_at == at("2026-11-27 09:12")
    # The higher levels count office hours from the deadline: never at night or at weekends.
    assert plan.alerts[2] == (Level.OPERATIONS_DIRECTOR, at("2026-11-30 13:00"))
    assert plan.alerts[3] == (Level.LEADERSHIP, at("2026-12-02 15:00"))  # 9 + 9 + 6 h


def test_waiting_on_the_customer_moves_the_plans_deadline_by_the_time_waited():
    pause = Pause(at("2026-11-24 10:00"), at("2026-11-25 12:00"))  # 26 h
    plan = plan_fixed(POLICY, CLOCK, at("2026-11-28 10:00"), at("2026-11-23 10:00"), (pause,))
    assert plan.due_at == at("2026-11-29 12:00")


def test_a_plan_clock_on_hold_schedules_no_deadline():
    pause = Pause(at("2026-11-24 10:00"))
    plan = plan_fixed(POLICY, CLOCK, at("2026-11-28 10:00"), at("2026-11-23 10:00"), (pause,))
    assert plan.paused and plan.due_at is None


def test_the_acknowledgement_promises_the_response_time_of_the_severity():
    assert str(response_promise(POLICY, Severity.MAJOR)) == "2h"


def test_a_policy_missing_a_severity_is_refused():
    with pytest.raises(ValidationError, match=r"response\.major"):
        SlaPolicy(response={Severity.GENERAL: "24h", Severity.SERIOUS: "12h"})


def test_a_zero_limit_is_refused():
    with pytest.raises(ValidationError, match=r"steps\.grade"):
        SlaPolicy(steps={**SlaPolicy().steps, Step.GRADE: "0h"})


def test_level_three_must_come_after_level_two():
    with pytest.raises(ValidationError, match="level 3"):
        SlaPolicy(ladder={"level2_after": "8h", "level3_after": "4h"})


def test_english_names_are_accepted_in_the_policy():
    policy = SlaPolicy.model_validate(
        {"handling": {"department": "8h", "city": "1wd", "prefecture": "3wd"}}
    )
    assert str(policy.handling[Scope.CITY]) == "1wd"
