"""Steps and wait keys, case numbers and routing by category."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rules.case_number import format_case_number, is_case_number, local_day
from rules.enums import Category, Department
from rules.human_steps import HUMAN_STEPS
from rules.routing import DEFAULT_ROUTING, responsible_department
from rules.steps import STEP_LABELS, Step, wait_key

SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- steps and wait keys ---------------------------------------------------------------


def test_wait_keys_are_unique_across_steps_cycles_attempts_and_entries():
    combinations = list(itertools.product(Step, range(4), range(3), range(4)))
    keys = [
        wait_key(step, cycle, attempt=attempt, entry=entry)
        for step, cycle, attempt, entry in combinations
    ]
    assert len(set(keys)) == len(combinations)
    assert max(len(key) for key in keys) <= 60


def test_every_wait_key_is_a_valid_prefect_run_input_key():
    # Prefect stores the form of a wait under "suspended-<key>-schema" and accepts only
    # lowercase letters, digits and dashes there; an underscore leaves the run suspended
    # with no form to resume it.
    keys = [
        wait_key(s, c, a, e) for s, c, a, e in itertools.product(Step, range(3), range(3), range(3))
    ]
    assert all(re.fullmatch(r"[a-z0-9-]+", key) for key in keys)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ((Step.VERIFY, 0), "verify-c0"),
        ((Step.PLAN, 2), "plan-c2"),
        ((Step.EXECUTE, 1, 0, 3), "execute-c1-e3"),
        ((Step.APPROVE_PLAN, 1, 2), "approve-plan-c1-a2"),
        ((Step.EXECUTE, 1, 2, 3), "execute-c1-e3-a2"),
    ],
)
def test_a_wait_key_names_the_step_and_only_the_counters_that_are_set(args, key):
    assert wait_key(*args) == key


def test_a_wait_key_is_the_same_for_the_same_wait():
    assert wait_key(Step.CALLBACK, 1, attempt=1, entry=0) == wait_key(Step.CALLBACK, 1, 1)


def test_a_retry_and_a_later_progress_entry_get_different_keys():
    assert wait_key(Step.EXECUTE, 0, attempt=1) != wait_key(Step.EXECUTE, 0, entry=1)
    assert wait_key(Step.EXECUTE, 0, attempt=1, entry=2) != wait_key(
        Step.EXECUTE, 0, attempt=2, entry=1
    )


def test_every_step_has_a_chinese_first_label():
    assert set(STEP_LABELS) == set(Step)
    for step in Step:
        chinese, english = step.label.split(" / ")
        assert chinese and english


@pytest.mark.parametrize("step", list(Step))
def test_a_step_waits_for_a_person_exactly_when_it_is_a_human_step(step):
    assert step.waits_for_person is (step in HUMAN_STEPS)


# --- case numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "sequence", "number"),
    [
        (date(2026, 11, 23), 1, "TS-20261123-0001"),
        (date(2026, 11, 23), 42, "TS-20261123-0042"),
        (date(2026, 1, 5), 999, "TS-20260105-0999"),
        (date(2026, 12, 31), 9999, "TS-20261231-9999"),
        (date(2026, 12, 31), 10000, "TS-20261231-10000"),
    ],
)
def test_a_case_number_is_ts_date_and_a_zero_padded_sequence(day, sequence, number):
    assert format_case_number(day, sequence) == number
    assert is_case_number(number)


@pytest.mark.parametrize("sequence", [0, -1])
def test_a_case_number_sequence_starts_at_1(sequence):
    with pytest.raises(ValueError, match="sequence starts at 1"):
        format_case_number(date(2026, 11, 23), sequence)


@pytest.mark.parametrize(
    "text",
    [
        "TS-20261123-001",
        "TS-2026112-0001",
        "ts-20261123-0001",
        "TS20261123-0001",
        "XX-20261123-0001",
        "TS-20261123-0001x",
        " TS-20261123-0001",
        "",
    ],
)
def test_text_that_is_not_a_case_number_is_recognised_as_such(text):
    assert not is_case_number(text)


@pytest.mark.parametrize(
    ("received_at", "day"),
    [
        (datetime(2026, 11, 22, 17, 30, tzinfo=UTC), date(2026, 11, 23)),
        (datetime(2026, 11, 22, 15, 59, tzinfo=UTC), date(2026, 11, 22)),
        (datetime(2026, 11, 22, 16, 0, tzinfo=UTC), date(2026, 11, 23)),
        (datetime(2026, 11, 30, 23, 0, tzinfo=timezone(timedelta(hours=-5))), date(2026, 12, 1)),
        (datetime(2026, 11, 23, 0, 10, tzinfo=SHANGHAI), date(2026, 11, 23)),
    ],
)
def test_the_case_day_is_the_local_day_in_shanghai(received_at, day):
    assert local_day(received_at, SHANGHAI) == day


def test_a_complaint_received_at_1730_utc_is_numbered_on_the_next_shanghai_day():
    received_at = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    number = format_case_number(local_day(received_at, SHANGHAI), 1)
    assert number == "TS-20261123-0001"


# --- routing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "department"),
    [
        (Category.PRODUCT_QUALITY, "产品部"),
        (Category.SERVICE_ATTITUDE, "客服部"),
        (Category.LOGISTICS, "物流部"),
        (Category.AFTER_SALES, "售后部"),
        (Category.POLICY, "客服部"),
        (Category.OTHER, "客服部"),
    ],
)
def test_each_category_goes_to_its_default_department(category, department):
    assert responsible_department(category) == department


def test_every_category_has_a_default_department():
    assert set(DEFAULT_ROUTING) == set(Category)


@pytest.mark.parametrize("category", list(Category))
def test_an_explicitly_chosen_department_wins_over_the_category(category):
    assert responsible_department(category, chosen=Department.MARKETING) is Department.MARKETING


def test_a_configured_routing_replaces_the_defaults():
    routing = {**DEFAULT_ROUTING, Category.LOGISTICS: Department.OPERATIONS}
    assert responsible_department(Category.LOGISTICS, routing) is Department.OPERATIONS


def test_a_category_missing_from_a_configured_routing_goes_to_customer_service():
    routing = {Category.PRODUCT_QUALITY: Department.PRODUCT}
    assert responsible_department(Category.LOGISTICS, routing) is Department.CUSTOMER_SERVICE


@pytest.mark.parametrize("text", ["TS-20261123-0001\n", "TS-２０２６１１２３-０００１"])
def test_a_case_number_with_a_trailing_newline_or_full_width_digits_is_not_recognised(text):
    assert not is_case_number(text)
