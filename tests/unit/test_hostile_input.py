"""Hostile and random values against every input model: refused in one line naming the
field, or accepted only when they make sense — never a crash, never a control character,
a guessed boolean or a date the calendar cannot count."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from rules import inputs
from rules.fields import DEFAULT_LIMITS, InputLimits, decode
from rules.inputs import PlanInput, ProgressInput, SurveyInput, VerifyInput, WaitOnCustomer
from rules.intake import ComplaintIn
from rules.sla import SlaPolicy
from rules.working_time import Unit
from tests.hostile import HOSTILE, MODELS, PROSE_FIELDS, VALID

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=CST)
CLOCK = SlaPolicy().clock(ZoneInfo("Asia/Shanghai"))


def check_accepted(model: BaseModel) -> None:
    """What an accepted value must be: strict types, no control characters, sane years."""
    for name, value in model:
        if isinstance(value, str):
            allowed = "\n\t" if name in PROSE_FIELDS else ""
            bad = [c for c in value if c not in allowed and unicodedata.category(c) in ("Cc", "Cs")]
            assert not bad, (name, value)
        if isinstance(value, datetime):
            assert value.tzinfo is not None and 2000 <= value.year <= 2099, (name, value)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_valid_form_of_each_model_is_accepted(model: type[BaseModel]) -> None:
    check_accepted(model.model_validate(VALID[model]))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_in_any_field_is_refused_in_one_line_naming_the_field_or_is_sane(
    model: type[BaseModel], data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from(sorted(model.model_fields)), label="field")
    value = data.draw(HOSTILE, label="value")
    form = {**VALID[model], field: value}
    try:
        accepted = model.model_validate(form)
    except ValidationError as exc:
        line = inputs.describe_errors(exc)
        assert "\n" not in line and line
        assert field in line or any(
            # a cross-field rule names the field it needs (explanation, reason, contact)
            word in line
            for word in ("explanation_to_customer", "reason", "deadline", "联系方式", "on_spot")
        ), (field, line)
        return
    check_accepted(accepted)
    if isinstance(value, str) and len(value) > 2000:
        raise AssertionError(f"{field} accepted {len(value)} characters")


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (VerifyInput, "substantiated", "yes"),
        (VerifyInput, "substantiated", "true"),
        (VerifyInput, "substantiated", 1),
        (SurveyInput, "accepts_result", "false"),
        (SurveyInput, "efficiency", "5"),
        (SurveyInput, "efficiency", 4.0),
        (ComplaintIn, "answered_on_spot", "yes"),
        (ComplaintIn, "received_at", 12345),
        (ComplaintIn, "received_at", 1_764_554_400.0),
        (ComplaintIn, "received_at", "0001-01-01T00:00:00+00:00"),
        (ComplaintIn, "received_at", "2026-12-01T09:00:00"),
        (ComplaintIn, "customer_name", "张\x00三"),
        (ComplaintIn, "customer_name", "张\x1b[31m三"),
        (ComplaintIn, "customer_name", "张三\n李四"),
        (ComplaintIn, "description", "漏水了\x00\x00\x00\x00"),
        (ComplaintIn, "customer_name", "张三\u202e五王"),  # shown reversed: "张三王五"
        (ComplaintIn, "description", "订单 \u2066SO-1\u2069 漏水了"),
        (PlanInput, "deadline", "9999-12-31T23:59:59+08:00"),
        (PlanInput, "deadline", 4_102_444_800),
        (PlanInput, "deadline_working_days", "5"),
        (PlanInput, "deadline_working_days", 0),
        (PlanInput, "deadline_working_days", 10_000),
        (WaitOnCustomer, "note", "x" * 100_000),
        (WaitOnCustomer, "waiting", "no"),
    ],
)
def test_values_that_were_guessed_at_are_refused(
    model: type[BaseModel], field: str, value: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**VALID[model], field: value})
    assert inputs.describe_errors(caught.value).startswith(field)


def test_line_breaks_and_tabs_stay_in_free_text_and_windows_line_ends_become_unix() -> None:
    complaint = ComplaintIn.model_validate(
        {**VALID[ComplaintIn], "description": "第一天：漏水。\r\n第二天：\t不能用。"}
    )
    assert complaint.description == "第一天：漏水。\n第二天：\t不能用。"


def test_a_case_number_is_read_in_any_case() -> None:
    wait = WaitOnCustomer.model_validate({**VALID[WaitOnCustomer], "case_no": " ts-20261201-0001"})
    assert wait.case_no == "TS-20261201-0001"


# -- times against now ---------------------------------------------------------------------
def complaint_at(**times: Any) -> ComplaintIn:
    return ComplaintIn.model_validate({**VALID[ComplaintIn], **times})


@pytest.mark.parametrize(
    ("times", "problem"),
    [
        ({"received_at": NOW + timedelta(hours=1)}, "received_at: 不能晚于当前时间"),
        ({"received_at": "2030-01-01T00:00:00+08:00"}, "received_at: 不能晚于当前时间"),
        ({"received_at": NOW - timedelta(days=32)}, "received_at: 不能早于 31 天前"),
        ({"received_at": "2000-01-01T00:00:00+08:00"}, "received_at: 不能早于 31 天前"),
        ({"occurred_at": NOW + timedelta(days=1)}, "occurred_at: 不能晚于当前时间"),
        ({"occurred_at": NOW - timedelta(days=4 * 366)}, "occurred_at: 不能早于 1098 天前"),
    ],
)
def test_a_complaint_received_in_the_future_or_decades_back_is_refused(
    times: dict[str, Any], problem: str
) -> None:
    problems = complaint_at(**times).timing_problems(NOW)
    assert len(problems) == 1 and problems[0].startswith(problem)


def test_times_within_the_window_and_a_little_clock_skew_are_accepted() -> None:
    complaint = complaint_at(
        received_at=NOW + timedelta(minutes=5), occurred_at=NOW - timedelta(days=400)
    )
    assert complaint.timing_problems(NOW) == []
    assert complaint_at().timing_problems(NOW) == []  # received now, by default


def test_the_window_is_configurable() -> None:
    complaint = complaint_at(received_at=NOW - timedelta(days=60))
    assert complaint.timing_problems(NOW)
    assert complaint.timing_problems(NOW, InputLimits(received_max_age_days=90)) == []


@pytest.mark.parametrize(
    ("deadline", "accepted"),
    [
        (NOW + timedelta(days=1), True),
        (NOW + timedelta(days=180), True),
        (NOW + timedelta(days=181), False),
        (datetime(2036, 12, 1, tzinfo=UTC), False),  # ten years out
        (datetime(2099, 12, 31, tzinfo=UTC), False),
        (NOW - timedelta(minutes=1), False),
    ],
)
def test_a_deadline_lies_ahead_within_the_policy_horizon(
    deadline: datetime, accepted: bool
) -> None:
    plan = PlanInput.model_validate(
        {**VALID[PlanInput], "deadline": deadline, "deadline_working_days": None}
    )
    assert (inputs.timing_problems(plan, NOW) == []) is accepted
    delay = ProgressInput.model_validate(
        {"actor": "孙七", "kind": "延期", "note": "缺货", "delay_reason": "缺货",
         "new_deadline": deadline}
    )  # fmt: skip
    assert (inputs.timing_problems(delay, NOW) == []) is accepted


def test_every_accepted_deadline_can_be_counted_by_the_calendar() -> None:
    """The horizon keeps deadlines inside what the SLA arithmetic counts (the cause of the
    FAILED runs: a 9999-12-31 deadline the calendar could not reach)."""
    far = NOW + timedelta(days=DEFAULT_LIMITS.deadline_max_days)
    counted = CLOCK.counted(NOW, far, Unit.WORKING_DAYS)
    assert counted > timedelta(0)


def test_a_deadline_in_working_days_becomes_a_moment_on_the_working_calendar() -> None:
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=CST)
    plan = PlanInput.model_validate({**VALID[PlanInput], "deadline_working_days": 1})
    settled, problems = inputs.settle(plan, friday, CLOCK)
    assert problems == []
    assert settled.deadline is not None
    assert settled.deadline.astimezone(CST).date() == datetime(2026, 12, 7).date()  # Monday
    assert settled.deadline_working_days == 1


def test_a_plan_without_any_deadline_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        PlanInput.model_validate({**VALID[PlanInput], "deadline_working_days": None})
    assert inputs.describe_errors(caught.value).startswith("deadline:")


# -- encodings -----------------------------------------------------------------------------
TEXT = '{"customer_name": "李明", "description": "电热水壶漏水，要求换货。"}'


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_text_in_any_encoding_a_chinese_office_saves_is_read(encoding: str) -> None:
    assert decode(TEXT.encode(encoding)) == TEXT.replace("\ufeff", "")


@pytest.mark.parametrize(
    "data",
    [
        b'{"name": "caf\xe9"}',
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b'{"a": "\xff\xfe\xfd"}',
        '{"customer_name": "Müller", "description": "Wasserkocher undicht, Umtausch"}'.encode(
            "latin-1"
        ),  # GB18030 alone would read it as "M黮ler"
        '{"customer_name": "李明", "description": "電熱水壺漏水，要求換貨。"}'.encode("big5"),
        # (Big5, Taiwan's and Hong Kong's: GB18030 alone would read kana and rare characters)
    ],
)
def test_text_in_no_such_encoding_is_refused_in_one_line(data: bytes) -> None:
    with pytest.raises(ValueError) as caught:
        decode(data)
    message = str(caught.value)
    assert "\n" not in message and "UTF-8" in message


def test_gbk_text_with_a_rare_character_in_a_name_is_still_read() -> None:
    text = '{"customer_name": "王堃", "description": "电热水壶漏水，要求换货。"}'
    assert decode(text.encode("gbk")) == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_with_a_value_error(data: bytes) -> None:
    try:
        assert isinstance(decode(data), str)
    except ValueError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor", "王\x1b[2J主管"),
        ("actor", "王主管\n李"),
        ("note", "已更换\x00承运商"),
        ("note", " "),
    ],
)
def test_a_departments_rectification_report_is_as_strict_as_every_other_input(
    field: str, value: str
) -> None:
    from complaints.reporting.rectification import RectifiedInput

    given = {"actor": "物流部-王主管", "note": "已更换承运商。", field: value}
    with pytest.raises(ValidationError) as caught:
        RectifiedInput.model_validate(given)
    assert inputs.describe_errors(caught.value).startswith(f"{field}:")
