"""Who may act: the roles of the process, the people who hold them, and the checks.

PROCESS.md assigns each step to a role: the receiver and the handling team verify, the
team grades and plans, the department director approves the grading, the operations
director approves the plan, the plan's owner reports progress and feeds the result back,
the callback staff make the callback. An approval is only worth something when someone
other than the decider gives it (four eyes).

The directory is in force once it holds an active person: a company starts without one,
imports its people (`complaints staff import`), and from then on every action must name
one of them. Until then the product says so at start and accepts any name.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rules.enums import Department, Role
from rules.fields import Line
from rules.human_steps import HUMAN
from rules.steps import Step

STEP_ROLES: dict[Step, frozenset[Role]] = {
    **{human.step: human.roles for human in HUMAN},
    # holding a case's clocks while it waits on the customer
    Step.HOLD: frozenset({Role.RECEIVER, Role.HANDLER}),
}
"""The roles that may take each step a person acts on."""

APPROVES: dict[Step, Step] = {Step.APPROVE_GRADE: Step.GRADE, Step.APPROVE_PLAN: Step.PLAN}
"""Each approval and the decision it approves (four eyes: never by the same person)."""

CUSTOMER = "客户本人（在线问卷）"
"""The actor of a survey the customer answered on their own page: not a member of staff."""


class Person(BaseModel):
    """A member of staff as the directory knows them."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=50, title="姓名 / Name")
    department: Department = Field(title="部门 / Department")
    roles: frozenset[Role] = Field(min_length=1, title="角色 / Roles")
    active: bool = True

    @field_validator("name")
    @classmethod
    def _not_the_customer(cls, value: str) -> str:
        if value == CUSTOMER:
            raise ValueError(f"{CUSTOMER} stands for the customer and cannot be staff")
        return value

    def describe(self) -> str:
        roles = "、".join(sorted(role.value for role in self.roles))
        return f"{self.name}（{self.department.value}，{roles}）"


def role_names(roles: Iterable[Role]) -> str:
    return " / ".join(f"{role.value} {role.code}" for role in sorted(roles))


def refusal(
    people: dict[str, Person], step: Step, actor: str, decided_by: str | None = None
) -> str | None:
    """Why `actor` may not take `step`, or None when they may.

    `people` is the directory by name (inactive people included: they are named as such);
    `decided_by` is who made the decision an approval approves in this round.
    """
    if actor.strip() == CUSTOMER:
        return f"{CUSTOMER} 仅用于客户本人的在线问卷 / stands for the customer's own survey page"
    if not any(person.active for person in people.values()):
        return None  # no directory yet: not in force
    person = people.get(actor.strip())
    if person is None:
        return f"{actor} 不在员工名录中 / is not in the staff directory"
    if not person.active:
        return f"{actor} 已停用 / is no longer active in the staff directory"
    allowed = STEP_ROLES.get(step, frozenset())
    if not person.roles & allowed:
        return (
            f"{person.describe()} 无权办理 / may not take 「{step.label}」: it needs "
            f"{role_names(allowed)}"
        )
    if decided_by is not None and step in APPROVES and decided_by.strip() == person.name:
        return (
            f"{person.name} 不能审批自己的决定 / cannot approve their own decision at "
            f"「{APPROVES[step].label}」 (four eyes): another {role_names(allowed)} must approve it"
        )
    return None
