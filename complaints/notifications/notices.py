"""Staff notices into the outbox: a case forwarded to its department, a person's turn.

Each notice is a row of the outbox the escalations use (complaints.notifications.slack
delivers it: in order, retried with backoff, marked sent once accepted), keyed so that it
is written once whatever replays: a forwarding notice once per routing, a turn once per
wait and recipient. The words and the recipients are rules.notices'.

`forward_if_new` runs inside the caller's unit of work (registration's run being attached,
a grading that changes the department), so the notice commits with the change that calls
for it. `tell_turn` is a unit of work of its own, after the case is marked waiting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from complaints.deadlines.escalation import run_url
from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import AuditEntry, Case, SlackOutbox
from models.repositories import CaseRepository
from models.repositories.staff import StaffRepository
from rules.enums import Department
from rules.escalation import HANDLING
from rules.notices import (
    Address,
    CaseBrief,
    Notice,
    forwarding_key,
    forwarding_notice,
    not_before,
    turn_addresses,
    turn_key,
    turn_notice,
    who_is_told,
)
from rules.steps import Step

FORWARDED, NOT_NOTIFIED = "forwarded", "not_notified"
PENDING = "pending"
BEFORE_GRADING = frozenset(
    s.value for s in (Step.REGISTER, Step.ACKNOWLEDGE, Step.ANSWER_ON_SPOT, Step.VERIFY)
)


def brief(settings: Settings, case: Case) -> CaseBrief:
    return CaseBrief(
        case_no=case.case_no,
        severity=case.severity,
        category=case.category,
        description=case.description,
        customer_name=case.customer_name,
        customer_phone=case.customer_phone,
        customer_email=case.customer_email,
        run_url=run_url(settings, case.flow_run_id),
    )


# -- forwarding (转交通知) ------------------------------------------------------------------
def forward_if_new(repo: CaseRepository, settings: Settings, case: Case, now: datetime) -> bool:
    """Tell the case's responsible department that the case is theirs, unless it was told
    already (the last routing named it); a re-routing says from whom. True when told."""
    if case.department is None:
        return False
    routings = forwardings(repo.audit(case.id))
    last = routings[-1].payload.get("department") if routings else None
    if last == case.department.value:
        return False
    handed_from = Department(last) if last else None
    key = forwarding_key(case.case_no, len(routings) + 1)
    clock = repo.deadline(case.id, HANDLING, case.cycle)
    asked = (
        "核实并处理本投诉 / verify and handle this complaint"
        if case.current_step in BEFORE_GRADING and handed_from is None
        else "制定并执行处理方案 / plan the resolution and carry it out"
    )
    notice = forwarding_notice(
        brief(settings, case),
        key,
        case.department,
        handed_from,
        asked,
        clock.due_at if clock else None,
        settings.tz,
    )
    addresses = [Address("email", to) for to in settings.department_emails(case.department)]
    if settings.slack_configured:
        addresses.insert(0, Address("slack", settings.department_channel(case.department)))
    written = [a.to for a in addresses if queue(repo.session, case.id, notice, a, None, now)]
    repo.record(
        AuditEntry(
            case_id=case.id,
            key=key,
            step=Step.NOTIFY.value,
            cycle=case.cycle,
            actor="system",
            at=now,
            decision=FORWARDED if addresses else NOT_NOTIFIED,
            payload={
                "department": case.department.value,
                "from": handed_from.value if handed_from else None,
                "to": written,
                "note": (
                    f"转交{case.department.value}"
                    + (f"（由{handed_from.value}转来）" if handed_from else "")
                    + (
                        f"，已通知 {len(addresses)} 处 / told in {len(addresses)} place(s)"
                        if addresses
                        else "：该部门未配置 Slack 频道或邮箱，通知无处可发 / the "
                        "department has no channel or address: nobody was told"
                    )
                ),
            },
        )
    )
    return bool(addresses)


def forwardings(audit: Sequence[AuditEntry]) -> list[AuditEntry]:
    """The case's forwarding notices (one per routing), oldest first."""
    return [e for e in audit if e.step == Step.NOTIFY.value and e.key.startswith("fwd:")]


# -- your turn ---------------------------------------------------------------------------
def tell_turn(
    settings: Settings,
    case_no: str,
    step: Step,
    wait_key: str,
    due_at: datetime | None,
    asked_again: str | None,
    offered: list[str] | None,
    now: datetime,
) -> list[str]:
    """Tell the people who may take this wait that it is theirs (`offered`: who may, as
    the form offers them; None without a directory). Once per wait and recipient: a
    replay, a retry or a restart writes nothing new. Returns the recipients newly queued."""
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        case = repo.get(case_no)
        if case is None:
            return []
        people = StaffRepository(session).people()
        owner = plan_owner(repo, case) if step in (Step.EXECUTE, Step.FEEDBACK) else None
        told = who_is_told(people, offered or [], step, case.department, owner)
        department_channel = settings.department_channel(case.department)
        addresses = turn_addresses(
            told,
            step,
            department_channel,
            settings.slack.role_channels.get,
            slack=settings.slack_configured,
            email=bool(settings.smtp_host),
        )
        if not settings.slack_configured:
            addresses = [a for a in addresses if a.medium == "email"]
        about = brief(settings, case)
        later = not_before(now, settings.sla.clock(settings.tz), about.urgent)
        queued = []
        for address in addresses:
            key = turn_key(case_no, wait_key, address.person or address.to)
            notice = turn_notice(
                about, key, step, due_at, asked_again, settings.tz, address.meant_for
            )
            if queue(session, case.id, notice, address, later, now):
                queued.append(address.person or address.to)
        return queued


def plan_owner(repo: CaseRepository, case: Case) -> str | None:
    """The owner the case's latest plan in its cycle names."""
    return owner_of_plan(repo.audit(case.id), case.cycle)


def owner_of_plan(audit: Sequence[AuditEntry], cycle: int) -> str | None:
    plans = [
        e
        for e in audit
        if e.step == Step.PLAN.value and e.cycle == cycle and "owner" in (e.payload or {})
    ]
    return str(plans[-1].payload["owner"]) if plans else None


# -- the outbox ----------------------------------------------------------------------------
def queue(
    session: Session,
    case_id: int | None,
    notice: Notice,
    address: Address,
    not_before_at: datetime | None,
    now: datetime,
) -> bool:
    """Write one copy of a notice to the outbox once (by its key and address); False when
    written before. `case_id`: the case it is about, if one."""
    row = SlackOutbox(
        notice_key=_row_key(notice.key, address),
        case_id=case_id,
        medium=address.medium,
        channel=address.to,
        fallback=address.fallback,
        not_before=not_before_at,
        text=notice.text,
        blocks=notice.blocks,
        body=notice.body,
        status=PENDING,
        attempts=0,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # written before: a replay, a retry, a concurrent writer
        return False
    return True


def _row_key(key: str, address: Address) -> str:
    """The notice's key and where this copy goes, in the column's 120 characters."""
    full = f"{key}>{address.to}"
    if len(full) <= 120:
        return full
    return f"{full[:99]}#{hashlib.sha256(full.encode()).hexdigest()[:20]}"


def notices_of(settings: Settings, case_no: str) -> list[dict[str, Any]]:
    """The case's notices, for the command line and tests: key, medium, to, status."""
    import sqlalchemy as sa

    with unit_of_work(settings.database_url) as session:
        case = CaseRepository(session).get(case_no)
        if case is None:
            return []
        rows = session.scalars(
            sa.select(SlackOutbox).where(SlackOutbox.case_id == case.id).order_by(SlackOutbox.id)
        )
        return [
            {
                "key": r.notice_key,
                "medium": r.medium,
                "to": r.channel,
                "status": r.status,
                "not_before": r.not_before,
            }
            for r in rows
        ]
