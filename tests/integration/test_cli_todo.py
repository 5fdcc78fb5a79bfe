"""`complaints todo`: what waits for a person, a department or a role, soonest due first.
In-process on a SQLite ledger with the example staff directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from complaints.cases import casework
from complaints.settings import Settings, get_settings
from rules.intake import ComplaintIn
from rules.steps import Step
from tests.integration.cli_support import COMPLAINT, assert_one_line

EXAMPLE_STAFF = str(Path(__file__).resolve().parents[2] / "examples" / "staff.toml")


@pytest.fixture
def settings(ledger: str) -> Settings:
    return get_settings()


def waiting(settings: Settings, step: Step, received_ago: timedelta, **changes: Any) -> str:
    """A complaint received a while ago, now waiting at `step`."""
    now = datetime.now(UTC)
    complaint = ComplaintIn(**{**COMPLAINT, **changes, "received_at": now - received_ago})
    case_no = casework.register(complaint, settings, now).case_no
    casework.open_step(settings, case_no, step, f"{step.value.replace('_', '-')}-c0", now)
    return case_no


def listed(run: Any, *who: str) -> list[str]:
    result = run("todo", *who, "--json")
    assert result.code == 0, result.err
    return [row["case_no"] for row in result.json()]


def test_each_person_department_and_role_sees_what_waits_for_them_soonest_due_first(
    run: Any, settings: Settings
) -> None:
    run("staff", "import", EXAMPLE_STAFF)
    # verification runs from receipt: the one received earlier is due sooner
    product_plan = waiting(settings, Step.PLAN, timedelta(0), external_ref="A-1")
    late_verify = waiting(
        settings, Step.VERIFY, timedelta(hours=11), external_ref="A-2", category="物流配送"
    )
    fresh_verify = waiting(settings, Step.VERIFY, timedelta(hours=1), external_ref="A-3")

    assert listed(run) == [late_verify, fresh_verify, product_plan]
    assert listed(run, "--department", "物流部") == [late_verify]
    assert listed(run, "--department", "logistics") == [late_verify]
    assert listed(run, "--role", "department_director") == []
    assert listed(run, "--role", "handler") == [late_verify, fresh_verify, product_plan]
    # 孙七 is 物流部's handler: its case is his; 产品部 has nobody, so everyone who may
    assert listed(run, "--person", "孙七") == [late_verify, fresh_verify, product_plan]
    assert listed(run, "--person", "王五") == [fresh_verify, product_plan]
    assert listed(run, "--person", "回访员小林") == []

    table = run("todo", "--department", "物流部")
    assert late_verify in table.out and "剩 left" in table.out and "已等 waited" in table.out
    (row,) = run("todo", "--department", "物流部", "--json").json()
    assert row["step"] == "verify" and 0 < row["left_minutes"] <= 60  # serious: 12 h promise
    assert row["run_url"] is None  # no run yet


@pytest.mark.parametrize(
    ("who", "said"),
    [
        (("--person", "路人甲"), "路人甲 不在员工名录中"),
        (("--department", "火星部"), "no department '火星部'"),
        (("--role", "boss"), "no role 'boss'"),
    ],
)
def test_asking_for_someone_unknown_is_refused_in_one_line(
    run: Any, settings: Settings, who: tuple[str, ...], said: str
) -> None:
    run("staff", "import", EXAMPLE_STAFF)
    assert_one_line(run("todo", *who), said)
