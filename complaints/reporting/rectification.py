"""Corrective and preventive actions (整改): created by rectification notices, tracked to done.

A half-year (or annual) report gives each responsible department a notice; each notice
opens one action due on the notice's date. The deadline watch warns and escalates open
actions through the same ladder as case steps, and the department reports the action
done (`complaints act CA-00001 rectified --input done.json`). The next report lists the
status of every action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from complaints.deadlines.escalation import escalate
from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import CorrectiveAction
from models.repositories import ActionRepository, CaseRepository
from rules.alerts import Alert
from rules.analysis import ActionStatus, Figures
from rules.escalation import RECTIFICATION_DUE_TIME, on_action, overdue_by
from rules.fields import Line, Prose
from rules.sla import plan_fixed


class ActionNotFound(LookupError):
    pass


class ActionClosed(ValueError):
    pass


class RectifiedInput(BaseModel):
    """What the department reports when the rectification is done."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    actor: Line = Field(min_length=1, max_length=50, title="报告人 / Reported by")
    note: Prose = Field(min_length=1, max_length=2000, title="整改情况 / What was done")


def ref(action_id: int) -> str:
    return f"CA-{action_id:05d}"


def action_id(reference: str) -> int | None:
    text = reference.strip().upper()
    if text.startswith("CA-") and text[3:].isdigit():
        return int(text[3:])
    return None


@dataclass(frozen=True)
class Issued:
    refs: list[str]
    created: int


def issue(settings: Settings, figures: Figures, now: datetime) -> Issued:
    """One action per rectification notice of the report; issuing again changes nothing."""
    if figures.review is None:
        return Issued([], 0)
    refs, created = [], 0
    with unit_of_work(settings.database_url) as session:
        actions = ActionRepository(session)
        for notice in figures.review.notices:
            key = f"{figures.kind.value}:{figures.period}:{notice.department}"
            action = actions.by_key(key)
            if action is None:
                due = datetime.combine(notice.due, RECTIFICATION_DUE_TIME, tzinfo=settings.tz)
                action = CorrectiveAction(
                    key=key,
                    report_kind=figures.kind.value,
                    period=figures.period,
                    department=notice.department,
                    requirement="；".join(notice.top_problems) or "见整改通报",
                    started_at=now,
                    due_at=due,
                    alert_level=-1,
                    status="open",
                    created_at=now,
                )
                actions.add(action)
                _schedule(settings, action)
                created += 1
            refs.append(ref(action.id))
    return Issued(refs, created)


def _schedule(settings: Settings, action: CorrectiveAction) -> None:
    plan = plan_fixed(
        settings.sla, settings.sla.clock(settings.tz), action.due_at, action.started_at
    )
    following = plan.next_alert(action.alert_level)
    action.next_alert_at = following[1] if following else None


def report_done(
    settings: Settings, reference: str, data: RectifiedInput, now: datetime
) -> CorrectiveAction:
    number = action_id(reference)
    with unit_of_work(settings.database_url) as session:
        action = ActionRepository(session).get(number) if number is not None else None
        if action is None:
            raise ActionNotFound(f"no corrective action {reference}")
        if action.status == "done":
            raise ActionClosed(
                f"{reference} 已于 {action.done_at:%Y-%m-%d} 报告完成 / already done"
            )
        action.status = "done"
        action.done_at = now
        action.done_by = data.actor
        action.note = data.note
        action.next_alert_at = None
        return action


def fire_due(settings: Settings, now: datetime) -> list[str]:
    """Warn and escalate open actions whose rung has come; returns the escalation keys."""
    fired: list[str] = []
    with unit_of_work(settings.database_url) as session:
        ids = ActionRepository(session).due(now)
    for number in ids:
        with unit_of_work(settings.database_url) as session:
            action = ActionRepository(session).for_update(number)
            if action is None or action.status != "open" or action.next_alert_at is None:
                continue
            plan = plan_fixed(
                settings.sla, settings.sla.clock(settings.tz), action.due_at, action.started_at
            )
            climb = plan.climb(action.alert_level, now)
            reason = f"{action.period} 整改通报：{action.requirement}"
            for called in on_action(ref(action.id), climb.levels, reason):
                alert = Alert(
                    key=called.key,
                    trigger=called.trigger,
                    level=called.level,
                    fired_at=now,
                    step=called.step,
                    step_label=f"整改 {ref(action.id)} / corrective action",
                    due_at=action.due_at,
                    overdue_by=overdue_by(action.due_at, now),
                    owner=action.department,
                    reason=called.reason,
                )
                if escalate(CaseRepository(session), settings, alert, []):
                    fired.append(called.key)
            action.alert_level = climb.alert_level
            action.next_alert_at = climb.next_alert_at
    return fired


def status_as_of(settings: Settings, until: datetime) -> list[ActionStatus]:
    """Every action issued before `until`, with its status at that moment."""
    with unit_of_work(settings.database_url) as session:
        actions = ActionRepository(session).issued_before(until)
        return [
            ActionStatus(
                ref=ref(a.id),
                period=a.period,
                department=a.department,
                requirement=a.requirement,
                due_at=a.due_at,
                done_at=a.done_at if a.done_at is not None and a.done_at < until else None,
                overdue=(a.done_at is None or a.done_at >= until) and a.due_at < until,
            )
            for a in actions
        ]
