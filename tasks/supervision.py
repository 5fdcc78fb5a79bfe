"""Tasks that keep every case's run going: start the unstarted, restart the stalled, report
the failed; and the one that lets a scheduled flow skip the runs an outage left behind."""

from __future__ import annotations

from datetime import timedelta

from complaints.cases import intake, supervision
from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.kinds import ledger_task


@ledger_task("start-unstarted-cases")
def start_unstarted_cases(limit: int) -> list[str]:
    return intake.reconcile(get_settings(), limit)


@ledger_task("restart-stalled-cases")
def restart_stalled_cases() -> list[str]:
    return supervision.restart_stalled(get_settings(), utc_now())


@ledger_task("report-failed-cases")
def report_failed_cases() -> list[str]:
    return supervision.report_failed(get_settings(), utc_now())


@ledger_task("skip-late-runs")
def skip_late_runs(deployment_id: str) -> int:
    """Cancel this deployment's runs scheduled over a minute ago and not started: after an
    outage, the run now starting covers them all."""
    return supervision.skip_backlog(deployment_id, utc_now() - timedelta(minutes=1))
