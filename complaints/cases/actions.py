"""A person acts on a waiting case from the command line or a script.

Everything is checked before anything is written: the step name, the input against the
step's model, the case, that the case waits at exactly this step, and that its flow run is
suspended there. Only then is the run resumed with the input, which Prefect stores and
the flow records in the ledger.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from complaints.cases import casework, staff
from complaints.orchestration import forms
from complaints.settings import Settings
from complaints.timesource import utc_now
from rules.enums import CaseStatus
from rules.human_steps import HUMAN_STEPS, STEP_INPUTS
from rules.inputs import StepInput, describe_errors, settle
from rules.presentation import taken_message
from rules.steps import Step


class ActionRefused(ValueError):
    """The action cannot be taken; the message says why in one line."""


@dataclass(frozen=True)
class Acted:
    case_no: str
    step: str
    key: str
    flow_run_id: str


def parse_step(name: str) -> Step:
    try:
        step = Step(name)
    except ValueError:
        step = None
    if step is None or step not in HUMAN_STEPS:
        names = ", ".join(s.value for s in HUMAN_STEPS)
        raise ActionRefused(f"unknown step {name!r}; the steps that take input are: {names}")
    return step


def validate_input(step: Step, raw: Any, settings: Settings) -> StepInput:
    if not isinstance(raw, dict):
        raise ActionRefused(f"the input of {step.value} must be a JSON object")
    try:
        data = STEP_INPUTS[step].model_validate(raw)
    except ValidationError as exc:
        raise ActionRefused(f"invalid input for {step.value}: {describe_errors(exc)}") from None
    data, problems = settle(data, utc_now(), settings.sla.clock(settings.tz), settings.input_limits)
    if problems:
        raise ActionRefused(f"invalid input for {step.value}: {'; '.join(problems)}")
    return data


SCHEMA_RACE_SECONDS = 10


def resume(run_id: UUID, run_input: dict[str, Any]) -> None:
    """Resume with the input, or say in one line why Prefect would not take it — another
    person answered first, above all (the server names who). Prefect marks a run suspended
    a moment before it stores the form's schema, and refuses input until then, so that one
    refusal is retried briefly. (Prefect's own `resume_flow_run` returns quietly when the
    server refuses with ABORT, which told a colleague who lost the race "recorded".)"""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.responses import SetStateStatus

    deadline = time.monotonic() + SCHEMA_RACE_SECONDS
    while True:
        try:
            with get_client(sync_client=True) as client:
                result = client.resume_flow_run(run_id, run_input=run_input)
        except Exception as exc:
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise ActionRefused(f"Prefect refused the input: {reason}") from None
        if result.status == SetStateStatus.ACCEPT:
            return
        reason = str(getattr(result.details, "reason", "") or result.status.value)
        if "schema not found" in reason and time.monotonic() < deadline:
            time.sleep(0.2)
            continue
        if result.status == SetStateStatus.ABORT:  # not waiting: the server says who acted
            raise ActionRefused(reason)
        raise ActionRefused(f"Prefect refused the input: {reason}")


def _answered(client: Any, run_id: UUID, wait_key: str) -> tuple[str, datetime] | None:
    """Who answered this wait in Prefect (its stored input), and when; None: nobody."""
    stored = [  # Prefect keys a wait's answer by the state's name and the wait's key
        found
        for state_name in ("suspended", "paused")
        for found in client.filter_flow_run_input(
            run_id, f"{state_name}-{wait_key}-response", 1, set()
        )
    ]
    if not stored:
        return None
    try:
        actor = str(json.loads(stored[0].value).get("actor") or "另一位同事 / a colleague")
    except (ValueError, AttributeError):
        actor = "另一位同事 / a colleague"
    return actor, stored[0].created or utc_now()


def _api_url() -> str:
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url)


def act(
    settings: Settings, case_no: str, step_name: str, raw: Any, *, as_customer: bool = False
) -> Acted:
    """Resume the case's run with a person's decision, once it is checked: the input, the
    wait, and the person (the staff directory; `as_customer` for the customer's own survey
    page). A refused person is kept in the audit trail and told why in one line."""
    from prefect.client.orchestration import get_client

    step = parse_step(step_name)
    data = validate_input(step, raw, settings)
    try:
        view = casework.load(settings, case_no)
    except casework.CaseNotFound:
        raise ActionRefused(f"no case {case_no}") from None
    if view.status is CaseStatus.CLOSED:
        raise ActionRefused(f"{case_no} is closed")
    if view.current_step != step.value or view.waiting_key is None:
        answered = casework.taken(settings, case_no, step)
        if answered is not None:  # a colleague was quicker, and the case has moved on
            raise ActionRefused(
                f"{case_no}: {taken_message(answered, settings.tz)}; it is now at "
                f"{view.current_step}"
            )
        raise ActionRefused(
            f"{case_no} is not waiting at {step.value}; it is at {view.current_step}"
            + ("" if view.waiting_key else " (not waiting for a person)")
        )
    if not as_customer:
        refused = staff.attempt(settings, case_no, step, data.actor, utc_now(), data=data)
        if refused is not None:
            raise ActionRefused(f"{case_no}: {refused}")
    if view.flow_run_id is None:
        raise ActionRefused(f"{case_no} has no flow run yet; run `complaints reconcile`")
    run_id = UUID(view.flow_run_id)
    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(run_id).state
            pause_key = state.state_details.pause_key if state else None
            paused_here = state is not None and state.is_paused() and pause_key == view.waiting_key
            answered = None if paused_here else _answered(client, run_id, view.waiting_key)
            if paused_here:  # the form offers the directory as it is now (forms.reshow)
                names = forms.offered(step, staff.eligible(settings, case_no, step))
                forms.reshow(client, run_id, view.waiting_key, names)
    except Exception as exc:  # the server is down or does not know the run
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ActionRefused(
            f"cannot read the flow run of {case_no} from Prefect at {_api_url()}: {reason}"
        ) from None
    if answered is not None:  # answered a moment ago; the flow has not recorded it yet
        raise ActionRefused(f"{case_no}: {taken_message(answered, settings.tz)}")
    if not paused_here:
        raise ActionRefused(
            f"{case_no} is still moving to {step.value}; try again in a few seconds"
        )
    if as_customer:
        casework.record_page_answer(settings, case_no, view.waiting_key, utc_now())
    resume(run_id, data.model_dump(mode="json"))
    return Acted(case_no, step.value, view.waiting_key, view.flow_run_id)
