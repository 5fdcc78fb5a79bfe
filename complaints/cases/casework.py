"""Ledger operations of the case process, each one transaction.

The flow's tasks and the command line both call these. Every write is idempotent: a
retried task, a resumed run replaying its steps or a second submission of the same
complaint changes nothing the first one did. Each takes an optional session to join a
caller's transaction (models.db.transaction).

Longer than most modules on purpose: it is every change the ledger knows for a case —
registration, the steps, reopening, closing, the customer wait — each short, sharing the
two helpers at the end; split up, a reader would chase one state machine over files.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from complaints.deadlines import clocks
from complaints.deadlines.escalation import link_run, raise_for_case
from complaints.notifications import notices
from complaints.settings import Settings
from models.db import transaction, unit_of_work
from models.ledger import AuditEntry, Case, CaseReport, SurveyAnswer
from models.repositories import CaseRepository
from models.repositories.retention import RetentionRepository
from rules.case_number import format_case_number, local_day
from rules.enums import CaseStatus, Category, Department, Language, Scope, Severity
from rules.escalation import (
    HANDLING,
    DecisionFacts,
    clock_start,
    clocks_stopped_by,
    on_chase,
    on_decision,
    on_registration,
)
from rules.inputs import CaseContext, StepInput, SurveyInput
from rules.intake import ComplaintIn
from rules.patterns import CaseFacts, normal_email, phone_forms, repeat_of
from rules.retention import customer_key
from rules.routing import responsible_department
from rules.staff import CUSTOMER
from rules.steps import Step, event_key

INVALID_SUFFIX = "-x"
INVALID_INPUT = "invalid_input"  # the audit word of input a case refused and asked again for


class CaseNotFound(LookupError):
    def __init__(self, case_no: str) -> None:
        super().__init__(f"no case {case_no}")
        self.case_no = case_no


class IdempotencyConflict(ValueError):
    """The channel reference was already used for a different complaint."""


@dataclass(frozen=True)
class Registration:
    case_no: str
    created: bool
    flow_run_id: str | None


class CaseView(BaseModel):
    """What the flow needs to know about a case, read in one go at each (re)start."""

    case_no: str
    status: CaseStatus
    current_step: str
    waiting_key: str | None
    cycle: int
    severity: Severity
    category: Category | None
    department: Department | None
    scope: Scope | None
    channel: str
    description: str
    language: Language
    answered_on_spot: bool
    on_spot_answer: str | None
    flow_run_id: str | None
    decisions: dict[str, dict[str, Any]]

    def decision(self, key: str) -> dict[str, Any] | None:
        return self.decisions.get(key)

    def done(self, key: str) -> bool:
        return key in self.decisions


# -- registration -----------------------------------------------------------------------
def register(
    complaint: ComplaintIn,
    settings: Settings,
    now: datetime,
    flow_run_id: str | None = None,
) -> Registration:
    """Write the complaint to the ledger (committed before anything else happens)."""
    key = complaint.idempotency_key() or f"none:{uuid.uuid4()}"
    try:
        return _register(complaint, settings, now, flow_run_id, key)
    except IntegrityError:
        # A concurrent submission of the same reference committed first (PostgreSQL reads
        # committed rows, so both saw none): read it now, returning it or the conflict.
        return _register(complaint, settings, now, flow_run_id, key)


def _register(
    complaint: ComplaintIn,
    settings: Settings,
    now: datetime,
    flow_run_id: str | None,
    key: str,
) -> Registration:
    received_at = complaint.received_at or now
    # Always a transaction of its own: the complaint is committed before anything else.
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        existing = repo.by_idempotency_key(key)
        if existing is not None:
            if existing.fingerprint != complaint.fingerprint():
                raise IdempotencyConflict(
                    f"{complaint.channel.value} 编号 {complaint.external_ref} 已登记为 "
                    f"{existing.case_no}，内容不同 / reference already used by another complaint"
                )
            return Registration(existing.case_no, False, existing.flow_run_id)
        day = local_day(received_at, settings.tz)
        case_no = format_case_number(day, repo.next_sequence(f"{day:%Y%m%d}"))
        case = Case(
            case_no=case_no,
            idempotency_key=key,
            fingerprint=complaint.fingerprint(),
            channel=complaint.channel,
            external_ref=complaint.external_ref,
            occurred_at=complaint.occurred_at,
            received_at=received_at,
            customer_name=complaint.customer_name,
            customer_phone=complaint.customer_phone,
            customer_email=str(complaint.customer_email) if complaint.customer_email else None,
            customer_key=customer_key(
                RetentionRepository(session).key_secret(now),
                complaint.customer_phone,
                complaint.customer_email,
            ),
            description=complaint.description,
            demand=complaint.demand,
            demand_detail=complaint.demand_detail,
            product=complaint.product,
            order_no=complaint.order_no,
            initial_severity=complaint.severity,
            severity=complaint.severity,
            category=complaint.category,
            department=(
                responsible_department(complaint.category, settings.routing)
                if complaint.category
                else None
            ),
            receiver=complaint.receiver,
            language=complaint.language,
            answered_on_spot=complaint.answered_on_spot,
            on_spot_answer=complaint.on_spot_answer,
            status=CaseStatus.REGISTERED,
            current_step=Step.REGISTER.value,
            cycle=0,
            flow_run_id=flow_run_id,
            created_at=now,
            updated_at=now,
        )
        repo.add(case)
        repo.record(
            _entry(
                case,
                Step.REGISTER,
                event_key(Step.REGISTER),
                complaint.receiver,
                now,
                "registered",
                {"channel": complaint.channel.value, "external_ref": complaint.external_ref},
            )
        )
        clocks.start(repo, case, HANDLING, now, clock_start(HANDLING, 0, received_at, now))
        clocks.refresh(repo, case, settings)
        _flag_repeat(repo, settings, case, now)
        called = on_registration(case.case_no, case.severity, case.repeat_of)
        raise_for_case(repo, settings, case, called, now)
        return Registration(case_no, True, flow_run_id)


def _flag_repeat(repo: CaseRepository, settings: Settings, case: Case, now: datetime) -> None:
    """Link a repeat complaint to the customer's earlier case about the same thing.

    By the live contacts, not `customer_key`: the earlier cases it looks for are recent
    (`repeat_within_days`), while erasure (rules.retention) comes years after closing; and
    a landline stored either way is found (phone_forms)."""
    policy = settings.patterns
    since = case.received_at - timedelta(days=policy.repeat_within_days)
    phones = sorted(phone_forms(case.customer_phone))
    earlier = repo.earlier_of_customer(case, since, phones, normal_email(case.customer_email))
    found = repeat_of(_facts(case), [_facts(c) for c in earlier], policy)
    if found is None:
        return
    case.repeat_of = found.case_no
    repo.record(
        _entry(
            case,
            Step.REGISTER,
            "repeat@c0",
            "system",
            now,
            "repeat",
            {"repeat_of": found.case_no, "note": f"重复投诉，前案 {found.case_no}"},
        )
    )


def _facts(case: Case) -> CaseFacts:
    return CaseFacts(
        case_no=case.case_no,
        received_at=case.received_at,
        category=case.category,
        product=case.product,
        order_no=case.order_no,
        phone=case.customer_phone,
        email=case.customer_email,
    )


def attach_run(
    settings: Settings,
    case_no: str,
    flow_run_id: str,
    now: datetime,
    session: Session | None = None,
) -> str:
    """Record the case's flow run; the first run recorded wins and is returned. The case's
    department is told it is theirs now, with the run's link, unless it was told before."""
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        if case.flow_run_id is None:
            case.flow_run_id = flow_run_id
            session.flush()
            link_run(repo, settings, case)
        notices.forward_if_new(repo, settings, case, now)
        return case.flow_run_id


# -- reading ----------------------------------------------------------------------------
def load(settings: Settings, case_no: str, session: Session | None = None) -> CaseView:
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        return _view(case, repo.audit(case.id))


def find_by_run(settings: Settings, flow_run_id: str, session: Session | None = None) -> str | None:
    with transaction(settings.database_url, session) as session:
        case = CaseRepository(session).by_flow_run(flow_run_id)
        return case.case_no if case else None


def _view(case: Case, audit: Any) -> CaseView:
    decisions = {e.key: e.payload for e in audit}
    return CaseView(
        case_no=case.case_no,
        status=case.status,
        current_step=case.current_step,
        waiting_key=case.waiting_key,
        cycle=case.cycle,
        severity=case.severity,
        category=case.category,
        department=case.department,
        scope=case.scope,
        channel=case.channel.value,
        description=case.description,
        language=case.language,
        answered_on_spot=case.answered_on_spot,
        on_spot_answer=case.on_spot_answer,
        flow_run_id=case.flow_run_id,
        decisions=decisions,
    )


# -- the steps ---------------------------------------------------------------------------
def record_event(
    settings: Settings,
    case_no: str,
    step: Step,
    cycle: int,
    now: datetime,
    decision: str,
    payload: dict[str, Any] | None = None,
    actor: str = "system",
    session: Session | None = None,
    entry: int = 0,
) -> bool:
    """An automatic step (acknowledged, explained...) in the audit trail, once per cycle
    (and `entry`, for one that may come more often in a cycle)."""
    key = event_key(step, cycle, entry)
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        appended = repo.record(_entry(case, step, key, actor, now, decision, payload or {}))
        if appended:
            case.current_step = step.value
            case.updated_at = now
            if case.status is CaseStatus.REGISTERED:
                case.status = CaseStatus.IN_PROGRESS
        return appended


def record_correspondence(
    settings: Settings,
    case_no: str,
    now: datetime,
    reference: str,
    decision: str,
    payload: dict[str, Any],
    actor: str = "客户 / customer",
    session: Session | None = None,
) -> bool:
    """What the customer sent (a reply, evidence), in the audit trail once per reference
    (a mail's Message-ID); it changes no step and no clock, the handler reads it."""
    key = _correspondence_key(reference)
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        appended = repo.record(
            _entry(case, Step.CORRESPONDENCE, key, actor, now, decision, payload)
        )
        if appended:
            case.updated_at = now
        return appended


SURVEY_PAGE = "survey_page"


def _page_reference(wait_key: str) -> str:
    return f"survey-page:{wait_key}"


def record_page_answer(settings: Settings, case_no: str, wait_key: str, now: datetime) -> None:
    """The customer answered the survey on their own page (a link only they were sent):
    kept before the run is resumed, so the run can tell their answer from a colleague's
    typing the customer's name into the UI's form."""
    payload = {"step": Step.CALLBACK.value, "wait": wait_key}
    reference = _page_reference(wait_key)
    record_correspondence(settings, case_no, now, reference, SURVEY_PAGE, payload, CUSTOMER)


def answered_on_page(settings: Settings, case_no: str, wait_key: str) -> bool:
    """Whether the customer's own survey page answered this wait (record_page_answer)."""
    key = _correspondence_key(_page_reference(wait_key))
    with transaction(settings.database_url) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        return repo.has_entry(case.id, key)


def _correspondence_key(reference: str) -> str:
    return "mail:" + hashlib.sha256(reference.encode()).hexdigest()[:24]


def chase(
    settings: Settings,
    case_no: str,
    now: datetime,
    via: str,
    note: str | None = None,
    session: Session | None = None,
) -> list[str]:
    """The customer chases (催办) their case: recorded for the handler (once an hour and
    channel: a customer pressing again is the same chase), and escalated when the time we
    promised for the case's current step has passed. The escalations newly fired."""
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        if case.status is CaseStatus.CLOSED:
            raise CaseStateError(f"{case_no} is closed")
        record_correspondence(
            settings,
            case_no,
            now,
            f"chase:{via}:{now:%Y%m%d%H}",
            "chased",
            {"note": note or "客户催办 / the customer asks for progress", "via": via},
            session=session,
        )
        promised = clocks.promised(repo, case)
        return raise_for_case(
            repo, settings, case, on_chase(case_no, now, promised, settings.tz), now
        )


def open_step(
    settings: Settings,
    case_no: str,
    step: Step,
    key: str,
    now: datetime,
    session: Session | None = None,
) -> datetime | None:
    """Mark the case as waiting at `step` and start its clock; returns when it is due.

    Verification counts from receipt (the response promised to the customer); execution
    is due by the approved plan's deadline, or the last delay's, as the ledger records.
    """
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        case.current_step = step.value
        case.waiting_key = key
        case.status = CaseStatus.IN_PROGRESS
        case.updated_at = now
        started_at = clock_start(step, case.cycle, case.received_at, now)
        clock = clocks.start(repo, case, step.value, now, started_at)
        clocks.refresh(repo, case, settings)
        return clock.due_at


def record_invalid(
    settings: Settings,
    case_no: str,
    step: Step,
    key: str,
    now: datetime,
    errors: str,
    session: Session | None = None,
) -> None:
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        repo.record(
            _entry(
                case, step, key + INVALID_SUFFIX, "system", now, INVALID_INPUT, {"errors": errors}
            )
        )


def record_decision(
    settings: Settings,
    case_no: str,
    step: Step,
    key: str,
    data: StepInput,
    now: datetime,
    session: Session | None = None,
) -> bool:
    """A person's decision: appended to the audit trail and applied to the case, once."""
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        payload = data.model_dump(mode="json")
        appended = repo.record(_entry(case, step, key, data.actor, now, data.decision, payload))
        if not appended:
            return False
        _apply(repo, case, step, data, settings, now)
        if case.waiting_key == key:
            case.waiting_key = None
        case.updated_at = now
        return True


def taken(settings: Settings, case_no: str, step: Step) -> tuple[str, datetime] | None:
    """Who last answered a wait at `step` in the case's current cycle, and when."""
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        case = repo.get(case_no)
        if case is None:
            return None
        answers = [
            e
            for e in repo.audit(case.id)
            if e.step == step.value
            and e.cycle == case.cycle
            and "@" not in e.key  # automatic events are keyed step@cycle
            and not e.key.endswith(INVALID_SUFFIX)
        ]
        return (answers[-1].actor, answers[-1].at) if answers else None


def _apply(
    repo: CaseRepository,
    case: Case,
    step: Step,
    data: StepInput,
    settings: Settings,
    now: datetime,
) -> None:
    """Store what the decision means for the case (the input model says), raise what the
    rules of escalation call for, and stop the clocks the decision ends."""
    was = case.severity
    context = CaseContext(department=case.department, routing=settings.routing)
    for field, value in data.case_changes(context).items():
        setattr(case, field, value)
    if isinstance(data, SurveyInput):  # the answers are kept for the analyses
        repo.add_survey(
            SurveyAnswer(
                case_id=case.id,
                cycle=case.cycle,
                efficiency=data.efficiency,
                resolution=data.resolution,
                attitude=data.attitude,
                fairness=data.fairness,
                accepts_result=data.accepts_result,
                comment=data.comment,
                actor=data.actor,
                at=now,
            )
        )
    if case.flow_run_id is not None:  # before it, attaching the run tells the department
        notices.forward_if_new(repo, settings, case, now)
    facts = DecisionFacts(case.case_no, case.cycle, was, _rejections(repo, case, step))
    raise_for_case(repo, settings, case, on_decision(step, data, facts), now)
    for clock in clocks_stopped_by(step, data.completes_step):
        clocks.stop(repo.deadline(case.id, clock, case.cycle), now)
    clocks.refresh(repo, case, settings)


def _rejections(repo: CaseRepository, case: Case, step: Step) -> list[str]:
    """The reasons of every rejection at `step` in the case's current cycle, oldest first."""
    if step is not Step.APPROVE_PLAN:  # the only approval whose rejections escalate
        return []
    return [
        str(e.payload.get("reason") or "")
        for e in repo.audit(case.id)
        if e.step == step.value and e.cycle == case.cycle and e.decision == "rejected"
    ]


def reopen(
    settings: Settings, case_no: str, from_cycle: int, now: datetime, session: Session | None = None
) -> int:
    """Start a new plan cycle after the customer did not accept the result."""
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        key = event_key(Step.REOPEN, from_cycle)
        if repo.record(
            _entry(case, Step.REOPEN, key, "system", now, "reopened", {"from_cycle": from_cycle})
        ):
            case.cycle = from_cycle + 1
            case.current_step = Step.REOPEN.value
            case.updated_at = now
            clocks.start(
                repo, case, HANDLING, now, clock_start(HANDLING, case.cycle, case.received_at, now)
            )
            clocks.refresh(repo, case, settings)
        return case.cycle


def close(
    settings: Settings,
    case_no: str,
    now: datetime,
    report_markdown: str,
    session: Session | None = None,
) -> None:
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        if repo.record(
            _entry(case, Step.CLOSE, event_key(Step.CLOSE), "system", now, "closed", {})
        ):
            case.status = CaseStatus.CLOSED
            case.current_step = Step.CLOSE.value
            case.waiting_key = None
            case.closed_at = now
            case.updated_at = now
            clocks.stop_all(repo, case, now)
        if repo.report(case.id) is None:
            repo.add_report(CaseReport(case_id=case.id, markdown=report_markdown, created_at=now))


# -- helpers -----------------------------------------------------------------------------
def _get(repo: CaseRepository, case_no: str) -> Case:
    case = repo.get(case_no)
    if case is None:
        raise CaseNotFound(case_no)
    return case


def _entry(
    case: Case,
    step: Step,
    key: str,
    actor: str,
    now: datetime,
    decision: str,
    payload: dict[str, Any],
) -> AuditEntry:
    return AuditEntry(
        case_id=case.id,
        key=key,
        step=step.value,
        cycle=case.cycle,
        actor=actor,
        at=now,
        decision=decision,
        payload=payload,
    )


# -- waiting on the customer ---------------------------------------------------------------
class CaseStateError(ValueError):
    """The case is not in a state that allows this action."""


def hold(
    settings: Settings,
    case_no: str,
    now: datetime,
    actor: str,
    reason: str,
    session: Session | None = None,
) -> None:
    """The case waits on the customer (photos requested...): its SLA clocks stop."""
    _pause_or_resume(settings, case_no, now, actor, Step.HOLD, {"reason": reason}, session)


def release(
    settings: Settings,
    case_no: str,
    now: datetime,
    actor: str,
    note: str,
    session: Session | None = None,
) -> None:
    """The customer answered: the SLA clocks run again from where they stopped."""
    _pause_or_resume(settings, case_no, now, actor, Step.RELEASE, {"note": note}, session)


def _pause_or_resume(
    settings: Settings,
    case_no: str,
    now: datetime,
    actor: str,
    step: Step,
    payload: dict[str, Any],
    session: Session | None,
) -> None:
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = _get(repo, case_no)
        if case.status is CaseStatus.CLOSED:
            raise CaseStateError(f"{case_no} 已关闭 / is closed")
        audit = repo.audit(case.id)
        held = clocks.on_hold(audit)
        if step is Step.HOLD and held:
            raise CaseStateError(f"{case_no} 已在等待客户 / is already waiting on the customer")
        if step is Step.RELEASE and not held:
            raise CaseStateError(f"{case_no} 没有在等待客户 / is not waiting on the customer")
        count = sum(1 for e in audit if e.step == step.value)
        decision = "on_hold" if step is Step.HOLD else "released"
        repo.record(_entry(case, step, f"{step.value}@n{count + 1}", actor, now, decision, payload))
        case.updated_at = now
        clocks.refresh(repo, case, settings)
