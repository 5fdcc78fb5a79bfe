"""The ledger's operations (complaints.cases.casework) against real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from complaints.cases import casework
from complaints.settings import Settings
from models.db import engine_for, unit_of_work
from models.ledger import AuditEntry, Base, Case, CaseCounter, CaseReport, StepDeadline
from rules import enums
from rules.inputs import PlanInput, ProgressInput, VerifyInput
from rules.intake import ComplaintIn
from rules.steps import Step, event_key
from tests.integration.ledger_reads import audit_of, the_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def complaint(**changes: Any) -> ComplaintIn:
    fields: dict[str, Any] = {
        "channel": enums.Channel.HOTLINE,
        "external_ref": "HL-20261123-000001",
        "customer_name": "欧阳娜娜",
        "customer_phone": "13812345678",
        "customer_email": "ouyang.nana@example.com",
        "description": "收到的电热水壶底部漏水，用了三天就不能用了。客户情绪激动，表示要向消费者协会投诉。",
        "demand": enums.Demand.EXCHANGE,
        "demand_detail": "希望换一台新的电热水壶",
        "product": "电热水壶",
        "order_no": "DD2026111900042",
        "occurred_at": datetime(2026, 11, 20, 9, 15, tzinfo=SHANGHAI),
        "received_at": datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI),
        "severity": enums.Severity.SERIOUS,
        "category": enums.Category.PRODUCT_QUALITY,
        "receiver": "客服-王芳",
        "answered_on_spot": False,
        "language": enums.Language.ZH_CN,
    }
    fields.update(changes)
    return ComplaintIn(**fields)


def count(settings: Settings, model: type[Base], *where: Any) -> int:
    with unit_of_work(settings.database_url) as session:
        stmt = sa.select(sa.func.count()).select_from(model).where(*where)
        return int(session.execute(stmt).scalar_one())


def deadlines_of(settings: Settings, case_no: str, step: str | None = None) -> list[StepDeadline]:
    """The case's step clocks (all but the handling clock), or those of one step."""
    with unit_of_work(settings.database_url) as session:
        stmt = (
            sa.select(StepDeadline)
            .join(Case, Case.id == StepDeadline.case_id)
            .where(Case.case_no == case_no)
            .where(StepDeadline.step == step if step else StepDeadline.step != "handling")
            .order_by(StepDeadline.id)
        )
        return list(session.scalars(stmt).all())


# -- registration ------------------------------------------------------------------------
def test_registering_a_complaint_writes_every_register_field(settings: Settings) -> None:
    submitted = complaint()

    registration = casework.register(submitted, settings, NOW)

    assert registration.created is True
    assert registration.flow_run_id is None
    case = the_case(settings, registration.case_no)
    assert case.case_no == "TS-20261123-0001"
    assert case.idempotency_key == "hotline:HL-20261123-000001"
    assert case.fingerprint == submitted.fingerprint()
    assert case.channel is enums.Channel.HOTLINE
    assert case.external_ref == "HL-20261123-000001"
    assert case.customer_name == "欧阳娜娜"
    assert case.customer_phone == "13812345678"
    assert case.customer_email == "ouyang.nana@example.com"
    assert case.description == submitted.description
    assert case.demand is enums.Demand.EXCHANGE
    assert case.demand_detail == "希望换一台新的电热水壶"
    assert case.product == "电热水壶"
    assert case.order_no == "DD2026111900042"
    assert case.initial_severity is enums.Severity.SERIOUS
    assert case.severity is enums.Severity.SERIOUS
    assert case.category is enums.Category.PRODUCT_QUALITY
    assert case.department is enums.Department.PRODUCT
    assert case.scope is None
    assert case.receiver == "客服-王芳"
    assert case.language is enums.Language.ZH_CN
    assert case.answered_on_spot is False
    assert case.on_spot_answer is None
    assert case.status is enums.CaseStatus.REGISTERED
    assert case.current_step == Step.REGISTER.value
    assert case.waiting_key is None
    assert case.cycle == 0
    assert case.flow_run_id is None
    assert case.closed_at is None
    for stored, given in [
        (case.received_at, submitted.received_at),
        (case.occurred_at, submitted.occurred_at),
        (case.created_at, NOW),
        (case.updated_at, NOW),
    ]:
        assert stored is not None and stored.tzinfo is not None
        assert stored == given
    (entry,) = audit_of(settings, case.case_no)
    assert (entry.key, entry.step, entry.decision, entry.actor) == (
        event_key(Step.REGISTER),
        "register",
        "registered",
        "客服-王芳",
    )
    assert entry.payload == {"channel": "热线电话", "external_ref": "HL-20261123-000001"}
    assert entry.at == NOW and entry.at.tzinfo is not None


def test_a_complaint_without_a_receipt_time_is_received_when_it_is_registered(
    settings: Settings,
) -> None:
    registration = casework.register(complaint(received_at=None), settings, NOW)

    assert the_case(settings, registration.case_no).received_at == NOW


def test_case_numbers_follow_the_shanghai_day_of_receipt_and_count_up_per_day(
    settings: Settings,
) -> None:
    received = [
        datetime(2026, 11, 22, 16, 30, tzinfo=UTC),  # 2026-11-23 00:30 in Shanghai
        datetime(2026, 11, 22, 15, 59, tzinfo=UTC),  # 2026-11-22 23:59 in Shanghai
        datetime(2026, 11, 23, 15, 59, tzinfo=UTC),  # 2026-11-23 23:59 in Shanghai
        datetime(2026, 11, 23, 16, 0, tzinfo=UTC),  # 2026-11-24 00:00 in Shanghai
        datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI),
    ]

    numbers = [
        casework.register(
            complaint(external_ref=f"HL-{index}", received_at=at), settings, NOW
        ).case_no
        for index, at in enumerate(received)
    ]

    assert numbers == [
        "TS-20261123-0001",
        "TS-20261122-0001",
        "TS-20261123-0002",
        "TS-20261124-0001",
        "TS-20261123-0003",
    ]


def test_the_same_channel_reference_submitted_twice_returns_the_same_case_and_writes_one_row(
    settings: Settings,
) -> None:
    first = casework.register(complaint(), settings, NOW)
    # A resubmission later the same day, with the receipt time filled in differently.
    again = casework.register(complaint(received_at=None), settings, NOW + timedelta(hours=1))

    assert again.case_no == first.case_no
    assert (first.created, again.created) == (True, False)
    assert count(settings, Case) == 1
    assert count(settings, AuditEntry) == 1
    assert count(settings, CaseCounter) == 1


def test_the_same_reference_with_different_content_is_a_conflict_and_writes_nothing(
    settings: Settings,
) -> None:
    first = casework.register(complaint(), settings, NOW)

    with pytest.raises(casework.IdempotencyConflict, match=first.case_no):
        casework.register(
            complaint(description="完全不同的另一件事，配送员态度很差。"), settings, NOW
        )

    assert count(settings, Case) == 1
    assert count(settings, AuditEntry) == 1
    with unit_of_work(settings.database_url) as session:
        assert session.get(CaseCounter, "20261123").last == 1  # type: ignore[union-attr]
    assert the_case(settings, first.case_no).description == complaint().description


def test_the_same_reference_on_another_channel_is_another_case(settings: Settings) -> None:
    hotline = casework.register(complaint(), settings, NOW)
    chat = casework.register(complaint(channel=enums.Channel.CHAT), settings, NOW)

    assert hotline.case_no != chat.case_no
    assert count(settings, Case) == 2


def test_concurrent_registrations_get_unique_gap_free_numbers(settings: Settings) -> None:
    threads, per_thread = 8, 10
    start = threading.Barrier(threads)

    def register_batch(worker: int) -> list[str]:
        start.wait()
        return [
            casework.register(
                complaint(external_ref=f"CS-{worker}-{index}", channel=enums.Channel.CHAT),
                settings,
                NOW,
            ).case_no
            for index in range(per_thread)
        ]

    with ThreadPoolExecutor(threads) as pool:
        batches = list(pool.map(register_batch, range(threads)))

    numbers = [number for batch in batches for number in batch]
    expected = [f"TS-20261123-{n:04d}" for n in range(1, threads * per_thread + 1)]
    assert sorted(numbers) == expected
    for batch in batches:
        assert batch == sorted(batch)  # one thread's complaints are numbered in order
    assert count(settings, Case) == threads * per_thread


# -- the steps ---------------------------------------------------------------------------
def plan_input(deadline: datetime) -> PlanInput:
    return PlanInput(
        actor="产品-郑华",
        measures="免费换货并赠送50元优惠券",
        owner="产品-郑华",
        deadline=deadline,
        root_cause="批次温控器缺陷",
    )


def verify_input() -> VerifyInput:
    return VerifyInput(
        actor="产品-郑华",
        substantiated=True,
        findings="调取检验记录并查看客户提供的照片视频，确认电热水壶存在质量缺陷。",
        evidence="客户照片3张、视频1段",
    )


def test_recording_the_same_decision_twice_appends_one_audit_entry(settings: Settings) -> None:
    case_no = casework.register(complaint(), settings, NOW).case_no
    casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", NOW)

    first = casework.record_decision(
        settings, case_no, Step.VERIFY, "verify-c0", verify_input(), NOW + timedelta(hours=1)
    )
    second = casework.record_decision(
        settings, case_no, Step.VERIFY, "verify-c0", verify_input(), NOW + timedelta(hours=2)
    )

    assert (first, second) == (True, False)
    entries = [e for e in audit_of(settings, case_no) if e.key == "verify-c0"]
    assert len(entries) == 1
    assert entries[0].decision == "substantiated"
    assert entries[0].actor == "产品-郑华"
    assert entries[0].payload["findings"] == verify_input().findings
    assert entries[0].at == NOW + timedelta(hours=1)
    case = the_case(settings, case_no)
    assert case.substantiated is True
    assert case.waiting_key is None
    assert case.updated_at == NOW + timedelta(hours=1)
    (deadline,) = deadlines_of(settings, case_no)
    assert deadline.done_at == NOW + timedelta(hours=1)


def test_opening_a_step_records_its_due_time_once(settings: Settings) -> None:
    case_no = casework.register(complaint(severity=enums.Severity.SERIOUS), settings, NOW).case_no

    due = casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", NOW)
    again = casework.open_step(
        settings, case_no, Step.VERIFY, "verify-c0", NOW + timedelta(hours=5)
    )

    received = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
    assert due == received + timedelta(hours=12)  # the promise counts from receipt
    assert again == due
    (deadline,) = deadlines_of(settings, case_no)
    assert (deadline.step, deadline.cycle) == ("verify", 0)
    assert deadline.started_at == received
    assert deadline.due_at == received + timedelta(hours=12)
    assert deadline.due_at.tzinfo is not None
    assert deadline.done_at is None
    case = the_case(settings, case_no)
    assert (case.status, case.current_step, case.waiting_key) == (
        enums.CaseStatus.IN_PROGRESS,
        "verify",
        "verify-c0",
    )


@pytest.mark.parametrize(
    ("severity", "hours"),
    [(enums.Severity.GENERAL, 24), (enums.Severity.SERIOUS, 12), (enums.Severity.MAJOR, 2)],
)
def test_verification_is_due_within_the_response_time_of_the_severity_from_receipt(
    settings: Settings, severity: enums.Severity, hours: int
) -> None:
    case_no = casework.register(complaint(severity=severity), settings, NOW).case_no

    due = casework.open_step(settings, case_no, Step.VERIFY, "verify-c0", NOW)

    assert due == datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI) + timedelta(hours=hours)


def test_a_delay_with_a_new_deadline_moves_the_execute_deadline(settings: Settings) -> None:
    case_no = casework.register(complaint(), settings, NOW).case_no
    planned = datetime(2026, 11, 26, 18, 0, tzinfo=SHANGHAI)
    moved = datetime(2026, 11, 28, 18, 0, tzinfo=SHANGHAI)
    casework.open_step(settings, case_no, Step.PLAN, "plan-c0", NOW)
    casework.record_decision(
        settings, case_no, Step.PLAN, "plan-c0", plan_input(planned), NOW + timedelta(minutes=5)
    )
    assert casework.open_step(settings, case_no, Step.EXECUTE, "execute-c0", NOW) == planned

    delay = ProgressInput(
        actor="产品-郑华",
        kind=enums.ProgressKind.DELAY,
        note="新品缺货，等待补货。",
        delay_reason="供应商延迟发货",
        new_deadline=moved,
    )
    assert casework.record_decision(
        settings, case_no, Step.EXECUTE, "execute-c0-e1", delay, NOW + timedelta(hours=1)
    )

    (deadline,) = deadlines_of(settings, case_no, "execute")
    assert deadline.due_at == moved
    assert deadline.done_at is None
    # Opening the step again (a resumed run) does not move it back.
    again = casework.open_step(
        settings, case_no, Step.EXECUTE, "execute-c0-e2", NOW + timedelta(hours=2)
    )
    assert again == moved

    done = ProgressInput(actor="产品-郑华", kind=enums.ProgressKind.DONE, note="新电热水壶已送达。")
    casework.record_decision(
        settings, case_no, Step.EXECUTE, "execute-c0-e2", done, NOW + timedelta(hours=3)
    )
    (deadline,) = deadlines_of(settings, case_no, "execute")
    assert (deadline.due_at, deadline.done_at) == (moved, NOW + timedelta(hours=3))


def test_closing_a_case_twice_stores_one_report(settings: Settings) -> None:
    case_no = casework.register(complaint(), settings, NOW).case_no
    closed_at = NOW + timedelta(days=3)

    casework.close(settings, case_no, closed_at, "# 投诉处理报告\n\n已解决。\n")
    casework.close(settings, case_no, closed_at + timedelta(hours=1), "# 第二份报告\n")

    case = the_case(settings, case_no)
    assert case.status is enums.CaseStatus.CLOSED
    assert case.closed_at == closed_at
    assert case.waiting_key is None
    assert count(settings, CaseReport) == 1
    with unit_of_work(settings.database_url) as session:
        report = session.scalars(sa.select(CaseReport)).one()
        assert report.markdown == "# 投诉处理报告\n\n已解决。\n"
        assert report.created_at == closed_at
    assert [e.key for e in audit_of(settings, case_no)] == [
        event_key(Step.REGISTER),
        event_key(Step.CLOSE),
    ]


def test_an_operation_on_an_unknown_case_raises_case_not_found(settings: Settings) -> None:
    with pytest.raises(casework.CaseNotFound, match="TS-20261123-9999"):
        casework.open_step(settings, "TS-20261123-9999", Step.VERIFY, "verify-c0", NOW)
    assert count(settings, StepDeadline) == 0


# -- schema --------------------------------------------------------------------------------
def test_the_migrations_produce_exactly_the_schema_of_the_models(settings: Settings) -> None:
    with engine_for(settings.database_url).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_the_same_complaint_submitted_concurrently_registers_one_case(
    settings: Settings,
) -> None:
    threads = 8
    start = threading.Barrier(threads)

    def submit(_: int) -> casework.Registration:
        start.wait()
        return casework.register(complaint(), settings, NOW)

    with ThreadPoolExecutor(threads) as pool:
        registrations = list(pool.map(submit, range(threads)))

    assert {r.case_no for r in registrations} == {"TS-20261123-0001"}
    assert sum(r.created for r in registrations) == 1
    assert count(settings, Case) == 1


@pytest.mark.parametrize("fails", [True, False])
def test_the_steps_of_one_use_case_commit_together_or_not_at_all(
    settings: Settings, fails: bool
) -> None:
    case_no = casework.register(complaint(), settings, NOW).case_no
    key = "verify-c0"

    def use_case() -> None:
        with unit_of_work(settings.database_url) as session:
            casework.open_step(settings, case_no, Step.VERIFY, key, NOW, session=session)
            casework.record_decision(
                settings, case_no, Step.VERIFY, key, verify_input(), NOW, session=session
            )
            if fails:
                raise RuntimeError("the use case fails after both steps")

    if fails:
        with pytest.raises(RuntimeError):
            use_case()
    else:
        use_case()

    steps = [e.step for e in audit_of(settings, case_no)]
    assert steps == ([Step.REGISTER.value] if fails else [Step.REGISTER.value, Step.VERIFY.value])
    assert count(settings, StepDeadline, StepDeadline.step == Step.VERIFY.value) == (
        0 if fails else 1
    )
