"""What a test reads back from the ledger, straight from the tables (not through the
services under test)."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa

from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import AuditEntry, Case, Escalation, SlackOutbox

T = TypeVar("T")


def all_of(settings: Settings, table: type[T]) -> list[T]:
    """Every row of a table, in the order they were written (detached once read)."""
    with unit_of_work(settings.database_url) as session:
        return list(session.scalars(sa.select(table).order_by(table.id)))  # type: ignore[attr-defined]


def escalation_messages(
    settings: Settings, *columns: Any, order_by: Any, trigger: str | None = None
) -> list[tuple[Any, ...]]:
    """`columns` of each Slack message waiting or sent and of the escalation it tells of,
    as plain tuples; `trigger`: only that kind of escalation."""
    statement = sa.select(*columns).join(SlackOutbox, SlackOutbox.escalation_id == Escalation.id)
    if trigger is not None:
        statement = statement.where(Escalation.trigger == trigger)
    with unit_of_work(settings.database_url) as session:
        return [tuple(row) for row in session.execute(statement.order_by(order_by))]


def audit_of(settings: Settings, case_no: str) -> list[AuditEntry]:
    """The case's audit trail, oldest first."""
    with unit_of_work(settings.database_url) as session:
        stmt = (
            sa.select(AuditEntry)
            .join(Case, Case.id == AuditEntry.case_id)
            .where(Case.case_no == case_no)
            .order_by(AuditEntry.id)
        )
        return list(session.scalars(stmt))


def the_case(settings: Settings, case_no: str) -> Case:
    with unit_of_work(settings.database_url) as session:
        case = session.scalars(sa.select(Case).where(Case.case_no == case_no)).one()
        session.expunge(case)
        return case
