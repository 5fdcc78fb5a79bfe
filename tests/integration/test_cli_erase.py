"""`complaints erase`: a closed case's customer erased on request, in-process on a SQLite
ledger with Prefect unreachable (its part is said to be left, and nothing fails)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from complaints.cases import casework
from complaints.settings import Settings, get_settings
from rules.intake import ComplaintIn
from rules.retention import ERASED_NAME
from rules.steps import Step
from tests.integration.cli_support import COMPLAINT, assert_one_line
from tests.integration.ledger_reads import audit_of, the_case

NOW = datetime.now(UTC)


@pytest.fixture
def settings(ledger: str) -> Settings:
    return get_settings()


@pytest.fixture
def open_case(settings: Settings) -> str:
    return casework.register(ComplaintIn(**COMPLAINT), settings, NOW).case_no


@pytest.fixture
def closed_case(settings: Settings) -> str:
    complaint = ComplaintIn(**{**COMPLAINT, "external_ref": "HL-20261123-000043"})
    case_no = casework.register(complaint, settings, NOW - timedelta(hours=2)).case_no
    casework.close(settings, case_no, NOW - timedelta(hours=1), "# 报告\n客户 张三 13812345678")
    return case_no


def test_erasing_an_open_case_is_refused_in_one_line_and_changes_nothing(
    run: Any, settings: Settings, open_case: str
) -> None:
    assert_one_line(run("erase", open_case, "--by", "合规-周敏"), open_case, "is not closed")
    assert the_case(settings, open_case).customer_name == "张三"


def test_erasing_an_unknown_case_is_refused_in_one_line(run: Any) -> None:
    assert_one_line(
        run("erase", "TS-20261123-9999", "--by", "合规-周敏"), "no case TS-20261123-9999"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("erase", "TS-20261123-0001"), "--by NAME"),
        (("erase", "--by", "合规-周敏"), "--due"),
        (("erase", "TS-20261123-0001", "--due", "--by", "合规-周敏"), "--due"),
    ],
)
def test_erase_needs_one_case_and_who_erases_it_or_due(
    run: Any, argv: tuple[str, ...], said: str
) -> None:
    assert_one_line(run(*argv), said)


def test_erasing_a_closed_case_erases_its_customer_and_says_so_in_the_audit_trail(
    run: Any, settings: Settings, closed_case: str
) -> None:
    result = run("erase", closed_case, "--by", "合规-周敏")

    assert result.code == 0, result.err
    assert result.out.startswith(f"{closed_case}: erased customer_name, customer_phone")
    assert "Prefect's copy NOT removed" in result.out  # unreachable here: said, not failed
    case = the_case(settings, closed_case)
    assert (case.customer_name, case.customer_phone, case.customer_email) == (
        ERASED_NAME,
        None,
        None,
    )
    assert case.customer_key is not None
    erased = audit_of(settings, closed_case)[-1]
    assert (erased.step, erased.actor, erased.decision) == (Step.ERASE.value, "合规-周敏", "erased")
    assert erased.payload["why"] == "request"
    assert "case_reports.markdown" in erased.payload["fields"]
    shown = run("show", "--json", closed_case).json()
    assert shown["case"]["customer_name"] == ERASED_NAME
    assert shown["case"]["customer_contact"] is None
    assert shown["timeline"][-1]["decision"] == "客户个人信息已删除"


def test_erasing_a_case_twice_says_it_was_already_erased_and_changes_nothing(
    run: Any, settings: Settings, closed_case: str
) -> None:
    assert run("erase", closed_case, "--by", "合规-周敏").code == 0
    trail = [(e.key, e.payload) for e in audit_of(settings, closed_case)]

    again = run("erase", closed_case, "--by", "另一人", "--json")

    assert again.code == 0
    assert again.json()["already"] is True
    assert again.json()["actor"] == "合规-周敏"
    assert [(e.key, e.payload) for e in audit_of(settings, closed_case)] == trail
    assert "already erased" in run("erase", closed_case, "--by", "另一人").out


def test_erase_due_erases_nothing_before_the_retention_period_is_over(
    run: Any, settings: Settings, closed_case: str
) -> None:
    result = run("erase", "--due")

    assert result.code == 0
    assert result.out.strip() == "no case is past the retention period"
    assert the_case(settings, closed_case).customer_name == "张三"
