"""The rules of erasure: the one-way customer key, what is masked, and when a case is due."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rules.retention import Reason, customer_key, erase_payload, retention_cutoff

SECRET = b"installation key of one ledger"


@pytest.mark.parametrize(
    ("phone", "email"),
    [
        ("13812345678", None),
        ("+86 138-1234-5678", None),
        ("008613812345678", "zhangsan@example.com"),
        ("１３８１２３４５６７８", "other@example.com"),
    ],
)
def test_the_same_phone_however_written_gives_the_same_customer_key(phone, email):
    assert customer_key(SECRET, phone, email) == customer_key(SECRET, "13812345678", None)


def test_without_a_phone_the_e_mail_in_any_case_is_the_customer():
    key = customer_key(SECRET, None, " ZhangSan@Example.com ")
    assert key == customer_key(SECRET, "", "zhangsan@example.com")
    assert key != customer_key(SECRET, "13812345678", "zhangsan@example.com")


def test_a_case_without_contact_has_no_customer_key():
    assert customer_key(SECRET, None, None) is None
    assert customer_key(SECRET, "  ", "") is None


def test_the_key_gives_back_no_contact_and_differs_per_installation():
    key = customer_key(SECRET, "13812345678", None)
    assert key is not None and len(key) == 64 and int(key, 16) >= 0  # an HMAC-SHA256
    assert key != customer_key(b"", "13812345678", None)  # keyed: no table of digests finds it
    assert key != customer_key(b"another installation", "13812345678", None)


def test_an_audit_payload_is_masked_to_every_nested_string_but_the_names_of_staff():
    payload = {
        "actor": "客服-张三",
        "owner": "张三",
        "findings": "已致电13812345678与张三确认",
        "evidence": ["张三-发票.jpg", {"note": "邮件 zhangsan@example.com"}],
        "substantiated": True,
        "amount": 50,
    }

    erased = erase_payload(payload, "张三", "13812345678", "zhangsan@example.com")

    assert erased == {
        "actor": "客服-张三",
        "owner": "张三",
        "findings": "已致电138****5678与张*确认",
        "evidence": ["张*-发票.jpg", {"note": "邮件 z***@example.com"}],
        "substantiated": True,
        "amount": 50,
    }


@pytest.mark.parametrize("year", [2027, 2028, 2029, 2030])
def test_three_years_of_days_never_erase_a_case_before_three_calendar_years(year):
    now = datetime(year, 3, 1, 3, 30, tzinfo=UTC)
    assert retention_cutoff(now, 3 * 366) <= now.replace(year=year - 3)
    assert retention_cutoff(now, 3 * 366) > now.replace(year=year - 3, month=2, day=25)


def test_each_reason_has_a_chinese_first_label():
    for reason in Reason:
        chinese, english = reason.label.split(" / ")
        assert chinese and english
