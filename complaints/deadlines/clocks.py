"""A case's SLA clocks in the ledger, kept in step with its history.

Each running clock is a `StepDeadline` row. Its deadline, warning point and next alert
are derived again from the case's history (when the clock started, when the case waited
on the customer, severity and scope, the plan's deadline) every time that history
changes, and stored only so that the deadline watch can find what is due with one
indexed query. Called inside the caller's unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from complaints.settings import Settings
from models.ledger import AuditEntry, Case, StepDeadline
from models.repositories import CaseRepository
from rules.sla import HANDLING, ClockPlan, plan_fixed, plan_limit
from rules.steps import Step
from rules.working_time import Pause

log = logging.getLogger("complaints.deadlines.clocks")


def pauses_of(audit: Sequence[AuditEntry]) -> tuple[Pause, ...]:
    """The intervals the case waited on the customer, from its hold/release entries."""
    pauses: list[Pause] = []
    held: datetime | None = None
    for entry in audit:
        if entry.step == Step.HOLD.value and held is None:
            held = entry.at
        elif entry.step == Step.RELEASE.value and held is not None:
            pauses.append(Pause(held, entry.at))
            held = None
    if held is not None:
        pauses.append(Pause(held))
    return tuple(pauses)


def on_hold(audit: Sequence[AuditEntry]) -> bool:
    pauses = pauses_of(audit)
    return bool(pauses) and pauses[-1].end is None


def plan_deadline_of(audit: Sequence[AuditEntry], cycle: int) -> datetime | None:
    """The execution deadline of a cycle: the plan's, or the last delay's new deadline."""
    due: datetime | None = None
    for entry in audit:
        if entry.cycle != cycle:
            continue
        if entry.step == Step.PLAN.value and entry.payload.get("deadline"):
            due = datetime.fromisoformat(entry.payload["deadline"])
        elif entry.step == Step.EXECUTE.value and entry.payload.get("new_deadline"):
            due = datetime.fromisoformat(entry.payload["new_deadline"])
    return due


def plan_for(
    row: StepDeadline, case: Case, audit: Sequence[AuditEntry], settings: Settings
) -> ClockPlan | None:
    """The clock's deadline and ladder as the history says now; None if it has no limit."""
    policy = settings.sla
    clock = policy.clock(settings.tz)
    pauses = pauses_of(audit)
    if row.step == Step.EXECUTE.value:
        due = plan_deadline_of(audit, row.cycle)
        if due is None:
            return None
        return plan_fixed(policy, clock, due, row.started_at, pauses)
    limit = policy.limit(row.step, case.severity, case.scope)
    if limit is None:
        return None
    return plan_limit(policy, clock, limit, row.started_at, pauses)


def start(
    repo: CaseRepository, case: Case, step: str, now: datetime, started_at: datetime | None = None
) -> StepDeadline:
    """Start (or, for a new round of the same step, restart) a clock of the current cycle."""
    row = repo.deadline(case.id, step, case.cycle)
    if row is None:
        row = repo.add_deadline(
            StepDeadline(
                case_id=case.id,
                step=step,
                cycle=case.cycle,
                started_at=started_at or now,
                alert_level=-1,
            )
        )
    elif row.done_at is not None:  # the step is asked again (a rejected grading or plan)
        row.started_at = now
        row.done_at = None
    return row


def stop(row: StepDeadline | None, now: datetime) -> None:
    if row is not None and row.done_at is None:
        row.done_at = now
        row.next_alert_at = None


def refresh(repo: CaseRepository, case: Case, settings: Settings) -> None:
    """Derive every running clock of the case again from its history."""
    audit = repo.audit(case.id)
    for row in repo.deadlines(case.id):
        if row.done_at is not None:
            continue
        plan = plan_for(row, case, audit, settings)
        if plan is None:
            row.due_at = row.warn_at = row.next_alert_at = None
            continue
        row.due_at = plan.due_at
        row.warn_at = plan.warn_at
        following = plan.next_alert(row.alert_level)
        row.next_alert_at = following[1] if following else None
        if plan.assumed_years:
            log.warning(
                "SLA CALENDAR HAS NO OFFICIAL SCHEDULE FOR %s: the %s deadline of %s counts "
                "Monday–Friday minus the statutory holidays there; bridged days off and "
                "make-up working days (调休) are unknown. Add the official schedule to the "
                "calendar section of the SLA policy file (COMPLAINTS_SLA_FILE).",
                ", ".join(str(y) for y in sorted(plan.assumed_years)),
                row.step,
                case.case_no,
            )


def promised_handling(repo: CaseRepository, case: Case) -> datetime | None:
    """When the case's current cycle is due to be handled (its handling limit)."""
    handling = [
        row
        for row in repo.deadlines(case.id)
        if row.step == HANDLING and row.cycle == case.cycle and row.due_at
    ]
    return handling[-1].due_at if handling else None


def promised(repo: CaseRepository, case: Case) -> datetime | None:
    """The time promised for where the case stands: its current step's deadline, else the
    handling limit of its cycle (None while the customer's wait stops the clocks)."""
    running = [row for row in repo.deadlines(case.id) if row.done_at is None and row.due_at]
    for row in running:
        if row.step == case.current_step and row.cycle == case.cycle:
            return row.due_at
    handling = [row for row in running if row.step == HANDLING]
    return handling[-1].due_at if handling else None


def stop_all(repo: CaseRepository, case: Case, now: datetime) -> None:
    for row in repo.deadlines(case.id):
        stop(row, now)


__all__ = [
    "HANDLING",
    "on_hold",
    "pauses_of",
    "plan_for",
    "promised",
    "promised_handling",
    "refresh",
    "start",
    "stop",
]
