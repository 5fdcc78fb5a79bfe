"""A burst queues behind the worker's cap and drains; waiting cases hold no slot."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from complaints.cases import casework, intake
from complaints.timesource import utc_now
from embedded.stack import Stack, command_line, descendants, flow_run_pids
from tests.flows.support import act_when_waiting, new_complaint, suspended_at_its_wait, wait_until
from tests.sampler import Sampler

pytestmark = pytest.mark.e2e


def flow_run_processes(stack: Stack) -> int:
    """Flow-run processes the workers have running now."""
    return sum(len(flow_run_pids(worker.pid)) for worker in stack.workers)


def spawned_engines(stack: Stack) -> int:
    """Flow-run processes started as a new `python -m prefect.engine` (not forked)."""
    return sum(
        b"prefect.engine" in command and b"complaints.orchestration.prefork" not in command
        for worker in stack.workers
        for command in map(command_line, descendants(worker.pid))
    )


class PeakSampler(Sampler):
    def __init__(self, stack: Stack) -> None:
        super().__init__(every=0.05)
        self.stack, self.peak, self.spawned = stack, 0, 0

    def sample(self) -> None:
        self.peak = max(self.peak, flow_run_processes(self.stack))
        self.spawned = max(self.spawned, spawned_engines(self.stack))


def test_a_burst_runs_at_most_the_cap_at_once_and_every_case_reaches_its_waits(
    product: Stack, settings: Any
) -> None:
    cap = product.worker_limit
    burst = 3 * cap  # three times as many cases as slots, all suspended at once
    complaints = [new_complaint() for _ in range(burst)]
    with PeakSampler(product) as sampler:
        with ThreadPoolExecutor(burst) as pool:
            submitted = list(pool.map(lambda c: intake.submit(c, settings, utc_now()), complaints))
        assert all(s.flow_run_id for s in submitted), [s.start_error for s in submitted]
        cases = [s.case_no for s in submitted]
        wait_until(
            lambda: all(suspended_at_its_wait(settings, c) for c in cases),
            timeout=300,
            what=f"all {burst} cases to wait at verification",
        )
        # Every one of them waits now, holding no slot: the resumes all get to run.
        verify = {"actor": "客服-王芳", "substantiated": True, "findings": "属实"}
        with ThreadPoolExecutor(burst) as pool:
            list(pool.map(lambda c: act_when_waiting(settings, c, "verify", verify), cases))
        wait_until(
            lambda: all(
                casework.load(settings, c).current_step == "grade"
                and suspended_at_its_wait(settings, c)
                for c in cases
            ),
            timeout=300,
            what=f"all {burst} cases to wait at grading",
        )
    # A run that has just suspended gives its slot back while its process is still
    # exiting, so the next one may start alongside it: processes stay within the cap
    # plus those on their way out, never one per case.
    assert 1 < sampler.peak <= cap + 1 < burst
    if product.worker_type == "prefork":  # every run forked from the warm template
        assert sampler.spawned == 0, f"{sampler.spawned} runs started as new processes"
    assert all(worker.poll() is None for worker in product.workers), "a worker died"


def test_after_an_outage_one_watch_run_covers_the_missed_minutes(
    product: Stack, settings: Any
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    product.kill_workers()
    now = utc_now()
    missed = [
        run_deployment(
            "sla-watch/sla-watch",
            parameters={"window_seconds": 2},
            scheduled_time=now - timedelta(minutes=minutes),
            timeout=0,
            as_subflow=False,
        )
        for minutes in range(12, 2, -1)
    ]
    product.start_worker("complaints")

    def states() -> list[str]:
        with get_client(sync_client=True) as client:
            return [
                client.read_flow_run(run.id).state.type.value  # type: ignore[union-attr]
                for run in missed
            ]

    wait_until(
        lambda: all(s in {"COMPLETED", "CANCELLED"} for s in states()),
        timeout=180,
        what="the missed watch runs to be done",
    )
    ran = states().count("COMPLETED")
    assert ran <= product.worker_limit, f"{ran} of {len(missed)} missed runs started a process"
    assert states().count("CANCELLED") >= len(missed) - product.worker_limit


def test_a_worker_killed_mid_burst_and_a_server_restarted_mid_storm_lose_nothing(
    product: Stack, settings: Any
) -> None:
    """Every case reaches its next wait exactly once; a refused caller is told in one line."""
    from collections import Counter

    from complaints.cases import casefile, supervision
    from complaints.cases.actions import ActionRefused, act

    burst = [new_complaint() for _ in range(2 * product.worker_limit)]
    with ThreadPoolExecutor(len(burst)) as pool:
        submitted = list(pool.map(lambda c: intake.submit(c, settings, utc_now()), burst))
    assert all(s.flow_run_id for s in submitted), [s.start_error for s in submitted]
    cases = [s.case_no for s in submitted]
    wait_until(lambda: flow_run_processes(product) > 0, what="the burst to be running")
    product.kill_workers()  # SIGKILL: the worker and the runs it had started
    product.start_worker("complaints")
    # What reconcile-cases does every 5 minutes, here with a threshold in seconds: runs
    # left Running (or Pending, or reported Crashed) by the dead worker are restarted.
    supervision.restart_stalled(
        settings.model_copy(update={"stalled_after_minutes": 0.001}), utc_now()
    )
    patient = settings.model_copy(update={"stalled_after_minutes": 1.5})

    def all_waiting(step: str) -> bool:
        supervision.restart_stalled(patient, utc_now())
        return all(
            casework.load(settings, c).current_step == step and suspended_at_its_wait(settings, c)
            for c in cases
        )

    wait_until(lambda: all_waiting("verify"), timeout=300, what="the burst to wait again")

    verify = {"actor": "客服-王芳", "substantiated": True, "findings": "属实"}
    refusals: list[str] = []

    def act_once(case_no: str) -> bool:
        try:
            act(settings, case_no, "verify", verify)
        except ActionRefused as exc:
            refusals.append(str(exc))
            return False
        return True

    with ThreadPoolExecutor(len(cases)) as pool:
        storm = [pool.submit(act_once, c) for c in cases]
        product.stop_server()  # mid-storm
        product.start_server()
        accepted = [f.result() for f in storm]
    assert all("\n" not in r and r for r in refusals)
    for case_no, done in zip(cases, accepted, strict=True):
        if not done:  # the person was told; they look again and act if it still waits
            wait_until(
                lambda c=case_no: casework.load(settings, c).current_step == "grade" or act_once(c),
                timeout=120,
                what=f"{case_no} to be verified after the outage",
            )
    wait_until(lambda: all_waiting("grade"), timeout=300, what="every case to wait at grading")

    for case_no in cases:
        file = casefile.read(settings, case_no)
        assert max(Counter(e.key for e in file.audit).values()) == 1, case_no
        assert Counter((m.kind, m.cycle) for m in file.messages) == Counter(
            {("acknowledgement", 0): 1}
        ), case_no
