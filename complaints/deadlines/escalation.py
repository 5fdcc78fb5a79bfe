"""Recording escalations: once per key, on the case and in the Slack outbox, atomically.

`escalate` runs inside the caller's unit of work, so an escalation, the audit entry on
its case and the Slack message waiting to be sent commit together or not at all. The
message is rendered now (masked) and sent later by the outbox, in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from complaints.settings import Settings
from models.ledger import AuditEntry, Case, Escalation, SlackOutbox
from models.repositories import CaseRepository, EscalationRepository
from rules.alerts import Alert, Level, Trigger
from rules.escalation import Escalation as Called
from rules.escalation import overdue_by
from rules.sla import clock_label
from rules.slack_blocks import overdue_text, slack_message
from rules.steps import Step

AUDIT_PREFIX = "esc:"


def run_url(settings: Settings, flow_run_id: str | None) -> str | None:
    if not flow_run_id:
        return None
    return f"{settings.ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


def case_alert(
    settings: Settings,
    case: Case,
    key: str,
    trigger: Trigger,
    level: Level,
    now: datetime,
    step: str | None = None,
    due_at: datetime | None = None,
    reason: str | None = None,
) -> Alert:
    """An alert about one case, with everything the message and the record show."""
    step_label = clock_label(step) if step else None
    return Alert(
        key=key,
        trigger=trigger,
        level=level,
        fired_at=now,
        case_no=case.case_no,
        severity=case.severity,
        category=case.category,
        product=case.product,
        step=step,
        step_label=step_label,
        cycle=case.cycle,
        due_at=due_at,
        overdue_by=overdue_by(due_at, now),
        owner=case.department.value if case.department else case.receiver,
        customer_name=case.customer_name,
        customer_phone=case.customer_phone,
        customer_email=case.customer_email,
        description=case.description,
        reason=reason,
        run_url=run_url(settings, case.flow_run_id),
    )


def raise_for_case(
    repo: CaseRepository,
    settings: Settings,
    case: Case,
    called: Iterable[Called],
    now: datetime,
    due_at: datetime | None = None,
) -> list[str]:
    """Record each escalation the rules called for about `case`; the keys newly fired."""
    fired = []
    for one in called:
        alert = case_alert(
            settings,
            case,
            one.key,
            one.trigger,
            one.level,
            now,
            step=one.step,
            due_at=due_at,
            reason=one.reason,
        )
        if escalate(repo, settings, alert, [case]):
            fired.append(one.key)
    return fired


def escalate(repo: CaseRepository, settings: Settings, alert: Alert, cases: list[Case]) -> bool:
    """Record `alert` once: escalation row, an audit entry on each case, a Slack message.

    False if an escalation with the same key exists (fired before, or by a concurrent
    watcher a moment ago).
    """
    escalations = EscalationRepository(repo.session)
    if escalations.by_key(alert.key) is not None:
        return False
    summary = _summary(alert)
    row = Escalation(
        key=alert.key,
        trigger=alert.trigger.value,
        level=int(alert.level),
        audience=alert.level.label.split(" / ")[0],
        step=alert.step,
        cycle=alert.cycle,
        due_at=alert.due_at,
        fired_at=alert.fired_at,
        summary=summary,
        detail=alert.model_dump(
            mode="json",
            include={"overdue_by", "reason", "members", "run_url", "severity", "category"},
        ),
    )
    message = slack_message(alert, settings.tz)
    outbox = SlackOutbox(
        channel=settings.slack.channels[alert.level.tag],
        text=message.text,
        blocks=message.blocks,
        status="pending",
        attempts=0,
        created_at=alert.fired_at,
    )
    if not escalations.add(row, [case.id for case in cases], outbox):
        return False
    for case in cases:
        repo.record(
            AuditEntry(
                case_id=case.id,
                key=(AUDIT_PREFIX + alert.key)[:60],
                step=Step.ESCALATE.value,
                cycle=case.cycle,
                actor="system",
                at=alert.fired_at,
                decision=f"escalated:{alert.level.tag}",
                payload={
                    "trigger": alert.trigger.value,
                    "level": alert.level.tag,
                    "audience": row.audience,
                    "step": alert.step,
                    "note": summary,
                },
            )
        )
    return True


REGISTRATION_TRIGGERS = (Trigger.MAJOR, Trigger.REPEAT)


def link_run(repo: CaseRepository, settings: Settings, case: Case) -> int:
    """Give the alerts fired at registration — before the case had a run — their "Open in
    Prefect" button, now that it has one, if Slack has not been sent them yet. Returns how
    many messages were re-rendered."""
    linked = 0
    pending = EscalationRepository(repo.session).pending_of_case(
        case.id, [t.value for t in REGISTRATION_TRIGGERS]
    )
    for row, outbox in pending:
        alert = case_alert(
            settings,
            case,
            row.key,
            Trigger(row.trigger),
            Level(row.level),
            row.fired_at,
            reason=(row.detail or {}).get("reason"),
        )
        message = slack_message(alert, settings.tz)
        outbox.text, outbox.blocks = message.text, message.blocks
        row.detail = {**(row.detail or {}), "run_url": alert.run_url}
        linked += 1
    return linked


def _summary(alert: Alert) -> str:
    parts = [alert.headline, alert.level.label.split(" / ")[0]]
    if alert.step_label:
        parts.append(alert.step_label.split(" / ")[0])
    if alert.overdue_by is not None:
        parts.append(f"逾期 {overdue_text(alert.overdue_by).split(' / ')[0]}")
    if alert.members:
        parts.append("、".join(m.case_no for m in alert.members))
    return " · ".join(parts)
