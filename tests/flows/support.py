"""Helpers of the end-to-end tests: act as a person would, wait for what a person sees."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from complaints import casebook
from complaints.actions import ActionRefused, act

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
                view = casebook.load(settings, case_no)
                raise AssertionError(
                    f"{case_no} never waited at {step}: {exc}; it is at {view.current_step}"
                ) from exc
            time.sleep(0.3)


def suspended_at_its_wait(settings: Any, case_no: str) -> bool:
    """The run is suspended at the wait the ledger names (the ledger is written first)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    view = casebook.load(settings, case_no)
    if not (view.flow_run_id and view.waiting_key):
        return False
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(view.flow_run_id)).state
    return bool(state and state.is_paused() and state.state_details.pause_key == view.waiting_key)


def wait_closed(settings: Any, case_no: str) -> casebook.CaseView:
    return wait_until(
        lambda: (v := casebook.load(settings, case_no)).status.code == "closed" and v,
        what=f"{case_no} to close",
    )


def flow_run_state(flow_run_id: str) -> str:
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return state.type.value if state else "NONE"
