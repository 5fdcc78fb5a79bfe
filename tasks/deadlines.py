"""The deadline watch's work: fire what is due, deliver the Slack outbox, show escalations,
and ask what became of the SMS sent.

One task per watch run, polling for about a minute: a task run per pass would cost the
Prefect server a dozen state writes a minute for nothing, most passes finding nothing.
"""

from __future__ import annotations

import time
from datetime import timedelta

from prefect import get_run_logger

from complaints.deadlines import watch
from complaints.notifications import messages, slack
from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.kinds import ledger_task
from tasks.views import publish_escalated


@ledger_task("keep-deadlines")
def keep_deadlines(window_seconds: float, every_seconds: float) -> dict[str, int]:
    """Pass after pass until `window_seconds` are up: fire due SLA and cluster alerts, send
    Slack what waits in the outbox, and show new escalations and chases on the cases' runs."""
    settings = get_settings()
    logger = get_run_logger()
    client = slack.slack_client(settings, warn=False)
    told_unconfigured = False
    watcher = watch.Watcher(settings)
    until = utc_now() + timedelta(seconds=window_seconds)
    fired_total = sent_total = 0
    to_publish: set[str] = set()
    reports_due = utc_now()
    while True:
        fired = watcher.watch_once(utc_now())
        if settings.sms.provider and utc_now() >= reports_due:  # what became of the SMS
            messages.refresh_sms_reports(settings, utc_now())
            reports_due = utc_now() + timedelta(seconds=settings.sms.report_every_seconds)
        if client is not None or settings.smtp_host:  # first: people wait on it
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
        to_publish |= fired.chased  # the handler sees the chase on the case's run
        if to_publish:
            # The UI view of escalated and chased cases, within a time budget so that a
            # burst never holds up the next pass; the rest is shown next pass.
            to_publish = set(publish_escalated(settings, sorted(to_publish), every_seconds))
        left = (until - utc_now()).total_seconds()
        if left <= 0:
            break
        time.sleep(min(every_seconds, left))
    if to_publish:
        logger.info("%d escalated or chased case(s) left for the next run", len(to_publish))
    return {"fired": fired_total, "sent": sent_total}
