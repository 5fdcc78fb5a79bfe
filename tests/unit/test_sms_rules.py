"""What an SMS may carry: a template's variables within the provider's rules (rules.sms)."""

from __future__ import annotations

import pytest

from rules.sms import VARIABLES, can_text, problems, promise_text


@pytest.mark.parametrize(
    ("phone", "texted"),
    [
        ("13812345678", True),
        ("19912345678", True),
        ("010-12345678", False),
        ("12812345678", False),
        (None, False),
    ],
)
def test_only_a_mainland_mobile_can_be_texted(phone: str | None, texted: bool) -> None:
    assert can_text(phone) is texted


def test_values_that_keep_the_provider_s_rules_pass() -> None:
    params = {"case": "TS-20261123-0001", "promise": "12小时", "code": "A" * 26}
    assert problems("acknowledgement", params, 35) == []


def test_a_value_too_long_empty_or_a_variable_the_template_lacks_is_named() -> None:
    found = problems("result", {"case": "x" * 36, "code": " ", "extra": "1"}, 35)
    assert any("variables" in p for p in found)
    assert any("${case} has 36 characters, over 35" in p for p in found)
    assert any("${code} is empty" in p for p in found)
    assert problems("no_such_kind", {}, 35) == ["no SMS template variables for no_such_kind"]


def test_every_message_kind_links_to_its_page() -> None:
    assert all("code" in names and "case" in names for names in VARIABLES.values())


def test_the_promise_reads_in_hours_or_working_days() -> None:
    assert promise_text(12, None) == "12小时"
    assert promise_text(None, 2) == "2个工作日"
    assert promise_text(1.5, None) == "1.5小时"
