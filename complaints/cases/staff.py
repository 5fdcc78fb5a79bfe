"""The staff directory in the ledger, and the check every action passes (rules.staff).

People are imported from a file (TOML or CSV, see examples/staff.toml), added or
deactivated from the command line; a deactivated person stays listed so the audit trail
keeps its names. `check` is asked before a decision is taken — by `complaints act` and the
intake service before they resume a run, and by the case run itself when the Prefect UI's
form resumed it — and a refused attempt is kept in the case's audit trail. A plan's owner
is checked with its decision; a complaint's receiver before it is registered by hand
(`receiver_check`), where there is no case yet to keep a refusal in.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from complaints.cases.casework import INVALID_INPUT
from complaints.settings import Settings
from models.db import transaction, unit_of_work
from models.ledger import AuditEntry, StaffMember
from models.repositories import CaseRepository
from models.repositories.staff import CONTACTS, StaffRepository
from models.repositories.staff import person as as_person
from rules.enums import Role
from rules.fields import decode
from rules.inputs import PlanInput, StepInput, describe_errors
from rules.intake import ComplaintIn
from rules.staff import APPROVES, Person, owner_refusal, receiver_refusal, refusal
from rules.staff import eligible as eligible_names
from rules.steps import Step

REFUSED = "refused"


class StaffRefused(ValueError):
    """The directory cannot be changed so; the message says why in one line."""


def directory(settings: Settings, session: Session | None = None) -> dict[str, Person]:
    """Everyone in the directory by name, the deactivated included."""
    with transaction(settings.database_url, session) as session:
        return StaffRepository(session).people()


def parse_person(raw: dict[str, Any], where: str = "") -> Person:
    """A person from a file's row or the command line: roles by code or Chinese name,
    as a list or separated by commas. `where` names the row in a refusal."""
    who = f"{where}{raw.get('name', '?')!r}"  # quoted: a name is echoed, never obeyed
    roles = raw.get("roles") or []
    if isinstance(roles, str):
        roles = [r.strip() for r in roles.replace("，", ",").split(",") if r.strip()]
    if not isinstance(roles, list):
        raise StaffRefused(f"{who}: roles: a list of roles or one text of roles, not {roles!r}")
    try:
        return Person.model_validate({**raw, "roles": [_role(r) for r in roles]})
    except ValidationError as exc:
        raise StaffRefused(f"{who}: {describe_errors(exc)}") from None


def _role(text: Any) -> Role | Any:
    try:
        return Role(text)
    except ValueError:
        return text  # validation names it


def read_file(path: Path) -> list[Person]:
    """People from a TOML file (`[[person]]` tables) or a CSV file (name, department,
    roles, and optionally slack_id, email, mobile) in any encoding the command line reads.
    A refusal names the file, the row (a CSV's line, a TOML file's n-th person) and the
    field."""
    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise StaffRefused(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise StaffRefused(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".csv":
        rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(text)))
    else:
        try:
            rows = tomllib.loads(text).get("person", [])
        except tomllib.TOMLDecodeError as exc:
            raise StaffRefused(f"{path}: not TOML: {exc}") from None
        if isinstance(rows, dict):
            raise StaffRefused(f"{path}: one [person] table; write each as [[person]]")
        if not isinstance(rows, list):
            raise StaffRefused(f"{path}: person is {rows!r}; write each as a [[person]] table")
        for n, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                raise StaffRefused(f"{path} person {n}: {row!r} is not a [[person]] table")
    if not rows:
        raise StaffRefused(f"{path}: no people in it (TOML [[person]] tables or CSV rows)")
    # a CSV's first row of people is line 2, under its header
    first = 2 if path.suffix.lower() == ".csv" else 1
    label = "line" if first == 2 else "person"
    people = [parse_person(row, f"{path} {label} {n}: ") for n, row in enumerate(rows, first)]
    names = [p.name for p in people]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise StaffRefused(f"{path}: named more than once: {', '.join(map(repr, twice))}")
    return people


def save(settings: Settings, people: list[Person], now: datetime) -> tuple[int, int]:
    """Add or update each person (activating them); returns (added, updated)."""
    added = updated = 0
    with unit_of_work(settings.database_url) as session:
        repo = StaffRepository(session)
        for person in people:
            wanted = {
                "department": person.department,
                "roles": ",".join(sorted(role.code for role in person.roles)),
                "active": person.active,
                **{field: _text(getattr(person, field)) for field in CONTACTS},
            }
            member = repo.by_name(person.name)
            if member is None:
                repo.add(StaffMember(name=person.name, added_at=now, changed_at=now, **wanted))
                added += 1
            elif any(getattr(member, field) != value for field, value in wanted.items()):
                for field, value in wanted.items():
                    setattr(member, field, value)
                member.changed_at = now
                updated += 1
    return added, updated


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def deactivate(settings: Settings, name: str, now: datetime) -> Person:
    with unit_of_work(settings.database_url) as session:
        member = StaffRepository(session).by_name(name.strip())
        if member is None:
            raise StaffRefused(f"{name!r} is not in the staff directory; `complaints staff list`")
        if member.active:
            member.active, member.changed_at = False, now
        return as_person(member)


def check(
    settings: Settings,
    case_no: str,
    step: Step,
    actor: str,
    session: Session | None = None,
    data: StepInput | None = None,
) -> str | None:
    """Why `actor` may not take `step` of the case now, or None (rules.staff.refusal); with
    the step's input `data`, also why a plan's owner may not own it (owner_refusal)."""
    with transaction(settings.database_url, session) as session:
        people = directory(settings, session)
        reason = refusal(people, step, actor, approved_decider(session, case_no, step))
        if reason is None and isinstance(data, PlanInput):
            case = CaseRepository(session).get(case_no)
            reason = owner_refusal(people, data, case.department if case else None)
        return reason


def receiver_check(settings: Settings, complaint: ComplaintIn) -> str | None:
    """Why the complaint's receiver may not register it by hand, or None
    (rules.staff.receiver_refusal): one line naming the field. A complaint its channel
    already registered is not asked again: a retry gets its case back (or the clash of
    references) even when the receiver has left since."""
    with transaction(settings.database_url) as session:
        key = complaint.idempotency_key()
        if key is not None and CaseRepository(session).by_idempotency_key(key) is not None:
            return None
        return receiver_refusal(directory(settings, session), complaint.receiver)


def eligible(
    settings: Settings,
    case_no: str,
    step: Step,
    session: Session | None = None,
    people: dict[str, Person] | None = None,
) -> list[str] | None:
    """Who may take `step` of the case now (rules.staff.eligible): what its form offers.
    `people`: the directory already read, when many cases are asked at once."""
    with transaction(settings.database_url, session) as session:
        if people is None:
            people = directory(settings, session)
        return eligible_names(people, step, approved_decider(session, case_no, step))


def approved_decider(session: Session, case_no: str, step: Step) -> str | None:
    """For an approval, who made the decision it approves in this round; else None."""
    if step not in APPROVES:
        return None
    repo = CaseRepository(session)
    case = repo.get(case_no)
    if case is None:
        return None
    return decider(list(repo.audit(case.id)), APPROVES[step], case.cycle)


def decider(audit: Sequence[AuditEntry], step: Step, cycle: int) -> str | None:
    """Who made the latest decision at `step` in `cycle`: the one an approval approves."""
    taken = [
        e
        for e in audit
        if e.step == step.value and e.cycle == cycle and e.decision != INVALID_INPUT
    ]
    return taken[-1].actor if taken else None


def record_refused(
    settings: Settings,
    case_no: str,
    step: Step,
    key: str,
    actor: str,
    reason: str,
    now: datetime,
    session: Session | None = None,
) -> None:
    """Keep a refused attempt in the audit trail: who tried which step, and why not.

    Kept under a step of its own (the step tried is in the payload), so that nothing that
    reads a step's entries — the clocks' holds, who decided what — mistakes it for one."""
    with transaction(settings.database_url, session) as session:
        repo = CaseRepository(session)
        case = repo.get(case_no)
        if case is None:
            return
        repo.record(
            AuditEntry(
                case_id=case.id,
                key=key,
                step=Step.REFUSED.value,
                cycle=case.cycle,
                actor=actor[:50],
                at=now,
                decision=REFUSED,
                payload={"step": step.value, "errors": reason},
            )
        )


def attempt(
    settings: Settings,
    case_no: str,
    step: Step,
    actor: str,
    now: datetime,
    key: str | None = None,
    data: StepInput | None = None,
) -> str | None:
    """`check`, with a refusal kept in the audit trail; returns the refusal.

    `key` is the audit key to keep it under: the case run passes its wait's refused-input
    key, so that it asks again; anyone else gets a key of its own, never a wait's. `data`
    is the step's input, when it names people of its own (a plan's owner)."""
    reason = check(settings, case_no, step, actor, data=data)
    if reason is not None:
        key = key or f"refused@{step.value}.{now:%H%M%S%f}"
        record_refused(settings, case_no, step, key, actor, reason, now)
    return reason
