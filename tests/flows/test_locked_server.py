"""A server open to the network is a locked one: Prefect's basic auth on a stack of its own.

One small stack (server listening on every interface, one worker, the intake service)
with `PREFECT_SERVER_API_AUTH_STRING` set, started once for the module: a call without
the credential is refused, the command line, the worker and the intake service — given
the credential by the stack, never on a command line or as a parameter — work as
before, and in Chromium the Prefect UI asks for the credential before it shows the runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from embedded.stack import Stack, local_product
from tests.flows.support import chromium, suspended_at_its_wait, wait_until

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "complaint.json"
APP_COMPLAINT = {
    "external_ref": "APP-LOCKED-1",
    "customer_name": "张三丰",
    "customer_phone": "13900001111",
    "description": "收到的电饭煲内胆有裂纹，无法使用。",
    "demand": "exchange",
    "product": "电饭煲 X3",
    "order_no": "SO-20261201-7",
}


@pytest.fixture(autouse=True)
def live_worker() -> None:
    """This module's stack is its own: the tier's shared one is not started for it."""


@dataclass
class Locked:
    stack: Stack
    root: Path
    credential: str
    settings: Any


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    from complaints.settings import get_settings

    root = tmp_path_factory.mktemp("locked")
    credential = f"operator:{uuid.uuid4().hex}"
    env = {"PREFECT_SERVER_API_AUTH_STRING": credential}
    with local_product(root, extra_env=env, host="0.0.0.0") as stack:
        stack.start_web()
        yield Locked(stack, root, credential, get_settings())


def cli(locked: Locked, *args: str, credential: bool = True) -> subprocess.Popen[str]:
    env = locked.stack.env()
    if not credential:
        env.pop("PREFECT_API_AUTH_STRING")
    command = [sys.executable, "-m", "complaints.cli", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def waiting_case(locked: Locked) -> tuple[str, str]:
    """A complaint submitted with `complaints submit`, its run suspended at its first wait."""
    answer = json.loads(cli(locked, "submit", str(EXAMPLE), "--json").communicate(timeout=120)[0])
    assert answer["flow_run_id"], answer["start_error"]
    wait_until(
        lambda: suspended_at_its_wait(locked.settings, answer["case_no"]),
        what="the submitted case to wait at its first step",
    )
    return answer["case_no"], answer["flow_run_id"]


def test_a_call_to_the_api_without_the_credential_is_refused(locked: Locked) -> None:
    api = locked.stack.api_url
    assert httpx.post(f"{api}/flow_runs/filter", json={}).status_code == 401
    assert (
        httpx.post(f"{api}/deployments/filter", json={}, auth=("operator", "guess")).status_code
        == 401
    )
    assert httpx.get(f"{api}/health").status_code == 200  # a load balancer's probe needs none
    token = httpx.BasicAuth(*locked.credential.split(":", 1))
    assert httpx.post(f"{api}/flow_runs/filter", json={}, auth=token).status_code == 200


def test_the_command_line_the_worker_and_the_intake_service_work_with_the_credential(
    locked: Locked, waiting_case: tuple[str, str]
) -> None:
    from complaints.channels import keys
    from complaints.timesource import utc_now
    from rules.enums import Channel

    case_no, _ = waiting_case  # submitted by the CLI, run by the worker up to its first wait
    listings = [cli(locked, "list", "--json", credential=given) for given in (True, False)]
    seen = [json.loads(listing.communicate(timeout=120)[0]) for listing in listings]
    assert [{row["case_no"]: row["run"] for row in rows} for rows in seen] == [
        {case_no: "PAUSED"},  # Suspended is Prefect's PAUSED type
        {case_no: "—"},  # without the credential: Prefect refused, the state is unknown
    ]

    key = keys.create(locked.settings, "app-backend", Channel.APP, utc_now())
    answer = httpx.post(
        f"{locked.stack.web_url}/api/v1/complaints",
        json=APP_COMPLAINT,
        headers={"X-API-Key": key},
        timeout=120,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["flow_run_started"] is True  # the service started its run in Prefect


def test_the_prefect_ui_asks_for_the_credential_then_shows_the_runs(
    locked: Locked, waiting_case: tuple[str, str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    case_no, _ = waiting_case
    with chromium("1400,1000") as browser:
        wait = WebDriverWait(browser, 60)
        browser.get(f"{locked.stack.ui_url}/runs")
        password = wait.until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, "input[type=password]"))
        )
        assert case_no not in browser.find_element(By.TAG_NAME, "body").text
        password.send_keys(locked.credential)
        browser.find_element(By.XPATH, "//button[normalize-space()='Login']").click()
        wait.until(ec.invisibility_of_element(password))
        browser.get(f"{locked.stack.ui_url}/runs")
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), case_no))


def test_the_credential_is_in_no_file_the_stack_wrote(locked: Locked) -> None:
    """Logs, the ledger and Prefect's database (parameters, logs, artifacts, job variables)."""
    secret = locked.credential.encode()
    holding = [
        str(path.relative_to(locked.root))
        for path in locked.root.rglob("*")
        if path.is_file() and secret in path.read_bytes()
    ]
    assert holding == []
