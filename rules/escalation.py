"""Who is told, and when: every escalation rule of the process in one place.

Two kinds of escalation (PROCESS.md, "Escalation"):

- **The ladder** of a running clock: a warning when a share of its time is used, level 1
  (department head) at the deadline, level 2 (operations director) and level 3 (company
  leadership) a configured time after it. `rules.sla` says when each rung falls for a
  clock (`plan_limit`, `plan_fixed`); `on_clock` and `on_action` here name what fires.
- **Events** that go straight to one level, whatever the clock says: the table
  `EVENT_LEVEL` below.

And the clocks themselves: which clocks a step starts, and what stops them
(`clock_start`, `clocks_stopped_by`). Pausing is the customer wait (`rules.working_time.Pause`).

The functions return `Escalation`s — what the rules call for. The application layer
records each once by its key (complaints.deadlines.escalation) and sends nothing the rules did not
ask for. Keys are stable: they are the identity of an escalation in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from rules.alerts import Level, Trigger
from rules.enums import Severity
from rules.inputs import ApprovalInput, GradeInput, StepInput, SurveyInput
from rules.steps import Step

# -- events: one level each -------------------------------------------------------------------
EVENT_LEVEL: dict[Trigger, Level] = {
    Trigger.MAJOR: Level.LEADERSHIP,  # a 重大 complaint, registered or graded so: at once
    Trigger.REPEAT: Level.WARNING,  # the same customer again about the same thing
    Trigger.REJECTED: Level.LEADERSHIP,  # the customer does not accept the result
    Trigger.PLAN_REJECTED: Level.OPERATIONS_DIRECTOR,  # see PLAN_REJECTIONS_ESCALATED
    Trigger.CLUSTER: Level.LEADERSHIP,  # many similar complaints in a short window
    Trigger.RUN_FAILED: Level.DEPARTMENT_HEAD,  # nobody can act on the case until retried
    Trigger.CHASED: Level.DEPARTMENT_HEAD,  # as an overdue step at its deadline
}
"""Triggers not listed (SLA, RECTIFICATION) climb the ladder of their clock."""

PLAN_REJECTIONS_ESCALATED = 2
"""The rejection of a plan in one cycle that goes to the operations director (the 2nd)."""

RECTIFICATION_DUE_TIME = time(18)
"""A rectification notice's date means the end of that working day."""


@dataclass(frozen=True)
class Escalation:
    """An escalation the rules call for: recorded once by `key`."""

    key: str
    trigger: Trigger
    level: Level
    step: str | None = None
    reason: str | None = None


def _event(
    key: str, trigger: Trigger, step: str | None = None, reason: str | None = None
) -> Escalation:
    return Escalation(key, trigger, EVENT_LEVEL[trigger], step, reason)


def on_registration(case_no: str, severity: Severity, repeat_of: str | None) -> list[Escalation]:
    """A repeat complaint warns its handlers; a 重大 one tells leadership at once."""
    called: list[Escalation] = []
    if repeat_of is not None:
        called.append(
            _event(f"repeat:{case_no}", Trigger.REPEAT, reason=f"前案 / earlier case {repeat_of}")
        )
    if severity is Severity.MAJOR:
        called.append(_event(f"major:{case_no}", Trigger.MAJOR))
    return called


def on_chase(
    case_no: str, now: datetime, promised: datetime | None, tz: tzinfo
) -> list[Escalation]:
    """A customer who chases (催办) after the time we promised for where the case stands
    escalates it like an overdue step; a chase in time is recorded and alerts nobody. One
    alert per case and hour, however often the customer presses."""
    if promised is None or now <= promised:
        return []
    return [
        _event(
            f"chase:{case_no}:{now:%Y%m%d%H}",
            Trigger.CHASED,
            reason=f"承诺时间 / promised by {promised.astimezone(tz):%Y-%m-%d %H:%M}",
        )
    ]


def on_grading(case_no: str, was: Severity, graded: Severity) -> list[Escalation]:
    """Graded up to 重大: leadership is told, once (the key is the registration's)."""
    if graded is Severity.MAJOR and was is not Severity.MAJOR:
        return [_event(f"major:{case_no}", Trigger.MAJOR)]
    return []


def on_plan_rejection(case_no: str, cycle: int, reasons: list[str]) -> list[Escalation]:
    """`reasons`: every rejection of a plan in this cycle so far, oldest first."""
    if len(reasons) >= PLAN_REJECTIONS_ESCALATED:
        key = f"plan-rejected:{case_no}:c{cycle}"
        return [_event(key, Trigger.PLAN_REJECTED, Step.PLAN.value, reasons[-1])]
    return []


def on_survey(case_no: str, cycle: int, accepts: bool, comment: str | None) -> list[Escalation]:
    """A customer who does not accept the result goes to leadership (and the case reopens)."""
    if accepts:
        return []
    key = f"rejected:{case_no}:c{cycle}"
    return [_event(key, Trigger.REJECTED, Step.CALLBACK.value, comment)]


def on_run_failed(
    case_no: str, step: str | None, since: datetime | None, reason: str
) -> list[Escalation]:
    """One alert per failure of the case's run (a new failure has a new `since`)."""
    key = f"run_failed:{case_no}:{since.isoformat() if since else '-'}"
    return [_event(key, Trigger.RUN_FAILED, step, f"{reason} — complaints retry {case_no}")]


@dataclass(frozen=True)
class DecisionFacts:
    """What the escalation of a decision depends on besides the decision."""

    case_no: str
    cycle: int
    severity_before: Severity
    plan_rejections: list[str]  # reasons of this cycle's plan rejections, this one included


def on_decision(step: Step, data: StepInput, facts: DecisionFacts) -> list[Escalation]:
    """A person's decision: graded up to 重大, a plan rejected twice, a result rejected."""
    if isinstance(data, GradeInput):
        return on_grading(facts.case_no, facts.severity_before, data.severity)
    if isinstance(data, ApprovalInput) and step is Step.APPROVE_PLAN and not data.approved:
        return on_plan_rejection(facts.case_no, facts.cycle, facts.plan_rejections)
    if isinstance(data, SurveyInput):
        return on_survey(facts.case_no, facts.cycle, data.accepts_result, data.comment)
    return []


def on_clock(case_no: str, step: str, cycle: int, levels: list[Level]) -> list[Escalation]:
    """The rungs of a case's clock whose time has come (rules.sla.ClockPlan.due_levels)."""
    return [
        Escalation(f"sla:{case_no}:{step}:c{cycle}:{level.tag}", Trigger.SLA, level, step)
        for level in levels
    ]


def tells_customer(step: str, levels: list[Level]) -> bool:
    """Verification running past the response promised to the customer (its deadline):
    besides the department head, the customer is told it takes longer, and until when
    (限时回应：告知调查进展和预计处理时间)."""
    return step == Step.VERIFY.value and Level.DEPARTMENT_HEAD in levels


def on_action(ref: str, levels: list[Level], reason: str) -> list[Escalation]:
    """The rungs of a corrective action's clock whose time has come."""
    return [
        Escalation(f"action:{ref}:{level.tag}", Trigger.RECTIFICATION, level, "rectify", reason)
        for level in levels
    ]


# -- the clocks -------------------------------------------------------------------------------
HANDLING = "handling"
"""The handling clock of each plan cycle: from receipt (or reopening) until feedback."""


def clock_start(step: Step | str, cycle: int, received_at: datetime, now: datetime) -> datetime:
    """When a clock opened now counts from: the first verification and the first cycle's
    handling count from receipt (the response promised to the customer); every other
    clock from the moment the step is asked for."""
    from_receipt = cycle == 0 and step in (Step.VERIFY, Step.VERIFY.value, HANDLING)
    return received_at if from_receipt else now


def clocks_stopped_by(step: Step, finishes_step: bool) -> list[str]:
    """The clocks a decision at `step` stops: the step's own (unless it was only a progress
    report), and the cycle's handling clock when the result is fed back."""
    stopped = [step.value] if finishes_step else []
    if step is Step.FEEDBACK:
        stopped.append(HANDLING)
    return stopped


def overdue_by(due_at: datetime | None, now: datetime) -> timedelta | None:
    """How long past its deadline a clock is; None before it (a warning is not overdue)."""
    return (now - due_at) if due_at is not None and now >= due_at else None
