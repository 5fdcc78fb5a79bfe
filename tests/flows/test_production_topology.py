"""Every path of the process chart again, on the production topology.

The Prefect server and the ledger on PostgreSQL (fresh databases on the server named by
COMPLAINTS_TEST_POSTGRES_URL), two process workers: the same end-to-end tests as
test_case_lifecycle.py, collected here a second time against that stack.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from embedded.stack import Stack
from tests.flows.conftest import production_topology
from tests.flows.test_case_lifecycle import (  # collected again, on this module's stack
    test_a_complaint_answered_on_the_spot_goes_straight_to_callback_and_close,
    test_a_complaint_goes_from_registration_to_closing_with_one_message_of_each_kind,
    test_a_complaint_not_substantiated_is_explained_to_the_customer_and_closed,
    test_a_dissatisfied_customer_reopens_the_case_and_a_new_plan_closes_it,
    test_input_breaking_a_rule_in_the_ui_form_is_refused_and_the_case_waits_again,
    test_rejected_grading_and_plan_go_back_for_a_new_decision_before_approval,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

__all__ = [
    "test_a_complaint_answered_on_the_spot_goes_straight_to_callback_and_close",
    "test_a_complaint_goes_from_registration_to_closing_with_one_message_of_each_kind",
    "test_a_complaint_not_substantiated_is_explained_to_the_customer_and_closed",
    "test_a_dissatisfied_customer_reopens_the_case_and_a_new_plan_closes_it",
    "test_input_breaking_a_rule_in_the_ui_form_is_refused_and_the_case_waits_again",
    "test_rejected_grading_and_plan_go_back_for_a_new_decision_before_approval",
]


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's stack replaces the embedded one for its tests, and only for them."""
    with production_topology(tmp_path_factory) as stack:
        yield stack
