"""The scheduled analyses: monthly by the 7th, half-yearly in January and July, annual.

A scheduled run reports the last complete period; a run started from the UI form (or
`complaints report`) can name any past period to backfill. The files are saved and the
Markdown is published as an artifact before anything is delivered, so a delivery that
fails is retried and never loses the report.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from complaints.notifications import slack
from complaints.reporting import rectification, reports
from complaints.settings import get_settings
from complaints.timesource import utc_now
from rules.periods import Kind


@task(name="compile-report", cache_policy=NO_CACHE, persist_result=False)
def compile_report(kind: Kind, period: str | None) -> tuple[reports.Report, reports.Saved]:
    settings = get_settings()
    now = utc_now()
    report = reports.build(settings, reports.period_of(kind, period, now, settings), now)
    return report, reports.save(settings, report)


@task(name="publish-report", cache_policy=NO_CACHE, persist_result=False)
def publish_report(report: reports.Report) -> None:
    """The Markdown as an artifact with a stable key per kind: the UI keeps the history."""
    create_markdown_artifact(
        markdown=report.markdown,
        key=f"analysis-{report.figures.kind.value.replace('_', '-')}",
        description=f"{report.figures.kind.label} {report.figures.period}",
    )


@task(name="issue-rectifications", cache_policy=NO_CACHE, persist_result=False)
def issue_rectifications(report: reports.Report) -> list[str]:
    """One corrective action per rectification notice (half-year and annual reports)."""
    return rectification.issue(get_settings(), report.figures, utc_now()).refs


@task(
    name="deliver-report",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=3,
    retry_delay_seconds=[30, 120, 600],
)
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


@flow(name="analysis-report", flow_run_name="{kind}-{period}", log_prints=True)
def analysis_report(kind: Kind = Kind.MONTHLY, period: str | None = None) -> str:
    """投诉分析报告 / complaint analysis: monthly (2026-10), half-year (2026-H1), annual (2026)."""
    report, saved = compile_report(kind, period)
    publish_report(report)
    actions = issue_rectifications(report)
    if actions:
        get_run_logger().info("corrective actions: %s", ", ".join(actions))
    outcome = deliver_report(report, saved)
    get_run_logger().info("%s saved in %s; %s", report.name, saved.directory, outcome)
    return str(saved.html)
