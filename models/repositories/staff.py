"""The staff directory (rules.staff): people with their department and roles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.ledger import StaffMember


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> StaffMember | None:
        stmt = sa.select(StaffMember).where(StaffMember.name == name)
        return self.session.scalars(stmt).first()

    def all(self) -> list[StaffMember]:
        return list(self.session.scalars(sa.select(StaffMember).order_by(StaffMember.name)))

    def add(self, member: StaffMember) -> StaffMember:
        self.session.add(member)
        self.session.flush()
        return member
