"""How a case reads in the Prefect UI: the tags that make overdue cases filterable."""

from __future__ import annotations

import pytest

from rules.presentation import alert_tags


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], []),
        ([-1, -1], []),
        ([0, -1], ["预警"]),
        ([1, 0], ["逾期", "升级:L1"]),
        ([0, 3, 2], ["逾期", "升级:L3"]),  # the highest level of any running clock
    ],
)
def test_overdue_cases_carry_a_tag_and_their_highest_escalation_level(levels, expected):
    assert alert_tags(levels) == expected


def test_repeat_complaints_and_cases_waiting_on_the_customer_are_tagged_too():
    assert alert_tags([2], repeat=True, on_hold=True) == ["逾期", "升级:L2", "重复投诉", "等待客户"]


@pytest.mark.parametrize(
    ("typed", "not_live"),
    [
        ("[click](javascript:alert(1))", "](javascript"),
        ("![x](https://evil.example/p.png)", "]("),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("<script>alert(1)</script>", "<script"),
        ("see https://evil.example now", "https://"),
        ("www.evil.example", "www."),
        ("**bold** | cell | `code`", "| cell |"),
    ],
)
def test_text_from_a_complaint_is_inert_in_markdown_yet_reads_the_same(typed, not_live):
    from rules.presentation import inert
    from tests.markdown import visible

    shown = inert(typed)
    assert not_live not in shown
    assert visible(shown) == typed
