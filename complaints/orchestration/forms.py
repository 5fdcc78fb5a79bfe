"""The form a waiting case shows in the Prefect UI, and showing it again when the staff
directory changes.

A person's decision is asked for with Prefect's run-input form: its JSON schema is stored
with the run when it suspends, the UI draws the form from it, and the server checks every
resume against it — the UI's Resume, `complaints act`, the customer's survey page. Once a
staff directory is in force, the form's "acted by" field is a list of the people who may
take the step (rules.staff.eligible), not a text box to type any name into.

The schema is frozen when the run suspends, so a change to the directory (someone added,
given a role, deactivated) would leave waiting forms offering yesterday's people, and
Prefect would refuse someone added today. `reshow` writes a waiting form's schema again
from the directory as it is now: the staff commands do it for every waiting case, and
`complaints act` for its case before it resumes. Prefect has no call that replaces a stored
input, so it is deleted and written again; a resume arriving in that moment is told the
schema is not there, which `actions.resume` retries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect.input import RunInput

from complaints.settings import Settings
from models.db import unit_of_work
from models.repositories import CaseRepository
from rules.inputs import StepInput
from rules.staff import CUSTOMER
from rules.steps import Step

ACTOR = "actor"
CHOOSE = "从员工名录中选择可办理此步的人员 / chosen from the people the staff directory allows"


def offered(step: Step, eligible: list[str] | None) -> list[str] | None:
    """The names the form offers; None: any name may be typed (no directory in force).
    The callback also takes the customer's own survey page, which answers as CUSTOMER (the
    case run refuses that name from anyone else)."""
    if eligible is None:
        return None
    return [*eligible, CUSTOMER] if step is Step.CALLBACK else list(eligible)


def with_actor_choice(schema: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
    """The form's schema with its actor field a choice of `names` (or free text again)."""
    actor = schema.get("properties", {}).get(ACTOR)
    if actor is None:
        return schema
    actor.pop("enum", None)
    if actor.get("description") == CHOOSE:
        actor.pop("description")
    if names is not None:
        actor["enum"] = list(names)
        actor["description"] = CHOOSE
    return schema


def person_form(
    model: type[StepInput], description: str, names: list[str] | None
) -> type[RunInput]:
    """The run-input form of a step: the model's fields, the case shown above them, and
    the actor chosen from `names` (see `offered`)."""
    form = RunInput.subclass_from_base_model_type(model).with_initial_data(description=description)
    if names is None:
        return form

    def choice(schema: dict[str, Any]) -> None:
        with_actor_choice(schema, names)

    config = {**form.model_config, "json_schema_extra": choice}
    return type(form.__name__, (form,), {"model_config": config, "__module__": __name__})


def reshow(client: Any, run_id: UUID, wait_key: str, names: list[str] | None) -> bool:
    """Write the waiting form's schema again offering `names`; False when the run is not
    suspended at `wait_key` or the form already offers them."""
    from prefect.input.run_input import keyset_from_paused_state

    state = client.read_flow_run(run_id).state
    if state is None or not state.is_paused() or state.state_details.pause_key != wait_key:
        return False
    key = keyset_from_paused_state(state)["schema"]
    try:
        stored = json.loads(client.read_flow_run_input(run_id, key))
    except Exception:  # not stored yet: the run is a moment from suspending, and will
        return False  # store a form drawn from the directory as it is now
    schema = with_actor_choice(json.loads(json.dumps(stored)), names)
    if schema == stored:
        return False
    client.delete_flow_run_input(run_id, key)
    client.create_flow_run_input(run_id, key, json.dumps(schema))
    return True


@dataclass
class Reshown:
    waiting: int = 0
    changed: int = 0
    failed: list[str] = field(default_factory=list)


def reshow_waiting(settings: Settings) -> Reshown:
    """Show every waiting case's form again from the directory as it is now."""
    from prefect.client.orchestration import get_client

    from complaints.cases import staff

    with unit_of_work(settings.database_url) as session:
        people = staff.directory(settings, session)  # once, not once a case
        waiting = [
            (
                case_no,
                Step(step),
                key,
                run_id,
                staff.eligible(settings, case_no, Step(step), session, people),
            )
            for case_no, step, key, run_id in CaseRepository(session).waiting_for_people()
            if Step(step).waits_for_person
        ]
    done = Reshown(waiting=len(waiting))
    if not waiting:
        return done
    with get_client(sync_client=True) as client:
        for case_no, step, key, run_id, eligible in waiting:
            try:
                done.changed += reshow(client, UUID(run_id), key, offered(step, eligible))
            except Exception as exc:
                reason = " ".join(str(exc).split())[:200] or type(exc).__name__
                done.failed.append(f"{case_no}: {reason}")
    return done
