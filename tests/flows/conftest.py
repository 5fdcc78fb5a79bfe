"""One real Prefect server (SQLite) and one process worker for the whole end-to-end tier.

The stack is the same one `complaints up` starts; the ledger is a fresh SQLite file. The
SLA policy is measured in seconds for the general severity (so a test sees a deadline
pass), and Slack is a local server speaking the Web API to the real slack_sdk client.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from embedded.stack import Stack, local_product
from rules.sms import VARIABLES
from tests.conftest import postgres_url
from tests.flows.stacks import STACKS, stack_of
from tests.integration.slack_server import FakeSlack, slack_server
from tests.integration.sms_server import ACCESS_KEY_ID, FakeSms, sms_server

# Verification of a general complaint is due 20 s after receipt; the warning fires at
# half of that, level 2 8 s after the deadline, level 3 16 s after it. Other severities
# and steps keep their hours, so cases acted on promptly never escalate.
SECONDS_POLICY = {
    "COMPLAINTS_SLA__RESPONSE__GENERAL": "20s",
    "COMPLAINTS_SLA__LADDER__WARNING_AT": "0.5",
    "COMPLAINTS_SLA__LADDER__LEVEL2_AFTER": "8s",
    "COMPLAINTS_SLA__LADDER__LEVEL3_AFTER": "16s",
    "COMPLAINTS_PATTERNS__CLUSTER_SIZE": "3",
    "COMPLAINTS_PATTERNS__CLUSTER_WINDOW": "10m",
    "COMPLAINTS_WATCH_EVERY_SECONDS": "1",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every end-to-end module has its stack group: one left out would start a stack in
    every process that draws one of its tests."""
    missing = sorted(
        {i.nodeid.split("::")[0] for i in items if i.nodeid.startswith("tests/flows/")}
        - set(STACKS)
    )
    if missing:
        raise pytest.UsageError(f"add {', '.join(missing)} to STACKS in tests/flows/stacks.py")


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test of its group in this process, the session's embedded stack is
    set aside (server and worker stopped): an idle stack costs a fifth of a core, which the
    tests still running in the other processes need. Its files stay; `live_worker` starts
    it again should another embedded group follow in this process."""
    group = stack_of(item.nodeid)
    if group is None or (nextitem is not None and stack_of(nextitem.nodeid) == group):
        return
    if group.startswith("embedded"):
        for stack in _EMBEDDED:
            stack.kill_workers()
            stack.stop_server()


_EMBEDDED: list[Stack] = []  # the session's embedded stack, once started


@pytest.fixture(scope="session")
def slack() -> Iterator[FakeSlack]:
    with slack_server() as server:
        yield server


@pytest.fixture(scope="session")
def sms() -> Iterator[FakeSms]:
    with sms_server() as server:
        yield server


SMS_TEMPLATES = {kind: f"SMS_{100 + n}" for n, kind in enumerate(sorted(VARIABLES))}


def product_env(root: Path, slack: FakeSlack, sms: FakeSms) -> dict[str, str]:
    return {
        **SECONDS_POLICY,
        # customers who gave only a mobile are texted, by the real SDK, at a local stand-in
        "COMPLAINTS_SMS__PROVIDER": "aliyun",
        "COMPLAINTS_SMS__ACCESS_KEY_ID": ACCESS_KEY_ID,
        "COMPLAINTS_SMS__ACCESS_KEY_SECRET": f"sms-secret-{uuid.uuid4().hex}",
        "COMPLAINTS_SMS__ENDPOINT": sms.endpoint,
        "COMPLAINTS_SMS__PROTOCOL": "http",
        "COMPLAINTS_SMS__SIGN_NAME": "客服中心",
        "COMPLAINTS_SMS__TEMPLATES": json.dumps(SMS_TEMPLATES),
        "COMPLAINTS_SLACK__TOKEN": slack.token,
        # secrets the privacy test hunts in everything the product shows: a configured link
        # key (as several machines need) and the mail servers' passwords
        "COMPLAINTS_LINK_SECRET": f"link-key-{uuid.uuid4().hex}",
        "COMPLAINTS_SMTP_PASSWORD": f"smtp-pass-{uuid.uuid4().hex}",
        "COMPLAINTS_MAILBOX__PASSWORD": f"imap-pass-{uuid.uuid4().hex}",
        "COMPLAINTS_SLACK__BASE_URL": slack.base_url,
        "COMPLAINTS_REPORTS_DIR": str(root / "reports"),
    }


@pytest.fixture(scope="session")
def product(
    tmp_path_factory: pytest.TempPathFactory, slack: FakeSlack, sms: FakeSms
) -> Iterator[Stack]:
    """The embedded default: server and ledger on SQLite, one worker."""
    root = tmp_path_factory.mktemp("product")
    with local_product(root, extra_env=product_env(root, slack, sms)) as stack:
        _EMBEDDED.append(stack)
        yield stack


@contextmanager
def production_topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Prefect server and ledger on PostgreSQL (fresh databases), two workers.

    It has a Slack server of its own: its case numbers start again at -0001 and would
    be mistaken for the embedded stack's in a shared one. Its workers are Prefect's stock
    process workers (`COMPLAINTS_WORKER_TYPE=process`), so the lifecycle tests prove both
    worker types: the embedded stack runs the default, prefork.
    """
    admin = postgres_url()
    if not admin:
        pytest.skip("COMPLAINTS_TEST_POSTGRES_URL is not set; no PostgreSQL to run the topology on")
    root = tmp_path_factory.mktemp("production")
    with (
        slack_server() as own_slack,
        sms_server() as own_sms,
        local_product(
            root,
            workers=2,
            extra_env={
                **product_env(root, own_slack, own_sms),
                "COMPLAINTS_WORKER_TYPE": "process",
            },
            postgres=admin,
        ) as stack,
    ):
        yield stack


@pytest.fixture(autouse=True)
def live_worker(product: Stack) -> None:
    """A test that killed the workers must not leave the next one without any; a stack set
    aside after its group (below) is started again for a group that comes after it."""
    if product.server is None:
        product.start_server()
    if not any(worker.poll() is None for worker in product.workers):
        product.start_worker("complaints")
    assert product.env()["PREFECT_API_URL"] == os.environ["PREFECT_API_URL"]


@pytest.fixture
def settings(product: Stack) -> Any:
    from complaints.settings import get_settings

    get_settings.cache_clear()
    return get_settings()
