"""Every path of the process chart again, on the production topology.

The Prefect server and the ledger on PostgreSQL (fresh databases on the server named by
COMPLAINTS_TEST_POSTGRES_URL), two process workers: the same end-to-end tests as
tests/flows/lifecycle.py, collected here a second time against that stack.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from embedded.stack import Stack
from tests.flows.conftest import production_topology
from tests.flows.lifecycle import CaseLifecycle

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's stack replaces the embedded one for its tests, and only for them."""
    with production_topology(tmp_path_factory) as stack:
        yield stack


class TestOnTheProductionTopology(CaseLifecycle):
    pass
