"""`complaints hold`, `release`, `escalations` and the deadlines in `show`, on both ledgers.

The command runs in-process against the test ledger (COMPLAINTS_DATABASE_URL); the
escalations it shows are fired beforehand by the watch at chosen moments.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from complaints.cases import casework
from complaints.deadlines import watch
from complaints.settings import Settings, get_settings
from rules.inputs import FeedbackInput, VerifyInput
from rules.intake import ComplaintIn
from rules.steps import Step
from tests.integration.cli_support import COMPLAINT as CLI_COMPLAINT
from tests.integration.cli_support import Result, assert_one_line, invoke
from tests.integration.ledger_reads import audit_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
HOUR = timedelta(hours=1)
UNKNOWN = "TS-20261123-9999"

COMPLAINT = {**CLI_COMPLAINT, "severity": "一般"}  # a general complaint: its ladder is slow


Run = Callable[..., Result]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The command's own settings: COMPLAINTS_DATABASE_URL at the test ledger, nothing else."""
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_") and not name.upper().startswith(
            "COMPLAINTS_TEST_"
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no .env file from the working directory
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], settings: Settings) -> Run:
    def run(*argv: str) -> Result:
        return invoke(capsys, *argv)

    return run


def register(settings: Settings, received: datetime = RECEIVED, **changes: Any) -> str:
    complaint = ComplaintIn(**{**COMPLAINT, "received_at": received, **changes})
    return casework.register(complaint, settings, received).case_no


def verified(settings: Settings, case_no: str, at: datetime) -> None:
    verify = VerifyInput(actor="产品-郑华", substantiated=True, findings="确认存在质量缺陷。")
    casework.record_decision(settings, case_no, Step.VERIFY, "verify-c0", verify, at)


# -- hold and release --------------------------------------------------------------------------
def test_holding_a_case_stops_its_clocks_and_releasing_it_starts_them_again(
    run: Run, settings: Settings
) -> None:
    now = datetime.now(UTC)
    case_no = register(settings, received=now)
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", now)

    held = run("hold", case_no, "--reason", "等待客户补充漏水照片", "--actor", "客服-李雷")

    assert (held.code, held.err) == (0, "")
    assert held.out == f"{case_no}: waiting on the customer; SLA clocks stopped\n"
    shown = run("show", "--json", case_no).json()
    assert shown["on_hold"] is True
    assert {c["clock"]: c["due"] for c in shown["clocks"]} == {
        "处理时限 / Handling limit": "暂停 paused",
        "核实 / Verify": "暂停 paused",
    }
    last = shown["timeline"][-1]
    assert (last["step"], last["actor"], last["decision"], last["summary"]) == (
        "等待客户 / Waiting on the customer",
        "客服-李雷",
        "等待客户（计时暂停）",
        "等待客户补充漏水照片",
    )
    assert "等待客户 waiting on the customer: SLA clocks stopped" in run("show", case_no).out

    released = run("release", "--json", case_no, "--note", "客户已发来照片三张")

    assert released.code == 0
    assert released.json() == {"case_no": case_no, "on_hold": False}
    shown = run("show", "--json", case_no).json()
    assert shown["on_hold"] is False
    assert "暂停 paused" not in {c["due"] for c in shown["clocks"]}
    assert shown["timeline"][-1]["decision"] == "客户已回复（恢复计时）"
    assert shown["timeline"][-1]["summary"] == "客户已发来照片三张"
    assert "waiting on the customer" not in run("show", case_no).out


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        pytest.param(
            ("hold", UNKNOWN, "--reason", "等待照片"), f"no case {UNKNOWN}", id="hold-unknown"
        ),
        pytest.param(
            ("release", UNKNOWN, "--note", "客户已回复"), f"no case {UNKNOWN}", id="release-unknown"
        ),
        pytest.param(
            ("release", "{case}", "--note", "客户已回复"),
            "is not waiting on the customer",
            id="release-without-hold",
        ),
        pytest.param(
            ("hold", "{case}", "--reason", "   "), "say why (--reason)", id="blank-reason"
        ),
    ],
)
def test_hold_and_release_refuse_what_cannot_be_done_with_one_line_and_exit_2(
    run: Run, settings: Settings, argv: tuple[str, ...], named: str
) -> None:
    case_no = register(settings)

    result = run(*(arg.format(case=case_no) for arg in argv))

    assert_one_line(result, named)
    assert decisions_of(settings, case_no) == ["registered"]


def test_holding_a_case_already_on_hold_exits_2_and_records_nothing(
    run: Run, settings: Settings
) -> None:
    case_no = register(settings)
    assert run("hold", case_no, "--reason", "等待照片").code == 0

    result = run("hold", case_no, "--reason", "再等一次")

    assert_one_line(result, case_no, "is already waiting on the customer")
    assert decisions_of(settings, case_no) == ["registered", "on_hold"]


def test_holding_a_closed_case_exits_2(run: Run, settings: Settings) -> None:
    case_no = register(settings)
    casework.close(settings, case_no, RECEIVED + HOUR, "# 报告\n")

    assert_one_line(run("hold", case_no, "--reason", "等待照片"), case_no, "is closed")
    assert decisions_of(settings, case_no) == ["registered", "closed"]


# -- deadlines and escalations -----------------------------------------------------------------
def test_show_lists_the_deadlines_of_a_case_and_its_escalations(
    run: Run, settings: Settings
) -> None:
    # Verification and handling are both due 24 h after receipt (a general complaint).
    case_no = register(settings)
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", RECEIVED)
    watch.fire_due(settings, RECEIVED + 20 * HOUR)  # both warnings (at 80 %)
    verified(settings, case_no, RECEIVED + 21 * HOUR)
    watch.fire_due(settings, RECEIVED + 29 * HOUR)  # handling: level 1, then level 2 at +4 h

    shown = run("show", "--json", case_no).json()

    assert [
        (c["clock"], c["due"], c["level"], c["done"], c["on_time"]) for c in shown["clocks"]
    ] == [
        ("处理时限 / Handling limit", "2026-11-24 09:30", "二级 L2", None, None),
        ("核实 / Verify", "2026-11-24 09:30", "预警 W", "2026-11-24 06:30", True),
    ]
    assert [(e["at"], e["level"], e["audience"], e["trigger"]) for e in shown["escalations"]] == [
        ("2026-11-24 05:30", "预警 W", "预警·处理人/客服主管", "sla"),
        ("2026-11-24 05:30", "预警 W", "预警·处理人/客服主管", "sla"),
        ("2026-11-24 14:30", "一级 L1", "一级·部门负责人", "sla"),
        ("2026-11-24 14:30", "二级 L2", "二级·运营总监", "sla"),
    ]
    text = run("show", case_no).out
    assert "  deadlines:\n" in text
    assert "  处理时限 / Handling limit (cycle 1): due 2026-11-24 09:30  level 二级 L2\n" in text
    assert (
        "  核实 / Verify (cycle 1): due 2026-11-24 09:30  level 预警 W  done 2026-11-24 06:30\n"
        in text
    )
    assert "  escalations:\n" in text
    assert "  2026-11-24 14:30  二级 L2  二级·运营总监  " in text


def test_show_names_the_earlier_case_of_a_repeat_complaint(run: Run, settings: Settings) -> None:
    first = register(settings)
    second = register(
        settings,
        received=RECEIVED + timedelta(days=5),
        external_ref="HL-20261128-000007",
        description="上次换的电热水壶又漏水了。",
    )

    shown = run("show", "--json", second).json()

    assert shown["case"]["repeat_of"] == first
    assert [(e["trigger"], e["level"]) for e in shown["escalations"]] == [("repeat", "预警 W")]
    assert f"  重复投诉 repeat of {first}\n" in run("show", second).out
    assert "repeat_of" not in run("show", "--json", first).json()["case"]


def test_open_escalations_list_an_overdue_case_until_its_clocks_stop(
    run: Run, settings: Settings
) -> None:
    case_no = register(settings)
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", RECEIVED)
    assert run("escalations", "--open").out == "no overdue cases\n"
    assert run("escalations").out == "no escalations\n"
    watch.fire_due(settings, RECEIVED + 25 * HOUR)  # both clocks: warning and level 1

    rows = run("escalations", "--open", "--json").json()

    assert [(r["level"], r["trigger"], r["cases"]) for r in rows] == [
        ("一级 L1", "sla", case_no),
        ("一级 L1", "sla", case_no),
    ]
    assert {r["at"] for r in rows} == {"2026-11-24 10:30"}
    text = run("escalations", "--open").out
    assert text.count(case_no) == 2 and "一级 L1" in text

    verified(settings, case_no, RECEIVED + 26 * HOUR)
    assert [r["level"] for r in run("escalations", "--open", "--json").json()] == ["一级 L1"]
    feedback = FeedbackInput(actor="客服-王芳", result="已为客户换新。")
    casework.record_decision(
        settings, case_no, Step.FEEDBACK, "feedback-c0", feedback, RECEIVED + 27 * HOUR
    )

    assert run("escalations", "--open", "--json").json() == []
    assert run("escalations", "--open").out == "no overdue cases\n"
    everything = run("escalations", "--json").json()
    # Newest first; the catching-up pass fired each clock's rungs lowest first.
    assert [r["level"] for r in everything] == ["一级 L1", "预警 W", "一级 L1", "预警 W"]


def decisions_of(settings: Settings, case_no: str) -> list[str]:
    return [entry.decision for entry in audit_of(settings, case_no)]
