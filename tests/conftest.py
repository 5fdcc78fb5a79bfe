"""Shared test configuration: each test sees a clean COMPLAINTS_* environment."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from complaints.settings import get_settings


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one process per core, and at least four. The end-to-end groups spend most
    of their time waiting for a stack (a deadline, a run to suspend), so on a small machine
    the unit and integration tiers run beside them rather than after them."""
    return max(4, os.cpu_count() or 1)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """The end-to-end tests of one stack in one process (tests/flows/stacks.py)."""
    from tests.flows.stacks import scheduler

    return scheduler(config, log)


@pytest.fixture(autouse=True)
def _fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def postgres_url() -> str | None:
    return os.environ.get("COMPLAINTS_TEST_POSTGRES_URL")


@cache
def _migrated_template() -> Path:
    """One SQLite ledger migrated to the newest schema per test process, copied for each
    test that needs an empty ledger: a copy takes a millisecond, a migration half a second."""
    from models.db import engine_for, upgrade

    folder = Path(tempfile.mkdtemp(prefix="ledger-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    template = folder / "ledger.db"
    url = f"sqlite:///{template}"
    upgrade(url)
    engine_for(url).dispose()  # the last connection checkpoints the WAL into the file
    return template


def migrated_sqlite(path: Path) -> str:
    """The URL of a new SQLite ledger at `path`, at the newest schema (as `upgrade` leaves it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(), path)
    return f"sqlite:///{path}"
