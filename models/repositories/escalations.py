"""The escalation aggregate: an escalation, the cases it concerns and its Slack message.

The Slack outbox is delivered in id order per channel (complaints.notifications.slack):
`channel_heads` and `claim` are the two statements that order rests on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.ledger import Case, Escalation, EscalationCase, SlackOutbox, StepDeadline, WatchPass

PENDING, SENT = "pending", "sent"


class EscalationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the deadline watch's own pass ------------------------------------------------------
    def pass_watch(self, now: datetime) -> datetime | None:
        """Record that the watch keeps the timers at `now`; when it last did before."""
        row = self.session.get(WatchPass, 1, with_for_update=True)
        if row is None:
            self.session.add(WatchPass(id=1, passed_at=now))
            self.session.flush()
            return None
        last, row.passed_at = row.passed_at, max(row.passed_at, now)
        return last

    # -- escalations -----------------------------------------------------------------------
    def by_key(self, key: str) -> Escalation | None:
        return self.session.scalars(sa.select(Escalation).where(Escalation.key == key)).first()

    def add(self, escalation: Escalation, case_ids: Sequence[int], message: SlackOutbox) -> bool:
        """Record an escalation once by its key, with the cases it concerns and its message;
        False if the key exists (a concurrent watcher recorded it a moment ago)."""
        try:
            with self.session.begin_nested():
                self.session.add(escalation)
                self.session.flush()
        except IntegrityError:
            return False
        for case_id in case_ids:
            self.session.add(EscalationCase(escalation_id=escalation.id, case_id=case_id))
        message.escalation_id = escalation.id
        self.session.add(message)
        self.session.flush()
        return True

    def fired_since(self, key_prefix: str, since: datetime) -> bool:
        """Whether an escalation whose key starts with `key_prefix` fired since `since`."""
        stmt = sa.select(Escalation.id).where(
            Escalation.key.startswith(key_prefix, autoescape=True), Escalation.fired_at >= since
        )
        return self.session.execute(stmt.limit(1)).first() is not None

    def of_case(self, case_id: int) -> Sequence[Escalation]:
        """Escalations concerning one case, cluster alerts that list it included."""
        stmt = (
            sa.select(Escalation)
            .join(EscalationCase, EscalationCase.escalation_id == Escalation.id)
            .where(EscalationCase.case_id == case_id)
            .order_by(Escalation.id)
        )
        return self.session.scalars(stmt).all()

    def pending_of_case(
        self, case_id: int, triggers: Sequence[str]
    ) -> Sequence[tuple[Escalation, SlackOutbox]]:
        """The case's escalations of these triggers whose Slack message is not sent yet."""
        stmt = (
            sa.select(Escalation, SlackOutbox)
            .join(EscalationCase, EscalationCase.escalation_id == Escalation.id)
            .join(SlackOutbox, SlackOutbox.escalation_id == Escalation.id)
            .where(
                EscalationCase.case_id == case_id,
                Escalation.trigger.in_(triggers),
                SlackOutbox.status == PENDING,
            )
        )
        return [(row, outbox) for row, outbox in self.session.execute(stmt).tuples()]

    def recent(self, overdue_only: bool, limit: int) -> Sequence[tuple[Escalation, Sequence[str]]]:
        """Newest first, with their case numbers; `overdue_only`: SLA escalations whose
        clock is still running."""
        stmt = sa.select(Escalation).order_by(Escalation.fired_at.desc(), Escalation.id.desc())
        if overdue_only:
            running = (
                sa.select(StepDeadline.id)
                .join(EscalationCase, EscalationCase.case_id == StepDeadline.case_id)
                .where(
                    EscalationCase.escalation_id == Escalation.id,
                    StepDeadline.step == Escalation.step,
                    StepDeadline.cycle == Escalation.cycle,
                    StepDeadline.done_at.is_(None),
                )
            )
            stmt = stmt.where(
                Escalation.trigger == "sla", Escalation.level >= 1, sa.exists(running)
            )
        escalations = self.session.scalars(stmt.limit(limit)).all()
        ids = [e.id for e in escalations]
        names: dict[int, list[str]] = {i: [] for i in ids}
        if ids:
            rows = self.session.execute(
                sa.select(EscalationCase.escalation_id, Case.case_no)
                .join(Case, Case.id == EscalationCase.case_id)
                .where(EscalationCase.escalation_id.in_(ids))
                .order_by(Case.case_no)
            )
            for escalation_id, case_no in rows:
                names[escalation_id].append(case_no)
        return [(e, names[e.id]) for e in escalations]

    # -- the Slack outbox ------------------------------------------------------------------
    def message(self, outbox_id: int) -> SlackOutbox:
        row = self.session.get(SlackOutbox, outbox_id)
        if row is None:
            raise LookupError(f"no Slack outbox message {outbox_id}")
        return row

    def channel_heads(self, now: datetime, media: Sequence[str]) -> Sequence[SlackOutbox]:
        """The oldest pending message of each channel that may go now by one of `media`,
        oldest first. A notice held until business hours open is no head before then: the
        channel's later messages (a major case's at night) go past it."""
        heads = (
            sa.select(sa.func.min(SlackOutbox.id))
            .where(
                SlackOutbox.status == PENDING,
                SlackOutbox.medium.in_(media),
                sa.or_(SlackOutbox.not_before.is_(None), SlackOutbox.not_before <= now),
            )
            .group_by(SlackOutbox.channel)
        )
        return self.session.scalars(
            sa.select(SlackOutbox).where(SlackOutbox.id.in_(heads)).order_by(SlackOutbox.id)
        ).all()

    def claim(self, outbox_id: int, now: datetime, until: datetime) -> bool:
        """Take a pending message due now for sending until `until`; False if another
        deliverer holds it or it was sent meanwhile (one conditional UPDATE)."""
        claimed = self.session.execute(
            sa.update(SlackOutbox)
            .where(
                SlackOutbox.id == outbox_id,
                SlackOutbox.status == PENDING,
                sa.or_(SlackOutbox.next_attempt_at.is_(None), SlackOutbox.next_attempt_at <= now),
            )
            .values(attempts=SlackOutbox.attempts + 1, next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], claimed).rowcount == 1

    def pending_count(self) -> int:
        count = self.session.scalar(
            sa.select(sa.func.count()).select_from(SlackOutbox).where(SlackOutbox.status == PENDING)
        )
        return int(count or 0)

    def counts_by_status(self) -> dict[str, int]:
        rows = self.session.execute(
            sa.select(SlackOutbox.status, sa.func.count()).group_by(SlackOutbox.status)
        )
        return dict(rows.tuples().all())

    def pending_by_channel(self) -> dict[str, int]:
        rows = self.session.execute(
            sa.select(SlackOutbox.channel, sa.func.count())
            .where(SlackOutbox.status == PENDING)
            .group_by(SlackOutbox.channel)
            .order_by(SlackOutbox.channel)
        )
        return dict(rows.tuples().all())

    def oldest_pending_at(self) -> datetime | None:
        return self.session.scalar(
            sa.select(sa.func.min(SlackOutbox.created_at)).where(SlackOutbox.status == PENDING)
        )

    def failing(self) -> Sequence[tuple[int, str, str]]:
        """Pending messages whose last attempt failed, newest first: (id, channel, error)."""
        rows = self.session.execute(
            sa.select(SlackOutbox.id, SlackOutbox.channel, SlackOutbox.last_error)
            .where(SlackOutbox.status == PENDING, SlackOutbox.last_error.is_not(None))
            .order_by(SlackOutbox.id.desc())
        )
        return [(i, c, e or "") for i, c, e in rows.tuples()]
