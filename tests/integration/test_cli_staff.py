"""The staff directory where a decision names someone besides its actor: who registers a
complaint by hand (`complaints submit`, the Prefect UI's Run form) and who owns a plan
(`complaints act … plan`). In-process on a SQLite ledger, with Prefect unreachable: a
refusal comes before anything would reach it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from complaints.cases import casework
from complaints.settings import Settings, get_settings
from complaints.timesource import utc_now
from rules.intake import ComplaintIn
from rules.steps import Step
from tests.integration.cli_support import COMPLAINT, assert_one_line
from tests.integration.ledger_reads import audit_of

EXAMPLE_STAFF = str(Path(__file__).resolve().parents[2] / "examples" / "staff.toml")
PLAN = {  # 孙七 is of 物流部 in examples/staff.toml; the case (产品质量) is 产品部's
    "actor": "王五",
    "measures": "上门取回漏水的电热水壶，换发新品。",
    "owner": "孙七",
    "deadline_working_days": 5,
    "root_cause": "该批次底座密封圈装配不到位。",
}
WHY = "上门取件与换新发货都由物流部安排，产品部负责质检"


@pytest.fixture
def settings(ledger: str) -> Settings:
    return get_settings()  # of the fresh, migrated ledger


@pytest.fixture
def case_no(settings: Settings) -> str:
    """A product-quality complaint (产品部 answers for it), waiting for its plan."""
    now = datetime.now(UTC)
    case_no = casework.register(ComplaintIn(**COMPLAINT), settings, now).case_no
    casework.open_step(settings, case_no, Step.PLAN, "plan-c0", now)
    return case_no


def registered(run: Any) -> list[dict[str, Any]]:
    result = run("list", "--json")
    assert result.code == 0
    rows: list[dict[str, Any]] = result.json()
    return rows


# -- a plan's owner --------------------------------------------------------------------------
def test_a_plan_owned_outside_the_responsible_department_is_refused_unless_it_says_why(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    run("staff", "import", EXAMPLE_STAFF)

    stranger = run("act", case_no, "plan", "--input", write({**PLAN, "owner": "路人甲"}))
    elsewhere = run("act", case_no, "plan", "--input", write(PLAN))
    misnamed = run(
        "act",
        case_no,
        "plan",
        "--input",
        write({**PLAN, "owner_department": "客服部", "owner_department_reason": WHY}),
    )
    unexplained = run(
        "act", case_no, "plan", "--input", write({**PLAN, "owner_department": "物流部"})
    )
    explained = run(
        "act",
        case_no,
        "plan",
        "--input",
        write({**PLAN, "owner_department": "物流部", "owner_department_reason": WHY}),
    )

    assert_one_line(stranger, f"{case_no}: owner: 负责人 路人甲", "is not in the staff directory")
    assert_one_line(
        elsewhere,
        "owner: 孙七（物流部，处理人员） 不属于责任部门产品部",
        "give owner_department (物流部) and owner_department_reason",
    )
    assert_one_line(misnamed, "owner_department: 孙七（物流部，处理人员） 不属于客服部")
    assert_one_line(unexplained, "invalid input for plan: owner_department_reason:")
    assert_one_line(explained, "has no flow run yet")  # past the directory, on to the run
    # nothing written but the refused attempts: no plan, the case still waits for one
    audit = audit_of(settings, case_no)
    refused = [(e.payload["step"], e.actor) for e in audit if e.decision == "refused"]
    assert refused == [("plan", "王五")] * 3
    assert [e.step for e in audit if e.decision != "refused"] == ["register"]
    view = casework.load(settings, case_no)
    assert (view.current_step, view.waiting_key) == ("plan", "plan-c0")


def test_without_a_directory_any_owner_may_own_a_plan(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    anyone = run("act", case_no, "plan", "--input", write({**PLAN, "owner": "路人甲"}))

    assert_one_line(anyone, "has no flow run yet")
    assert not [e for e in audit_of(settings, case_no) if e.decision == "refused"]


# -- who registers a complaint by hand ---------------------------------------------------------
def test_with_a_directory_only_a_receiver_in_it_registers_a_complaint_by_hand(
    run: Any, write: Any, settings: Settings
) -> None:
    run("staff", "import", EXAMPLE_STAFF)

    stranger = run("submit", write({**COMPLAINT, "receiver": "路人甲"}))
    handler = run("submit", write({**COMPLAINT, "receiver": "孙七"}))
    nothing = registered(run)
    receiver = run("submit", "--json", write({**COMPLAINT, "receiver": "张三"}))

    assert_one_line(
        stranger, "invalid complaint: receiver: 路人甲", "is not in the staff directory"
    )
    assert_one_line(handler, "receiver: 孙七（物流部，处理人员）", "needs 受理人 receiver")
    assert nothing == []
    assert receiver.code == 0 and receiver.json()["created"] is True
    (case,) = registered(run)
    assert case["case_no"] == receiver.json()["case_no"]
    assert [(e.step, e.actor) for e in audit_of(settings, case["case_no"])] == [
        ("register", "张三")
    ]


def test_a_channel_retrying_a_complaint_gets_its_case_back_after_the_receiver_has_left(
    run: Any, write: Any, settings: Settings
) -> None:
    run("staff", "import", EXAMPLE_STAFF)
    complaint = write({**COMPLAINT, "receiver": "张三"})
    first = run("submit", "--json", complaint)
    run("staff", "deactivate", "张三")  # saved; the forms cannot be shown again offline

    retry = run("submit", "--json", complaint)
    other = run("submit", write({**COMPLAINT, "receiver": "张三", "external_ref": "T-2"}))

    assert first.code == 0 and retry.code == 0
    assert retry.json()["case_no"] == first.json()["case_no"]
    assert retry.json()["created"] is False
    assert_one_line(other, "invalid complaint: receiver: 张三", "is no longer active")
    assert len(registered(run)) == 1


def test_with_a_directory_a_complaint_typed_into_the_run_form_by_a_stranger_is_refused(
    run: Any, settings: Settings
) -> None:
    from tasks.case_steps import open_case

    run("staff", "import", EXAMPLE_STAFF)
    typed = ComplaintIn(**{**COMPLAINT, "receiver": "回访员小林"})  # callback staff only

    with pytest.raises(ValueError, match="invalid complaint: receiver: 回访员小林") as refused:
        open_case.fn(typed, None)  # what the case run does with a complaint from its Run form

    assert "\n" not in str(refused.value) and "needs 受理人 receiver" in str(refused.value)
    assert registered(run) == []


def test_a_plan_from_the_ui_form_is_checked_for_its_owner_as_the_case_run_records_it(
    run: Any, settings: Settings, case_no: str
) -> None:
    from rules.inputs import PlanInput
    from tasks.case_steps import record

    run("staff", "import", EXAMPLE_STAFF)
    elsewhere = PlanInput.model_validate(PLAN)  # what the Resume form sent, owner of 物流部
    explained = PlanInput.model_validate(
        {**PLAN, "owner_department": "物流部", "owner_department_reason": WHY}
    )

    body = record.fn.__wrapped__  # the task's own work, without refreshing the run's view
    _, refused = body(case_no, Step.PLAN, "plan-c0", elsewhere)
    _, recorded = body(case_no, Step.PLAN, "plan-c0", explained)

    (reason,) = refused
    assert reason.startswith("owner: 孙七（物流部，处理人员） 不属于责任部门产品部")
    assert recorded == []
    audit = audit_of(settings, case_no)
    assert [(e.step, e.decision) for e in audit] == [
        ("register", "registered"),
        ("refused", "refused"),  # kept under the wait's refused-input key: the form asks again
        ("plan", "submitted"),
    ]
    assert audit[1].key.startswith("plan-c0") and audit[1].key != "plan-c0"
    assert audit[2].payload["owner_department"] == "物流部"


# -- the waiting forms ------------------------------------------------------------------------
def test_a_change_prefect_cannot_be_told_of_is_saved_and_says_how_to_show_the_forms_again(
    run: Any, settings: Settings, case_no: str
) -> None:
    casework.attach_run(settings, case_no, "0b6f3f5e-9a52-4d59-8f0e-3a1d2c4b5a69", utc_now())

    added = run("staff", "add", "钱八", "--department", "产品部", "--roles", "handler")

    assert added.code == 2 and added.out == "added: 钱八（产品部，处理人员）\n"
    assert added.err.count("\n") == 1, added.err
    for said in ("the directory is saved", "1 waiting forms", "complaints staff reshow"):
        assert said in added.err
    listed = run("staff", "list", "--json").json()
    assert [p["name"] for p in listed] == ["钱八"]


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("words.toml", 'person = "abc"\n', "[[person]] table"),
        ("single.toml", '[person]\nname = "张三"\n', "one [person] table"),
        ("strings.toml", 'person = ["a", "b"]\n', "person 1: 'a' is not a [[person]] table"),
        ("number.toml", "person = 5\n", "[[person]] table"),
        (
            "roles.toml",
            '[[person]]\nname = "张三"\ndepartment = "客服部"\nroles = 5\n',
            "roles: a list of roles",
        ),
        (
            "yes.toml",
            '[[person]]\nname = "张三"\ndepartment = "客服部"\nroles = ["受理人"]\nactive = "yes"\n',
            "active",
        ),
        ("name-only.csv", "name,department,roles\n张三\n", "line 2: '张三'"),
    ],
)
def test_a_malformed_directory_file_is_refused_in_one_line_and_writes_nothing(
    run: Any, write: Any, ledger: str, name: str, text: str, said: str
) -> None:
    from models.db import unit_of_work
    from models.repositories.staff import StaffRepository

    refused = run("staff", "import", write(text, name))

    assert_one_line(refused, said)
    with unit_of_work(ledger) as session:
        assert StaffRepository(session).people() == {}


def test_a_refused_name_is_echoed_quoted_never_obeyed(run: Any) -> None:
    refused = run("staff", "deactivate", "没有\n这个人\x1b[31m")

    assert_one_line(refused, "'没有\\n这个人\\x1b[31m'")
