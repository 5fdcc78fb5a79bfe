"""Restart case runs whose process died (a worker killed mid-step, a machine lost).

Prefect leaves such a run Running (or Pending) forever, or marks it Crashed. A case run is
only ever Running for the seconds it takes to record a step and reach the next wait, so a
run that has been Running far longer than that has lost its process. Rescheduling it is
safe: the flow replays from the ledger and every task is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from complaints.settings import Settings
from models.db import unit_of_work
from models.repositories import CaseRepository

STALLED_TYPES = {"RUNNING", "PENDING"}
# A run in one of these states will not move by itself; it is reported, and retried on
# request (`complaints retry`): a failure repeats until its cause is fixed, so it is not
# restarted in a loop.
FAILED_TYPES = {"FAILED", "CANCELLED"}
RETRYABLE_TYPES = FAILED_TYPES | {"CRASHED"}  # what `complaints retry` starts again
FAILED_TAG = "运行失败"


@dataclass(frozen=True)
class RunStatus:
    case_no: str
    flow_run_id: str
    state_type: str
    since: datetime | None
    message: str | None = None
    tags: tuple[str, ...] = ()


def is_stalled(status: RunStatus, now: datetime, stalled_after: timedelta) -> bool:
    if status.state_type == "CRASHED":
        return True
    return (
        status.state_type in STALLED_TYPES
        and status.since is not None
        and now - status.since >= stalled_after
    )


def open_case_runs(settings: Settings, limit: int = 500) -> dict[str, str]:
    """flow run id → case number, for open cases that have a run."""
    with unit_of_work(settings.database_url) as session:
        return {
            case.flow_run_id: case.case_no
            for case, _ in CaseRepository(session).open_cases(limit)
            if case.flow_run_id
        }


PAGE = 200  # the most flow runs Prefect's API returns for one filter


def run_statuses(runs: dict[str, str]) -> list[RunStatus]:
    """The state of each run, asked in pages (more than 200 open cases used to make the
    reconcile fail with Prefect's "Invalid limit")."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    ids = [UUID(i) for i in runs]
    found = []
    with get_client(sync_client=True) as client:
        for start in range(0, len(ids), PAGE):
            page = ids[start : start + PAGE]
            found += client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=page)), limit=len(page)
            )
    return [
        RunStatus(
            case_no=runs[str(run.id)],
            flow_run_id=str(run.id),
            state_type=run.state.type.value if run.state else "NONE",
            since=run.state.timestamp if run.state else None,
            message=run.state.message if run.state else None,
            tags=tuple(run.tags),
        )
        for run in found
    ]


def report_failed(settings: Settings, now: datetime) -> list[str]:
    """Alert once per failure on each open case whose run failed (Slack L1, the audit
    trail, `complaints escalations`) and tag the run; returns the case numbers reported."""
    from prefect.client.orchestration import get_client

    from complaints.deadlines.escalation import raise_for_case
    from rules.escalation import on_run_failed
    from rules.masking import mask_customer_text

    failed = [s for s in run_statuses(open_case_runs(settings)) if s.state_type in FAILED_TYPES]
    reported = []
    for status in failed:
        with unit_of_work(settings.database_url) as session:
            repo = CaseRepository(session)
            case = repo.get(status.case_no)
            if case is None:
                continue
            reason = mask_customer_text(
                f"{status.state_type}: {status.message or '—'}"[:300],
                case.customer_name,
                case.customer_phone,
                case.customer_email,
            )
            called = on_run_failed(case.case_no, case.current_step, status.since, reason)
            if raise_for_case(repo, settings, case, called, now):
                reported.append(case.case_no)
    with get_client(sync_client=True) as client:
        for status in failed:
            if FAILED_TAG not in status.tags:
                client.update_flow_run(UUID(status.flow_run_id), tags=[*status.tags, FAILED_TAG])
    return reported


class NotRetryable(ValueError):
    """The case's run is not in a state a retry can help; the message says which."""


def retry(settings: Settings, case_no: str) -> str:
    """Start a failed (or cancelled, or crashed) case run again: it replays the case from the
    ledger — nothing recorded is lost — and waits where the case waits. Returns the run id."""
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    with unit_of_work(settings.database_url) as session:
        case = CaseRepository(session).get(case_no)
        if case is None:
            raise NotRetryable(f"no case {case_no}")
        if case.closed_at is not None:
            raise NotRetryable(f"{case_no} is closed")
        run_id = case.flow_run_id
    if run_id is None:
        raise NotRetryable(f"{case_no} has no run yet; `complaints reconcile` starts it")
    statuses = run_statuses({run_id: case_no})
    status = statuses[0] if statuses else None
    if status is None or status.state_type not in RETRYABLE_TYPES:
        state = status.state_type if status else "unknown"
        raise NotRetryable(f"{case_no}'s run is {state}, not failed: nothing to retry")
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(run_id), Scheduled(name="Retrying"), force=True)
        client.update_flow_run(UUID(run_id), tags=[t for t in status.tags if t != FAILED_TAG])
    return run_id


def restart_stalled(settings: Settings, now: datetime) -> list[str]:
    """Reschedule the runs of open cases that lost their process; returns case numbers."""
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    stalled_after = timedelta(minutes=settings.stalled_after_minutes)
    stalled = [
        s for s in run_statuses(open_case_runs(settings)) if is_stalled(s, now, stalled_after)
    ]
    with get_client(sync_client=True) as client:
        for status in stalled:
            client.set_flow_run_state(
                UUID(status.flow_run_id), Scheduled(name="Restarting"), force=True
            )
    return [s.case_no for s in stalled]


def watch_running() -> bool:
    """Whether a run of the deadline watch (`sla-watch`) is running right now."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    running = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["sla-watch"])),
            flow_run_filter=FlowRunFilter(state=running),
            limit=1,
        )
    return bool(runs)


def skip_backlog(deployment_id: str, scheduled_before: datetime) -> int:
    """Cancel the runs of a periodic deployment still waiting from before `scheduled_before`.

    After a worker or server outage the schedule has left one run per missed minute;
    the run that gets to start covers them all, so the rest are cancelled instead of each
    starting a process to find out. Returns how many were cancelled.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.responses import OrchestrationResult, SetStateStatus
    from prefect.states import Cancelled

    waiting = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        expected_start_time=FlowRunFilterExpectedStartTime(before_=scheduled_before),
    )
    cancelled = 0
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[UUID(deployment_id)])),
            flow_run_filter=waiting,
            limit=200,
        )
        for run in runs:
            result: OrchestrationResult[Any] = client.set_flow_run_state(
                run.id, Cancelled(message="a later run covers this one")
            )
            cancelled += result.status is SetStateStatus.ACCEPT
    return cancelled
