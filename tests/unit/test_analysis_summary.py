"""The written summary at the top of every report: plain rules over the figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rules.analysis import (
    Change,
    Count,
    DepartmentRow,
    KpiTargets,
    OpenCase,
    Rate,
    kpis,
)
from rules.summary import recommend, summary
from tests.sample_figures import empty_month, figures, standing

TARGETS = KpiTargets()
SLOW = DepartmentRow(
    department="物流部",
    **standing(volume=10, timely=(5, 10), satisfied=(4, 5), open_at_end=3, overdue_at_end=2),
)
LATE = OpenCase(
    case_no="TS-20261002-0001",
    received_at=datetime(2026, 10, 2, tzinfo=UTC),
    category="物流配送",
    department="物流部",
    owner="物流-周敏",
    step="核实 / Verify",
    overdue_days=12.5,
)


def written(**changes: object) -> str:
    month = figures(**changes)
    month.kpis = kpis(month, TARGETS)
    return "".join(s.zh for s in summary(month, TARGETS))


def test_it_says_how_much_the_volume_rose_and_against_what() -> None:
    text = written(volume=120, volume_mom=Change(current=120, previous=100))
    assert "本期受理投诉 120 件，较上期（100 件）上升 20.0%。" in text


def test_it_names_each_target_missed_with_its_figure() -> None:
    text = written(timely_cases=Rate(numerator=6, denominator=10))
    assert "及时率 60.0%（目标 ≥ 95%）" in text


def test_it_names_the_departments_below_the_timely_target_and_the_longest_overdue_case() -> None:
    fine = SLOW.model_copy(
        update={"department": "客服部", "timely": Rate(numerator=10, denominator=10)}
    )
    text = written(departments=[SLOW, fine], open_cases=[LATE])
    assert "及时率低于目标（95%）的部门：物流部 50.0%。" in text and "客服部" not in text
    assert "最久的 TS-20261002-0001 已逾期 12.5 天（物流部，物流-周敏）" in text


def test_the_longest_overdue_case_without_a_plan_names_its_receiver_not_the_department_twice() -> (
    None
):
    unplanned = LATE.model_copy(
        update={
            "case_no": "TS-20261002-0002",
            "owner": "客服-王芳",
            "overdue_days": 9.0,
            "handed_over": False,
        }
    )
    text = written(open_cases=[unplanned])
    assert "已逾期 9.0 天（物流部，受理人 客服-王芳，尚未交办）" in text
    assert "物流部，物流部" not in text
    named_after = unplanned.model_copy(update={"owner": "物流部", "handed_over": True})
    assert "已逾期 9.0 天（物流部）" in written(open_cases=[named_after])


def test_it_names_the_most_common_cause() -> None:
    text = written(causes=[Count(label="包装不足", count=7, share=0.7)])
    assert "最常见的原因是“包装不足”（7 件）" in text


def test_a_month_without_complaints_says_just_that() -> None:
    month = empty_month()
    assert [s.zh for s in summary(month, TARGETS)] == ["本期无投诉。"]


def test_the_recommendations_name_who_acts_on_what() -> None:
    month = figures(
        departments=[SLOW],
        timely_cases=Rate(numerator=5, denominator=10),
        causes=[Count(label="包装不足", count=7, share=0.7)],
        callbacks_owed=2,
    )
    month.kpis = kpis(month, TARGETS)
    said = [s.zh for s in recommend(month, TARGETS)]
    assert any(s.startswith("未达标的目标（") and "及时率" in s for s in said)
    assert any(s.startswith("物流部：及时率 50.0%，低于目标 95%") for s in said)
    assert "针对最常见的原因“包装不足”（7 件）制定纠正和预防措施。" in said
    assert "补做期末未完成的 2 次回访。" in said


def test_a_month_that_met_every_target_recommends_nothing_for_the_targets() -> None:
    month = figures(
        resolution=Rate(numerator=10, denominator=10),
        satisfaction=Rate(numerator=10, denominator=10),
        timely_cases=Rate(numerator=10, denominator=10),
        callback=Rate(numerator=10, denominator=10),
    )
    month.kpis = kpis(month, TARGETS)
    assert not any(s.zh.startswith("未达标") for s in recommend(month, TARGETS))


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("免费换货，赠送50元优惠券", {"免费服务 / free service": 0.0, "优惠券 / coupon": 50.0}),
        ("退款 199.5 元并赠送 20 元优惠券", {"退款 / refund": 199.5, "优惠券 / coupon": 20.0}),
        ("补偿 30 元", {"现金赔偿 / cash": 30.0}),
        ("送积分 500", {"积分 / points": 0.0}),
        ("另付 15 元", {"其他 / other": 15.0}),
        ("无", {"其他 / other": 0.0}),
        ("", {}),
        (None, {}),
    ],
)
def test_the_kinds_of_compensation_a_plan_names_with_their_yuan(text, kinds) -> None:
    from rules.analysis import COMPENSATION_WORDS, kinds_named

    assert kinds_named(text, COMPENSATION_WORDS) == kinds


def test_the_measures_a_plan_names_each_counted_once() -> None:
    from rules.analysis import MEASURE_WORDS, by_kind, kinds_named

    named = [
        kinds_named("免费换货，客服当面道歉并参加服务培训", MEASURE_WORDS),
        kinds_named("更换新品", MEASURE_WORDS),
        kinds_named("退款", MEASURE_WORDS),
    ]

    assert [(k.kind, k.plans) for k in by_kind(named)] == [
        ("换货 / exchange", 2),
        ("培训与考核 / retraining", 1),
        ("退款 / refund", 1),
        ("道歉 / apology", 1),
    ]


def test_the_consolidated_month_says_which_departments_sent_their_summary_by_the_fifth() -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from rules.analysis import ActionStatus, SummarySent, department_inputs, summary_due
    from rules.periods import Kind, Period

    shanghai = ZoneInfo("Asia/Shanghai")
    due = summary_due(Period.parse(Kind.MONTHLY, "2026-10"), shanghai)
    row = SLOW.model_copy(
        update={"timely": Rate(numerator=9, denominator=10), "open_at_end": 1, "overdue_at_end": 0}
    )
    rows = [row, *(row.model_copy(update={"department": d}) for d in ("产品部", "客服部"))]
    at = datetime(2026, 11, 5, 15, 59, tzinfo=UTC)  # 23:59 on the 5th in Shanghai
    sent = {
        "物流部": SummarySent(department="物流部", period="2026-10", saved_at=at, sent_at=at),
        "产品部": SummarySent(
            department="产品部", period="2026-10", saved_at=at, sent_at=at + timedelta(minutes=2)
        ),
    }
    action = ActionStatus(
        ref="CA-00001",
        period="2026-H1",
        department="物流部",
        requirement="整改",
        due_at=at,
        done_at=None,
        overdue=True,
    )
    inputs = department_inputs(
        rows, {"物流部": Count(label="包装不足", count=4, share=0.4)}, [action], sent, due, shanghai
    )

    assert due == date(2026, 11, 5)
    assert [(d.department, d.on_time) for d in inputs] == [
        ("物流部", True),
        ("产品部", False),
        ("客服部", None),
    ]
    assert (inputs[0].main_cause, inputs[0].actions_open, inputs[0].actions_overdue) == (
        "包装不足",
        1,
        1,
    )
    assert inputs[2].actions_open == 0 and not inputs[2].saved
    month = figures(department_inputs=inputs)
    text = "".join(s.zh for s in summary(month, TARGETS))
    assert (
        "部门小结：3 个部门中 1 个于 2026-11-05 前报送；未报送：客服部；逾期报送：产品部。" in text
    )
    advice = "".join(s.zh for s in recommend(month, TARGETS))
    assert "未按时报送部门小结的部门（产品部、客服部）" in advice
