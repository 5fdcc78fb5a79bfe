"""End to end on a real Prefect server and prefork worker: the paths of the process chart,
on the embedded stack (the Prefect server and the ledger on SQLite). The tests are in
tests/flows/lifecycle.py, shared with the production topology."""

from __future__ import annotations

import pytest

from tests.flows.lifecycle import CaseLifecycle

pytestmark = pytest.mark.e2e


class TestOnTheEmbeddedStack(CaseLifecycle):
    pass
