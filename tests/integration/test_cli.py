"""The `complaints` command in-process, on a SQLite ledger, with Prefect unreachable."""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from complaints.cases import casework
from complaints.settings import Settings, get_settings
from complaints.timesource import utc_now
from rules.case_number import is_case_number
from rules.intake import ComplaintIn
from rules.steps import Step, event_key
from tests.integration.cli_support import COMPLAINT, assert_one_line
from tests.integration.ledger_reads import audit_of


@pytest.fixture
def settings(ledger: str) -> Settings:
    return get_settings()  # of the fresh, migrated ledger


@pytest.fixture
def case_no(settings: Settings) -> str:
    """A registered complaint with no flow run, written straight to the ledger."""
    return casework.register(ComplaintIn(**COMPLAINT), settings, datetime.now(UTC)).case_no


def listed(run: Any) -> list[dict[str, Any]]:
    result = run("list", "--json")
    assert result.code == 0
    rows: list[dict[str, Any]] = result.json()
    return rows


@pytest.mark.parametrize(
    ("content", "named"),
    [
        pytest.param('{"channel": "热线电话", ', "malformed JSON", id="malformed-json"),
        pytest.param(
            {k: v for k, v in COMPLAINT.items() if k != "customer_name"},
            "customer_name: Field required",
            id="missing-field",
        ),
        pytest.param({**COMPLAINT, "channel": "传真"}, "channel:", id="wrong-enum"),
        pytest.param(
            {**COMPLAINT, "description": "很" * 2001},
            "description: String should have at most 2000 characters",
            id="oversized-description",
        ),
        pytest.param([COMPLAINT], "must be a JSON object", id="not-an-object"),
        pytest.param({**COMPLAINT, "fax": "010-1234567"}, "fax:", id="unknown-field"),
    ],
)
def test_submitting_a_bad_complaint_exits_2_with_one_line_and_writes_no_case(
    run: Any, write: Any, content: Any, named: str
) -> None:
    result = run("submit", write(content))

    assert_one_line(result, named)
    assert listed(run) == []


def test_submitting_a_file_that_does_not_exist_exits_2_naming_it(run: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"

    assert_one_line(run("submit", str(missing)), f"cannot read {missing}")


def test_a_complaint_submitted_while_prefect_is_unreachable_is_registered_without_a_run(
    run: Any, write: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(COMPLAINT, ensure_ascii=False)))

    first = run("submit", "--json", "-")

    assert first.code == 0
    submitted = first.json()
    assert is_case_number(submitted["case_no"])
    assert submitted["created"] is True
    assert submitted["flow_run_id"] is None
    assert submitted["start_error"]
    (row,) = listed(run)
    assert row["case_no"] == submitted["case_no"]
    assert (row["status"], row["step"]) == ("已登记", "register")
    shown = run("show", "--json", submitted["case_no"]).json()
    assert shown["case"]["flow_run_id"] is None

    again = run("submit", "--json", write(COMPLAINT))

    assert again.code == 0
    assert again.json()["case_no"] == submitted["case_no"]
    assert again.json()["created"] is False
    assert again.json()["start_error"]
    assert len(listed(run)) == 1


def test_a_reference_reused_for_another_complaint_exits_2_and_writes_nothing(
    run: Any, write: Any, case_no: str
) -> None:
    other = {**COMPLAINT, "description": "配送员态度很差，还说“爱买不买”。"}

    assert_one_line(run("submit", write(other)), case_no)
    assert [row["case_no"] for row in listed(run)] == [case_no]


# -- act -------------------------------------------------------------------------------------
APPROVAL_WITHOUT_REASON = {"actor": "客服经理-林涛", "approved": False}
PLAN_IN_THE_PAST = {
    "actor": "产品-郑华",
    "measures": "免费换新电热水壶，上门取旧送新。",
    "owner": "产品-郑华",
    "deadline": "2020-01-01T18:00:00+08:00",
    "root_cause": "供应商该批次来料不良。",
}
VERIFIED = {"actor": "产品-郑华", "substantiated": True, "findings": "确认存在质量缺陷。"}


def test_acting_on_an_unknown_case_exits_2(run: Any, write: Any, settings: Settings) -> None:
    result = run("act", "TS-20261123-9999", "verify", "--input", write(VERIFIED))

    assert_one_line(result, "no case TS-20261123-9999")


def test_acting_on_an_unknown_step_exits_2_listing_the_steps(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    result = run("act", case_no, "approve", "--input", write(VERIFIED))

    assert_one_line(result, "unknown step 'approve'", "approve_grade")
    assert keys_of(settings, case_no) == [event_key(Step.REGISTER)]


def test_acting_on_a_step_that_takes_no_input_exits_2(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    assert_one_line(run("act", case_no, "close", "--input", write({})), "unknown step 'close'")


@pytest.mark.parametrize(
    ("step", "data", "named"),
    [
        pytest.param(
            "approve_grade",
            APPROVAL_WITHOUT_REASON,
            "reason: 驳回必须说明理由",
            id="rejected-without-reason",
        ),
        pytest.param(
            "plan",
            PLAN_IN_THE_PAST,
            "invalid input for plan: deadline: 期限已过",
            id="deadline-in-the-past",
        ),
        pytest.param(
            "verify",
            {**VERIFIED, "substantiated": "perhaps"},
            "invalid input for verify: substantiated:",
            id="not-a-boolean",
        ),
        pytest.param("verify", [VERIFIED], "must be a JSON object", id="not-an-object"),
    ],
)
def test_acting_with_input_invalid_for_the_step_exits_2_and_writes_nothing(
    run: Any, write: Any, settings: Settings, case_no: str, step: str, data: Any, named: str
) -> None:
    casework.open_step(settings, case_no, Step(step), f"{step}-c0", datetime.now(UTC))

    result = run("act", case_no, step, "--input", write(data))

    assert_one_line(result, named)
    assert keys_of(settings, case_no) == [event_key(Step.REGISTER)]


def test_acting_on_a_registered_case_that_waits_for_nobody_exits_2(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    result = run("act", case_no, "verify", "--input", write(VERIFIED))

    assert_one_line(result, f"{case_no} is not waiting at verify", "not waiting for a person")
    assert keys_of(settings, case_no) == [event_key(Step.REGISTER)]


def test_acting_on_a_step_the_case_is_not_waiting_at_exits_2_naming_where_it_waits(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", datetime.now(UTC))
    plan = {**PLAN_IN_THE_PAST, "deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat()}

    result = run("act", case_no, "plan", "--input", write(plan))

    assert_one_line(result, f"{case_no} is not waiting at plan; it is at verify")
    assert keys_of(settings, case_no) == [event_key(Step.REGISTER)]


def test_acting_on_a_waiting_case_without_a_flow_run_exits_2_pointing_to_reconcile(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", datetime.now(UTC))

    result = run("act", case_no, "verify", "--input", write(VERIFIED))

    assert_one_line(result, "has no flow run yet", "complaints reconcile")
    assert keys_of(settings, case_no) == [event_key(Step.REGISTER)]


def test_acting_while_prefect_is_unreachable_exits_2_with_one_line(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", datetime.now(UTC))
    casework.attach_run(settings, case_no, "6f1f3f2e-5a8b-4c1d-9e7f-0a1b2c3d4e5f", utc_now())

    result = run("act", case_no, "verify", "--input", write(VERIFIED))

    assert_one_line(result, f"cannot read the flow run of {case_no} from Prefect")
    # registered, and its department told when the run was attached; nothing of the act
    assert keys_of(settings, case_no) == [event_key(Step.REGISTER), f"fwd:{case_no}:1"]


# -- show and list -----------------------------------------------------------------------------
def test_showing_an_unknown_case_exits_2(run: Any) -> None:
    assert_one_line(run("show", "TS-20261123-9999"), "no case TS-20261123-9999")


@pytest.fixture
def elsewhere(ledger: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI pointed at a ledger file nobody has created or migrated."""
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'ledger.db'}"
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.mark.parametrize(
    "argv", [("show", "TS-20261123-0001"), ("list",), ("escalations",), ("key", "list")]
)
def test_reading_a_ledger_that_is_not_there_says_so_and_creates_nothing(
    run: Any, elsewhere: str, argv: tuple[str, ...]
) -> None:
    path = Path(elsewhere.split(":///", 1)[1])
    assert not path.exists()
    assert_one_line(run(*argv), f"there is no ledger at {path} yet", "complaints db upgrade")
    assert not path.exists()


def test_reading_a_ledger_behind_the_newest_schema_does_not_migrate_it(
    run: Any, elsewhere: str
) -> None:
    from alembic import command

    from models.db import alembic_config

    Path(elsewhere.split(":///", 1)[1]).parent.mkdir()
    command.upgrade(alembic_config(elsewhere), "0002")
    assert_one_line(run("list"), "the ledger has schema 0002", "complaints db upgrade")
    with sa.create_engine(elsewhere).connect() as connection:
        assert (
            connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"
        )
    assert run("db", "upgrade").code == 0
    assert run("list").code == 0


def test_show_json_gives_the_case_with_masked_contact_and_its_timeline(
    run: Any, case_no: str
) -> None:
    result = run("show", "--json", case_no)

    assert result.code == 0
    shown = result.json()
    case = shown["case"]
    assert case["case_no"] == case_no
    assert case["customer_name"] == "张*"
    assert case["customer_contact"] == "138****5678 / z***@example.com"
    assert "13812345678" not in result.out and "zhangsan@" not in result.out
    assert (case["status"], case["severity"], case["category"]) == ("已登记", "严重", "产品质量")
    assert case["description"] == COMPLAINT["description"]
    (entry,) = shown["timeline"]
    assert entry["decision"] == "已登记"
    assert entry["actor"] == "客服-王芳"
    assert entry["step"] == Step.REGISTER.label
    assert shown["messages"] == []


def test_listing_with_an_unknown_status_exits_2_naming_the_choices(run: Any) -> None:
    assert_one_line(run("list", "--status", "pending"), "unknown status 'pending'", "处理中")


@pytest.mark.parametrize("status", ["已登记", "registered"])
def test_listing_by_status_accepts_the_chinese_word_or_its_english_alias(
    run: Any, case_no: str, status: str
) -> None:
    assert [row["case_no"] for row in run("list", "--json", "--status", status).json()] == [case_no]
    assert run("list", "--json", "--status", "closed").json() == []


def keys_of(settings: Settings, case_no: str) -> list[str]:
    return [entry.key for entry in audit_of(settings, case_no)]


def test_without_prefect_api_url_the_command_talks_to_the_products_own_server(
    tmp_path: Path,
) -> None:
    """Not to a temporary server of Prefect's own, which would hold none of the runs: with
    no PREFECT_API_URL and a fresh Prefect profile, the address is COMPLAINTS_UI_URL's."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPLAINTS_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),  # a fresh profile: no API URL in it either
        COMPLAINTS_DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}",
        COMPLAINTS_UI_URL="http://127.0.0.1:9",  # the product's server, not running
    )
    (tmp_path / "complaint.json").write_text(json.dumps(COMPLAINT, ensure_ascii=False))

    done = subprocess.run(
        [sys.executable, "-m", "complaints.cli", "submit", "complaint.json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "registered" in done.stdout
    assert "no Prefect server answers at http://127.0.0.1:9/api" in done.stdout, done.stdout
    assert "database is locked" not in done.stderr and "temporary" not in done.stderr.lower()


# -- the staff directory -----------------------------------------------------------------------
EXAMPLE_STAFF = Path(__file__).resolve().parents[2] / "examples" / "staff.toml"


def test_the_example_directory_is_imported_listed_and_a_person_deactivated(
    run: Any, settings: Settings
) -> None:
    imported = run("staff", "import", str(EXAMPLE_STAFF), "--json")
    again = run("staff", "import", str(EXAMPLE_STAFF), "--json")
    gone = run("staff", "deactivate", "孙七")
    listed_people = run("staff", "list", "--json").json()

    assert imported.code == 0 and imported.json() == {"added": 8, "updated": 0, "people": 8}
    assert again.json() == {"added": 0, "updated": 0, "people": 8}  # nothing changed
    assert gone.code == 0 and "孙七 may act no more" in gone.out
    by_name = {p["name"]: p for p in listed_people}
    assert by_name["赵六"]["roles"] == ["department_director", "operations_director"]
    assert by_name["孙七"]["active"] is False and by_name["王五"]["active"] is True


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('[[person]]\nname = "王五"\ndepartment = "火星部"\nroles = ["handler"]\n', "department"),
        ('[[person]]\nname = "王五"\ndepartment = "客服部"\nroles = ["boss"]\n', "roles"),
        ("name,department,roles\n王五,客服部,handler\n王五,物流部,handler\n", "more than once"),
        ("[[person]\n", "not TOML"),
        ("", "no people in it"),
        (
            "name,department,roles,slack_id\n王五,客服部,handler,U0WANG\n李四,客服部,handler,lisi\n",
            "staff.csv line 3: '李四': slack_id: 不是 Slack 成员 ID",
        ),
        (
            "name,department,roles,email\n王五,客服部,handler,wang@\n",
            "staff.csv line 2: '王五': email",
        ),
        (
            '[[person]]\nname = "王五"\ndepartment = "客服部"\nroles = ["handler"]\n'
            '[[person]]\nname = "李四"\ndepartment = "客服部"\nroles = ["handler"]\n'
            'mobile = "1381234"\n',
            "staff.toml person 2: '李四': mobile: 不是有效的手机号",
        ),
    ],
)
def test_a_directory_file_that_cannot_be_right_is_refused_in_one_line_and_writes_nothing(
    run: Any, settings: Settings, tmp_path: Path, content: str, said: str
) -> None:
    suffix = ".csv" if content.startswith("name,") else ".toml"
    path = tmp_path / f"staff{suffix}"
    path.write_text(content, encoding="utf-8")

    assert_one_line(run("staff", "import", str(path)), said)
    assert run("staff", "list", "--json").json() == []


def waiting(settings: Settings, case_no: str, step: Step, key: str) -> None:
    casework.open_step(settings, case_no, step, key, datetime.now(UTC))


def test_with_a_directory_a_stranger_is_refused_the_attempt_audited_and_the_case_waits(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    run("staff", "import", str(EXAMPLE_STAFF))
    waiting(settings, case_no, Step.VERIFY, "verify-c0")

    stranger = run("act", case_no, "verify", "--input", write({**VERIFIED, "actor": "路人甲"}))
    no_role = run("act", case_no, "verify", "--input", write({**VERIFIED, "actor": "回访员小林"}))
    customer = run(
        "act", case_no, "verify", "--input", write({**VERIFIED, "actor": "客户本人（在线问卷）"})
    )
    allowed = run("act", case_no, "verify", "--input", write({**VERIFIED, "actor": "王五"}))

    assert_one_line(stranger, f"{case_no}: 路人甲", "is not in the staff directory")
    assert_one_line(no_role, "回访员小林（客服部，回访专员）", "it needs")
    assert_one_line(customer, "stands for the customer's own survey page")
    assert_one_line(allowed, "has no flow run yet")  # past the directory, on to the run
    refused = [e for e in audit_of(settings, case_no) if e.decision == "refused"]
    assert [(e.payload["step"], e.actor) for e in refused] == [
        ("verify", "路人甲"),
        ("verify", "回访员小林"),
        ("verify", "客户本人（在线问卷）"),
    ]
    assert casework.load(settings, case_no).waiting_key == "verify-c0"


def test_no_one_approves_the_grading_they_made(
    run: Any, write: Any, settings: Settings, case_no: str
) -> None:
    from rules.inputs import GradeInput

    run("staff", "import", str(EXAMPLE_STAFF))  # 客服主管-周敏: handler and department director
    grading = GradeInput(
        actor="客服主管-周敏", category="物流配送", severity="一般", basis="核实属实", reason="一般"
    )
    waiting(settings, case_no, Step.GRADE, "grade-c0")
    casework.record_decision(settings, case_no, Step.GRADE, "grade-c0", grading, datetime.now(UTC))
    waiting(settings, case_no, Step.APPROVE_GRADE, "approve-grade-c0")
    approval = {"approved": True, "reason": "同意"}

    own = run(
        "act", case_no, "approve_grade", "--input", write({**approval, "actor": "客服主管-周敏"})
    )
    other = run("act", case_no, "approve_grade", "--input", write({**approval, "actor": "赵六"}))

    assert_one_line(own, "cannot approve their own decision", "four eyes")
    assert_one_line(other, "has no flow run yet")


def test_with_a_directory_only_its_people_stop_a_cases_clocks(
    run: Any, settings: Settings, case_no: str
) -> None:
    run("staff", "import", str(EXAMPLE_STAFF))

    default_actor = run("hold", case_no, "--reason", "等客户补充照片")  # --actor 客服
    by_receiver = run("hold", case_no, "--reason", "等客户补充照片", "--actor", "王五")

    assert_one_line(default_actor, f"{case_no}: 客服", "is not in the staff directory")
    assert by_receiver.code == 0 and "SLA clocks stopped" in by_receiver.out
    held = [(e.step, e.decision, e.actor) for e in audit_of(settings, case_no)][1:]
    assert held == [("refused", "refused", "客服"), ("hold", "on_hold", "王五")]
