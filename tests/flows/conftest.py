"""One real Prefect server (SQLite) and one process worker for the whole end-to-end tier.

The stack is the same one `complaints up` starts; the ledger is a fresh SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from complaints.stack import Stack, local_product


@pytest.fixture(scope="session")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with local_product(tmp_path_factory.mktemp("product")) as stack:
        yield stack


@pytest.fixture(autouse=True)
def live_worker(product: Stack) -> None:
    """A test that killed the workers must not leave the next one without any."""
    if not any(worker.poll() is None for worker in product.workers):
        product.start_worker("complaints")


@pytest.fixture
def settings(product: Stack) -> Any:
    from complaints.settings import get_settings

    get_settings.cache_clear()
    return get_settings()
