"""Who may act: the roles of the process, the people who hold them, and the checks.

PROCESS.md assigns each step to a role: the receiver and the handling team verify, the
team grades and plans, the department director approves the grading, the operations
director approves the plan, the plan's owner reports progress and feeds the result back,
the callback staff make the callback. An approval is only worth something when someone
other than the decider gives it (four eyes).

The directory is in force once it holds an active person: a company starts without one,
imports its people (`complaints staff import`), and from then on every action must name
one of them — and so must a complaint registered by hand (its receiver) and a plan (its
owner, who belongs to the responsible department unless the plan says which other one and
why). Until then the product says so at start and accepts any name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from rules.enums import Department, Role
from rules.fields import FULL_WIDTH_DIGITS, Line
from rules.human_steps import HUMAN
from rules.inputs import PlanInput
from rules.intake import MOBILE
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

SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,19}")
"""A Slack member ID as Slack shows it in a profile (U… or, on Enterprise Grid, W…)."""


class Person(BaseModel):
    """A member of staff as the directory knows them."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=50, title="姓名 / Name")
    department: Department = Field(title="部门 / Department")
    roles: frozenset[Role] = Field(min_length=1, title="角色 / Roles")
    active: bool = Field(default=True, strict=True)  # true or false, not "yes"
    # Where the person is told that work is theirs (complaints.notifications.notices): a
    # Slack direct message (by member ID, else found by e-mail), else an e-mail.
    slack_id: str | None = Field(default=None, title="Slack 用户 ID / Slack member ID")
    email: EmailStr | None = Field(default=None, title="电子邮箱 / E-mail")
    mobile: str | None = Field(default=None, title="手机 / Mobile")

    @field_validator("slack_id", "email", "mobile", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_id")
    @classmethod
    def _slack_member(cls, value: str | None) -> str | None:
        if value is not None and not SLACK_USER_ID.fullmatch(value):
            raise ValueError(
                "不是 Slack 成员 ID / not a Slack member ID (U… or W…, as the profile's "
                "「Copy member ID」 gives it)"
            )
        return value

    @field_validator("mobile")
    @classmethod
    def _mainland_mobile(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.translate(FULL_WIDTH_DIGITS).replace(" ", "").replace("-", "")
        digits = digits.removeprefix("+86")
        if not MOBILE.fullmatch(digits):
            raise ValueError("不是有效的手机号 / not a mainland mobile number (1 and ten digits)")
        return digits

    @field_validator("name")
    @classmethod
    def _not_the_customer(cls, value: str) -> str:
        if value == CUSTOMER:
            raise ValueError(f"{CUSTOMER} stands for the customer and cannot be staff")
        return value

    def describe(self) -> str:
        roles = "、".join(sorted(role.value for role in self.roles))
        return f"{self.name}（{self.department.value}，{roles}）"


def in_force(people: dict[str, Person]) -> bool:
    """Whether the directory decides who may act: not before it holds an active person."""
    return any(person.active for person in people.values())


def _active(people: dict[str, Person], name: str, said: str = "") -> Person | str:
    """The active person of that name, or why not in one line (`said` leads it)."""
    person = people.get(name.strip())
    if person is None:
        return f"{said}{name} 不在员工名录中 / is not in the staff directory"
    if not person.active:
        return f"{said}{name} 已停用 / is no longer active in the staff directory"
    return person


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
    if not in_force(people):
        return None
    person = _active(people, actor)
    if isinstance(person, str):
        return person
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


def eligible(
    people: dict[str, Person], step: Step, decided_by: str | None = None
) -> list[str] | None:
    """The names who may take `step` now, in the order a form offers them; None while no
    directory is in force (any name is taken). An approval leaves out who decided."""
    if not in_force(people):
        return None
    return sorted(
        name for name, person in people.items() if refusal(people, step, name, decided_by) is None
    )


def receiver_refusal(people: dict[str, Person], receiver: str) -> str | None:
    """Why `receiver` may not register a complaint by hand, or None when they may: the
    first receiver owns the complaint until a plan hands it over (首问责任制), so it must be
    someone the directory knows as a receiver."""
    if not in_force(people):
        return None
    person = _active(people, receiver, "receiver: ")
    if isinstance(person, str):
        return person
    if Role.RECEIVER not in person.roles:
        return (
            f"receiver: {person.describe()} 不是受理人 / may not register a complaint: it "
            f"needs {role_names({Role.RECEIVER})}"
        )
    return None


def owner_refusal(
    people: dict[str, Person], plan: PlanInput, responsible: Department | None
) -> str | None:
    """Why the plan's owner may not own it, or None when they may.

    The plan hands the case over to its owner, who reports progress and feeds the result
    back; the responsible department answers for the case, so the owner is one of its
    people — or the plan names the owner's own department and says why (a courier's
    complaint whose fix is the product department's, say). `responsible` is the case's
    responsible department (None before grading: only the named department is checked).
    """
    if not in_force(people):
        return None
    person = _active(people, plan.owner, "owner: 负责人 ")
    if isinstance(person, str):
        return person
    carries_out = STEP_ROLES[Step.EXECUTE]  # the owner reports progress and completion
    if not person.roles & carries_out:
        return (
            f"owner: {person.describe()} 不能执行方案 / may not carry out the plan: it needs "
            f"{role_names(carries_out)}"
        )
    named = plan.owner_department
    if named is not None and named is not person.department:
        return (
            f"owner_department: {person.describe()} 不属于{named.value} / the owner is of "
            f"{person.department.value}, not {named.value}"
        )
    if named is None and responsible is not None and person.department is not responsible:
        return (
            f"owner: {person.describe()} 不属于责任部门{responsible.value} / is not of the "
            f"responsible department: give owner_department ({person.department.value}) "
            "and owner_department_reason"
        )
    return None
