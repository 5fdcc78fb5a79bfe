"""Shared test configuration: each test sees a clean COMPLAINTS_* environment."""

from __future__ import annotations

import os

import pytest

from complaints.settings import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def postgres_url() -> str | None:
    return os.environ.get("COMPLAINTS_TEST_POSTGRES_URL")
