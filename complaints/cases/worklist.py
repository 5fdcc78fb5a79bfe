"""The waiting cases as worklists read them (rules.worklist): `complaints todo`, the morning
list and the departments' tables in the Prefect UI.

A case names the people it is the turn of by the rule the turn notices follow
(rules.notices.who_is_told): those who may take the step, of the responsible department
when any is; the plan's owner for its own steps; never the decider for an approval.
"""

from __future__ import annotations

from typing import TypeVar

from complaints.cases import staff
from complaints.deadlines import clocks
from complaints.deadlines.escalation import run_url
from complaints.notifications.notices import forwardings, owner_of_plan
from complaints.settings import Settings
from models.db import unit_of_work
from models.repositories import CaseRepository
from models.repositories.staff import StaffRepository
from rules.enums import Department, Role
from rules.notices import OWNER_STEPS, who_is_told
from rules.staff import APPROVES, eligible, in_force
from rules.steps import Step
from rules.worklist import Waiting, select, soonest_due

STEPS = frozenset(step.value for step in Step)
V = TypeVar("V", Department, Role)


class UnknownWho(ValueError):
    """The person, department or role asked for is not known; the message says so."""


def waiting(settings: Settings, department: Department | None = None) -> list[Waiting]:
    """Every case waiting for a person (of one department), soonest due first."""
    with unit_of_work(settings.database_url) as session:
        people = StaffRepository(session).people()
        repo = CaseRepository(session)
        rows = [
            (case, clock) for case, clock in repo.waiting(department) if case.current_step in STEPS
        ]
        trails = repo.audits([case.id for case, _ in rows])
        found = []
        for case, clock in rows:
            step = Step(case.current_step)
            audit = trails[case.id]
            told: tuple[str, ...] = ()
            if in_force(people):
                approved = APPROVES.get(step)
                decided_by = staff.decider(audit, approved, case.cycle) if approved else None
                owner = owner_of_plan(audit, case.cycle) if step in OWNER_STEPS else None
                offered = eligible(people, step, decided_by) or []
                told = tuple(
                    p.name for p in who_is_told(people, offered, step, case.department, owner)
                )
            routings = [e.at for e in forwardings(audit)]
            found.append(
                Waiting(
                    case_no=case.case_no,
                    severity=case.severity.value,
                    category=case.category.value if case.category else None,
                    department=case.department,
                    step=step,
                    waiting_since=clock.started_at if clock else None,
                    due_at=clock.due_at if clock else None,
                    run_url=run_url(settings, case.flow_run_id),
                    told=told,
                    on_hold=clocks.on_hold(audit),
                    forwarded_at=routings[-1] if routings else None,
                )
            )
    return soonest_due(found)


def todo(
    settings: Settings,
    person: str | None = None,
    department: str | None = None,
    role: str | None = None,
) -> list[Waiting]:
    """The waiting cases of that person, department or role (all of them when none is
    named), soonest due first; UnknownWho when the name is not known."""
    wanted_department = _department(department) if department else None
    wanted_role = _role(role) if role else None
    if person is not None:
        people = staff.directory(settings)
        if not in_force(people) or person.strip() not in people:
            raise UnknownWho(
                f"{person} 不在员工名录中 / is not in the staff directory; "
                "`complaints staff list`, or ask by --department or --role"
            )
    name = person.strip() if person else None
    return select(waiting(settings), name, wanted_department, wanted_role)


def _department(text: str) -> Department:
    return _named(Department, text, "department")


def _role(text: str) -> Role:
    return _named(Role, text, "role")


def _named(vocabulary: type[V], text: str, what: str) -> V:
    """The member named by its Chinese word or its code."""
    for member in vocabulary:
        if text.strip() in (member.value, member.code):
            return member
    known = ", ".join(f"{m.value} ({m.code})" for m in vocabulary)
    raise UnknownWho(f"no {what} {text!r}; one of {known}")
