"""End to end: with a staff directory in force, the Prefect UI's form offers only the people
who may take the step, and its REST resume (which asks nobody) cannot decide for someone
outside the directory: the case waits again with the reason and the attempt is in the
audit trail. A person added while the case waits is offered once the waiting forms are
shown again (what every `complaints staff` change does) and may then act. Nobody on staff
answers a callback as the customer."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any
from uuid import UUID

import pytest

from complaints.cases import casefile, casework, staff
from complaints.cases.actions import ActionRefused, resume
from complaints.orchestration.forms import reshow_waiting
from complaints.timesource import utc_now
from rules.enums import Department, Role
from rules.staff import CUSTOMER, Person
from tests.flows.support import new_complaint, submit, suspended_at_its_wait, wait_until

pytestmark = pytest.mark.e2e


def paused_at(run_id: UUID, key: str) -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    return bool(state and state.is_paused() and state.state_details.pause_key == key)


def offered(run_id: UUID, key: str) -> list[str] | None:
    """The names the waiting form's actor field offers, as the UI reads them."""
    import json

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        schema = json.loads(client.read_flow_run_input(run_id, f"suspended-{key}-schema"))
    return schema["properties"]["actor"].get("enum")


def test_the_ui_form_of_someone_outside_the_directory_is_refused_until_they_are_added(
    settings: Any,
) -> None:
    case_no, steps = submit(settings, new_complaint())
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the case to suspend")
    run_id = UUID(casework.load(settings, case_no).flow_run_id or "")
    tag = uuid.uuid4().hex[:6]
    colleague = Person(
        name=f"核实-老员工-{tag}", department=Department.CUSTOMER_SERVICE, roles={Role.HANDLER}
    )
    newcomer = Person(
        name=f"核实-新同事-{tag}", department=Department.CUSTOMER_SERVICE, roles={Role.HANDLER}
    )
    staff.save(settings, [colleague], utc_now())  # the directory is in force from here
    try:
        resume(run_id, {**steps["verify"], "actor": newcomer.name})  # what the UI form sends

        wait_until(lambda: paused_at(run_id, "verify-c0-a1"), what="the form to be shown again")
        audit = casefile.read(settings, case_no).audit
        refused = [e for e in audit if e.decision == "refused"]
        assert [(e.payload["step"], e.actor) for e in refused] == [("verify", newcomer.name)]
        assert "is not in the staff directory" in refused[0].payload["errors"]
        assert casework.load(settings, case_no).current_step == "verify"

        # The form shown again is drawn from the directory: a choice, not a text box.
        assert offered(run_id, "verify-c0-a1") == [colleague.name]

        staff.save(settings, [newcomer], utc_now())  # added while the case waits
        with pytest.raises(ActionRefused, match="is not one of"):  # the form still offers
            resume(run_id, {**steps["verify"], "actor": newcomer.name})  # yesterday's people
        assert paused_at(run_id, "verify-c0-a1")

        shown = reshow_waiting(settings)
        assert not shown.failed and shown.changed >= 1
        assert offered(run_id, "verify-c0-a1") == sorted([colleague.name, newcomer.name])
        resume(run_id, {**steps["verify"], "actor": newcomer.name})

        wait_until(
            lambda: casework.load(settings, case_no).current_step == "grade",
            what="the case to move on to grading",
        )
        verified = [e.actor for e in casefile.read(settings, case_no).audit if e.step == "verify"]
        assert verified[-1] == newcomer.name
    finally:  # out of force again for the other tests of the stack
        for person in (colleague, newcomer):
            with contextlib.suppress(staff.StaffRefused):  # never added
                staff.deactivate(settings, person.name, utc_now())


def test_staff_cannot_answer_the_callback_as_the_customer(settings: Any) -> None:
    """The callback form offers the customer's name for their own survey page; from the UI
    it is refused like a stranger's, kept in the audit trail, and the case waits again."""
    complaint = new_complaint(answered_on_spot=True, on_spot_answer="已告知退货流程")
    case_no, steps = submit(settings, complaint)
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the case to suspend")
    assert casework.load(settings, case_no).current_step == "callback"
    run_id = UUID(casework.load(settings, case_no).flow_run_id or "")
    caller = Person(
        name=f"回访-{uuid.uuid4().hex[:6]}",
        department=Department.CUSTOMER_SERVICE,
        roles={Role.CALLBACK},
    )
    staff.save(settings, [caller], utc_now())
    try:
        reshow_waiting(settings)
        assert offered(run_id, "callback-c0") == [caller.name, CUSTOMER]

        resume(run_id, {**steps["callback"], "actor": CUSTOMER})  # a colleague, in the UI

        wait_until(lambda: paused_at(run_id, "callback-c0-a1"), what="the form again")
        refused = [e for e in casefile.read(settings, case_no).audit if e.decision == "refused"]
        assert [(e.payload["step"], e.actor) for e in refused] == [("callback", CUSTOMER)]
        assert "survey page" in refused[0].payload["errors"]
        assert casework.load(settings, case_no).status.value != "closed"
    finally:
        staff.deactivate(settings, caller.name, utc_now())
