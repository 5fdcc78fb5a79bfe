"""What a test reads back from the ledger, straight from the tables (not through the
services under test)."""

from __future__ import annotations

import sqlalchemy as sa

from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import AuditEntry, Case


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
