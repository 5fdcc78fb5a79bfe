"""Nothing lost, nothing done twice: a killed worker, an unreachable server, the UI form."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import pytest

from complaints.cases import casefile, casework, intake
from complaints.timesource import utc_now
from embedded.stack import Stack, free_port
from embedded.synthetic import decisions_for
from rules.steps import Step, event_key
from tests.flows.support import (
    act_when_waiting,
    flow_run_state,
    new_complaint,
    submit,
    suspended_at_its_wait,
    wait_closed,
    wait_until,
)

pytestmark = pytest.mark.e2e


def audit_keys(settings: Any, case_no: str) -> Counter[str]:
    return Counter(e.key for e in casefile.read(settings, case_no).audit)


def test_a_case_finishes_after_its_worker_is_killed_between_two_steps_and_mid_step(
    product: Stack, settings: Any
) -> None:
    case_no, steps = submit(settings, new_complaint())
    act_when_waiting(settings, case_no, "verify", steps["verify"])
    act_when_waiting(settings, case_no, "grade", steps["grade"])
    wait_until(
        lambda: casework.load(settings, case_no).current_step == "approve_grade",
        what="the grading to wait for approval",
    )
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the run to suspend")

    # Between two steps: no worker while the approval is given; a new worker carries on.
    product.kill_workers()
    act_when_waiting(settings, case_no, "approve_grade", steps["approve_grade"])
    product.start_worker("complaints")
    act_when_waiting(settings, case_no, "plan", steps["plan"])

    # Mid-step: the worker and its flow-run process die while the run is Running.
    view = casework.load(settings, case_no)
    wait_until(
        lambda: flow_run_state(view.flow_run_id or "") == "RUNNING",
        what="the resumed run to be running",
    )
    product.kill_workers()
    assert flow_run_state(view.flow_run_id or "") == "RUNNING"  # left behind, no process
    product.start_worker("complaints")
    # Its heartbeats stop: Prefect marks it Crashed after three missed ones, and
    # reconcile-cases, with the stock 15-minute threshold for silent runs, restarts it.
    silent = 3 * settings.heartbeat_seconds
    wait_until(
        lambda: flow_run_state(view.flow_run_id or "") == "CRASHED",
        timeout=silent + 60,
        what="Prefect to mark the run that lost its process Crashed",
    )
    # Crashed starts reconcile-cases at once (the automation), which restarts it from the
    # ledger: no five-minute wait for its schedule, no fifteen for the stalled threshold.
    assert settings.stalled_after_minutes == 15
    wait_until(
        lambda: (
            flow_run_state(view.flow_run_id or "") in ("SCHEDULED", "PENDING", "RUNNING", "PAUSED")
        ),
        timeout=90,
        what="reconcile, started by the crash, to restart the run",
    )

    for step in ("approve_plan", "execute", "feedback", "callback"):
        act_when_waiting(settings, case_no, step, steps[step])
    wait_closed(settings, case_no)

    messages = Counter((m.kind, m.cycle) for m in casefile.read(settings, case_no).messages)
    assert messages == Counter(
        {("acknowledgement", 0): 1, ("result", 0): 1, ("survey_invitation", 0): 1}
    )
    assert max(audit_keys(settings, case_no).values()) == 1


def test_a_complaint_registered_while_prefect_is_unreachable_is_started_by_reconcile(
    product: Stack, settings: Any
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    complaint = new_complaint()
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        first = intake.submit(complaint, settings, utc_now())
    assert first.flow_run_id is None and first.start_error
    assert casework.load(settings, first.case_no).status.code == "registered"

    again = intake.submit(complaint, settings, utc_now())  # a retry by the channel
    assert again.case_no == first.case_no and not again.created

    started = intake.reconcile(settings)
    assert started in ([], [first.case_no])  # the retry above may already have started it
    assert intake.reconcile(settings) == []  # never started twice
    steps = decisions_for(complaint, seed=7, now=utc_now())
    act_when_waiting(settings, first.case_no, "verify", steps["verify"])
    view = casework.load(settings, first.case_no)
    assert audit_keys(settings, first.case_no)[event_key(Step.ACKNOWLEDGE)] == 1
    assert view.flow_run_id is not None


def test_a_complaint_entered_in_the_prefect_ui_run_form_is_registered_and_named(
    product: Stack, settings: Any
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    complaint = new_complaint()
    run = run_deployment(
        settings.lifecycle_deployment,
        parameters={"complaint": complaint.model_dump(mode="json")},
        timeout=0,
        as_subflow=False,
    )
    case_no = wait_until(
        lambda: casework.find_by_run(settings, str(run.id)),
        what="the UI run to register its complaint",
    )
    wait_until(lambda: casework.load(settings, case_no).waiting_key, what="the verify wait")
    with get_client(sync_client=True) as client:
        named = client.read_flow_run(UUID(str(run.id)))
    assert named.name.startswith(f"{case_no} · {complaint.severity.value} · ")
    assert f"等级:{complaint.severity.value}" in named.tags
    assert f"渠道:{complaint.channel.value}" in named.tags
    # What was typed into the form is the ledger's now, not the run's, for all to read
    assert named.parameters == {"case_no": case_no}
    steps = decisions_for(complaint, seed=7, now=utc_now())
    act_when_waiting(settings, case_no, "verify", steps["verify"])  # resumes on case_no
    wait_until(
        lambda: casework.load(settings, case_no).current_step == "grade",
        what="the resumed run to move on to grading",
    )

    # The same complaint submitted again from another channel client is the same case.
    assert intake.submit(complaint, settings, utc_now()).case_no == case_no


def test_deploying_again_keeps_one_unresponsive_run_automation_and_0_removes_it(
    product: Stack, settings: Any
) -> None:
    from prefect.client.orchestration import get_client

    from deployments.definitions import (
        RESTART_CRASHED,
        UNRESPONSIVE,
        ensure_unresponsive_detection,
    )

    def automations(name: str = UNRESPONSIVE) -> list[Any]:
        with get_client(sync_client=True) as client:
            return client.read_automations_by_name(name)

    with get_client(sync_client=True) as client:
        deployments = {d.name: d.id for d in client.read_deployments()}
    ours = list(deployments.values())
    restart = (deployments["case-lifecycle"], deployments["reconcile-cases"])
    (deployed,) = automations()  # `complaints deploy` made it when the stack started
    assert deployed.enabled and deployed.trigger.within.total_seconds() == 90
    assert len(automations(RESTART_CRASHED)) == 1
    try:
        ensure_unresponsive_detection(45, ours, restart)  # a changed setting, deployed again
        (changed,) = automations()
        assert changed.id == deployed.id and changed.trigger.within.total_seconds() == 135
        ensure_unresponsive_detection(0, ours, restart)
        assert automations() == [] and automations(RESTART_CRASHED) == []
    finally:
        ensure_unresponsive_detection(settings.heartbeat_seconds, ours, restart)
    assert len(automations()) == 1 and len(automations(RESTART_CRASHED)) == 1
    # The watch and reconcile are served first, so a burst of case runs never holds them up.
    with get_client(sync_client=True) as client:
        urgent = client.read_work_queue_by_name("urgent", work_pool_name=settings.work_pool)
        watch = client.read_deployment_by_name("sla-watch/sla-watch")
    assert urgent.priority == 1 and watch.work_queue_name == "urgent"
