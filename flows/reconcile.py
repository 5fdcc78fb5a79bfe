"""Keep every open case moving: start runs that never started, restart runs that died,
and raise the alarm on runs that failed (`complaints retry` starts them again).

Complaints registered while the Prefect server was unreachable have no run yet; runs whose
process was killed mid-step are stuck Running. Both are put right here, on a schedule.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import deployment

from complaints.cases import intake, supervision
from complaints.settings import get_settings
from complaints.timesource import utc_now


@task(name="start-unstarted-cases", cache_policy=NO_CACHE, persist_result=False)
def start_unstarted_cases(limit: int) -> list[str]:
    return intake.reconcile(get_settings(), limit)


@task(name="restart-stalled-cases", cache_policy=NO_CACHE, persist_result=False)
def restart_stalled_cases() -> list[str]:
    return supervision.restart_stalled(get_settings(), utc_now())


@task(name="report-failed-cases", cache_policy=NO_CACHE, persist_result=False)
def report_failed_cases() -> list[str]:
    return supervision.report_failed(get_settings(), utc_now())


@task(name="skip-late-reconciles", cache_policy=NO_CACHE, persist_result=False)
def skip_late_reconciles(deployment_id: str) -> int:
    return supervision.skip_backlog(deployment_id, utc_now() - timedelta(minutes=1))


@flow(name="reconcile-cases", log_prints=True)
def reconcile_cases(limit: int = 100) -> dict[str, list[str]]:
    if deployment.id:  # after an outage one reconcile covers the missed ones
        skip_late_reconciles(deployment.id)
    started = start_unstarted_cases(limit)
    restarted = restart_stalled_cases()
    failed = report_failed_cases()
    if started:
        print(f"started {len(started)} case run(s): {', '.join(started)}")
    if restarted:
        print(f"restarted {len(restarted)} stalled case run(s): {', '.join(restarted)}")
    if failed:
        print(f"{len(failed)} case run(s) failed, alerted: {', '.join(failed)}")
    return {"started": started, "restarted": restarted, "failed": failed}
