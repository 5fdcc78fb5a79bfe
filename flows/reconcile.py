"""Start the flow runs of complaints registered while the Prefect server was unreachable."""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from complaints import intake
from complaints.settings import get_settings


@task(name="start-unstarted-cases", cache_policy=NO_CACHE, persist_result=False)
def start_unstarted_cases(limit: int) -> list[str]:
    return intake.reconcile(get_settings(), limit)


@flow(name="reconcile-intake", log_prints=True)
def reconcile_intake(limit: int = 100) -> list[str]:
    started = start_unstarted_cases(limit)
    if started:
        print(f"started {len(started)} case run(s): {', '.join(started)}")
    return started
