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
from models.repository import CaseRepository

STALLED_TYPES = {"RUNNING", "PENDING"}


@dataclass(frozen=True)
class RunStatus:
    case_no: str
    flow_run_id: str
    state_type: str
    since: datetime | None


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


def run_statuses(runs: dict[str, str]) -> list[RunStatus]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    if not runs:
        return []
    with get_client(sync_client=True) as client:
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(i) for i in runs])),
            limit=len(runs),
        )
    return [
        RunStatus(
            case_no=runs[str(run.id)],
            flow_run_id=str(run.id),
            state_type=run.state.type.value if run.state else "NONE",
            since=run.state.timestamp if run.state else None,
        )
        for run in found
    ]


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
