"""The staff directory (rules.staff): people with their department and roles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.ledger import StaffMember
from rules.enums import Role
from rules.staff import Person

CONTACTS = ("slack_id", "email", "mobile")


def person(member: StaffMember) -> Person:
    """The directory's row as the rules know a person."""
    roles = frozenset(Role(code) for code in member.roles.split(",") if code)
    return Person(
        name=member.name,
        department=member.department,
        roles=roles,
        active=member.active,
        **{field: getattr(member, field) for field in CONTACTS},
    )


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> StaffMember | None:
        stmt = sa.select(StaffMember).where(StaffMember.name == name)
        return self.session.scalars(stmt).first()

    def all(self) -> list[StaffMember]:
        return list(self.session.scalars(sa.select(StaffMember).order_by(StaffMember.name)))

    def people(self) -> dict[str, Person]:
        """Everyone by name, the deactivated included."""
        return {member.name: person(member) for member in self.all()}

    def add(self, member: StaffMember) -> StaffMember:
        self.session.add(member)
        self.session.flush()
        return member
