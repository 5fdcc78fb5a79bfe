"""One real Prefect server (SQLite) and one process worker for the whole end-to-end tier.

The stack is the same one `complaints up` starts; the ledger is a fresh SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from complaints.stack import Stack, free_port


@pytest.fixture(scope="session")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("product")
    stack = Stack(
        home=root / "prefect",
        port=free_port(),
        database_url=f"sqlite:///{root / 'ledger.db'}",
        worker_poll_seconds=1,
    )
    saved = dict(os.environ)
    os.environ.update(stack.env())
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from complaints.runtime import ensure_work_pool
    from complaints.settings import get_settings
    from deployments.definitions import deploy_all
    from models.db import upgrade

    get_settings.cache_clear()
    upgrade(stack.database_url or "")
    stack.start_server()
    try:
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            ensure_work_pool("complaints")
            deploy_all("complaints")
            stack.start_worker("complaints")
            yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)


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
