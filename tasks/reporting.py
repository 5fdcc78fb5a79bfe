"""Tasks of the scheduled analyses: compile and save, publish, open corrective actions,
deliver."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact

from complaints.notifications import slack
from complaints.reporting import rectification, reports
from complaints.settings import get_settings
from complaints.timesource import utc_now
from rules.periods import Kind
from tasks.kinds import ledger_task


@ledger_task("compile-report")
def compile_report(kind: Kind, period: str | None) -> tuple[reports.Report, reports.Saved]:
    settings = get_settings()
    now = utc_now()
    report = reports.build(settings, reports.period_of(kind, period, now, settings), now)
    return report, reports.save(settings, report)


@ledger_task("publish-report")
def publish_report(report: reports.Report) -> None:
    """The Markdown as an artifact with a stable key per kind: the UI keeps the history."""
    create_markdown_artifact(
        markdown=report.markdown,
        key=f"analysis-{report.figures.kind.value.replace('_', '-')}",
        description=f"{report.figures.kind.label} {report.figures.period}",
    )


@ledger_task("issue-rectifications")
def issue_rectifications(report: reports.Report) -> list[str]:
    """One corrective action per rectification notice (half-year and annual reports)."""
    return rectification.issue(get_settings(), report.figures, utc_now()).refs


@ledger_task("deliver-report", retries=3, retry_delay_seconds=[30, 120, 600])
def deliver_report(report: reports.Report, saved: reports.Saved) -> str:
    settings = get_settings()
    client = slack.slack_client(settings)
    outcome = []
    if client is None:
        outcome.append("not posted: Slack is not configured")
    else:
        outcome.append("posted to " + reports.deliver_to_slack(settings, client, report, saved))
    mailed = reports.deliver_by_email(settings, report, saved)
    if mailed:
        outcome.append("e-mailed to " + ", ".join(mailed))
    return "; ".join(outcome)
