"""Keep what the Prefect UI shows of a case current: run name, tags, artifacts."""

from __future__ import annotations

import time
from uuid import UUID

from prefect.artifacts import create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.logging import get_run_logger

from complaints.cases import casefile, worklist
from complaints.cases.casefile import masker
from complaints.notifications.notices import forwardings
from complaints.settings import Settings
from complaints.timesource import utc_now
from models.db import unit_of_work
from models.repositories import CaseRepository
from rules.enums import CaseStatus, Department
from rules.presentation import (
    alert_tags,
    artifact_key,
    run_name,
    run_tags,
    worklist_artifact_key,
)
from rules.worklist import table_rows

OPEN_CASES_KEY = "open-cases"


def publish_case(settings: Settings, case_no: str, open_cases: bool = True) -> None:
    """Rename and retag the case's run and refresh its timeline and the open-cases table.

    Called when every case step is done (tasks.kinds.case_step), and by the deadline
    watch when it escalates a case (the timeline artifact is attached to the case's own run either way).
    The UI is a view: a failure here is logged and never fails the step whose change is
    already committed.
    """
    try:
        file = casefile.read(settings, case_no)
        case = file.case
        run_id = UUID(case.flow_run_id) if case.flow_run_id else None
        with get_client(sync_client=True) as client:
            if run_id is not None:
                closed = case.status is CaseStatus.CLOSED
                status_tag = "已关闭" if closed else f"步骤:{case.current_step}"
                tags = run_tags(
                    case.severity, case.category, case.channel, case.department, status_tag
                )
                if not closed:
                    tags += alert_tags(
                        [d.alert_level for d in file.deadlines if d.done_at is None],
                        repeat=case.repeat_of is not None,
                        on_hold=casefile.on_hold(file),
                    )
                client.update_flow_run(
                    run_id,
                    name=run_name(
                        case.case_no, case.severity, case.category, masker(case)(case.description)
                    ),
                    tags=tags,
                )
            client.create_artifact(
                ArtifactCreate(
                    key=artifact_key(case_no),
                    type="markdown",
                    data=casefile.timeline_markdown(settings, file),
                    description=f"{case_no} 案件时间线 / timeline",
                    flow_run_id=run_id,
                )
            )
        if open_cases:
            publish_open_cases(settings)
            routed = {e.payload.get("department") for e in forwardings(file.audit)}
            departments = {Department(d) for d in routed if d} | (
                {case.department} if case.department else set()
            )
            publish_worklists(settings, sorted(departments))
    except Exception as exc:  # the ledger is the record; the view can be rebuilt
        get_run_logger().warning("could not refresh the UI view of %s: %s", case_no, exc)


def publish_open_cases(settings: Settings) -> None:
    """The open-cases table, soonest due first."""
    try:
        rows = casefile.open_cases_rows(settings)
        create_table_artifact(
            table=rows or [{"案件编号 case": "—", "当前步骤 step": "没有未结案件 / no open cases"}],
            key=OPEN_CASES_KEY,
            description="未结案件（按截止时间）/ open cases, soonest due first",
        )
    except Exception as exc:
        get_run_logger().warning("could not refresh the open-cases table: %s", exc)


def publish_worklists(settings: Settings, departments: list[Department]) -> None:
    """Each department's worklist table: its waiting cases, soonest due first, with how
    long each has waited, how long is left and whose turn it is."""
    for department in departments:
        try:
            rows = table_rows(worklist.waiting(settings, department), utc_now(), settings.tz)
            create_table_artifact(
                table=rows or [{"案件编号 case": "—", "当前步骤 step": "没有待办 / nothing waits"}],
                key=worklist_artifact_key(department),
                description=f"{department.value} 待办（按截止时间）/ worklist, soonest due first",
            )
        except Exception as exc:
            get_run_logger().warning("could not refresh %s's worklist: %s", department.value, exc)


def publish_escalated(settings: Settings, case_nos: list[str], budget_seconds: float) -> list[str]:
    """Show new escalations on the cases' runs: overdue tags and the timeline artifact.

    Works through `case_nos` for about `budget_seconds` and returns those not done yet.
    """
    started = time.monotonic()
    for index, case_no in enumerate(case_nos):
        if time.monotonic() - started > budget_seconds:
            publish_open_cases(settings)
            return case_nos[index:]
        publish_case(settings, case_no, open_cases=False)
    publish_open_cases(settings)
    return []


SKIPPED_MAILS_KEY = "mail-skipped"
SKIPPED_MAILS_SHOWN = 100


def publish_skipped_mails(settings: Settings) -> None:
    """The failed-mail report: the mails the intake left for a person, newest first."""
    try:
        with unit_of_work(settings.database_url) as session:
            repo = CaseRepository(session)
            mails = repo.skipped_mails(SKIPPED_MAILS_SHOWN + 1)
            rows = [
                {
                    "时间 when": m.skipped_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
                    "邮件 mail": f"{m.folder} #{m.uid}",
                    "发件人 from": m.sender or "—",
                    "原因 why": m.reason,
                    "案件 case": m.case_no or "—",
                }
                for m in mails[:SKIPPED_MAILS_SHOWN]
            ]
        cut = (
            f"，仅列最近 {SKIPPED_MAILS_SHOWN} 封 / the newest {SKIPPED_MAILS_SHOWN} shown"
            if len(mails) > SKIPPED_MAILS_SHOWN
            else ""
        )
        create_table_artifact(
            table=rows,
            key=SKIPPED_MAILS_KEY,
            description="未能受理、留给人工处理的邮件（原邮件在邮箱中）/ mails left for a person, "
            f"still in the mailbox{cut}",
        )
    except Exception as exc:
        get_run_logger().warning("could not refresh the failed-mail report: %s", exc)
