"""End to end: SLA timers and escalations on a real Prefect server, worker and local Slack.

The policy of this tier is in seconds (tests/flows/conftest.py): a general complaint must
be verified within 20 s of receipt, the warning comes at 10 s, level 2 at 28 s and level
3 at 36 s. The deadline watch is the scheduled `sla-watch` deployment.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from complaints.cases import casefile, casework, supervision
from complaints.settings import DEFAULT_CHANNELS
from complaints.timesource import utc_now
from embedded.stack import Stack
from embedded.synthetic import decisions_for
from rules.enums import Category, Severity
from tests.flows.support import act_when_waiting, new_complaint, register, wait_until
from tests.integration.slack_server import FakeSlack, Posted

pytestmark = pytest.mark.e2e

LADDER = [("W", 10), ("L1", 20), ("L2", 28), ("L3", 36)]  # level, seconds after receipt
ON_TIME = timedelta(seconds=30)  # every alert reaches Slack within this of its moment
WATCH_PERIOD = timedelta(minutes=1)  # the sla-watch schedule: a run a minute


@pytest.fixture(autouse=True)
def watching(product: Stack) -> None:
    """The deadline watch is up: its first scheduled run starts within a minute of deploying."""
    wait_until(supervision.watch_running, timeout=150, what="a running sla-watch run")


def about(slack: FakeSlack, case_no: str) -> list[Posted]:
    """The escalations about the case (the staff notices beside them: test_notices)."""
    return [
        m
        for m in slack.messages
        if case_no in json.dumps(m.blocks, ensure_ascii=False)
        and (m.metadata or {}).get("event_type") == "complaint_escalation"
    ]


def levels_sent(slack: FakeSlack, case_no: str) -> list[str]:
    by_channel = {channel: level for level, channel in DEFAULT_CHANNELS.items()}
    return [by_channel[m.channel] for m in about(slack, case_no)]


def run_tags(flow_run_id: str) -> list[str]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return list(client.read_flow_run(UUID(flow_run_id)).tags)


def test_an_overdue_verification_climbs_the_ladder_and_a_case_handled_in_time_stays_quiet(
    settings: Any, slack: FakeSlack
) -> None:
    received = utc_now()
    phone = "13912345678"
    overdue = register(
        settings,
        new_complaint(severity=Severity.GENERAL, received_at=received, customer_phone=phone),
    )
    quiet_complaint = new_complaint(severity=Severity.SERIOUS, received_at=received)
    in_time = register(settings, quiet_complaint)
    act_when_waiting(
        settings,
        in_time,
        "verify",
        decisions_for(quiet_complaint, seed=11, now=utc_now())["verify"],
    )

    wait_until(lambda: len(about(slack, overdue)) >= 4, timeout=36 + 60, what="four rungs in Slack")
    time.sleep(3)  # a duplicate, if any, would arrive now

    assert levels_sent(slack, overdue) == ["W", "L1", "L2", "L3"]
    late: dict[str, float] = {}
    for (level, seconds), message in zip(LADDER, about(slack, overdue), strict=True):
        moment = received + timedelta(seconds=seconds)
        arrived = datetime.fromtimestamp(message.received, tz=moment.tzinfo)
        late[level] = (arrived - moment).total_seconds()
        assert moment - timedelta(seconds=1) <= arrived <= moment + ON_TIME, late
    # the top rung is no slower than the others (it once came 25-30 s after its moment)
    assert late["L3"] <= max(late["W"], late["L1"], late["L2"]) + 10, late
    everything = json.dumps([m.blocks for m in about(slack, overdue)], ensure_ascii=False)
    assert phone not in everything and "139****5678" in everything

    file = casefile.read(settings, overdue)
    assert [(e.trigger, e.level) for e in file.escalations] == [
        ("sla", 0),
        ("sla", 1),
        ("sla", 2),
        ("sla", 3),
    ]
    assert file.case.flow_run_id is not None
    assert {"逾期", "升级:L3"} <= set(
        wait_until(lambda: (t := run_tags(file.case.flow_run_id)) and "升级:L3" in t and t)
    )
    assert casefile.read(settings, in_time).escalations == []
    assert about(slack, in_time) == []


def test_a_customer_who_rejects_the_result_is_escalated_to_leadership_and_the_case_reopens(
    settings: Any, slack: FakeSlack
) -> None:
    complaint = new_complaint(severity=Severity.SERIOUS)
    case_no = register(settings, complaint)
    steps = decisions_for(complaint, seed=11, now=utc_now())
    steps["grade"] = {**steps["grade"], "severity": "严重"}  # nothing else to escalate
    for step in ("verify", "grade", "approve_grade", "plan", "approve_plan", "execute", "feedback"):
        act_when_waiting(settings, case_no, step, steps[step])
    rejected = {**steps["callback"], "accepts_result": False, "resolution": 1, "comment": "不接受"}
    act_when_waiting(settings, case_no, "callback", rejected)

    wait_until(
        lambda: (v := casework.load(settings, case_no)).cycle == 1 and v.waiting_key == "plan-c1",
        what="the case to reopen and wait for a new plan",
    )
    wait_until(lambda: about(slack, case_no), timeout=30, what="the leadership message")
    time.sleep(3)
    (message,) = about(slack, case_no)
    assert message.channel == DEFAULT_CHANNELS["L3"]
    assert "客户不接受处理结果" in json.dumps(message.blocks, ensure_ascii=False)
    triggers = [e.trigger for e in casefile.read(settings, case_no).escalations]
    assert triggers == ["rejected"]


def test_a_cluster_of_similar_complaints_sends_one_alert_listing_them(
    settings: Any, slack: FakeSlack
) -> None:
    product = f"集群测试产品-{uuid.uuid4().hex[:6]}"
    cases = [
        register(
            settings,
            new_complaint(severity=Severity.SERIOUS, category=Category.LOGISTICS, product=product),
        )
        for _ in range(3)
    ]

    def cluster_messages() -> list[Posted]:
        return [
            m
            for m in slack.messages
            if product in (text := json.dumps(m.blocks, ensure_ascii=False)) and "同类投诉" in text
        ]

    wait_until(cluster_messages, timeout=45, what="the cluster alert")
    late = register(
        settings,
        new_complaint(severity=Severity.SERIOUS, category=Category.LOGISTICS, product=product),
    )
    time.sleep(6)  # several watch passes see the fourth complaint

    (alert,) = cluster_messages()
    assert all(
        product not in json.dumps(m.blocks, ensure_ascii=False)
        for m in slack.messages
        if m is not alert
    )
    assert alert.channel == DEFAULT_CHANNELS["L3"]
    listed = json.dumps(alert.blocks, ensure_ascii=False)
    assert all(case_no in listed for case_no in cases)
    assert late not in listed
    for case_no in cases:
        assert [e.trigger for e in casefile.read(settings, case_no).escalations] == ["cluster"]


def test_timers_fire_after_the_worker_and_the_server_restart(
    settings: Any, slack: FakeSlack, product: Stack
) -> None:
    received = utc_now()
    case_no = register(settings, new_complaint(severity=Severity.GENERAL, received_at=received))
    wait_until(lambda: casework.load(settings, case_no).waiting_key, what="the case to wait")

    product.kill_workers()
    product.stop_server()
    time.sleep(25)  # the warning and the deadline pass while nothing runs
    assert about(slack, case_no) == []
    product.start_server()
    product.start_worker("complaints")
    back = utc_now()

    wait_until(lambda: len(about(slack, case_no)) >= 4, timeout=36 + 150, what="all four rungs")
    time.sleep(3)
    assert levels_sent(slack, case_no) == ["W", "L1", "L2", "L3"]
    # The watch run that was keeping this minute died with the worker; the next minute's
    # run fires everything that became due meanwhile, on its first pass.
    last = about(slack, case_no)[-1]
    moment = received + timedelta(seconds=LADDER[-1][1])
    arrived = datetime.fromtimestamp(last.received, tz=moment.tzinfo)
    assert arrived <= max(moment, back) + WATCH_PERIOD + ON_TIME, (arrived, back)


def test_a_case_waiting_on_the_customer_fires_nothing_until_the_customer_answers(
    settings: Any, slack: FakeSlack
) -> None:
    from prefect.deployments import run_deployment

    def customer_wait(waiting: bool, note: str) -> None:
        # What the Run form of the customer-wait deployment submits from the UI.
        request = {"case_no": case_no, "waiting": waiting, "note": note, "actor": "客服-王芳"}
        run = run_deployment(
            "customer-wait/customer-wait", parameters={"request": request}, timeout=120
        )
        assert run.state is not None and run.state.is_completed(), run.state

    # The hold must come before the 20-second deadline, through a run the worker starts: on
    # a machine too busy for that, the case is left to its ladder and a new one is tried.
    for _ in range(3):
        received = utc_now()
        complaint = new_complaint(severity=Severity.GENERAL, received_at=received)
        case_no = register(settings, complaint)
        customer_wait(True, "已请客户补充故障照片")
        if utc_now() < received + timedelta(seconds=15):
            break
    else:
        raise AssertionError("three holds in a row came after their deadline")
    time.sleep(max(0.0, (received + timedelta(seconds=40) - utc_now()).total_seconds()))
    quiet = levels_sent(slack, case_no)
    assert quiet in ([], ["W"])  # the warning may have come before the hold; nothing after
    customer_wait(False, "客户已发来照片三张")

    file = casefile.read(settings, case_no)
    hold, release = [e for e in file.audit if e.step in ("hold", "release")]
    paused = release.at - hold.at
    (verify,) = [d for d in file.deadlines if d.step == "verify"]
    assert verify.due_at == received + timedelta(seconds=20) + paused
    wait_until(lambda: "L1" in levels_sent(slack, case_no), timeout=90, what="the deadline")
    (deadline,) = [m for m in about(slack, case_no) if m.channel == DEFAULT_CHANNELS["L1"]]
    arrived = datetime.fromtimestamp(deadline.received, tz=verify.due_at.tzinfo)
    assert verify.due_at - timedelta(seconds=1) <= arrived <= verify.due_at + ON_TIME
