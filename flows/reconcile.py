"""Keep every open case moving: start runs that never started, restart runs that died,
and raise the alarm on runs that failed (`complaints retry` starts them again).

Complaints registered while the Prefect server was unreachable have no run yet; runs whose
process was killed mid-step are stuck Running. Both are put right here, on a schedule.
"""

from __future__ import annotations

from prefect import flow
from prefect.runtime import deployment

from tasks.supervision import (
    report_failed_cases,
    restart_stalled_cases,
    skip_late_runs,
    start_unstarted_cases,
)


@flow(name="reconcile-cases", log_prints=True)
def reconcile_cases(limit: int = 100) -> dict[str, list[str]]:
    if deployment.id:  # after an outage one reconcile covers the missed ones
        skip_late_runs(deployment.id)
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
