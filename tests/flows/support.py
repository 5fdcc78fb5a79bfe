"""Helpers of the end-to-end tests: act as a person would, wait for what a person sees."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from complaints.cases import casework, intake
from complaints.cases.actions import ActionRefused, act
from complaints.timesource import utc_now
from embedded.synthetic import decisions_for, generate_complaints
from rules.enums import Severity
from rules.intake import ComplaintIn

STEP_TIMEOUT = 120


def wait_until(check: Callable[[], Any], timeout: float = STEP_TIMEOUT, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or check}")


def act_when_waiting(settings: Any, case_no: str, step: str, data: dict[str, Any]) -> None:
    """Act as soon as the case waits at `step` (the run needs a moment to get there)."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        try:
            act(settings, case_no, step, data)
            return
        except ActionRefused as exc:
            if time.monotonic() > deadline:
                view = casework.load(settings, case_no)
                raise AssertionError(
                    f"{case_no} never waited at {step}: {exc}; it is at {view.current_step}"
                ) from exc
            time.sleep(0.3)


# Every human step of a case that goes the plain way, from verification to the callback.
HAPPY_PATH = (
    "verify",
    "grade",
    "approve_grade",
    "plan",
    "approve_plan",
    "execute",
    "feedback",
    "callback",
)


def act_through(
    settings: Any,
    case_no: str,
    steps: dict[str, dict[str, Any]],
    path: tuple[str, ...] = HAPPY_PATH,
) -> None:
    """Act on each step of `path` in turn, with that step's input from `steps`."""
    for step in path:
        act_when_waiting(settings, case_no, step, steps[step])


def suspended_at_its_wait(settings: Any, case_no: str) -> bool:
    """The run is suspended at the wait the ledger names (the ledger is written first)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    view = casework.load(settings, case_no)
    if not (view.flow_run_id and view.waiting_key):
        return False
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(view.flow_run_id)).state
    return bool(state and state.is_paused() and state.state_details.pause_key == view.waiting_key)


def wait_closed(settings: Any, case_no: str) -> casework.CaseView:
    return wait_until(
        lambda: (v := casework.load(settings, case_no)).status.code == "closed" and v,
        what=f"{case_no} to close",
    )


def flow_run_state(flow_run_id: str) -> str:
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return state.type.value if state else "NONE"


def new_complaint(**changes: Any) -> ComplaintIn:
    """A serious complaint received now about a product of its own: its hour-long limits,
    a unique product, customer and order keep SLA, cluster and repeat escalations (tested
    in test_escalation.py) out of these paths."""
    base = next(c for c in generate_complaints(20, seed=7, now=utc_now()) if not c.answered_on_spot)
    changes.setdefault("external_ref", f"E2E-{uuid.uuid4().hex[:12]}")
    changes.setdefault("severity", Severity.SERIOUS)
    changes.setdefault("received_at", utc_now())
    changes.setdefault("product", f"E2E-{uuid.uuid4().hex[:8]}")
    # a customer and an order of its own: never a repeat of another test's complaint
    changes.setdefault("customer_phone", f"138{uuid.uuid4().int % 10**8:08d}")
    changes.setdefault("order_no", f"E2E-{uuid.uuid4().hex[:10]}")
    return base.model_copy(update=changes)


def register(settings: Any, complaint: ComplaintIn) -> str:
    """Submit as the CLI does; the case number, once its run has been created."""
    result = intake.submit(complaint, settings, utc_now())
    assert result.flow_run_id, result.start_error
    return result.case_no


def submit(settings: Any, complaint: ComplaintIn) -> tuple[str, dict[str, dict[str, Any]]]:
    """`register`, with a plain decision for each step of the case."""
    return register(settings, complaint), decisions_for(complaint, seed=7, now=utc_now())


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@contextmanager
def chromium(window: str, phone: bool = False) -> Iterator[Any]:
    """Debian's headless Chromium through its chromedriver, at a window size "W,H"; with
    `phone`, a phone's screen of that size (headless windows are never under 500 px)."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing = "Debian chromium and chromium-driver are not installed (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={window}",
    ):
        options.add_argument(flag)
    if phone:
        width, height = (int(n) for n in window.split(","))
        metrics = {"width": width, "height": height, "pixelRatio": 2.0, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
