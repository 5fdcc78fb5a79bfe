"""Keep what the Prefect UI shows of a case current: run name, tags, artifacts."""

from __future__ import annotations

from uuid import UUID

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.logging import get_run_logger

from complaints import casefile
from complaints.settings import Settings
from rules.enums import CaseStatus
from rules.presentation import artifact_key, run_name, run_tags

OPEN_CASES_KEY = "open-cases"


def publish_case(settings: Settings, case_no: str) -> None:
    """Rename and retag the case's run and refresh its timeline and the open-cases table.

    Called at the end of every task that changes a case. The UI is a view: a failure here
    is logged and never fails the step whose change is already committed.
    """
    try:
        file = casefile.read(settings, case_no)
        case = file.case
        if case.flow_run_id:
            status_tag = (
                "已关闭" if case.status is CaseStatus.CLOSED else f"步骤:{case.current_step}"
            )
            with get_client(sync_client=True) as client:
                client.update_flow_run(
                    UUID(case.flow_run_id),
                    name=run_name(case.case_no, case.severity, case.category, case.description),
                    tags=run_tags(
                        case.severity, case.category, case.channel, case.department, status_tag
                    ),
                )
        create_markdown_artifact(
            markdown=casefile.timeline_markdown(settings, file),
            key=artifact_key(case_no),
            description=f"{case_no} 案件时间线 / timeline",
        )
        rows = casefile.open_cases_rows(settings)
        create_table_artifact(
            table=rows or [{"案件编号 case": "—", "当前步骤 step": "没有未结案件 / no open cases"}],
            key=OPEN_CASES_KEY,
            description="未结案件（按截止时间）/ open cases, soonest due first",
        )
    except Exception as exc:  # the ledger is the record; the view can be rebuilt
        get_run_logger().warning("could not refresh the UI view of %s: %s", case_no, exc)
