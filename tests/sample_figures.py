"""The figures of a sample month (October 2026) and of an empty one, written out by hand:
what the report rendering is tested on, in the unit and the integration tier."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rules.analysis import (
    Change,
    Count,
    Duration,
    EscalationCount,
    Figures,
    KpiTargets,
    Quote,
    Rate,
    TrendPoint,
    kpis,
)
from rules.periods import Kind

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PHONE = "13812345678"
EMAIL = "zhangsan@example.com"
TREND_MONTHS = [f"2025-{m:02d}" for m in range(11, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]


def counts(total: int, *rows: tuple[str, int]) -> list[Count]:
    return [Count(label=label, count=count, share=count / total) for label, count in rows]


def standing(
    volume: int,
    timely: tuple[int, int],
    satisfied: tuple[int, int],
    open_at_end: int,
    overdue_at_end: int,
) -> dict[str, Any]:
    """What a department's or a handler's row says of its cases (`DepartmentRow`,
    `HandlerRow`); `timely` and `satisfied` as (cases, out of how many)."""
    return {
        "volume": volume,
        "timely": Rate(numerator=timely[0], denominator=timely[1]),
        "satisfaction": Rate(numerator=satisfied[0], denominator=satisfied[1]),
        "open_at_end": open_at_end,
        "overdue_at_end": overdue_at_end,
    }


def figures(**changes: Any) -> Figures:
    """October 2026 in Shanghai: 48 complaints, 40 the month before, 50 a year before."""
    values: dict[str, Any] = {
        "kind": Kind.MONTHLY,
        "period": "2026-10",
        "start": datetime(2026, 9, 30, 16, tzinfo=UTC),
        "end": datetime(2026, 10, 31, 16, tzinfo=UTC),
        "timezone": "Asia/Shanghai",
        "generated_at": datetime(2026, 11, 1, 0, 30, tzinfo=UTC),
        "volume": 48,
        "by_category": counts(
            48, ("产品质量", 20), ("物流配送", 12), ("服务态度", 9), ("售后响应", 7)
        ),
        "by_channel": counts(48, ("热线电话", 30), ("在线客服", 18)),
        "by_severity": counts(48, ("一般", 40), ("严重", 7), ("重大", 1)),
        "by_department": counts(48, ("产品部", 20), ("物流部", 12), ("客服部", 16)),
        "top_problems": counts(
            48,
            ("物流配送 · 冰箱", 6),
            ("产品质量 · 电饭煲", 11),
            ("服务态度 · 热线", 5),
            ("产品质量 · 空调", 8),
            ("售后响应 · 洗衣机", 4),
            ("其他 · 会员", 2),
        ),
        "timely_steps": Rate(numerator=120, denominator=130),
        "timely_cases": Rate(numerator=42, denominator=48),
        "satisfaction": Rate(numerator=33, denominator=40),
        "survey_averages": {
            "处理效率 / efficiency": 4.35,
            "解决程度 / resolution": 4.1,
            "沟通态度 / attitude": 4.6,
            "补偿公平 / fairness": 3.9,
        },
        "callback": Rate(numerator=40, denominator=43),
        "resolution": Rate(numerator=41, denominator=48),
        "first_response": Duration(count=48, median_minutes=12.0, p90_minutes=28.5),
        "handling": Duration(count=43, median_minutes=1500.0, p90_minutes=4320.0),
        "reopened": Rate(numerator=3, denominator=48),
        "escalations": [
            EscalationCount(trigger="sla", level=1, count=4),
            EscalationCount(trigger="major", level=3, count=1),
        ],
        "repeats": Rate(numerator=2, denominator=48),
        "by_attributed_department": counts(30, ("产品部", 18), ("物流部", 12)),
        "by_handler": counts(30, ("李四", 18), ("王五", 12)),
        "volume_mom": Change(current=48, previous=40),
        "volume_yoy": Change(current=48, previous=50),
        "trend": [
            TrendPoint(
                period=month, count=30 + i * 2, timely_rate=0.8 + i / 100, satisfaction_rate=0.82
            )
            for i, month in enumerate(TREND_MONTHS[:-1])
        ]
        + [TrendPoint(period="2026-10", count=48, timely_rate=0.875, satisfaction_rate=0.825)],
        "kpis": [],
        "still_open": 5,
        "quotes": [
            Quote(
                case_no="TS-20261003-0002", text=f"有事请打 {PHONE} 或写信 {EMAIL}", accepted=True
            ),
            Quote(
                case_no="TS-20261012-0007", text='=HYPERLINK("x") 等了三天没人理', accepted=False
            ),
        ],
    }
    values |= changes
    result = Figures(**values)
    if not changes.get("kpis"):
        result.kpis = kpis(result, KpiTargets())
    return result


def empty_month() -> Figures:
    nothing = Rate(numerator=0, denominator=0)
    return figures(
        volume=0,
        by_category=[],
        by_channel=[],
        by_severity=[],
        by_department=[],
        top_problems=[],
        timely_steps=nothing,
        timely_cases=nothing,
        satisfaction=nothing,
        survey_averages={
            "处理效率 / efficiency": None,
            "解决程度 / resolution": None,
            "沟通态度 / attitude": None,
            "补偿公平 / fairness": None,
        },
        callback=nothing,
        resolution=nothing,
        first_response=Duration(count=0, median_minutes=None, p90_minutes=None),
        handling=Duration(count=0, median_minutes=None, p90_minutes=None),
        reopened=nothing,
        escalations=[],
        repeats=nothing,
        by_attributed_department=[],
        by_handler=[],
        volume_mom=Change(current=0, previous=12),
        volume_yoy=Change(current=0, previous=0),
        trend=[
            TrendPoint(period=m, count=0, timely_rate=None, satisfaction_rate=None)
            for m in TREND_MONTHS
        ],
        still_open=0,
        quotes=[],
    )
