"""SLA clocks, the escalation ladder and pattern alerts, on real SQLite and PostgreSQL.

Every time is injected: the watch is called at chosen moments and nothing sleeps. What is
asserted is what people notice: escalation rows with their level and audience, the Slack
message waiting in the outbox and its channel, the deadlines of a case, its audit trail.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from complaints.cases import casefile, casework
from complaints.deadlines import watch
from complaints.settings import Settings
from complaints.timesource import utc_now
from models.db import unit_of_work
from models.ledger import Case, Escalation, EscalationCase, SlackOutbox, StepDeadline
from rules.enums import Category, Channel, Demand, Scope, Severity
from rules.inputs import (
    ApprovalInput,
    FeedbackInput,
    GradeInput,
    PlanInput,
    SurveyInput,
    VerifyInput,
)
from rules.intake import ComplaintIn
from rules.patterns import PatternPolicy
from rules.sla import SlaPolicy
from rules.steps import Step
from tests.integration.ledger_reads import all_of, audit_of, escalation_messages, the_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)  # a Monday
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
PHONE = "13812345678"

# Verification of a general complaint is due 10 h after receipt: warning at 8 h (80 %),
# level 1 at 10 h, level 2 two hours and level 3 six hours after the deadline. The
# handling limit is long enough that its own clock stays quiet in these tests.
LADDER_POLICY = SlaPolicy.model_validate(
    {
        "response": {"一般": "10h", "严重": "6h", "重大": "2h"},
        "handling": {"部门内": "72h", "市级/跨县": "96h", "跨地市": "5wd"},
        "ladder": {"warning_at": 0.8, "level2_after": "2h", "level3_after": "6h"},
    }
)
WARN_AT = RECEIVED + 8 * HOUR
DUE_AT = RECEIVED + 10 * HOUR
LEVEL2_AT = RECEIVED + 12 * HOUR
LEVEL3_AT = RECEIVED + 16 * HOUR
RUNGS = [("W", WARN_AT), ("L1", DUE_AT), ("L2", LEVEL2_AT), ("L3", LEVEL3_AT)]
AUDIENCES = {
    "W": "预警·处理人/客服主管",
    "L1": "一级·部门负责人",
    "L2": "二级·运营总监",
    "L3": "三级·公司领导",
}


@pytest.fixture
def laddered(settings: Settings) -> Settings:
    return settings.model_copy(update={"sla": LADDER_POLICY})


# -- helpers (small copies, not imports from other test modules) ----------------------------
def complaint(**changes: Any) -> ComplaintIn:
    fields: dict[str, Any] = {
        "channel": Channel.HOTLINE,
        "external_ref": "HL-20261123-000001",
        "customer_name": "欧阳娜娜",
        "customer_phone": PHONE,
        "customer_email": "ouyang.nana@example.com",
        "description": "收到的电热水壶底部漏水，用了三天就不能用了。",
        "demand": Demand.EXCHANGE,
        "product": "电热水壶",
        "order_no": "DD2026111900042",
        "received_at": RECEIVED,
        "severity": Severity.GENERAL,
        "category": Category.PRODUCT_QUALITY,
        "receiver": "客服-王芳",
    }
    fields.update(changes)
    return ComplaintIn(**fields)


def register(settings: Settings, **changes: Any) -> str:
    submitted = complaint(**changes)
    return casework.register(submitted, settings, submitted.received_at or RECEIVED).case_no


def waiting_at_verify(settings: Settings, **changes: Any) -> str:
    """A registered complaint whose verification clock runs from its receipt."""
    case_no = register(settings, **changes)
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", RECEIVED + 5 * 60 * SECOND)
    return case_no


def escalations(settings: Settings) -> list[Escalation]:
    return all_of(settings, Escalation)


def outbox(settings: Settings) -> list[tuple[str, str, str]]:
    """(escalation key, channel, status) of each Slack message waiting, oldest first."""
    columns = (Escalation.key, SlackOutbox.channel, SlackOutbox.status)
    return escalation_messages(settings, *columns, order_by=SlackOutbox.id)


def outbox_messages(settings: Settings) -> list[SlackOutbox]:
    """The escalations' messages (staff notices beside them are tested in test_notices)."""
    return [m for m in all_of(settings, SlackOutbox) if m.escalation_id is not None]


def linked_cases(settings: Settings, key: str) -> list[str]:
    """The case numbers an escalation concerns."""
    with unit_of_work(settings.database_url) as session:
        stmt = (
            sa.select(Case.case_no)
            .join(EscalationCase, EscalationCase.case_id == Case.id)
            .join(Escalation, Escalation.id == EscalationCase.escalation_id)
            .where(Escalation.key == key)
            .order_by(Case.case_no)
        )
        return list(session.scalars(stmt))


def escalated(settings: Settings, case_no: str) -> list[tuple[str, str]]:
    """(audit key, decision) of the escalation entries in a case's audit trail."""
    return [(e.key, e.decision) for e in audit_of(settings, case_no) if e.step == "escalate"]


def clock(settings: Settings, case_no: str, step: str, cycle: int = 0) -> StepDeadline:
    with unit_of_work(settings.database_url) as session:
        stmt = (
            sa.select(StepDeadline)
            .join(Case, Case.id == StepDeadline.case_id)
            .where(Case.case_no == case_no, StepDeadline.step == step)
            .where(StepDeadline.cycle == cycle)
        )
        return session.scalars(stmt).one()


def open_escalations(settings: Settings) -> list[dict[str, Any]]:
    """What `complaints escalations --open` lists."""
    return casefile.escalation_list(settings, overdue_only=True)


def grade(scope: Scope = Scope.DEPARTMENT, severity: Severity = Severity.GENERAL) -> GradeInput:
    return GradeInput(
        actor="客服主管-李娜",
        category=Category.PRODUCT_QUALITY,
        severity=severity,
        scope=scope,
        basis="涉及多个地市门店的同批次产品",
        reason="需跨地市协调换货",
    )


def reject_plan(settings: Settings, case_no: str, key: str, reason: str, at: datetime) -> None:
    """The manager sends the plan back (`key`: the decision's, e.g. "approve-plan-c0-a1")."""
    rejection = ApprovalInput(actor="客服经理-林涛", approved=False, reason=reason)
    casework.record_decision(settings, case_no, Step.APPROVE_PLAN, key, rejection, at)


def verified(settings: Settings, case_no: str, findings: str, at: datetime) -> None:
    """The department verifies the complaint: substantiated."""
    verify = VerifyInput(actor="产品-郑华", substantiated=True, findings=findings)
    casework.record_decision(settings, case_no, Step.VERIFY, "verify-c0", verify, at)


def survey(accepts: bool) -> SurveyInput:
    return SurveyInput(
        actor="回访-赵敏",
        efficiency=2,
        resolution=1,
        attitude=3,
        fairness=1,
        accepts_result=accepts,
        comment="换的新壶还是漏水，我不接受。",
    )


# -- the SLA ladder ---------------------------------------------------------------------------
def test_an_overdue_verification_climbs_the_ladder_once_per_level_each_at_its_time(
    laddered: Settings,
) -> None:
    case_no = waiting_at_verify(laddered)
    fired: list[str] = []

    for tag, moment in RUNGS:
        assert watch.fire_due(laddered, moment - SECOND).keys == [], f"{tag} fired early"
        for _ in range(3):  # the watch polls many times at and after each moment
            fired += watch.fire_due(laddered, moment).keys
            fired += watch.fire_due(laddered, moment + 10 * 60 * SECOND).keys
    for later in (LEVEL3_AT + HOUR, LEVEL3_AT + 20 * HOUR):
        assert watch.fire_due(laddered, later).keys == []

    keys = [f"sla:{case_no}:verify:c0:{tag}" for tag, _ in RUNGS]
    assert fired == keys
    rows = escalations(laddered)
    assert [(e.key, e.trigger, e.level, e.audience) for e in rows] == [
        (key, "sla", level, AUDIENCES[tag])
        for key, (level, (tag, _)) in zip(keys, enumerate(RUNGS), strict=True)
    ]
    assert [e.fired_at for e in rows] == [moment for _, moment in RUNGS]
    assert {(e.step, e.cycle, e.due_at) for e in rows} == {("verify", 0, DUE_AT)}
    assert [linked_cases(laddered, key) for key in keys] == [[case_no]] * 4
    assert outbox(laddered) == [
        (key, laddered.slack.channels[tag], "pending")
        for key, (tag, _) in zip(keys, RUNGS, strict=True)
    ]
    assert escalated(laddered, case_no) == [
        (f"esc:{key}", f"escalated:{tag}") for key, (tag, _) in zip(keys, RUNGS, strict=True)
    ]
    verify = clock(laddered, case_no, "verify")
    assert (verify.due_at, verify.warn_at) == (DUE_AT, WARN_AT)
    assert (verify.alert_level, verify.next_alert_at, verify.done_at) == (3, None, None)


def test_a_verification_past_the_promised_response_tells_the_customer_once_and_until_when(
    laddered: Settings,
) -> None:
    from models.ledger import CustomerMessage

    case_no = waiting_at_verify(laddered)
    warn_moment = dict(RUNGS)["W"]
    deadline_moment = dict(RUNGS)["L1"]

    watch.fire_due(laddered, warn_moment)  # a warning is for the handlers only
    with unit_of_work(laddered.database_url) as session:
        assert not session.scalars(
            sa.select(CustomerMessage).where(CustomerMessage.kind == "verification_late")
        ).all()
    for moment in (deadline_moment, deadline_moment + HOUR, LEVEL3_AT + HOUR):
        watch.fire_due(laddered, moment)

    with unit_of_work(laddered.database_url) as session:
        (told,) = session.scalars(
            sa.select(CustomerMessage).where(CustomerMessage.kind == "verification_late")
        ).all()
    handling = clock(laddered, case_no, "handling")
    assert told.created_at == deadline_moment
    assert "未能在承诺的时间内答复您" in told.body and "核实需要与相关部门" in told.body
    assert f"{handling.due_at.astimezone(laddered.tz):%Y-%m-%d %H:%M} 前给您处理结果" in told.body


def test_the_slack_messages_go_to_the_default_channel_of_each_level(laddered: Settings) -> None:
    waiting_at_verify(laddered)

    for _, moment in RUNGS:
        watch.fire_due(laddered, moment)

    assert [channel for _, channel, _ in outbox(laddered)] == [
        "#complaints",
        "#complaints-escalations",
        "#complaints-operations",
        "#complaints-leadership",
    ]


def test_a_watch_that_was_down_fires_every_rung_reached_in_one_pass_lowest_first(
    laddered: Settings,
) -> None:
    case_no = waiting_at_verify(laddered)

    fired = watch.fire_due(laddered, LEVEL3_AT + HOUR)

    assert fired.keys == [f"sla:{case_no}:verify:c0:{tag}" for tag, _ in RUNGS]
    assert fired.cases == {case_no}
    assert [e.level for e in escalations(laddered)] == [0, 1, 2, 3]
    assert watch.fire_due(laddered, LEVEL3_AT + 2 * HOUR).keys == []


def test_a_verification_done_before_its_deadline_fires_nothing(laddered: Settings) -> None:
    case_no = waiting_at_verify(laddered)

    verified(laddered, case_no, "确认质量缺陷。", RECEIVED + 5 * HOUR)

    verify = clock(laddered, case_no, "verify")
    assert verify.done_at == RECEIVED + 5 * HOUR
    assert verify.next_alert_at is None
    assert verify.due_at == DUE_AT
    for moment in (WARN_AT, DUE_AT, LEVEL2_AT, LEVEL3_AT, RECEIVED + 40 * HOUR):
        assert watch.fire_due(laddered, moment).keys == []
    assert escalations(laddered) == []
    assert outbox(laddered) == []
    assert clock(laddered, case_no, "verify").alert_level == -1


# -- waiting on the customer -----------------------------------------------------------------
def test_a_case_on_hold_fires_nothing_and_its_deadline_moves_by_the_paused_time(
    laddered: Settings,
) -> None:
    case_no = waiting_at_verify(laddered)
    held_at, released_at = RECEIVED + 2 * HOUR, RECEIVED + timedelta(days=7)
    paused = released_at - held_at

    casework.hold(laddered, case_no, held_at, "客服-王芳", "等待客户补充漏水照片")

    stopped = clock(laddered, case_no, "verify")
    assert (stopped.due_at, stopped.next_alert_at) == (None, None)
    for moment in (WARN_AT, DUE_AT, LEVEL3_AT, RECEIVED + timedelta(days=3), released_at - SECOND):
        assert watch.fire_due(laddered, moment).keys == [], moment
    assert escalations(laddered) == []

    casework.release(laddered, case_no, released_at, "客服-王芳", "客户已发来照片三张")

    moved = clock(laddered, case_no, "verify")
    assert moved.due_at == DUE_AT + paused
    assert moved.warn_at == WARN_AT + paused
    assert moved.next_alert_at == WARN_AT + paused
    assert watch.fire_due(laddered, WARN_AT + paused - SECOND).keys == []
    assert watch.fire_due(laddered, WARN_AT + paused).keys == [f"sla:{case_no}:verify:c0:W"]
    (warning,) = escalations(laddered)
    assert warning.due_at == DUE_AT + paused
    assert [
        (e.step, e.decision, e.actor, e.at, e.payload)
        for e in audit_of(laddered, case_no)
        if e.step in ("hold", "release")
    ] == [
        ("hold", "on_hold", "客服-王芳", held_at, {"reason": "等待客户补充漏水照片"}),
        ("release", "released", "客服-王芳", released_at, {"note": "客户已发来照片三张"}),
    ]


def test_holding_twice_or_releasing_a_case_not_on_hold_is_refused(settings: Settings) -> None:
    case_no = register(settings)

    with pytest.raises(casework.CaseStateError, match="not waiting on the customer"):
        casework.release(settings, case_no, RECEIVED + HOUR, "客服-王芳", "客户来电")
    casework.hold(settings, case_no, RECEIVED + HOUR, "客服-王芳", "等待照片")
    with pytest.raises(casework.CaseStateError, match="already waiting on the customer"):
        casework.hold(settings, case_no, RECEIVED + 2 * HOUR, "客服-王芳", "再次等待")

    assert [e.decision for e in audit_of(settings, case_no)] == ["registered", "on_hold"]


def test_a_hold_spanning_the_plan_deadline_never_makes_execution_due_before_it(
    settings: Settings,
) -> None:
    case_no = register(settings)
    planned = RECEIVED + timedelta(days=3)
    plan = PlanInput(
        actor="产品-郑华",
        measures="免费换新电热水壶",
        owner="产品-郑华",
        deadline=planned,
        root_cause="批次温控器缺陷",
    )
    casework.record_decision(settings, case_no, Step.PLAN, "plan-c0", plan, RECEIVED + HOUR)
    assert casework.open_step(settings, case_no, Step.EXECUTE, "execute-c0", RECEIVED + HOUR)
    held_at = RECEIVED + timedelta(days=1)
    casework.hold(settings, case_no, held_at, "客服-王芳", "等待客户约定上门时间")
    casework.release(settings, case_no, planned + timedelta(days=2), "客服-王芳", "客户已约定")

    due = clock(settings, case_no, "execute").due_at

    assert due is not None and due >= planned, f"due {due}, the plan said {planned}"


# -- regrading -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("received", "four_working_days_later"),
    [
        pytest.param(
            datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI),  # the eve of National Day
            # 10-01..10-07 off, Saturday 10-10 a make-up working day, Sunday 10-11 off
            datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI),
            id="over-national-day",
        ),
        pytest.param(
            datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI),  # a Friday
            datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI),
            id="over-a-weekend",
        ),
    ],
)
def test_grading_a_case_across_prefectures_gives_it_four_working_days_from_receipt(
    settings: Settings, received: datetime, four_working_days_later: datetime
) -> None:
    case_no = register(settings, received_at=received)
    assert clock(settings, case_no, "handling").due_at == received + 24 * HOUR  # one department

    casework.record_decision(
        settings, case_no, Step.GRADE, "grade-c0", grade(Scope.PREFECTURE), received + HOUR
    )

    handling = clock(settings, case_no, "handling")
    assert handling.started_at == received
    assert handling.due_at == four_working_days_later
    assert handling.done_at is None
    assert the_case(settings, case_no).scope is Scope.PREFECTURE
    rows = casefile.clock_rows(casefile.read(settings, case_no), settings)
    assert [(r["clock"], r["due"]) for r in rows] == [
        ("处理时限 / Handling limit", f"{four_working_days_later:%Y-%m-%d %H:%M}")
    ]


# -- alerts at once ----------------------------------------------------------------------------
def test_a_major_complaint_alerts_leadership_when_it_is_registered(settings: Settings) -> None:
    case_no = register(settings, severity=Severity.MAJOR)

    (alert,) = escalations(settings)
    assert (alert.key, alert.trigger, alert.level, alert.audience) == (
        f"major:{case_no}",
        "major",
        3,
        "三级·公司领导",
    )
    assert linked_cases(settings, alert.key) == [case_no]
    assert outbox(settings) == [(alert.key, settings.slack.channels["L3"], "pending")]
    assert escalated(settings, case_no) == [(f"esc:major:{case_no}", "escalated:L3")]
    (message,) = outbox_messages(settings)
    sent = message.text + json.dumps(message.blocks, ensure_ascii=False)
    assert case_no in sent
    assert PHONE not in sent and "欧阳娜娜" not in sent and "ouyang.nana" not in sent
    assert "138****5678" in sent


def test_a_registration_alert_not_yet_sent_gets_its_open_in_prefect_button_with_the_run(
    settings: Settings,
) -> None:
    case_no = register(settings, severity=Severity.MAJOR)
    (before,) = outbox_messages(settings)
    run_id = "0b7c6a52-3f0e-4b8e-9a53-1c2d3e4f5a6b"
    assert run_id not in json.dumps(before.blocks)

    casework.attach_run(settings, case_no, run_id, utc_now())

    (after,) = outbox_messages(settings)
    assert f"/runs/flow-run/{run_id}" in json.dumps(after.blocks)
    assert case_no in after.text


def test_a_general_complaint_alerts_nobody_when_it_is_registered(settings: Settings) -> None:
    register(settings, severity=Severity.GENERAL)
    register(
        settings,
        external_ref="HL-2",
        customer_phone="13900001111",
        customer_email="another@example.com",
        severity=Severity.SERIOUS,
    )

    assert escalations(settings) == []
    assert outbox(settings) == []


def test_grading_a_case_up_to_major_alerts_leadership_once(settings: Settings) -> None:
    case_no = register(settings)

    casework.record_decision(
        settings, case_no, Step.GRADE, "grade-c0", grade(severity=Severity.MAJOR), RECEIVED + HOUR
    )
    casework.record_decision(
        settings,
        case_no,
        Step.GRADE,
        "grade-c0-a1",
        grade(severity=Severity.MAJOR),
        RECEIVED + 2 * HOUR,
    )

    assert [(e.key, e.trigger, e.level) for e in escalations(settings)] == [
        (f"major:{case_no}", "major", 3)
    ]
    assert [channel for _, channel, _ in outbox(settings)] == [settings.slack.channels["L3"]]


def test_a_customer_rejecting_the_result_alerts_leadership_and_reopening_starts_a_new_clock(
    settings: Settings,
) -> None:
    case_no = register(settings)
    fed_back = RECEIVED + 20 * HOUR
    casework.record_decision(
        settings,
        case_no,
        Step.FEEDBACK,
        "feedback-c0",
        FeedbackInput(actor="客服-王芳", result="已为客户换新。"),
        fed_back,
    )
    casework.open_step(settings, case_no, Step.CALLBACK, "callback-c0", fed_back + HOUR)

    casework.record_decision(
        settings, case_no, Step.CALLBACK, "callback-c0", survey(False), fed_back + 2 * HOUR
    )

    (alert,) = escalations(settings)
    assert (alert.key, alert.trigger, alert.level, alert.audience, alert.step) == (
        f"rejected:{case_no}:c0",
        "rejected",
        3,
        "三级·公司领导",
        "callback",
    )
    assert linked_cases(settings, alert.key) == [case_no]
    assert outbox(settings) == [(alert.key, settings.slack.channels["L3"], "pending")]
    assert escalated(settings, case_no) == [(f"esc:rejected:{case_no}:c0", "escalated:L3")]

    reopened_at = fed_back + 3 * HOUR
    assert casework.reopen(settings, case_no, 0, reopened_at) == 1
    assert casework.reopen(settings, case_no, 0, reopened_at + HOUR) == 1  # a replay

    first = clock(settings, case_no, "handling", cycle=0)
    assert (first.started_at, first.done_at) == (RECEIVED, fed_back)
    second = clock(settings, case_no, "handling", cycle=1)
    assert (second.started_at, second.due_at, second.done_at) == (
        reopened_at,
        reopened_at + 24 * HOUR,
        None,
    )
    assert second.next_alert_at is not None
    assert len(escalations(settings)) == 1


def test_a_customer_accepting_the_result_alerts_nobody(settings: Settings) -> None:
    case_no = register(settings)
    casework.open_step(settings, case_no, Step.CALLBACK, "callback-c0", RECEIVED + HOUR)

    casework.record_decision(
        settings, case_no, Step.CALLBACK, "callback-c0", survey(True), RECEIVED + 2 * HOUR
    )

    assert escalations(settings) == []


def test_a_plan_rejected_twice_goes_to_the_operations_director_not_after_the_first(
    settings: Settings,
) -> None:
    case_no = register(settings)
    casework.open_step(settings, case_no, Step.APPROVE_PLAN, "approve-plan-c0", RECEIVED)

    reject_plan(settings, case_no, "approve-plan-c0", "补偿金额没有依据", RECEIVED + HOUR)
    assert escalations(settings) == []

    reject_plan(
        settings, case_no, "approve-plan-c0-a1", "仍未说明漏水的根本原因", RECEIVED + 3 * HOUR
    )
    reject_plan(settings, case_no, "approve-plan-c0-a2", "第三次驳回", RECEIVED + 5 * HOUR)

    (alert,) = escalations(settings)
    assert (alert.key, alert.trigger, alert.level, alert.audience) == (
        f"plan-rejected:{case_no}:c0",
        "plan_rejected",
        2,
        "二级·运营总监",
    )
    assert alert.fired_at == RECEIVED + 3 * HOUR
    assert alert.detail["reason"] == "仍未说明漏水的根本原因"
    assert outbox(settings) == [(alert.key, settings.slack.channels["L2"], "pending")]
    assert escalated(settings, case_no) == [(f"esc:{alert.key}", "escalated:L2")]


def test_one_plan_rejection_in_each_of_two_cycles_alerts_nobody(settings: Settings) -> None:
    case_no = register(settings)
    reject_plan(settings, case_no, "approve-plan-c0", "补偿金额没有依据", RECEIVED + HOUR)
    casework.reopen(settings, case_no, 0, RECEIVED + 2 * HOUR)

    reject_plan(settings, case_no, "approve-plan-c1", "方案仍不合理", RECEIVED + 3 * HOUR)

    assert escalations(settings) == []


# -- patterns across cases ---------------------------------------------------------------------
CLUSTER_POLICY = PatternPolicy(cluster_size=3, cluster_window="2h", repeat_within_days=30)


def test_a_burst_of_similar_complaints_alerts_leadership_once_listing_every_case(
    settings: Settings,
) -> None:
    watched = settings.model_copy(update={"patterns": CLUSTER_POLICY})
    minutes = timedelta(minutes=1)

    def arrives(index: int, category: Category, after: timedelta) -> str:
        return register(
            watched,
            external_ref=f"HL-{index}",
            customer_phone=f"1390000{index:04d}",
            customer_email=None,
            product="同城快递",
            order_no=None,
            category=category,
            received_at=RECEIVED + after,
        )

    late = [arrives(1, Category.LOGISTICS, 0 * minutes)]
    rude = [arrives(2, Category.SERVICE_ATTITUDE, 10 * minutes)]
    late.append(arrives(3, Category.LOGISTICS, 20 * minutes))
    rude.append(arrives(4, Category.SERVICE_ATTITUDE, 30 * minutes))
    # Four similar-looking complaints, but only two of each category: no cluster yet.
    assert watch.detect_clusters(watched, RECEIVED + 35 * minutes).keys == []
    late.append(arrives(5, Category.LOGISTICS, 40 * minutes))

    fired = watch.detect_clusters(watched, RECEIVED + 45 * minutes)

    key = f"cluster:logistics:同城快递:{late[0]}"
    assert fired.keys == [key]
    assert fired.cases == set(late)
    (alert,) = escalations(watched)
    assert (alert.key, alert.trigger, alert.level, alert.audience) == (
        key,
        "cluster",
        3,
        "三级·公司领导",
    )
    assert [m["case_no"] for m in alert.detail["members"]] == late
    assert linked_cases(watched, key) == sorted(late)
    assert outbox(watched) == [(key, watched.slack.channels["L3"], "pending")]
    for case_no in late:
        rows = casefile.escalation_rows(casefile.read(watched, case_no), watched)
        assert [(r["trigger"], r["level"]) for r in rows] == [("cluster", "三级 L3")]
        assert escalated(watched, case_no) == [(f"esc:{key}", "escalated:L3")]
    for case_no in rude:
        assert casefile.read(watched, case_no).escalations == []

    late.append(arrives(6, Category.LOGISTICS, 50 * minutes))
    assert watch.detect_clusters(watched, RECEIVED + 55 * minutes).keys == []
    assert watch.detect_clusters(watched, RECEIVED + 56 * minutes).keys == []
    assert len(escalations(watched)) == 1


def test_a_repeat_complaint_is_linked_to_the_earlier_case_and_flagged(settings: Settings) -> None:
    first = register(settings, external_ref="HL-1")
    second = register(
        settings,
        external_ref="HL-2",
        customer_phone="+86 138 1234 5678",  # the same mobile, written differently
        order_no="DD2026120100007",  # another order of the same product
        description="又买了一台电热水壶，还是漏水。",
        received_at=RECEIVED + timedelta(days=10),
    )

    assert the_case(settings, second).repeat_of == first
    assert the_case(settings, first).repeat_of is None
    (alert,) = escalations(settings)
    assert (alert.key, alert.trigger, alert.level) == (f"repeat:{second}", "repeat", 0)
    assert first in alert.summary or first in (alert.detail["reason"] or "")
    assert linked_cases(settings, alert.key) == [second]
    assert outbox(settings) == [(alert.key, settings.slack.channels["W"], "pending")]
    flagged = [e for e in audit_of(settings, second) if e.key == "repeat@c0"]
    assert [(e.decision, e.payload["repeat_of"]) for e in flagged] == [("repeat", first)]
    assert escalated(settings, second) == [(f"esc:repeat:{second}", "escalated:W")]
    assert escalated(settings, first) == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"received_at": RECEIVED + timedelta(days=31)}, id="after-n-days"),
        pytest.param({"product": "电饭煲", "order_no": "DD2026112300001"}, id="another-product"),
        pytest.param(
            {"customer_phone": "13900001111", "customer_email": "other@example.com"},
            id="another-customer",
        ),
    ],
)
def test_a_later_complaint_not_about_the_same_thing_is_not_a_repeat(
    settings: Settings, changes: dict[str, Any]
) -> None:
    register(settings, external_ref="HL-1")

    later = register(settings, external_ref="HL-2", **changes)

    assert the_case(settings, later).repeat_of is None
    assert escalations(settings) == []


def test_a_repeat_from_a_landline_written_without_its_hyphen_is_linked(
    settings: Settings,
) -> None:
    first = register(settings, external_ref="HL-1", customer_phone="010-12345678")

    second = register(
        settings,
        external_ref="HL-2",
        customer_phone="01012345678",
        customer_email=None,
        received_at=RECEIVED + timedelta(days=2),
    )

    assert the_case(settings, second).repeat_of == first


# -- concurrency and listing -------------------------------------------------------------------
def test_watchers_polling_at_once_fire_each_level_exactly_once(laddered: Settings) -> None:
    case_no = waiting_at_verify(laddered)
    watchers = 3
    start = threading.Barrier(watchers)

    def watcher(_: int) -> list[str]:
        keys: list[str] = []
        for _tag, moment in RUNGS:
            start.wait()  # every watcher polls each moment together, twice
            for _pass in range(2):
                keys += watch.fire_due(laddered, moment).keys
        return keys

    with ThreadPoolExecutor(watchers) as pool:
        fired = [key for keys in pool.map(watcher, range(watchers)) for key in keys]

    keys = [f"sla:{case_no}:verify:c0:{tag}" for tag, _ in RUNGS]
    assert sorted(fired) == sorted(keys)
    assert [e.key for e in escalations(laddered)] == keys
    assert outbox(laddered) == [
        (key, laddered.slack.channels[tag], "pending")
        for key, (tag, _) in zip(keys, RUNGS, strict=True)
    ]
    assert escalated(laddered, case_no) == [
        (f"esc:{key}", f"escalated:{tag}") for key, (tag, _) in zip(keys, RUNGS, strict=True)
    ]
    assert clock(laddered, case_no, "verify").alert_level == 3


def test_every_overdue_case_climbs_its_own_ladder(laddered: Settings) -> None:
    first = waiting_at_verify(laddered)
    second = waiting_at_verify(
        laddered,
        external_ref="HL-2",
        customer_phone="13900001111",
        customer_email=None,
        product="电饭煲",
    )

    fired = watch.fire_due(laddered, DUE_AT)

    assert fired.cases == {first, second}
    for case_no in (first, second):
        assert [decision for _, decision in escalated(laddered, case_no)] == [
            "escalated:W",
            "escalated:L1",
        ]
    assert len(outbox(laddered)) == 4


def test_the_open_escalations_list_a_case_while_its_overdue_clock_runs(
    laddered: Settings,
) -> None:
    case_no = waiting_at_verify(laddered)
    quiet = waiting_at_verify(
        laddered, external_ref="HL-2", customer_phone="13900001111", customer_email=None
    )
    verified(laddered, quiet, "已核实。", RECEIVED + HOUR)
    watch.fire_due(laddered, WARN_AT)
    assert open_escalations(laddered) == []  # a warning is not overdue yet

    watch.fire_due(laddered, DUE_AT)

    (row,) = open_escalations(laddered)
    assert (row["cases"], row["level"], row["trigger"]) == (case_no, "一级 L1", "sla")
    assert [r["level"] for r in casefile.escalation_list(laddered)] == ["一级 L1", "预警 W"]

    verified(laddered, case_no, "确认质量缺陷。", DUE_AT + HOUR)

    assert open_escalations(laddered) == []
    assert len(casefile.escalation_list(laddered)) == 2


def test_a_watch_run_looks_for_clusters_only_after_a_case_changed(settings: Settings) -> None:
    watched = settings.model_copy(update={"patterns": CLUSTER_POLICY})
    minutes = timedelta(minutes=1)
    for index in range(1, 3):
        register(
            watched,
            external_ref=f"HL-{index}",
            customer_phone=f"1390000{index:04d}",
            category=Category.LOGISTICS,
            product="同城快递",
            received_at=RECEIVED + index * minutes,
        )
    watcher = watch.Watcher(watched)
    assert watcher.watch_once(RECEIVED + 5 * minutes).keys == []
    mark = watcher.mark

    # Nothing changed: the pass does not look again (and could not find anything new).
    assert watcher.watch_once(RECEIVED + 6 * minutes).keys == []
    assert watcher.mark == mark

    third = register(
        watched,
        external_ref="HL-3",
        customer_phone="13900000003",
        category=Category.LOGISTICS,
        product="同城快递",
        received_at=RECEIVED + 7 * minutes,
    )
    fired = watcher.watch_once(RECEIVED + 8 * minutes)
    assert [key.split(":")[0] for key in fired.keys] == ["cluster"]
    assert third in fired.cases
    assert watcher.mark != mark


def test_a_watch_that_was_down_for_minutes_is_told_to_the_warning_channel_once(
    settings: Settings,
) -> None:
    start = datetime(2026, 11, 23, 2, 0, tzinfo=ZoneInfo("UTC"))

    def gap_notices() -> list[SlackOutbox]:
        with unit_of_work(settings.database_url) as session:
            rows = session.scalars(sa.select(SlackOutbox).order_by(SlackOutbox.id))
            return [r for r in rows if (r.notice_key or "").startswith("watch-gap:")]

    assert watch.record_pass(settings, start) is None  # the first pass ever: nothing to tell
    assert watch.record_pass(settings, start + timedelta(seconds=55)) is None  # the next minute
    assert gap_notices() == []

    back = start + timedelta(seconds=55, minutes=7)  # the worker was down for seven minutes
    assert watch.record_pass(settings, back) == timedelta(minutes=7)
    assert watch.record_pass(settings, back + timedelta(seconds=30)) is None
    (notice,) = gap_notices()
    assert notice.channel == settings.slack.channels["W"]
    assert "7 min" in notice.text and "10:00" in notice.body and "10:07" in notice.body
