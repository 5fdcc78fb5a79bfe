"""Tasks of the scheduled analyses: compile and save, publish, open corrective actions,
deliver."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact

from complaints.notifications import slack
from complaints.reporting import rectification, reports
from complaints.settings import get_settings
from complaints.timesource import utc_now
from rules.enums import Department
from rules.periods import Kind
from tasks.kinds import ledger_task


@ledger_task("compile-report")
def compile_report(
    kind: Kind, period: str | None, partial: bool = False
) -> tuple[reports.Report, reports.Saved]:
    settings = get_settings()
    now = utc_now()
    chosen = reports.period_of(kind, period, now, settings, partial)
    report = reports.build(settings, chosen, now, partial=partial)
    return report, reports.save(settings, report)


@ledger_task("publish-report")
def publish_report(report: reports.Report) -> None:
    """The Markdown as an artifact with a stable key per kind (and department): the UI
    keeps the history."""
    key = f"analysis-{report.figures.kind.value.replace('_', '-')}"
    if report.figures.department:
        key += f"-{Department(report.figures.department).code.replace('_', '-')}"
    create_markdown_artifact(
        markdown=report.markdown,
        key=key,
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


@ledger_task("departments-to-summarise")
def departments_to_summarise(period: str | None) -> tuple[str, list[str]]:
    """The month to summarise (the last complete one unless named) and the responsible
    departments with cases in it."""
    settings = get_settings()
    month = reports.period_of(Kind.MONTHLY, period, utc_now(), settings)
    return str(month), reports.departments_with_cases(settings, month)


@ledger_task("compile-department-summary", task_run_name="summary-{department}")
def compile_department_summary(
    period: str, department: str
) -> tuple[reports.Report, reports.Saved]:
    settings = get_settings()
    now = utc_now()
    month = reports.period_of(Kind.MONTHLY, period, now, settings)
    report = reports.build(settings, month, now, department=department)
    return report, reports.save(settings, report)


@ledger_task(
    "deliver-department-summary",
    task_run_name="deliver-{report.figures.department}",
    retries=3,
    retry_delay_seconds=[30, 120, 600],
)
def deliver_department_summary(report: reports.Report, saved: reports.Saved) -> str:
    settings = get_settings()
    return reports.deliver_to_department(settings, slack.slack_client(settings), report, saved)
