"""ComplaintIn: what the first receiver registers, validated before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from rules.enums import Category, Channel, Demand, Severity
from rules.intake import ComplaintIn

CST = timezone(timedelta(hours=8))


def complaint(**changes: Any) -> dict[str, Any]:
    """A valid registration form; `changes` override or (with None) remove fields."""
    form: dict[str, Any] = {
        "channel": "热线电话",
        "external_ref": "CALL-20261123-001",
        "customer_name": "张三",
        "customer_phone": "13812345678",
        "description": "收到的手机屏幕有裂痕，要求退货。",
        "demand": "退款",
        "receiver": "李四",
        "received_at": datetime(2026, 11, 23, 9, 30, tzinfo=CST),
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def errors_of(form: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        ComplaintIn(**form)
    return caught.value.errors()


def test_a_complete_form_is_accepted_with_defaults_for_what_it_leaves_out():
    case = ComplaintIn(**complaint())
    assert case.channel is Channel.HOTLINE
    assert case.demand is Demand.REFUND
    assert case.severity is Severity.GENERAL
    assert case.category is None
    assert case.answered_on_spot is False


@pytest.mark.parametrize("field", ["channel", "customer_name", "description", "demand", "receiver"])
def test_a_missing_required_field_is_an_error_naming_that_field(field):
    form = complaint()
    del form[field]
    errors = errors_of(form)
    assert [(e["type"], e["loc"]) for e in errors] == [("missing", (field,))]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel", "信鸽"),
        ("demand", "发财"),
        ("severity", "catastrophic"),
        ("category", "天气"),
        ("language", "fr"),
    ],
)
def test_a_value_outside_its_vocabulary_is_an_error_naming_the_field(field, value):
    errors = errors_of(complaint(**{field: value}))
    assert [(e["type"], e["loc"]) for e in errors] == [("enum", (field,))]


@pytest.mark.parametrize(
    ("field", "alias", "member"),
    [
        ("channel", "hotline", Channel.HOTLINE),
        ("channel", "HOTLINE", Channel.HOTLINE),
        ("channel", "voice-callback", Channel.VOICE_CALLBACK),
        ("severity", "serious", Severity.SERIOUS),
        ("severity", "major", Severity.MAJOR),
        ("demand", "refund", Demand.REFUND),
        ("category", "product_quality", Category.PRODUCT_QUALITY),
    ],
)
def test_an_english_alias_is_accepted_for_a_chinese_value(field, alias, member):
    case = ComplaintIn(**complaint(**{field: alias}))
    assert getattr(case, field) is member


def test_a_severity_given_in_english_is_stored_as_its_chinese_value():
    case = ComplaintIn(**complaint(severity="serious"))
    assert case.severity == "严重"


def test_english_aliases_are_accepted_from_json_too():
    form = complaint(channel="hotline", severity="serious", received_at=None)
    case = ComplaintIn.model_validate_json(ComplaintIn(**form).model_dump_json())
    assert (case.channel, case.severity) == (Channel.HOTLINE, Severity.SERIOUS)
    raw = '{"channel": "hotline", "severity": "serious", "customer_name": "张三",'
    raw += ' "customer_phone": "13812345678", "description": "屏幕有裂痕。",'
    raw += ' "demand": "refund", "receiver": "李四"}'
    case = ComplaintIn.model_validate_json(raw)
    assert (case.channel, case.severity, case.demand) == (
        Channel.HOTLINE,
        Severity.SERIOUS,
        Demand.REFUND,
    )


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "12812345678",  # no mobile prefix 12x
        "1381234567a",
        "+1 415 555 0100",
        "010-123456",  # landline too short
        "phone: 13812345678",
    ],
)
def test_a_phone_that_is_neither_mobile_nor_landline_is_rejected(phone):
    errors = errors_of(complaint(customer_phone=phone))
    assert [e["loc"] for e in errors] == [("customer_phone",)]
    assert "not a mainland mobile or landline number" in errors[0]["msg"]


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("  13812345678  ", "13812345678"),
        ("010-12345678", "010-12345678"),
        ("0755 1234567", "07551234567"),
    ],
)
def test_a_phone_is_stored_without_spaces_or_plus_86(phone, stored):
    assert ComplaintIn(**complaint(customer_phone=phone)).customer_phone == stored


@pytest.mark.parametrize("email", ["zhangsan", "zhangsan@", "@example.com", "a b@example.com"])
def test_a_malformed_email_is_rejected(email):
    errors = errors_of(complaint(customer_email=email))
    assert [e["loc"] for e in errors] == [("customer_email",)]


def test_an_email_alone_is_enough_contact():
    case = ComplaintIn(**complaint(customer_phone=None, customer_email="zhangsan@example.com"))
    assert case.customer_email == "zhangsan@example.com"
    assert case.customer_phone is None


@pytest.mark.parametrize("phone", [None, "", "   "])
def test_a_complaint_without_any_contact_is_rejected(phone):
    errors = errors_of(complaint(customer_phone=phone))
    assert len(errors) == 1
    assert "give a phone number or an e-mail address" in errors[0]["msg"]


@pytest.mark.parametrize(("length", "accepted"), [(5, True), (2000, True), (2001, False)])
def test_a_description_may_be_at_most_2000_characters(length, accepted):
    form = complaint(description="屏" * length)
    if accepted:
        assert len(ComplaintIn(**form).description) == length
    else:
        errors = errors_of(form)
        assert [(e["type"], e["loc"]) for e in errors] == [("string_too_long", ("description",))]


def test_a_description_shorter_than_five_characters_is_rejected():
    errors = errors_of(complaint(description="  坏了  "))
    assert [(e["type"], e["loc"]) for e in errors] == [("string_too_short", ("description",))]


@pytest.mark.parametrize("answer", [None, "", "   "])
def test_a_complaint_answered_on_the_spot_needs_the_answer_given(answer):
    errors = errors_of(complaint(answered_on_spot=True, on_spot_answer=answer))
    assert len(errors) == 1
    assert "on_spot_answer is required" in errors[0]["msg"]


def test_a_complaint_answered_on_the_spot_with_its_answer_is_accepted():
    case = ComplaintIn(**complaint(answered_on_spot=True, on_spot_answer="已告知退货流程"))
    assert case.on_spot_answer == "已告知退货流程"


@pytest.mark.parametrize("field", ["occurred_at", "received_at"])
@pytest.mark.parametrize("naive", [datetime(2026, 11, 23, 9, 30), "2026-11-23T09:30:00"])
def test_a_time_without_a_time_zone_is_rejected(field, naive):
    errors = errors_of(complaint(**{field: naive}))
    assert [e["loc"] for e in errors] == [(field,)]
    assert "time zone" in errors[0]["msg"]


def test_times_in_different_zones_are_compared_as_instants():
    received = datetime(2026, 11, 23, 9, 30, tzinfo=CST)
    occurred = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    case = ComplaintIn(**complaint(occurred_at=occurred, received_at=received))
    assert case.occurred_at == occurred


def test_a_complaint_cannot_have_happened_after_it_was_received():
    received = datetime(2026, 11, 23, 9, 30, tzinfo=CST)
    errors = errors_of(complaint(occurred_at=received + timedelta(minutes=1), received_at=received))
    assert len(errors) == 1
    assert "occurred_at is after received_at" in errors[0]["msg"]


def test_an_unknown_field_is_rejected():
    errors = errors_of(complaint(customer_age=30))
    assert [(e["type"], e["loc"]) for e in errors] == [("extra_forbidden", ("customer_age",))]


@pytest.mark.parametrize(
    ("channel", "reference", "key"),
    [
        ("热线电话", "CALL-001", "hotline:CALL-001"),
        ("email", "  <msg-42@example.com>  ", "email:<msg-42@example.com>"),
        ("APP/小程序", "T9", "app:T9"),
        ("热线电话", None, None),
        ("热线电话", "", None),
        ("热线电话", "   ", None),
    ],
)
def test_the_idempotency_key_is_the_channel_code_and_its_reference(channel, reference, key):
    case = ComplaintIn(**{**complaint(channel=channel), "external_ref": reference})
    assert case.idempotency_key() == key


def test_the_same_reference_on_two_channels_gives_two_keys():
    hotline = ComplaintIn(**complaint(channel="hotline", external_ref="001"))
    chat = ComplaintIn(**complaint(channel="chat", external_ref="001"))
    assert hotline.idempotency_key() != chat.idempotency_key()


def test_the_fingerprint_is_stable_for_the_same_content():
    first = ComplaintIn(**complaint()).fingerprint()
    assert first == ComplaintIn(**complaint()).fingerprint()
    assert len(first) == 16
    assert int(first, 16) >= 0


def test_the_fingerprint_ignores_when_the_complaint_was_received():
    earlier = ComplaintIn(**complaint())
    later = ComplaintIn(**complaint(received_at=datetime(2026, 11, 24, 18, 0, tzinfo=CST)))
    unset = ComplaintIn(**complaint(received_at=None))
    assert earlier.fingerprint() == later.fingerprint() == unset.fingerprint()


def test_the_fingerprint_ignores_how_the_phone_was_typed():
    plain = ComplaintIn(**complaint(customer_phone="13812345678"))
    spaced = ComplaintIn(**complaint(customer_phone="+86 138 1234 5678"))
    assert plain.fingerprint() == spaced.fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        {"description": "收到的手机屏幕有划痕，要求退货。"},
        {"customer_phone": "13912345678"},
        {"demand": "换货"},
        {"severity": "严重"},
    ],
)
def test_the_fingerprint_changes_when_the_content_changes(change):
    assert (
        ComplaintIn(**complaint()).fingerprint() != ComplaintIn(**complaint(**change)).fingerprint()
    )


@pytest.mark.parametrize("phone", ["138１２３４５６７８", "010-１２３４５６７８"])
def test_a_phone_typed_with_full_width_digits_is_normalised_or_rejected(phone):
    try:
        stored = ComplaintIn(**complaint(customer_phone=phone)).customer_phone
    except ValidationError:
        return
    assert stored is not None
    assert stored.isascii()
