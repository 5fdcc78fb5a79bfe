"""The forms people fill in at each human step (rules.inputs)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from rules.enums import Category, Department, FeedbackMethod, ProgressKind, Scope, Severity
from rules.human_steps import HUMAN_STEPS, STEP_INPUTS
from rules.inputs import (
    ApprovalInput,
    FeedbackInput,
    GradeInput,
    PlanInput,
    ProgressInput,
    StepInput,
    SurveyInput,
    VerifyInput,
    WaitOnCustomer,
    describe_errors,
)
from tests.hostile import VALID as HOSTILE_VALID

CST = timezone(timedelta(hours=8))
DEADLINE = datetime(2026, 11, 25, 18, 0, tzinfo=CST)

VALID: dict[type[StepInput], dict[str, Any]] = {
    **{model: HOSTILE_VALID[model] for model in STEP_INPUTS.values()},
    # the forms as a person fills them in, where the hostile tests keep them short
    GradeInput: {**HOSTILE_VALID[GradeInput], "basis": "《投诉分级标准》第3条"},
    PlanInput: {
        **{k: v for k, v in HOSTILE_VALID[PlanInput].items() if k != "deadline_working_days"},
        "measures": "免费换货并赠送50元优惠券",
        "deadline": DEADLINE,
    },
    ProgressInput: {**HOSTILE_VALID[ProgressInput], "note": "已预约快递，3天内送达"},
    FeedbackInput: {**HOSTILE_VALID[FeedbackInput], "result": "已换货，客户已签收"},
}

ALL_MODELS = sorted(VALID, key=lambda model: model.__name__)


def form(model: type[StepInput], **changes: Any) -> dict[str, Any]:
    data = {**VALID[model], **changes}
    return {key: value for key, value in data.items() if value is not None}


def messages(model: type[StepInput], data: dict[str, Any]) -> str:
    """What the person is told: one line naming each wrong field."""
    with pytest.raises(ValidationError) as caught:
        model(**data)
    return describe_errors(caught.value)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_a_valid_example_of_each_form_is_accepted(model):
    assert isinstance(model(**VALID[model]), StepInput)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_every_form_needs_the_person_who_acted(model):
    assert "Field required" in messages(model, form(model, actor=None))
    assert "at least 1 character" in messages(model, form(model, actor="   "))


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_every_form_rejects_an_unknown_field(model):
    assert "Extra inputs are not permitted" in messages(model, form(model, remark="?"))


def test_a_valid_grading_reads_its_vocabularies_and_defaults_to_department_scope():
    grade = GradeInput(**VALID[GradeInput])
    assert (grade.category, grade.severity) == (Category.PRODUCT_QUALITY, Severity.SERIOUS)
    assert grade.scope is Scope.DEPARTMENT
    assert grade.department is None


def test_a_grading_accepts_english_aliases():
    grade = GradeInput(
        **form(
            GradeInput,
            category="logistics",
            severity="major",
            scope="city",
            department="after_sales",
        )
    )
    assert (grade.category, grade.severity, grade.scope, grade.department) == (
        Category.LOGISTICS,
        Severity.MAJOR,
        Scope.CITY,
        Department.AFTER_SALES,
    )


def test_a_complaint_found_not_substantiated_needs_an_explanation_to_the_customer():
    text = messages(VerifyInput, form(VerifyInput, substantiated=False))
    assert "explanation_to_customer" in text


@pytest.mark.parametrize("explanation", ["", "   "])
def test_a_blank_explanation_does_not_count(explanation):
    data = form(VerifyInput, substantiated=False, explanation_to_customer=explanation)
    assert "explanation_to_customer" in messages(VerifyInput, data)


def test_a_complaint_found_not_substantiated_with_an_explanation_is_accepted():
    verify = VerifyInput(
        **form(VerifyInput, substantiated=False, explanation_to_customer="签收时外箱完好")
    )
    assert verify.substantiated is False


def test_a_rejection_needs_a_reason():
    assert "reason" in messages(ApprovalInput, form(ApprovalInput, approved=False))


def test_a_rejection_with_a_reason_is_accepted_and_an_approval_needs_none():
    assert (
        ApprovalInput(**form(ApprovalInput, approved=False, reason="补偿过高")).reason == "补偿过高"
    )
    assert ApprovalInput(**form(ApprovalInput, approved=True)).reason is None


def test_a_plan_deadline_must_carry_a_time_zone():
    text = messages(PlanInput, form(PlanInput, deadline=datetime(2026, 11, 25, 18, 0)))
    assert "deadline" in text
    assert "time zone" in text


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"owner_department": "物流部"}, "owner_department_reason"),
        (
            {"owner_department": "物流部", "owner_department_reason": "   "},
            "owner_department_reason",
        ),
        ({"owner_department_reason": "配件由物流部仓库出库"}, "owner_department"),
    ],
)
def test_a_plan_names_the_owners_other_department_together_with_why(given, named):
    text = messages(PlanInput, form(PlanInput, **given))
    assert text.startswith(f"{named}: ") and "together, or neither" in text


def test_a_plan_with_the_owners_department_and_a_reason_is_accepted():
    plan = PlanInput(
        **form(PlanInput, owner_department="logistics", owner_department_reason="仓库在物流部")
    )
    assert (plan.owner_department, plan.owner_department_reason) == (
        Department.LOGISTICS,
        "仓库在物流部",
    )
    assert PlanInput(**VALID[PlanInput]).owner_department is None


def test_a_delay_without_a_reason_is_rejected():
    data = form(ProgressInput, kind="延期", new_deadline=DEADLINE)
    assert "delay_reason" in messages(ProgressInput, data)


def test_a_delay_without_a_new_deadline_is_rejected():
    data = form(ProgressInput, kind="延期", delay_reason="缺货")
    assert "new_deadline" in messages(ProgressInput, data)


def test_a_delay_with_a_reason_and_a_new_deadline_is_accepted():
    entry = ProgressInput(
        **form(ProgressInput, kind="delay", delay_reason="缺货", new_deadline=DEADLINE)
    )
    assert entry.kind is ProgressKind.DELAY
    assert entry.new_deadline == DEADLINE


def test_a_new_deadline_must_carry_a_time_zone():
    data = form(ProgressInput, kind="延期", delay_reason="缺货", new_deadline="2026-11-30T18:00:00")
    assert "time zone" in messages(ProgressInput, data)


@pytest.mark.parametrize("kind", ["进展", "完成"])
def test_progress_and_completion_need_no_delay_reason(kind):
    assert ProgressInput(**form(ProgressInput, kind=kind)).delay_reason is None


def test_feedback_defaults_to_a_phone_call():
    assert FeedbackInput(**VALID[FeedbackInput]).method is FeedbackMethod.PHONE


@pytest.mark.parametrize("score", ["efficiency", "resolution", "attitude", "fairness"])
@pytest.mark.parametrize("value", [0, 6, -1, 10])
def test_a_survey_score_outside_1_to_5_is_rejected(score, value):
    with pytest.raises(ValidationError) as caught:
        SurveyInput(**form(SurveyInput, **{score: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(score,)]


@pytest.mark.parametrize("value", [1, 5])
def test_a_survey_score_of_1_or_5_is_accepted(value):
    survey = SurveyInput(**form(SurveyInput, efficiency=value))
    assert survey.efficiency == value


@pytest.mark.parametrize("accepts", [True, False])
def test_the_customer_is_satisfied_exactly_when_accepting_the_result(accepts):
    low_scores = {"efficiency": 1, "resolution": 1, "attitude": 1, "fairness": 1}
    high_scores = {"efficiency": 5, "resolution": 5, "attitude": 5, "fairness": 5}
    for scores in (low_scores, high_scores):
        survey = SurveyInput(**form(SurveyInput, accepts_result=accepts, **scores))
        assert survey.satisfied is accepts


def test_the_survey_average_is_the_mean_of_the_four_scores():
    assert SurveyInput(**VALID[SurveyInput]).average == pytest.approx(4.25)


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_every_field_has_a_chinese_first_bilingual_title(model):
    properties = model.model_json_schema()["properties"]
    assert properties
    for name, schema in properties.items():
        title = schema.get("title", "")
        assert " / " in title, f"{model.__name__}.{name}: {title!r}"
        assert _is_cjk(title[0]), f"{model.__name__}.{name}: {title!r}"


def test_every_human_step_has_a_form():
    assert set(STEP_INPUTS) == set(HUMAN_STEPS)


def test_every_form_has_a_valid_example_here():
    assert set(STEP_INPUTS.values()) == set(VALID)


def test_waiting_on_the_customer_names_a_case_and_says_why():
    request = WaitOnCustomer(
        case_no="TS-20261123-0001", waiting=True, note=" 已请客户补充照片 ", actor="客服-王芳"
    )
    assert request.note == "已请客户补充照片"
    with pytest.raises(ValidationError, match="case_no"):
        WaitOnCustomer(case_no="20261123-1", waiting=True, note="x", actor="客服")
    with pytest.raises(ValidationError, match="note"):
        WaitOnCustomer(case_no="TS-20261123-0001", waiting=False, note="  ", actor="客服")
