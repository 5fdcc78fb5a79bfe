"""Escalations as Slack shows them: what a reader learns, and no customer's personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rules.alerts import Alert, ClusterMember, Level, Trigger
from rules.enums import Category, Severity
from rules.slack_blocks import OPEN_BUTTON, SlackMessage, overdue_text, slack_message

TZ = ZoneInfo("Asia/Shanghai")
FIRED = datetime(2026, 11, 23, 4, 15, tzinfo=UTC)  # 12:15 in Shanghai
RUN_URL = "http://127.0.0.1:4200/runs/flow-run/0d7c5b1e-6a39-4c55-9d8e-3f1b2a4c5d6e"
NAME, PHONE, EMAIL = "张三丰", "13812345678", "zhangsan@example.com"


def overdue_alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "key": "sla:verify:c0:L2",
        "trigger": Trigger.SLA,
        "level": Level.OPERATIONS_DIRECTOR,
        "fired_at": FIRED,
        "case_no": "TS-20261123-0007",
        "severity": Severity.SERIOUS,
        "category": Category.LOGISTICS,
        "product": "记忆棉床垫",
        "step": "verify",
        "step_label": "核实 / Verify",
        "cycle": 0,
        "due_at": FIRED - timedelta(hours=2, minutes=15),
        "overdue_by": timedelta(hours=2, minutes=15),
        "owner": "物流部 · 王磊",
        "customer_name": NAME,
        "customer_phone": PHONE,
        "customer_email": EMAIL,
        "description": f"{NAME}来电：床垫快递延误五天，请回电 {PHONE} 或发邮件到 {EMAIL}。",
        "run_url": RUN_URL,
    }
    fields.update(changes)
    return Alert(**fields)


def cluster_alert(members: int = 3, **changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "key": "cluster:物流配送:-:20261123T1215",
        "trigger": Trigger.CLUSTER,
        "level": Level.DEPARTMENT_HEAD,
        "fired_at": FIRED,
        "category": Category.LOGISTICS,
        "owner": "物流部",
        "members": [
            ClusterMember(
                case_no=f"TS-20261123-{n:04d}",
                received_at=FIRED - timedelta(minutes=10 * n),
                run_url=f"http://127.0.0.1:4200/runs/flow-run/{n}" if n % 2 else None,
            )
            for n in range(1, members + 1)
        ],
    }
    fields.update(changes)
    return Alert(**fields)


def of_type(message: SlackMessage, kind: str) -> list[dict[str, Any]]:
    return [block for block in message.blocks if block["type"] == kind]


def fields(message: SlackMessage) -> dict[str, str]:
    """The section fields by their Chinese label: ``{"案件": "<url|TS-...>", ...}``."""
    (section,) = [block for block in of_type(message, "section") if "fields" in block]
    labelled = (field["text"].split("\n", 1) for field in section["fields"])
    return {label.strip("*").split(" / ")[0]: value for label, value in labelled}


def header(message: SlackMessage) -> str:
    (block,) = of_type(message, "header")
    return str(block["text"]["text"])


def everything(message: SlackMessage) -> str:
    return json.dumps({"text": message.text, "blocks": message.blocks}, ensure_ascii=False)


def mrkdwn_texts(message: SlackMessage) -> list[str]:
    found: list[str] = [message.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return found


def test_the_header_names_the_ladder_level_and_why_the_case_was_escalated() -> None:
    message = slack_message(overdue_alert(), TZ)

    assert header(message) == "⏰ 二级·运营总监 / level 2: operations director · 超时 / overdue"


def test_an_overdue_message_shows_the_case_and_how_long_the_step_is_overdue() -> None:
    shown = fields(slack_message(overdue_alert(), TZ))

    assert shown["案件"] == f"<{RUN_URL}|TS-20261123-0007>"
    assert shown["等级"] == "严重 / serious"
    assert shown["类别"] == "物流配送 / logistics"
    assert shown["产品"] == "记忆棉床垫"
    assert shown["步骤"] == "核实 / Verify"
    assert shown["逾期"] == "2小时15分 / 2 h 15 min\n截止 / due 11-23 10:00"
    assert shown["负责"] == "物流部 · 王磊"
    assert shown["级别"] == "L2 · 二级·运营总监 / level 2: operations director"


def test_a_warning_says_when_the_step_falls_due_in_local_time() -> None:
    alert = overdue_alert(
        level=Level.WARNING, due_at=FIRED + timedelta(minutes=45), overdue_by=None
    )

    message = slack_message(alert, TZ)

    assert fields(message)["到期"] == "将于 13:00 到期 / due at 13:00"
    assert "逾期" not in fields(message)
    assert "将于 13:00 到期" in message.text
    assert header(message).startswith("⏰ 预警·处理人/客服主管")


def test_a_deadline_on_another_local_day_shows_its_date() -> None:
    alert = overdue_alert(level=Level.WARNING, due_at=FIRED + timedelta(hours=14), overdue_by=None)

    assert fields(slack_message(alert, TZ))["到期"] == "将于 11-24 02:15 到期 / due at 11-24 02:15"


def test_a_later_plan_cycle_is_named_with_the_step() -> None:
    alert = overdue_alert(step="plan", step_label="制定处理方案 / Plan the resolution", cycle=1)

    assert (
        fields(slack_message(alert, TZ))["步骤"]
        == "制定处理方案 / Plan the resolution · 第2轮 / cycle 2"
    )


@pytest.mark.parametrize(
    ("overdue_by", "shown"),
    [
        (timedelta(hours=2, minutes=15, seconds=59), "2小时15分 / 2 h 15 min"),
        (timedelta(minutes=45), "45分 / 45 min"),
        (timedelta(hours=3), "3小时 / 3 h"),
        (timedelta(days=1, hours=3, minutes=5), "1天3小时5分 / 1 d 3 h 5 min"),
        (timedelta(days=2), "2天 / 2 d"),
        (timedelta(seconds=20), "不到1分钟 / under 1 min"),
    ],
)
def test_overdue_time_reads_in_days_hours_and_minutes(overdue_by: timedelta, shown: str) -> None:
    assert overdue_text(overdue_by) == shown


def test_the_button_opens_the_case_run_in_prefect() -> None:
    message = slack_message(overdue_alert(), TZ)

    (actions,) = of_type(message, "actions")
    (button,) = actions["elements"]
    assert button["text"]["text"] == OPEN_BUTTON == "在 Prefect 中打开 / Open in Prefect"
    assert button["url"] == RUN_URL


def test_without_a_run_there_is_no_button_and_the_case_number_is_plain() -> None:
    message = slack_message(overdue_alert(run_url=None), TZ)

    assert of_type(message, "actions") == []
    assert fields(message)["案件"] == "TS-20261123-0007"


def test_the_customer_is_shown_masked() -> None:
    shown = fields(slack_message(overdue_alert(), TZ))

    assert shown["客户"] == "`张**` `138****5678` `z***@example.com`"


def test_no_raw_personal_data_appears_anywhere_in_the_message() -> None:
    alert = overdue_alert(reason=f"{NAME}不接受，说再打 {PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]} 投诉")

    message = everything(slack_message(alert, TZ))

    for raw in (NAME, PHONE, EMAIL, "zhangsan", "1234", "138-1234-5678"):
        assert raw not in message
    assert "张**来电：床垫快递延误五天，请回电 138****5678 或发邮件到 z***@example.com。" in message
    assert "张**不接受" in message


def test_the_notification_text_names_the_case_and_the_overdue_time_without_customer_data() -> None:
    message = slack_message(overdue_alert(), TZ)

    assert message.text == (
        "⏰ L2 TS-20261123-0007 · 超时 / overdue · 核实 / Verify · 逾期 2小时15分 / 2 h 15 min"
    )


def test_a_long_description_is_shortened_to_two_hundred_characters() -> None:
    message = slack_message(overdue_alert(description="物流" * 300), TZ)

    (description,) = [
        block["text"]["text"]
        for block in of_type(message, "section")
        if block.get("text", {}).get("text", "").startswith("描述")
    ]
    quoted = description.split("：", 1)[1]
    assert len(quoted) == 200
    assert quoted.endswith("…")


def test_customer_text_cannot_ping_the_channel_or_break_the_formatting() -> None:
    alert = overdue_alert(
        description="<!channel> 快递 & <http://evil.example|点这里>", owner="物流部 <王磊>"
    )

    message = slack_message(alert, TZ)

    for text in mrkdwn_texts(message):
        assert "<!channel>" not in text and "<http://evil" not in text
    assert fields(message)["负责"] == "物流部 &lt;王磊&gt;"
    (description,) = [
        block["text"]
        for block in of_type(message, "section")
        if "<!channel>" in block.get("text", {}).get("text", "")
    ]
    assert description["type"] == "plain_text"  # Slack shows plain text literally


def test_a_cluster_lists_its_cases_each_linked_to_its_run() -> None:
    message = slack_message(cluster_alert(), TZ)

    assert header(message) == (
        "📈 一级·部门负责人 / level 1: department head · 同类投诉集中 / cluster of similar complaints"
    )
    listing = next(
        block["text"]["text"]
        for block in of_type(message, "section")
        if block.get("text", {}).get("text", "").startswith("*案件")
    )
    assert listing.splitlines() == [
        "*案件 / Cases (3)*",
        "• <http://127.0.0.1:4200/runs/flow-run/1|TS-20261123-0001> · 11-23 12:05",
        "• TS-20261123-0002 · 11-23 11:55",
        "• <http://127.0.0.1:4200/runs/flow-run/3|TS-20261123-0003> · 11-23 11:45",
    ]
    assert "案件" not in fields(message)
    assert fields(message)["类别"] == "物流配送 / logistics"
    assert of_type(message, "actions") == []
    assert (
        message.text
        == "📈 L1 物流配送 · 3 件 / cases · 同类投诉集中 / cluster of similar complaints"
    )


def test_a_large_cluster_lists_the_first_cases_and_counts_the_rest() -> None:
    message = slack_message(cluster_alert(members=25), TZ)

    listing = next(
        block["text"]["text"]
        for block in of_type(message, "section")
        if block.get("text", {}).get("text", "").startswith("*案件")
    )
    lines = listing.splitlines()
    assert lines[0] == "*案件 / Cases (25)*"
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "…另有 5 件 / 5 more"


def test_the_message_stays_within_slack_block_limits() -> None:
    for alert in (overdue_alert(description="长" * 5000), cluster_alert(members=200)):
        message = slack_message(alert, TZ)

        assert len(message.blocks) <= 50
        assert len(header(message)) <= 150
        for block in message.blocks:
            assert len(block.get("fields", [])) <= 10
            assert len(block.get("text", {}).get("text", "")) <= 3000


def test_a_warning_before_the_deadline_says_due_soon_not_overdue() -> None:
    warning = overdue_alert(level=Level.WARNING, due_at=FIRED + timedelta(hours=1), overdue_by=None)
    message = slack_message(warning, TZ)
    shown = message.text + json.dumps(message.blocks, ensure_ascii=False)
    assert "即将超时 / due soon" in shown
    assert "overdue" not in shown and "超时 / overdue" not in shown
    late = slack_message(overdue_alert(), TZ)
    assert "超时 / overdue" in late.text
