"""Hostile and random input for the property tests: a valid form of every input model, and
the values a hostile or careless person (or a broken script) sends instead."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from rules.human_steps import STEP_INPUTS
from rules.inputs import (
    ApprovalInput,
    FeedbackInput,
    GradeInput,
    PlanInput,
    ProgressInput,
    SurveyInput,
    VerifyInput,
    WaitOnCustomer,
)
from rules.intake import ComplaintIn

VALID: dict[type[BaseModel], dict[str, Any]] = {
    ComplaintIn: {
        "channel": "热线电话",
        "customer_name": "张三",
        "customer_phone": "13812345678",
        "description": "收到的电热水壶底部漏水。",
        "demand": "换货",
        "receiver": "客服-王芳",
    },
    WaitOnCustomer: {
        "case_no": "TS-20261201-0001",
        "waiting": True,
        "note": "已请客户补充照片",
        "actor": "客服",
    },
    VerifyInput: {"actor": "王五", "substantiated": True, "findings": "外箱破损"},
    GradeInput: {
        "actor": "王五",
        "category": "产品质量",
        "severity": "严重",
        "basis": "第3条",
        "reason": "影响使用",
    },
    ApprovalInput: {"actor": "赵六", "approved": True},
    PlanInput: {
        "actor": "王五",
        "measures": "换货",
        "owner": "孙七",
        "deadline_working_days": 5,
        "root_cause": "包装不足",
    },
    ProgressInput: {"actor": "孙七", "kind": "进展", "note": "已预约快递"},
    FeedbackInput: {"actor": "孙七", "result": "已换货"},
    SurveyInput: {
        "actor": "回访员",
        "efficiency": 5,
        "resolution": 4,
        "attitude": 5,
        "fairness": 3,
        "accepts_result": True,
    },
}
assert set(STEP_INPUTS.values()) < set(VALID)
MODELS = sorted(VALID, key=lambda model: model.__name__)
PROSE_FIELDS = {
    "description", "demand_detail", "on_spot_answer", "findings", "evidence",
    "explanation_to_customer", "basis", "reason", "measures", "compensation", "resources",
    "root_cause", "improvement", "note", "delay_reason", "result", "comment",
    "owner_department_reason",
}  # fmt: skip

CONTROL = st.sampled_from(
    ["\x00", "\x1b", "\x07", "\x7f", "\x85", "\ud800", "\u202e", "\u2066", "\n", "\r", "\t"]
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=10), CONTROL, st.text(max_size=10)),
    st.sampled_from(
        [
            "",
            "   ",
            "x" * 100_000,
            "[click](javascript:alert(1))",
            "<script>alert(1)</script>",
            "yes",
            "true",
            "5",
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59+08:00",
            "1970-01-01T00:00:00Z",
            "2026-12-01T10:00:00",
            "ts-20261201-0001",
        ]
    ),
)
HOSTILE = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
