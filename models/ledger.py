"""The ledger's tables: cases, audit trail, messages, surveys, deadlines, escalations, outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.types import UtcDateTime, enum_column
from rules.enums import (
    CaseStatus,
    Category,
    Channel,
    Demand,
    Department,
    Language,
    Scope,
    Severity,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: sa.JSON()}  # noqa: RUF012


class Case(Base):
    """One complaint, from registration to closing (客户投诉登记表 + 处理状态)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(sa.String(24), unique=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(140), unique=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(32))

    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    external_ref: Mapped[str | None] = mapped_column(sa.String(100))
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(index=True)
    customer_name: Mapped[str] = mapped_column(sa.String(50))
    customer_phone: Mapped[str | None] = mapped_column(sa.String(20))
    customer_email: Mapped[str | None] = mapped_column(sa.String(254))
    # Who the customer is for the figures, kept when the contact is erased (rules.retention).
    customer_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    description: Mapped[str] = mapped_column(sa.Text)
    demand: Mapped[Demand] = mapped_column(enum_column(Demand))
    demand_detail: Mapped[str | None] = mapped_column(sa.Text)
    product: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    order_no: Mapped[str | None] = mapped_column(sa.String(64))
    initial_severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    department: Mapped[Department | None] = mapped_column(enum_column(Department))
    scope: Mapped[Scope | None] = mapped_column(enum_column(Scope))
    receiver: Mapped[str] = mapped_column(sa.String(50))
    language: Mapped[Language] = mapped_column(enum_column(Language, 8))
    answered_on_spot: Mapped[bool] = mapped_column(default=False)
    on_spot_answer: Mapped[str | None] = mapped_column(sa.Text)

    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), index=True)
    current_step: Mapped[str] = mapped_column(sa.String(20))
    waiting_key: Mapped[str | None] = mapped_column(sa.String(60))
    cycle: Mapped[int] = mapped_column(default=0)
    substantiated: Mapped[bool | None]
    root_cause: Mapped[str | None] = mapped_column(sa.Text)
    attributed_department: Mapped[Department | None] = mapped_column(enum_column(Department))
    attributed_employee: Mapped[str | None] = mapped_column(sa.String(50))
    improvement: Mapped[str | None] = mapped_column(sa.Text)
    result_summary: Mapped[str | None] = mapped_column(sa.Text)

    repeat_of: Mapped[str | None] = mapped_column(sa.String(24))  # an earlier case, same customer

    flow_run_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    audit: Mapped[list[AuditEntry]] = relationship(
        back_populates="case", order_by="AuditEntry.id", lazy="raise"
    )


class CaseCounter(Base):
    """The last case number handed out on a local calendar day."""

    __tablename__ = "case_counters"

    day: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    last: Mapped[int]


class AuditEntry(Base):
    """Append-only: who did what at which step, when. `key` makes each record idempotent."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.UniqueConstraint("case_id", "key", name="uq_audit_entries_case_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    key: Mapped[str] = mapped_column(sa.String(60))
    step: Mapped[str] = mapped_column(sa.String(20))
    cycle: Mapped[int]
    actor: Mapped[str] = mapped_column(sa.String(50))
    at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict[str, Any]]

    case: Mapped[Case] = relationship(back_populates="audit", lazy="raise")


class CustomerMessage(Base):
    """A message to the customer; recorded once per kind and plan cycle."""

    __tablename__ = "customer_messages"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "kind", "cycle", name="uq_customer_messages_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    cycle: Mapped[int]
    language: Mapped[str] = mapped_column(sa.String(8))
    delivery: Mapped[str] = mapped_column(sa.String(10))  # email | sms | script
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # pending | sent | failed | script; an SMS also: delivered (the handset has it)
    status: Mapped[str] = mapped_column(sa.String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The e-mail's Message-ID, given before the first attempt and kept for every retry: a
    # customer's reply names it (In-Reply-To, References), and so finds its case.
    mail_message_id: Mapped[str | None] = mapped_column(sa.String(250), index=True, unique=True)
    # By SMS: the template's variables as sent, and the provider's id of the sending (its
    # delivery report is asked for by it).
    sms_params: Mapped[dict[str, Any] | None]
    provider_ref: Mapped[str | None] = mapped_column(sa.String(64))


class SurveyAnswer(Base):
    """The 5-point callback survey (回访满意度), one per plan cycle."""

    __tablename__ = "survey_answers"
    __table_args__ = (sa.UniqueConstraint("case_id", "cycle", name="uq_survey_answers_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    cycle: Mapped[int]
    efficiency: Mapped[int]
    resolution: Mapped[int]
    attitude: Mapped[int]
    fairness: Mapped[int]
    accepts_result: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(50))
    at: Mapped[datetime]


class StepDeadline(Base):
    """A running SLA clock: a waiting step, or the case's handling limit ("handling").

    `due_at`, `warn_at` and `next_alert_at` are derived from the case's history (start,
    paused intervals, severity, scope, policy) and recomputed whenever that history
    changes; `next_alert_at` is what the deadline watch polls (None: nothing left to fire).
    """

    __tablename__ = "step_deadlines"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "step", "cycle", name="uq_step_deadlines_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    step: Mapped[str] = mapped_column(sa.String(20))
    cycle: Mapped[int]
    started_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    done_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    next_alert_at: Mapped[datetime | None] = mapped_column(index=True)
    alert_level: Mapped[int] = mapped_column(default=-1, server_default="-1")  # highest fired


class CaseReport(Base):
    """The six-part case report written at closing."""

    __tablename__ = "case_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), unique=True)
    markdown: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


class Escalation(Base):
    """One escalation: an SLA level reached, a major case, a rejection, a cluster...

    `key` makes each fire once (e.g. ``sla:TS-...:verify:c0:L2``, ``cluster:logistics:-:TS-...``).
    The cases it concerns are linked in `escalation_cases` (several for a cluster).
    """

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    trigger: Mapped[str] = mapped_column(sa.String(20))
    level: Mapped[int]
    audience: Mapped[str] = mapped_column(sa.String(30))
    step: Mapped[str | None] = mapped_column(sa.String(20))
    cycle: Mapped[int | None]
    due_at: Mapped[datetime | None]
    fired_at: Mapped[datetime] = mapped_column(index=True)
    summary: Mapped[str] = mapped_column(sa.Text)
    detail: Mapped[dict[str, Any]]


class EscalationCase(Base):
    """Which cases an escalation concerns."""

    __tablename__ = "escalation_cases"

    escalation_id: Mapped[int] = mapped_column(sa.ForeignKey("escalations.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), primary_key=True, index=True)


class SlackOutbox(Base):
    """A message to staff waiting to be sent, or sent; delivered in id order per channel.

    An escalation's message, or a notice (`notice_key`: a forwarding notice to a
    department, a person's turn at a step). `medium` says how it goes: ``slack`` to a
    channel or a member ID, ``slack-email`` to the Slack member with the e-mail in
    `channel` (users.lookupByEmail), ``email`` by e-mail to `channel`. A recipient who
    cannot be reached for good gets it in `fallback` instead (a channel).
    """

    __tablename__ = "slack_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("escalations.id"), unique=True)
    notice_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    medium: Mapped[str] = mapped_column(sa.String(12), server_default="slack")
    fallback: Mapped[str | None] = mapped_column(sa.String(80))
    not_before: Mapped[datetime | None]  # outside business hours: the next opening
    channel: Mapped[str] = mapped_column(sa.String(254))
    text: Mapped[str] = mapped_column(sa.Text)  # a notice's e-mail: the subject
    blocks: Mapped[list[Any]] = mapped_column(sa.JSON)
    body: Mapped[str | None] = mapped_column(sa.Text)  # a notice's e-mail: the body
    status: Mapped[str] = mapped_column(sa.String(10), index=True)  # pending | sent
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    slack_ts: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class CorrectiveAction(Base):
    """A rectification a department must report done (整改), from a half-year notice.

    Tracked like a case step: due by `due_at`, warned and escalated through the same
    ladder (`next_alert_at`, `alert_level`), done when the department reports it.
    """

    __tablename__ = "corrective_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)  # <kind>:<period>:<department>
    report_kind: Mapped[str] = mapped_column(sa.String(20))
    period: Mapped[str] = mapped_column(sa.String(10))
    department: Mapped[str] = mapped_column(sa.String(20))
    requirement: Mapped[str] = mapped_column(sa.Text)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    next_alert_at: Mapped[datetime | None] = mapped_column(index=True)
    alert_level: Mapped[int] = mapped_column(default=-1, server_default="-1")
    status: Mapped[str] = mapped_column(sa.String(10), index=True)  # open | done
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(sa.String(50))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


class ApiKey(Base):
    """A channel's key to the intake API (the app, the web form, the call centre).

    Only the key's SHA-256 digest is kept: a key is 32 random bytes, so the digest cannot
    be searched back, and a leaked ledger leaks no key. `prefix` (shown on creation and in
    listings) tells keys apart; a revoked key stays listed with the time it was revoked.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ProductSecret(Base):
    """A secret the product makes for itself and every process shares through the ledger:
    the key that signs the customer's links unless one is configured, and the key of the
    customers' one-way keys (rules.retention)."""

    __tablename__ = "product_secrets"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]


class StaffMember(Base):
    """A person of the staff directory: their department and roles (rules.staff).

    Never deleted: a person who leaves is deactivated, so the names in the audit trail
    keep meaning someone. `roles` holds the roles' codes, comma-separated.
    """

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    department: Mapped[Department] = mapped_column(enum_column(Department))
    roles: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # where they are told that work is theirs (rules.staff.Person)
    slack_id: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    mobile: Mapped[str | None] = mapped_column(sa.String(20))
    added_at: Mapped[datetime]
    changed_at: Mapped[datetime]


class SkippedMail(Base):
    """A mail of the complaints mailbox the intake left for a person: it could not be read or
    registered, or failed while being stored. It stays in the mailbox (flagged
    `$ComplaintsSkipped`); this row is what the intake's owner is told, once, and what the
    failed-mail report lists. No text of the mail is kept: the sender masked, the reason,
    and the case registered before the failure, if one was."""

    __tablename__ = "skipped_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_key: Mapped[str] = mapped_column(sa.String(120), unique=True)  # Message-ID or digest
    uid: Mapped[str] = mapped_column(sa.String(20))
    folder: Mapped[str] = mapped_column(sa.String(200))
    sender: Mapped[str | None] = mapped_column(sa.String(254))  # masked
    reason: Mapped[str] = mapped_column(sa.Text)
    case_no: Mapped[str | None] = mapped_column(sa.String(20))
    skipped_at: Mapped[datetime]


class WatchPass(Base):
    """When the deadline watch last kept the timers (one row): a gap longer than a missed
    minute is told to the W channel, so a watch that was down cannot go unnoticed."""

    __tablename__ = "watch_passes"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    passed_at: Mapped[datetime]
