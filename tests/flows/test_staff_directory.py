"""End to end: with a staff directory in force, the Prefect UI's form (the REST resume it
sends, which asks nobody) cannot decide for someone outside it; the case waits again with
the reason, the attempt is in the audit trail, and a person added while the case waits
may then act."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any
from uuid import UUID

import pytest

from complaints.cases import casefile, casework, staff
from complaints.cases.actions import resume
from complaints.timesource import utc_now
from rules.enums import Department, Role
from rules.staff import Person
from tests.flows.support import new_complaint, submit, suspended_at_its_wait, wait_until

pytestmark = pytest.mark.e2e


def paused_at(run_id: UUID, key: str) -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    return bool(state and state.is_paused() and state.state_details.pause_key == key)


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

        staff.save(settings, [newcomer], utc_now())  # added while the case waits
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
