"""Staff notices: a case forwarded to its department, a person's turn at a step.

Written to the outbox by the ledger's own operations and delivered by the real slack_sdk
client to a local Slack Web API (direct messages, users.lookupByEmail) and by SMTP to a
local mail server, as the deadline watch delivers them.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from complaints.cases import casework, staff
from complaints.notifications import notices
from complaints.notifications.slack import deliver_outbox, slack_client
from complaints.settings import DEFAULT_CHANNELS, DepartmentContact, Settings, SlackSettings
from rules.enums import Category, Channel, Demand, Department, Role, Severity
from rules.inputs import GradeInput
from rules.intake import ComplaintIn
from rules.sla import SlaPolicy
from rules.staff import Person
from rules.steps import Step
from tests.integration.slack_server import TOKEN, FakeSlack
from tests.integration.smtp_server import HOST, Inbox

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday morning
NAME, PHONE = "欧阳娜娜", "13812345678"
RUN_ID = "0b7c6a52-3f0e-4b8e-9a53-1c2d3e4f5a6b"
WARN = DEFAULT_CHANNELS["W"]
LOGISTICS_CHANNEL = "#logistics"
LOGISTICS_MAIL = "wuliu@example.com"


@pytest.fixture
def told(settings: Settings, slack_api: FakeSlack, smtp: tuple[Inbox, int]) -> Settings:
    """Slack and SMTP on loopback; 物流部 has a channel and an address of its own."""
    _, port = smtp
    return settings.model_copy(
        update={
            "slack": SlackSettings(
                token=SecretStr(TOKEN),
                base_url=slack_api.base_url,
                timeout_seconds=5,
                retry_limit=0,
                role_channels={Role.DEPARTMENT_DIRECTOR: "#directors"},
            ),
            "smtp_host": HOST,
            "smtp_port": port,
            "departments": {
                "物流部": DepartmentContact(
                    slack_channel=LOGISTICS_CHANNEL, email_to=[LOGISTICS_MAIL]
                )
            },
        }
    )


def register(settings: Settings, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "channel": Channel.HOTLINE,
        "external_ref": f"HL-{changes.pop('ref', 1)}",
        "customer_name": NAME,
        "customer_phone": PHONE,
        "description": f"快递延误五天，请回电 {PHONE}",
        "demand": Demand.EXPLANATION,
        "received_at": RECEIVED,
        "severity": Severity.SERIOUS,
        "category": Category.LOGISTICS,
        "receiver": "客服-王芳",
    }
    fields.update(changes)
    return casework.register(ComplaintIn(**fields), settings, RECEIVED).case_no


def deliver(settings: Settings, at: datetime, failing: int = 0) -> list[str]:
    report = deliver_outbox(settings, slack_client(settings), at)
    assert report.failed == failing, report.errors
    return report.errors


def mails(inbox: Inbox) -> list[Any]:
    return [message_from_bytes(e.content, policy=policy.default) for e in inbox.envelopes]


def posted_to(slack: FakeSlack, channel: str) -> list[str]:
    return [
        json.dumps(m.blocks, ensure_ascii=False) for m in slack.messages if m.channel == channel
    ]


# -- forwarding -------------------------------------------------------------------------
def test_the_responsible_department_is_told_in_writing_once_when_the_case_gets_its_run(
    told: Settings, slack_api: FakeSlack, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    case_no = register(told)
    casework.attach_run(told, case_no, RUN_ID, RECEIVED)
    casework.attach_run(told, case_no, RUN_ID, RECEIVED)  # a restarted run: told once

    deliver(told, RECEIVED)

    (notice,) = posted_to(slack_api, LOGISTICS_CHANNEL)
    assert case_no in notice and "严重" in notice and "物流" in notice
    assert "核实并处理" in notice  # what is asked of the department
    assert f"/runs/flow-run/{RUN_ID}" in notice  # the button to the case's run
    assert PHONE not in notice and "138****5678" in notice  # masked
    (mail,) = mails(inbox)
    assert mail["To"] == LOGISTICS_MAIL and case_no in str(mail["Subject"])
    body = mail.get_content()
    assert "办理期限 / Due by" in body and PHONE not in body
    entries = [e for e in casefile_audit(told, case_no) if e.step == "notify"]
    assert [(e.decision, e.payload["department"]) for e in entries] == [("forwarded", "物流部")]


def test_a_grading_that_changes_the_department_tells_the_new_one_from_whom_it_came(
    told: Settings, slack_api: FakeSlack
) -> None:
    case_no = register(told)
    casework.attach_run(told, case_no, RUN_ID, RECEIVED)
    grading = GradeInput(
        actor="处理-李强",
        category=Category.PRODUCT_QUALITY,
        severity=Severity.SERIOUS,
        scope="部门内",
        basis="漏水属产品质量问题",
        reason="产品部负责质量问题",
    )

    casework.record_decision(told, case_no, Step.GRADE, "grade-c0", grading, RECEIVED)
    casework.record_decision(told, case_no, Step.GRADE, "grade-c0", grading, RECEIVED)  # replay
    deliver(told, RECEIVED)

    assert len(posted_to(slack_api, LOGISTICS_CHANNEL)) == 1  # the first routing, once
    (handed,) = posted_to(slack_api, WARN)  # 产品部 has no channel of its own: the default
    assert "产品部" in handed and "由物流部转来" in handed and "制定并执行处理方案" in handed


def test_a_department_with_nowhere_to_be_told_is_named_on_the_case_timeline(
    settings: Settings,
) -> None:
    case_no = register(settings)  # no Slack, no SMTP
    casework.attach_run(settings, case_no, RUN_ID, RECEIVED)

    (entry,) = [e for e in casefile_audit(settings, case_no) if e.step == "notify"]
    assert entry.decision == "not_notified" and "无处可发" in entry.payload["note"]
    assert notices.notices_of(settings, case_no) == []


# -- your turn ----------------------------------------------------------------------------
PEOPLE = [
    Person(
        name="李强", department=Department.LOGISTICS, roles={Role.HANDLER}, slack_id="U0LIQIANG"
    ),
    Person(
        name="周敏",
        department=Department.LOGISTICS,
        roles={Role.HANDLER},
        email="zhoumin@example.com",  # Slack finds her by it
    ),
    Person(
        name="吴昊",
        department=Department.LOGISTICS,
        roles={Role.HANDLER},
        email="wuhao@example.com",  # not in Slack: a role channel, else the department's
    ),
    Person(name="孙丽", department=Department.PRODUCT, roles={Role.HANDLER}, slack_id="U0SUNLI"),
    Person(
        name="赵敏",
        department=Department.LOGISTICS,
        roles={Role.DEPARTMENT_DIRECTOR},
        slack_id="U0ZHAOMIN",
    ),
    Person(
        name="钱总",
        department=Department.LOGISTICS,
        roles={Role.DEPARTMENT_DIRECTOR, Role.HANDLER},
        email="qian@example.com",
    ),
]


MEMBERS = {  # Slack's members by e-mail (吴昊 and 钱总 are not in Slack)
    "zhoumin@example.com": "U0ZHOUMIN",
    "liqiang@example.com": "U0LIQIANG",
    "sunli@example.com": "U0SUNLI",
    "zhaomin@example.com": "U0ZHAOMIN",
}


def turn(settings: Settings, case_no: str, step: Step, key: str, at: datetime) -> list[str]:
    due = casework.open_step(settings, case_no, step, key, at)
    offered = staff.eligible(settings, case_no, step)
    return notices.tell_turn(settings, case_no, step, key, due, None, offered, at)


def test_the_people_who_may_take_a_wait_are_each_told_once_where_they_read(
    told: Settings, slack_api: FakeSlack, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    slack_api.members = dict(MEMBERS)
    staff.save(told, PEOPLE, RECEIVED)
    case_no = register(told)
    casework.attach_run(told, case_no, RUN_ID, RECEIVED)

    queued = turn(told, case_no, Step.GRADE, "grade-c0", RECEIVED)
    again = notices.tell_turn(told, case_no, Step.GRADE, "grade-c0", None, None, ["李强"], RECEIVED)
    not_in_slack = deliver(told, RECEIVED, failing=2)
    deliver(told, RECEIVED)  # those Slack does not know go to their fallback channel

    # handlers of 物流部 only (孙丽 is of 产品部), each once, however often it is asked
    assert sorted(queued) == ["吴昊", "周敏", "李强", "钱总"] and again == []
    assert len(slack_api.direct_messages("U0LIQIANG")) == 1
    (dm,) = [
        json.dumps(m.blocks, ensure_ascii=False) for m in slack_api.direct_messages("U0ZHOUMIN")
    ]
    assert case_no in dm and "分类定级" in dm and PHONE not in dm
    assert slack_api.direct_messages("U0SUNLI") == []
    # 吴昊 and 钱总 are not in Slack: each e-mailed instead, by name
    assert all("users_not_found" in error for error in not_in_slack)
    by_mail = {m["To"]: m.get_content() for m in mails(inbox)}
    assert (
        "For: 吴昊" in by_mail["wuhao@example.com"] and "For: 钱总" in by_mail["qian@example.com"]
    )
    assert not [m for m in posted_to(slack_api, LOGISTICS_CHANNEL) if "待您办理" in m]


def test_without_smtp_someone_slack_does_not_know_is_told_by_name_in_their_channel(
    told: Settings, slack_api: FakeSlack
) -> None:
    told = told.model_copy(update={"smtp_host": None})
    slack_api.members = dict(MEMBERS)
    staff.save(told, PEOPLE, RECEIVED)
    case_no = register(told)

    turn(told, case_no, Step.PLAN, "plan-c0", RECEIVED)
    deliver(told, RECEIVED, failing=2)
    deliver(told, RECEIVED)

    to_channel = [m for m in posted_to(slack_api, LOGISTICS_CHANNEL) if "待您办理" in m]
    assert len(to_channel) == 2
    assert any("For: 吴昊" in m for m in to_channel) and any("For: 钱总" in m for m in to_channel)


def test_an_approval_is_announced_to_the_approvers_but_not_to_who_decided(
    told: Settings, slack_api: FakeSlack
) -> None:
    staff.save(told, PEOPLE, RECEIVED)
    case_no = register(told)
    casework.attach_run(told, case_no, RUN_ID, RECEIVED)
    grading = GradeInput(
        actor="钱总",
        category=Category.LOGISTICS,
        severity=Severity.SERIOUS,
        scope="部门内",
        basis="物流延误",
        reason="物流部负责",
    )
    casework.record_decision(told, case_no, Step.GRADE, "grade-c0", grading, RECEIVED)

    queued = turn(told, case_no, Step.APPROVE_GRADE, "approve-grade-c0", RECEIVED)

    assert queued == ["赵敏"]  # 钱总 graded it: four eyes


def test_outside_business_hours_a_notice_waits_for_the_opening_but_a_major_case_does_not(
    told: Settings, slack_api: FakeSlack
) -> None:
    hours = SlaPolicy.model_validate({"business_hours": {"start": "09:00", "end": "18:00"}})
    told = told.model_copy(update={"sla": hours})
    slack_api.members = dict(MEMBERS)
    staff.save(told, PEOPLE[:1], RECEIVED)
    night = datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI)
    general = register(told, ref=1)
    major = register(told, ref=2, severity=Severity.MAJOR)

    turn(told, general, Step.VERIFY, "verify-c0", night)
    turn(told, major, Step.VERIFY, "verify-c0", night)
    deliver(told, night)

    (at_night,) = [
        json.dumps(m.blocks, ensure_ascii=False) for m in slack_api.direct_messages("U0LIQIANG")
    ]
    assert major in at_night
    opening = datetime.combine(night.date() + timedelta(days=1), time(9), tzinfo=SHANGHAI)
    deliver(told, opening - timedelta(minutes=1))
    assert len(slack_api.direct_messages("U0LIQIANG")) == 1
    deliver(told, opening)
    assert general in json.dumps(slack_api.direct_messages("U0LIQIANG")[-1].blocks)


def test_without_a_directory_the_department_channel_hears_of_each_wait(
    told: Settings, slack_api: FakeSlack
) -> None:
    case_no = register(told)

    turn(told, case_no, Step.VERIFY, "verify-c0", RECEIVED)
    deliver(told, RECEIVED)

    (notice,) = [m for m in posted_to(slack_api, LOGISTICS_CHANNEL) if "待您办理" in m]
    assert "核实" in notice


def casefile_audit(settings: Settings, case_no: str) -> list[Any]:
    from complaints.cases import casefile

    return casefile.read(settings, case_no).audit


# -- the morning list --------------------------------------------------------------------------
def test_each_working_morning_the_department_and_each_person_get_one_list_of_their_work(
    told: Settings, slack_api: FakeSlack, smtp: tuple[Inbox, int]
) -> None:
    from complaints.notifications.morning import send_morning_lists

    inbox, _ = smtp
    slack_api.members = dict(MEMBERS)
    staff.save(told, PEOPLE, RECEIVED)
    overdue = register(told, ref=1)
    casework.attach_run(told, overdue, RUN_ID, RECEIVED)  # handed over to 物流部
    turn(told, overdue, Step.VERIFY, "verify-c0", RECEIVED)  # serious: due in 12 h
    tomorrow_morning = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
    product = register(told, ref=2, category=Category.PRODUCT_QUALITY)
    turn(told, product, Step.VERIFY, "verify-c0", tomorrow_morning - timedelta(hours=1))
    deliver(told, RECEIVED, failing=2)  # the turns (吴昊, 钱总 not in Slack: e-mailed)
    deliver(told, RECEIVED)
    slack_api.messages.clear()
    inbox.envelopes.clear()

    told_list = send_morning_lists(told, tomorrow_morning)
    again = send_morning_lists(told, tomorrow_morning + timedelta(minutes=5))  # a second run
    saturday = send_morning_lists(told, datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI))
    deliver(told, tomorrow_morning, failing=2)  # 吴昊 and 钱总 again: e-mailed
    deliver(told, tomorrow_morning)

    assert told_list[:2] == ["产品部", "物流部"]
    assert sorted(told_list[2:]) == sorted(["李强", "周敏", "吴昊", "钱总", "孙丽"])
    assert again == [] and saturday == []
    (department,) = [m for m in posted_to(slack_api, LOGISTICS_CHANNEL) if "今日待办" in m]
    assert "已逾期 / Overdue (1)" in department and overdue in department
    assert "新转交 / Newly handed over (1)" in department and product not in department
    (mine,) = [
        json.dumps(m.blocks, ensure_ascii=False) for m in slack_api.direct_messages("U0LIQIANG")
    ]
    assert overdue in mine and product not in mine  # 产品部's case is 孙丽's
    (sun,) = [
        json.dumps(m.blocks, ensure_ascii=False) for m in slack_api.direct_messages("U0SUNLI")
    ]
    assert product in sun and overdue not in sun  # due 12 h from receipt: overdue as well
    (mail,) = [m for m in mails(inbox) if m["To"] == LOGISTICS_MAIL]
    assert "今日待办" in str(mail["Subject"]) and overdue in mail.get_content()
