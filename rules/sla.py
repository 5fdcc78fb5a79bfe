"""Step deadlines from a simple hours-per-severity / hours-per-scope policy.

Each waiting step records when it is due. This module holds the arithmetic; the policy
comes from configuration (``complaints.settings``). Working-day calendars come later and
will replace `add_hours` without changing callers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field, model_validator

from rules.enums import Scope, Severity
from rules.steps import HUMAN_STEPS, Step

MAX_HOURS = 24 * 366


class SlaPolicy(BaseModel):
    """Hours allowed; every number is a company default to be changed in configuration."""

    response_hours: dict[Severity, float] = Field(
        default={Severity.GENERAL: 24, Severity.SERIOUS: 12, Severity.MAJOR: 2},
        description="promised response time by severity (acknowledgement, verification)",
    )
    handling_hours: dict[Scope, float] = Field(
        default={Scope.DEPARTMENT: 24, Scope.CITY: 48, Scope.PREFECTURE: 96},
        description="handling limit by coordination scope (planning)",
    )
    step_hours: dict[Step, float] = Field(
        default={
            Step.GRADE: 8,
            Step.APPROVE_GRADE: 8,
            Step.APPROVE_PLAN: 8,
            Step.FEEDBACK: 24,
            Step.CALLBACK: 48,
        },
        description="fixed limits of the other waiting steps",
    )

    @model_validator(mode="after")
    def _complete(self) -> SlaPolicy:
        missing = [s.value for s in Severity if s not in self.response_hours]
        missing += [s.value for s in Scope if s not in self.handling_hours]
        fixed = set(HUMAN_STEPS) - {Step.VERIFY, Step.PLAN, Step.EXECUTE}
        missing += sorted(s.value for s in fixed if s not in self.step_hours)
        if missing:
            raise ValueError(f"SLA policy has no limit for: {', '.join(missing)}")
        limits = {
            **{f"response_hours.{k.value}": v for k, v in self.response_hours.items()},
            **{f"handling_hours.{k.value}": v for k, v in self.handling_hours.items()},
            **{f"step_hours.{k.value}": v for k, v in self.step_hours.items()},
        }
        wrong = [name for name, hours in limits.items() if not 0 < hours <= MAX_HOURS]
        if wrong:
            raise ValueError(
                f"SLA limits must be positive hours up to {MAX_HOURS}: {', '.join(wrong)}"
            )
        return self


def add_hours(start: datetime, hours: float) -> datetime:
    return start + timedelta(hours=hours)


def step_due_at(
    step: Step,
    started_at: datetime,
    policy: SlaPolicy,
    severity: Severity,
    scope: Scope = Scope.DEPARTMENT,
    plan_deadline: datetime | None = None,
) -> datetime | None:
    """When a waiting step is due; None for steps that do not wait for a person."""
    if step is Step.VERIFY:
        return add_hours(started_at, policy.response_hours[severity])
    if step is Step.PLAN:
        return add_hours(started_at, policy.handling_hours[scope])
    if step is Step.EXECUTE:
        return plan_deadline
    if step in policy.step_hours:
        return add_hours(started_at, policy.step_hours[step])
    return None


def response_promise_hours(policy: SlaPolicy, severity: Severity) -> float:
    """The response time promised to the customer in the acknowledgement."""
    return policy.response_hours[severity]
