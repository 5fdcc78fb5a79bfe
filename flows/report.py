"""The scheduled analyses: each department's summary by the 5th, the consolidated monthly
analysis by the 7th, half-yearly in January and July, annual.

A scheduled run reports the last complete period; a run started from the UI form (or
`complaints report`) can name any past period to backfill. The files are saved and the
Markdown is published as an artifact before anything is delivered, so a delivery that
fails is retried and never loses the report.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from rules.periods import Kind
from tasks.reporting import (
    compile_department_summary,
    compile_report,
    deliver_department_summary,
    deliver_report,
    departments_to_summarise,
    issue_rectifications,
    publish_report,
)


@flow(name="analysis-report", flow_run_name="{kind}-{period}", log_prints=True)
def analysis_report(
    kind: Kind = Kind.MONTHLY, period: str | None = None, partial: bool = False
) -> str:
    """投诉分析报告 / complaint analysis: monthly (2026-10), half-year (2026-H1), annual (2026).
    A period not over yet is refused unless `partial` asks for its figures so far."""
    report, saved = compile_report(kind, period, partial)
    publish_report(report)
    actions = [] if partial else issue_rectifications(report)
    if actions:
        get_run_logger().info("corrective actions: %s", ", ".join(actions))
    outcome = deliver_report(report, saved)
    get_run_logger().info("%s saved in %s; %s", report.name, saved.directory, outcome)
    return str(saved.html)


@flow(name="department-summaries", log_prints=True)
def department_summaries(period: str | None = None) -> dict[str, str]:
    """部门月度小结 / each responsible department's own summary of its month, by the 5th:
    its cases, causes and open cases, sent to the department; the consolidated analysis of
    the 7th builds on them."""
    month, departments = departments_to_summarise(period)
    outcomes = {}
    for department in departments:
        report, saved = compile_department_summary(month, department)
        publish_report(report)
        outcomes[department] = deliver_department_summary(report, saved)
        get_run_logger().info("%s: %s", report.name, outcomes[department])
    return outcomes
