"""What erasure needs of the ledger beyond a case's own rows (models.repositories.cases):
the installation's customer-key secret, and the cases due for erasure."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.ledger import AuditEntry, Case, ProductSecret
from rules.enums import CaseStatus
from rules.retention import ERASED, KEY_SECRET
from rules.steps import Step


class RetentionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def key_secret(self, now: datetime) -> bytes:
        """The key of the customers' one-way keys. The migration makes it; when someone
        destroyed it to make the old keys anonymous, a new one is made here (a concurrent
        registration making it too fails its flush, and registration tries again)."""
        row = self.session.get(ProductSecret, KEY_SECRET)
        if row is None:
            row = ProductSecret(name=KEY_SECRET, value=secrets.token_urlsafe(48), created_at=now)
            self.session.add(row)
            self.session.flush()
        return row.value.encode()

    def due(self, closed_by: datetime, limit: int, skip: Sequence[str] = ()) -> Sequence[str]:
        """Case numbers of closed cases, closed by `closed_by`, not erased yet, oldest first."""
        stmt = (
            sa.select(Case.case_no)
            .where(
                Case.status == CaseStatus.CLOSED,
                Case.closed_at <= closed_by,
                ~sa.select(AuditEntry.id)
                .where(AuditEntry.case_id == Case.id, _is_erasure())
                .exists(),
            )
            .order_by(Case.closed_at, Case.id)
            .limit(limit)
        )
        if skip:
            stmt = stmt.where(Case.case_no.not_in(skip))
        return self.session.scalars(stmt).all()

    def erasure(self, case_id: int) -> AuditEntry | None:
        """The case's erasure in its audit trail, if it was erased."""
        stmt = sa.select(AuditEntry).where(AuditEntry.case_id == case_id, _is_erasure())
        return self.session.scalars(stmt).first()


def _is_erasure() -> sa.ColumnElement[bool]:
    return sa.and_(AuditEntry.step == Step.ERASE.value, AuditEntry.decision == ERASED)
