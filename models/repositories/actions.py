"""The corrective-action aggregate (整改): one action per rectification notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.ledger import CorrectiveAction


class ActionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, action_id: int) -> CorrectiveAction | None:
        return self.session.get(CorrectiveAction, action_id)

    def by_key(self, key: str) -> CorrectiveAction | None:
        stmt = sa.select(CorrectiveAction).where(CorrectiveAction.key == key)
        return self.session.scalars(stmt).first()

    def add(self, action: CorrectiveAction) -> CorrectiveAction:
        self.session.add(action)
        self.session.flush()
        return action

    def due(self, now: datetime) -> Sequence[int]:
        """Ids of open actions with an alert due, soonest first."""
        stmt = (
            sa.select(CorrectiveAction.id)
            .where(CorrectiveAction.next_alert_at <= now, CorrectiveAction.status == "open")
            .order_by(CorrectiveAction.next_alert_at)
        )
        return self.session.scalars(stmt).all()

    def for_update(self, action_id: int) -> CorrectiveAction | None:
        """Lock one action; None if another watcher holds it (PostgreSQL) or it is gone."""
        stmt = sa.select(CorrectiveAction).where(CorrectiveAction.id == action_id)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalars(stmt).first()

    def issued_before(self, until: datetime) -> Sequence[CorrectiveAction]:
        stmt = (
            sa.select(CorrectiveAction)
            .where(CorrectiveAction.created_at < until)
            .order_by(CorrectiveAction.id)
        )
        return self.session.scalars(stmt).all()
