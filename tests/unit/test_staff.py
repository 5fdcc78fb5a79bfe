"""Who may act at which step: the staff directory's rules (rules.staff)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rules.enums import Department, Role
from rules.human_steps import HUMAN_STEPS
from rules.staff import APPROVES, CUSTOMER, STEP_ROLES, Person, refusal
from rules.steps import Step

WANG = Person(name="王五", department=Department.CUSTOMER_SERVICE, roles={Role.HANDLER})
ZHAO = Person(
    name="赵六",
    department=Department.OPERATIONS,
    roles={Role.DEPARTMENT_DIRECTOR, Role.OPERATIONS_DIRECTOR},
)
LIN = Person(name="小林", department=Department.CUSTOMER_SERVICE, roles={Role.CALLBACK})
GONE = Person(name="老马", department=Department.LOGISTICS, roles={Role.HANDLER}, active=False)
DIRECTORY = {p.name: p for p in (WANG, ZHAO, LIN, GONE)}


def test_every_step_a_person_acts_on_names_the_roles_that_may_take_it() -> None:
    assert set(HUMAN_STEPS) <= set(STEP_ROLES)
    assert all(STEP_ROLES[step] for step in HUMAN_STEPS)


@pytest.mark.parametrize(
    ("step", "actor"),
    [
        (Step.VERIFY, "王五"),
        (Step.GRADE, "王五"),
        (Step.APPROVE_GRADE, "赵六"),
        (Step.PLAN, "王五"),
        (Step.APPROVE_PLAN, "赵六"),
        (Step.EXECUTE, "王五"),
        (Step.FEEDBACK, "王五"),
        (Step.CALLBACK, "小林"),
        (Step.HOLD, " 王五 "),
    ],
)
def test_a_person_holding_the_steps_role_may_take_it(step: Step, actor: str) -> None:
    assert refusal(DIRECTORY, step, actor) is None


@pytest.mark.parametrize(
    ("step", "actor", "said"),
    [
        (Step.APPROVE_GRADE, "王五", "may not take 「定级审批 / Approve grading」"),
        (Step.APPROVE_PLAN, "小林", "it needs 运营总监 operations_director"),
        (Step.GRADE, "赵六", "it needs 处理人员 handler"),
        (Step.CALLBACK, "王五", "回访专员 callback"),
        (Step.VERIFY, "路人甲", "路人甲 不在员工名录中 / is not in the staff directory"),
        (Step.EXECUTE, "老马", "老马 已停用 / is no longer active"),
    ],
)
def test_anyone_else_is_refused_with_the_reason(step: Step, actor: str, said: str) -> None:
    reason = refusal(DIRECTORY, step, actor)
    assert reason is not None and said in reason


@pytest.mark.parametrize("approval", sorted(APPROVES))
def test_no_one_approves_their_own_decision(approval: Step) -> None:
    both = Person(name="赵六", department=Department.OPERATIONS, roles=set(Role))
    people = {**DIRECTORY, "赵六": both}

    own = refusal(people, approval, "赵六", decided_by="赵六")
    others = refusal(people, approval, "赵六", decided_by="王五")

    assert own is not None and "four eyes" in own and APPROVES[approval].label in own
    assert others is None


def test_without_an_active_person_the_directory_is_not_in_force() -> None:
    assert refusal({}, Step.APPROVE_PLAN, "anyone") is None
    assert refusal({"老马": GONE}, Step.APPROVE_PLAN, "anyone") is None


@pytest.mark.parametrize(
    "row",
    [
        {"name": "", "department": "客服部", "roles": ["handler"]},
        {"name": "王五", "department": "火星部", "roles": ["handler"]},
        {"name": "王五", "department": "客服部", "roles": []},
        {"name": "王五", "department": "客服部", "roles": ["boss"]},
        {"name": "王\x1b五", "department": "客服部", "roles": ["handler"]},
        {"name": CUSTOMER, "department": "客服部", "roles": ["callback"]},
    ],
)
def test_a_person_the_directory_cannot_hold_is_refused(row: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Person.model_validate(row)


def test_roles_are_read_by_code_or_chinese_name() -> None:
    person = Person.model_validate(
        {"name": "韩梅", "department": "运营部", "roles": ["运营总监", "leadership"]}
    )
    assert person.roles == {Role.OPERATIONS_DIRECTOR, Role.LEADERSHIP}
