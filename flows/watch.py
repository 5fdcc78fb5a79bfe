"""The deadline watch: one scheduled run a minute keeps every SLA timer of every case.

Each run polls the ledger for due alerts every few seconds for about a minute, then
exits; the schedule starts the next one. So timers cost no process per case while
pending, survive restarts of the server and the worker (the due times live in the
ledger, the schedule in the server), and fire within seconds of their moment. A run
that starts late (the worker was down) covers what became due meanwhile: nothing is
lost, and a run scheduled long ago exits at once instead of piling up.
"""

from __future__ import annotations

import time
from datetime import timedelta

from prefect import flow, get_run_logger
from prefect.runtime import deployment, flow_run

from complaints.cases import supervision
from complaints.deadlines import watch
from complaints.notifications import slack
from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.views import publish_escalations


@flow(name="sla-watch", log_prints=True)
def watch_deadlines(
    window_seconds: float = 55, every_seconds: float | None = None
) -> dict[str, int]:
    """Fire due SLA alerts and cluster alerts; deliver the Slack outbox."""
    settings = get_settings()
    every_seconds = every_seconds or settings.watch_every_seconds
    logger = get_run_logger()
    started = utc_now()
    scheduled = flow_run.scheduled_start_time
    if deployment.id:  # after an outage: one run covers the missed minutes, not one each
        skipped = supervision.skip_backlog(deployment.id, started - timedelta(minutes=1))
        if skipped:
            logger.info("cancelled %d late watch run(s): this one covers them", skipped)
    if scheduled is not None and started - scheduled > timedelta(seconds=window_seconds * 2):
        logger.info("scheduled at %s: a later watch run covers this minute", scheduled)
        return {"fired": 0, "sent": 0}
    client = slack.slack_client(settings, warn=False)
    told_unconfigured = False
    watcher = watch.Watcher(settings)
    until = started + timedelta(seconds=window_seconds)
    fired_total = sent_total = 0
    to_publish: set[str] = set()
    while True:
        fired = watcher.watch_once(utc_now())
        if client is not None:  # Slack first: the people being escalated to wait on it
            report = slack.deliver_outbox(settings, client, utc_now())
            sent_total += report.sent
            for error in report.errors:
                logger.warning("Slack delivery: %s", error)
        if fired.keys:
            logger.warning("escalated: %s", ", ".join(fired.keys))
            if client is None and not told_unconfigured:
                logger.warning("%s", slack.UNCONFIGURED)
                told_unconfigured = True
            fired_total += len(fired.keys)
            to_publish |= fired.cases
        if to_publish:
            # The UI view of escalated cases, within a time budget so that a burst of
            # escalations never holds up the next pass; the rest is shown next pass.
            to_publish = set(publish_escalations(sorted(to_publish), every_seconds))
        left = (until - utc_now()).total_seconds()
        if left <= 0:
            break
        time.sleep(min(every_seconds, left))
    if to_publish:
        logger.info("%d escalated case(s) left for the next run to show", len(to_publish))
    return {"fired": fired_total, "sent": sent_total}
