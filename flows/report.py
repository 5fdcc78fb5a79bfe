"""The scheduled analyses: monthly by the 7th, half-yearly in January and July, annual.

A scheduled run reports the last complete period; a run started from the UI form (or
`complaints report`) can name any past period to backfill. The files are saved and the
Markdown is published as an artifact before anything is delivered, so a delivery that
fails is retried and never loses the report.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from rules.periods import Kind
from tasks.reporting import compile_report, deliver_report, issue_rectifications, publish_report


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
