"""The deadline watch: one scheduled run a minute keeps every SLA timer of every case.

Each run polls the ledger for due alerts every few seconds for about a minute, then
exits; the schedule starts the next one. So timers cost no process per case while
pending, survive restarts of the server and the worker (the due times live in the
ledger, the schedule in the server), and fire within seconds of their moment. A run
that starts late (the worker was down) covers what became due meanwhile: nothing is
lost, and a run scheduled long ago exits at once instead of piling up.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger
from prefect.runtime import deployment, flow_run

from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.deadlines import keep_deadlines
from tasks.supervision import skip_late_runs


@flow(name="sla-watch", log_prints=True)
def watch_deadlines(
    window_seconds: float = 55, every_seconds: float | None = None
) -> dict[str, int]:
    """Fire due SLA alerts and cluster alerts; deliver the Slack outbox."""
    started = utc_now()
    if deployment.id:  # after an outage: one run covers the missed minutes, not one each
        skipped = skip_late_runs(deployment.id)
        if skipped:
            get_run_logger().info("cancelled %d late watch run(s): this one covers them", skipped)
    scheduled = flow_run.scheduled_start_time
    if scheduled is not None and started - scheduled > timedelta(seconds=window_seconds * 2):
        get_run_logger().info("scheduled at %s: a later watch run covers this minute", scheduled)
        return {"fired": 0, "sent": 0}
    return keep_deadlines(window_seconds, every_seconds or get_settings().watch_every_seconds)
