"""Intake: the complaint is committed to the ledger first, then its flow run is started.

If the Prefect server cannot be reached, the complaint stays registered with no run and
the reconciling flow (or `complaints reconcile`) starts it later. Runs are created with
the idempotency key ``case-<case number>``, so however often a start is retried — after a
crash between creating the run and recording it, say — one case has one run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from complaints.cases import casework
from complaints.cases.casefile import masker
from complaints.settings import Settings
from complaints.timesource import utc_now
from models.db import unit_of_work
from models.repositories import CaseRepository
from rules.inputs import describe_errors
from rules.intake import ComplaintIn
from rules.presentation import run_name, run_tags

log = logging.getLogger(__name__)


class ComplaintRefused(ValueError):
    """The complaint as given cannot be registered; the message names each wrong field."""


def accept(raw: Any, settings: Settings, now: datetime) -> ComplaintIn:
    """A complaint from outside (a file, a form, a channel), checked as every entry point
    checks it: the model's types and limits, then its times against now."""
    if not isinstance(raw, dict):
        raise ComplaintRefused("a complaint must be a JSON object")
    try:
        complaint = ComplaintIn.model_validate(raw)
    except ValidationError as exc:
        raise ComplaintRefused(f"invalid complaint: {describe_errors(exc)}") from None
    problems = complaint.timing_problems(now, settings.input_limits)
    if problems:
        raise ComplaintRefused(f"invalid complaint: {'; '.join(problems)}")
    return complaint


@dataclass(frozen=True)
class Submission:
    case_no: str
    created: bool
    flow_run_id: str | None
    start_error: str | None = None


def submit(complaint: ComplaintIn, settings: Settings, now: datetime) -> Submission:
    registration = casework.register(complaint, settings, now)
    if registration.flow_run_id:
        return Submission(registration.case_no, registration.created, registration.flow_run_id)
    try:
        run_id = start_run(settings, registration.case_no)
    except Exception as exc:  # the server is down or unreachable: reconcile later
        log.warning(
            "registered %s; its flow run will be started later: %s", registration.case_no, exc
        )
        return Submission(registration.case_no, registration.created, None, str(exc))
    return Submission(registration.case_no, registration.created, run_id)


def start_run(settings: Settings, case_no: str) -> str:
    """Create (or find) the case's flow run and record it in the ledger."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    with unit_of_work(settings.database_url) as session:
        case = CaseRepository(session).get(case_no)
        if case is None:
            raise casework.CaseNotFound(case_no)
        name = run_name(case.case_no, case.severity, case.category, masker(case)(case.description))
        tags = run_tags(case.severity, case.category, case.channel, case.department)
    run: FlowRun = run_deployment(  # type: ignore[assignment]
        settings.lifecycle_deployment,
        parameters={"case_no": case_no},
        flow_run_name=name,
        tags=tags,
        idempotency_key=f"case-{case_no}",
        timeout=0,
        as_subflow=False,
    )
    return casework.attach_run(settings, case_no, str(run.id), utc_now())


def forget_form(flow_run_id: str, case_no: str) -> None:
    """A complaint typed into the Prefect UI's Run form is kept by Prefect as the run's
    parameters, shown to anyone who opens the run. Once the ledger holds it, the run keeps
    only the case number (a resumed run finds its case by it)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.update_flow_run(UUID(flow_run_id), parameters={"case_no": case_no})


def reconcile(settings: Settings, limit: int = 100) -> list[str]:
    """Start the runs of registered cases that have none; returns the case numbers started."""
    with unit_of_work(settings.database_url) as session:
        waiting = [case.case_no for case in CaseRepository(session).unstarted(limit)]
    started = []
    for case_no in waiting:
        start_run(settings, case_no)
        started.append(case_no)
    return started
