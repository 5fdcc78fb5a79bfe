"""The case aggregate: a case with its audit trail, messages, survey answers, SLA clocks and
report. Repositories add and flush; only the unit of work commits (models.db)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.ledger import (
    AuditEntry,
    Case,
    CaseCounter,
    CaseReport,
    CustomerMessage,
    SkippedMail,
    StepDeadline,
    SurveyAnswer,
)
from rules.enums import CaseStatus, Category, Department


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- cases -----------------------------------------------------------------------
    def get(self, case_no: str) -> Case | None:
        return self.session.scalars(sa.select(Case).where(Case.case_no == case_no)).first()

    def by_id(self, case_id: int) -> Case:
        return self.session.get_one(Case, case_id)

    def by_idempotency_key(self, key: str) -> Case | None:
        stmt = sa.select(Case).where(Case.idempotency_key == key)
        return self.session.scalars(stmt).first()

    def by_flow_run(self, flow_run_id: str) -> Case | None:
        stmt = sa.select(Case).where(Case.flow_run_id == flow_run_id)
        return self.session.scalars(stmt).first()

    def add(self, case: Case) -> Case:
        self.session.add(case)
        self.session.flush()
        return case

    def next_sequence(self, day: str) -> int:
        """Atomically hand out the next number of a day (upsert ... returning)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(CaseCounter)
            .values(day=day, last=1)
            .on_conflict_do_update(
                index_elements=[CaseCounter.day], set_={"last": CaseCounter.last + 1}
            )
            .returning(CaseCounter.last)
        )
        return int(self.session.execute(stmt).scalar_one())

    def list(
        self, status: CaseStatus | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[Case]:
        stmt = sa.select(Case).order_by(Case.received_at.desc(), Case.id.desc())
        if status is not None:
            stmt = stmt.where(Case.status == status)
        return self.session.scalars(stmt.limit(limit).offset(offset)).all()

    def waiting_for_people(self) -> Sequence[tuple[str, str, str, str]]:
        """(case number, step, wait key, flow run) of every case suspended for a person."""
        stmt = (
            sa.select(Case.case_no, Case.current_step, Case.waiting_key, Case.flow_run_id)
            .where(
                Case.status != CaseStatus.CLOSED,
                Case.waiting_key.is_not(None),
                Case.flow_run_id.is_not(None),
            )
            .order_by(Case.id)
        )
        return [(row[0], row[1], row[2], row[3]) for row in self.session.execute(stmt)]

    def open_cases(self, limit: int = 200) -> Sequence[tuple[Case, datetime | None]]:
        """Open cases with the due time of their current step, soonest first."""
        due = (
            sa.select(StepDeadline.due_at)
            .where(
                StepDeadline.case_id == Case.id,
                StepDeadline.step == Case.current_step,
                StepDeadline.cycle == Case.cycle,
                StepDeadline.done_at.is_(None),
            )
            .limit(1)
            .scalar_subquery()
        )
        stmt = (
            sa.select(Case, due.label("due_at"))
            .where(Case.status != CaseStatus.CLOSED)
            .order_by(sa.func.coalesce(due, Case.received_at), Case.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt)]

    def waiting(
        self, department: Department | None = None
    ) -> Sequence[tuple[Case, StepDeadline | None]]:
        """Open cases waiting for a person (of one department), with their current step's
        running clock."""
        clock = sa.and_(
            StepDeadline.case_id == Case.id,
            StepDeadline.step == Case.current_step,
            StepDeadline.cycle == Case.cycle,
            StepDeadline.done_at.is_(None),
        )
        stmt = (
            sa.select(Case, StepDeadline)
            .outerjoin(StepDeadline, clock)
            .where(Case.status != CaseStatus.CLOSED, Case.waiting_key.is_not(None))
            .order_by(Case.id)
        )
        if department is not None:
            stmt = stmt.where(Case.department == department)
        return [(row[0], row[1]) for row in self.session.execute(stmt)]

    def unstarted(self, limit: int = 100) -> Sequence[Case]:
        stmt = (
            sa.select(Case)
            .where(Case.flow_run_id.is_(None), Case.status != CaseStatus.CLOSED)
            .order_by(Case.id)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    # -- audit trail -------------------------------------------------------------------
    def audit(self, case_id: int) -> Sequence[AuditEntry]:
        stmt = sa.select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)
        return self.session.scalars(stmt).all()

    def audits(self, case_ids: Sequence[int]) -> dict[int, builtins.list[AuditEntry]]:
        """The audit trails of many cases in one query, each oldest first."""
        trails: dict[int, builtins.list[AuditEntry]] = {case_id: [] for case_id in case_ids}
        for start in range(0, len(case_ids), 500):  # bounded IN lists
            stmt = (
                sa.select(AuditEntry)
                .where(AuditEntry.case_id.in_(case_ids[start : start + 500]))
                .order_by(AuditEntry.id)
            )
            for entry in self.session.scalars(stmt):
                trails[entry.case_id].append(entry)
        return trails

    def has_entry(self, case_id: int, key: str) -> bool:
        """Whether the case's audit trail holds an entry under `key`."""
        exists = sa.select(AuditEntry.id).where(
            AuditEntry.case_id == case_id, AuditEntry.key == key
        )
        return self.session.execute(exists).first() is not None

    def record(self, entry: AuditEntry) -> bool:
        """Append an entry unless one with the same key exists; True when appended."""
        if self.has_entry(entry.case_id, entry.key):
            return False
        self.session.add(entry)
        self.session.flush()
        return True

    # -- messages, surveys, deadlines, reports --------------------------------------------
    def sms_awaiting_report(self, since: datetime, limit: int) -> Sequence[CustomerMessage]:
        """SMS the provider took since `since` whose delivery is not known yet, oldest first."""
        stmt = (
            sa.select(CustomerMessage)
            .where(
                CustomerMessage.delivery == "sms",
                CustomerMessage.status == "sent",
                CustomerMessage.sent_at >= since,
            )
            .order_by(CustomerMessage.id)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def message(self, case_id: int, kind: str, cycle: int) -> CustomerMessage | None:
        stmt = sa.select(CustomerMessage).where(
            CustomerMessage.case_id == case_id,
            CustomerMessage.kind == kind,
            CustomerMessage.cycle == cycle,
        )
        return self.session.scalars(stmt).first()

    def message_by_id(self, message_id: int) -> CustomerMessage:
        message = self.session.get(CustomerMessage, message_id)
        if message is None:
            raise LookupError(f"no customer message {message_id}")
        return message

    def messages(self, case_id: int) -> Sequence[CustomerMessage]:
        stmt = (
            sa.select(CustomerMessage)
            .where(CustomerMessage.case_id == case_id)
            .order_by(CustomerMessage.id)
        )
        return self.session.scalars(stmt).all()

    def cases_of_mails(self, mail_message_ids: Sequence[str]) -> dict[str, str]:
        """The case each of these Message-IDs of ours was sent for (unknown ones left out)."""
        if not mail_message_ids:
            return {}
        stmt = (
            sa.select(CustomerMessage.mail_message_id, Case.case_no)
            .join(Case, Case.id == CustomerMessage.case_id)
            .where(CustomerMessage.mail_message_id.in_(mail_message_ids))
        )
        return {str(mail_id): case_no for mail_id, case_no in self.session.execute(stmt)}

    def customer_emails(self, case_nos: Sequence[str]) -> dict[str, str | None]:
        """Each case's customer e-mail address, as registered."""
        if not case_nos:
            return {}
        stmt = sa.select(Case.case_no, Case.customer_email).where(Case.case_no.in_(case_nos))
        return {case_no: email for case_no, email in self.session.execute(stmt)}

    # -- mails the intake left for a person ------------------------------------------
    def skipped_mail(self, mail_key: str) -> SkippedMail | None:
        stmt = sa.select(SkippedMail).where(SkippedMail.mail_key == mail_key)
        return self.session.scalars(stmt).first()

    def add_skipped_mail(self, mail: SkippedMail) -> None:
        self.session.add(mail)
        self.session.flush()

    def skipped_mails(self, limit: int) -> Sequence[SkippedMail]:
        """The newest first."""
        stmt = sa.select(SkippedMail).order_by(SkippedMail.id.desc()).limit(limit)
        return self.session.scalars(stmt).all()

    def add_message(self, message: CustomerMessage) -> CustomerMessage:
        self.session.add(message)
        self.session.flush()
        return message

    def surveys(self, case_id: int) -> Sequence[SurveyAnswer]:
        stmt = sa.select(SurveyAnswer).where(SurveyAnswer.case_id == case_id)
        return self.session.scalars(stmt.order_by(SurveyAnswer.cycle)).all()

    def add_survey(self, answer: SurveyAnswer) -> bool:
        stmt = sa.select(SurveyAnswer.id).where(
            SurveyAnswer.case_id == answer.case_id, SurveyAnswer.cycle == answer.cycle
        )
        if self.session.execute(stmt).first() is not None:
            return False
        self.session.add(answer)
        self.session.flush()
        return True

    def deadline(self, case_id: int, step: str, cycle: int) -> StepDeadline | None:
        stmt = sa.select(StepDeadline).where(
            StepDeadline.case_id == case_id,
            StepDeadline.step == step,
            StepDeadline.cycle == cycle,
        )
        return self.session.scalars(stmt).first()

    def deadlines(self, case_id: int) -> Sequence[StepDeadline]:
        stmt = sa.select(StepDeadline).where(StepDeadline.case_id == case_id)
        return self.session.scalars(stmt.order_by(StepDeadline.id)).all()

    def add_deadline(self, deadline: StepDeadline) -> StepDeadline:
        self.session.add(deadline)
        self.session.flush()
        return deadline

    def report(self, case_id: int) -> CaseReport | None:
        stmt = sa.select(CaseReport).where(CaseReport.case_id == case_id)
        return self.session.scalars(stmt).first()

    def add_report(self, report: CaseReport) -> CaseReport:
        self.session.add(report)
        self.session.flush()
        return report

    # -- clocks ------------------------------------------------------------------------
    def due_clocks(self, now: datetime, limit: int) -> Sequence[int]:
        """Ids of running clocks with an alert due, soonest first."""
        stmt = (
            sa.select(StepDeadline.id)
            .where(StepDeadline.next_alert_at <= now, StepDeadline.done_at.is_(None))
            .order_by(StepDeadline.next_alert_at, StepDeadline.id)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def clock_for_update(self, clock_id: int) -> StepDeadline | None:
        """Lock one clock row; None if another watcher holds it (PostgreSQL) or it is gone."""
        stmt = sa.select(StepDeadline).where(StepDeadline.id == clock_id)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalars(stmt).first()

    def crowded_categories(self, since: datetime, at_least: int) -> Sequence[Category]:
        """Categories with at least `at_least` complaints received since `since`."""
        stmt = (
            sa.select(Case.category)
            .where(Case.received_at >= since, Case.category.is_not(None))
            .group_by(Case.category)
            .having(sa.func.count() >= at_least)
        )
        return [c for c in self.session.scalars(stmt).all() if c is not None]

    def received_since(
        self, since: datetime, categories: Sequence[Category] | None = None
    ) -> Sequence[Case]:
        stmt = sa.select(Case).where(Case.received_at >= since)
        if categories is not None:
            stmt = stmt.where(Case.category.in_(categories))
        return self.session.scalars(stmt.order_by(Case.received_at)).all()

    def audit_mark(self) -> int:
        """The newest audit entry's id: it moves whenever any case changes."""
        return int(self.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0)

    def chased_cases(self, after: int | None, since: datetime) -> Sequence[str]:
        """Cases with a customer's chase in the audit trail after entry `after` (or, without
        one, at or after `since`)."""
        stmt = (
            sa.select(Case.case_no)
            .join(AuditEntry, AuditEntry.case_id == Case.id)
            .where(AuditEntry.decision == "chased")
            .where(AuditEntry.id > after if after is not None else AuditEntry.at >= since)
            .distinct()
        )
        return self.session.scalars(stmt).all()

    def earlier_of_customer(
        self, case: Case, since: datetime, phones: Sequence[str], email: str | None
    ) -> Sequence[Case]:
        """Earlier cases that may be the same customer (exact phone or e-mail as stored)."""
        who: list[sa.ColumnElement[bool]] = []
        if phones:
            who.append(Case.customer_phone.in_(phones))
        if email:
            who.append(sa.func.lower(Case.customer_email) == email)
        if not who:
            return []
        stmt = sa.select(Case).where(
            Case.id != case.id,
            Case.received_at >= since,
            Case.received_at <= case.received_at,
            sa.or_(*who),
        )
        return self.session.scalars(stmt).all()
