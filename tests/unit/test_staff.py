"""Who may act at which step: the staff directory's rules (rules.staff)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rules.enums import Department, Role
from rules.human_steps import HUMAN_STEPS
from rules.inputs import PlanInput
from rules.staff import (
    APPROVES,
    CUSTOMER,
    STEP_ROLES,
    Person,
    owner_refusal,
    receiver_refusal,
    refusal,
)
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


# -- who registers a complaint by hand, and who owns a plan ------------------------------
ZHANG = Person(name="张三", department=Department.CUSTOMER_SERVICE, roles={Role.RECEIVER})
SUN = Person(name="孙七", department=Department.LOGISTICS, roles={Role.HANDLER})
WITH_OWNERS = {**DIRECTORY, **{p.name: p for p in (ZHANG, SUN)}}


def test_a_receiver_in_the_directory_registers_a_complaint() -> None:
    assert receiver_refusal(WITH_OWNERS, " 张三 ") is None


@pytest.mark.parametrize(
    ("receiver", "said"),
    [
        ("路人甲", "receiver: 路人甲 不在员工名录中 / is not in the staff directory"),
        ("老马", "receiver: 老马 已停用 / is no longer active"),
        ("王五", "receiver: 王五（客服部，处理人员） 不是受理人 / may not register a complaint"),
    ],
)
def test_anyone_but_an_active_receiver_is_refused_naming_the_field(
    receiver: str, said: str
) -> None:
    reason = receiver_refusal(WITH_OWNERS, receiver)
    assert reason is not None and reason.startswith(said) and "\n" not in reason


def test_without_a_directory_in_force_any_receiver_registers() -> None:
    assert receiver_refusal({}, "路人甲") is None
    assert receiver_refusal({"老马": GONE}, "路人甲") is None


def plan(owner: str, department: str | None = None, why: str | None = None) -> PlanInput:
    extra = {"owner_department": department, "owner_department_reason": why} if why else {}
    return PlanInput(
        actor="王五",
        measures="补发内胆",
        owner=owner,
        deadline_working_days=5,
        root_cause="包装不足",
        **extra,
    )


def test_an_owner_of_the_responsible_department_owns_the_plan() -> None:
    assert owner_refusal(WITH_OWNERS, plan("孙七"), Department.LOGISTICS) is None


def test_an_owner_of_another_department_owns_the_plan_when_it_says_which_and_why() -> None:
    why = plan("孙七", "物流部", "换货由物流部上门取件，客服部跟进")
    assert owner_refusal(WITH_OWNERS, why, Department.CUSTOMER_SERVICE) is None


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (plan("路人甲"), "owner: 负责人 路人甲 不在员工名录中 / is not in the staff directory"),
        (plan("老马"), "owner: 负责人 老马 已停用 / is no longer active"),
        (
            plan("赵六"),
            "owner: 赵六（运营部，运营总监、部门总监） 不能执行方案 / may not carry out",
        ),
        (
            plan("王五"),
            "owner: 王五（客服部，处理人员） 不属于责任部门物流部 / is not of the responsible "
            "department: give owner_department (客服部) and owner_department_reason",
        ),
        (
            plan("王五", "售后部", "售后部有备件"),
            "owner_department: 王五（客服部，处理人员） 不属于售后部 / the owner is of 客服部, "
            "not 售后部",
        ),
        (
            plan("孙七", "客服部", "客服部熟悉客户"),
            "owner_department: 孙七（物流部，处理人员） 不属于客服部",
        ),
    ],
)
def test_a_plan_whose_owner_cannot_own_it_is_refused_in_one_line(
    given: PlanInput, said: str
) -> None:
    reason = owner_refusal(WITH_OWNERS, given, Department.LOGISTICS)
    assert reason is not None and reason.startswith(said) and "\n" not in reason


def test_before_grading_only_the_named_department_is_checked() -> None:
    assert owner_refusal(WITH_OWNERS, plan("王五"), None) is None
    assert owner_refusal(WITH_OWNERS, plan("王五", "物流部", "物流部上门"), None) is not None


def test_without_a_directory_in_force_any_owner_owns_the_plan() -> None:
    assert owner_refusal({}, plan("路人甲"), Department.LOGISTICS) is None
    assert owner_refusal({"老马": GONE}, plan("王五", "物流部", "随便"), Department.PRODUCT) is None
