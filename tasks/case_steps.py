"""The tasks of the case flow, one per box of the process chart.

Each task is one unit of work on the ledger, idempotent by construction (audit keys and
per-kind message rows), so a retry or a replayed run never repeats a side effect.
"""

from __future__ import annotations

from typing import TypeVar

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from complaints.cases import casefile, casework
from complaints.notifications.messages import Outcome, send_once
from complaints.settings import get_settings
from complaints.templating import MessageKind
from complaints.timesource import utc_now
from rules.inputs import FeedbackInput, StepInput, VerifyInput, settle
from rules.intake import ComplaintIn
from rules.steps import Step
from tasks.views import publish_case

S = TypeVar("S", bound=StepInput)

# Every write is guarded by the ledger (audit keys, one message row per kind and cycle), so
# tasks keep no result cache: a cached result would only hide a re-read of the ledger.


class DuplicateRun(RuntimeError):
    """This run was started for a case that already has its own run."""


@task(name="open-case", cache_policy=NO_CACHE, persist_result=False)
def open_case(complaint: ComplaintIn | None, case_no: str | None) -> casework.CaseView:
    """Find this run's case in the ledger, registering the complaint on the first start."""
    settings = get_settings()
    run_id = str(flow_run.get_id())
    if case_no is None:
        case_no = casework.find_by_run(settings, run_id)
    if case_no is None:
        if complaint is None:
            raise ValueError("a case run needs either a complaint or a case number")
        now = utc_now()
        problems = complaint.timing_problems(now, settings.input_limits)
        if problems:  # a complaint typed into the UI's Run form: refused, nothing written
            raise ValueError(f"invalid complaint: {'; '.join(problems)}")
        case_no = casework.register(complaint, settings, now, flow_run_id=run_id).case_no
    owner = casework.attach_run(settings, case_no, run_id)
    if owner != run_id:
        raise DuplicateRun(f"{case_no} is already handled by flow run {owner}")
    view = casework.load(settings, case_no)
    if view.current_step == Step.REGISTER.value:
        publish_case(settings, case_no)
    return view


@task(
    name="acknowledge",
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    cache_policy=NO_CACHE,
    persist_result=False,
)
def acknowledge(case_no: str) -> Outcome:
    settings = get_settings()
    now = utc_now()
    outcome = send_once(settings, case_no, MessageKind.ACKNOWLEDGEMENT, 0, now)
    casework.record_event(
        settings,
        case_no,
        Step.ACKNOWLEDGE,
        0,
        now,
        "acknowledged",
        {"delivery": outcome.delivery},
    )
    publish_case(settings, case_no)
    return outcome


@task(name="answer-on-spot", cache_policy=NO_CACHE, persist_result=False)
def answer_on_spot(case_no: str, answer: str) -> None:
    settings = get_settings()
    casework.record_event(
        settings,
        case_no,
        Step.ANSWER_ON_SPOT,
        0,
        utc_now(),
        "answered_on_spot",
        {"answer": answer},
    )
    publish_case(settings, case_no)


@task(name="await-person", task_run_name="wait-{step}", cache_policy=NO_CACHE, persist_result=False)
def await_person(
    case_no: str,
    step: Step,
    key: str,
    error: str | None = None,
) -> str:
    """Mark the case as waiting at `step`; returns the markdown shown above its form."""
    settings = get_settings()
    due = casework.open_step(settings, case_no, step, key, utc_now())
    publish_case(settings, case_no)
    return casefile.form_markdown(settings, casefile.read(settings, case_no), step, due, error)


@task(name="record-decision", task_run_name="{step}", cache_policy=NO_CACHE, persist_result=False)
def record(case_no: str, step: Step, key: str, data: S) -> tuple[S, list[str]]:
    """Record the decision as settled (a deadline in working days made a moment); returns
    it, or the problems instead when it breaks a rule of time."""
    settings = get_settings()
    now = utc_now()
    data, problems = settle(data, now, settings.sla.clock(settings.tz), settings.input_limits)
    if problems:
        casework.record_invalid(settings, case_no, step, key, now, "; ".join(problems))
    else:
        casework.record_decision(settings, case_no, step, key, data, now)
    publish_case(settings, case_no)
    return data, problems


@task(
    name="reject-input", task_run_name="reject-{step}", cache_policy=NO_CACHE, persist_result=False
)
def reject_input(case_no: str, step: Step, key: str, errors: str) -> None:
    settings = get_settings()
    casework.record_invalid(settings, case_no, step, key, utc_now(), errors)


@task(
    name="explain",
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    cache_policy=NO_CACHE,
    persist_result=False,
)
def explain(case_no: str, verification: VerifyInput) -> Outcome:
    settings = get_settings()
    now = utc_now()
    outcome = send_once(
        settings,
        case_no,
        MessageKind.NOT_SUBSTANTIATED,
        0,
        now,
        explanation=verification.explanation_to_customer,
    )
    casework.record_event(
        settings,
        case_no,
        Step.EXPLAIN,
        0,
        now,
        "explained",
        {"explanation_to_customer": verification.explanation_to_customer},
    )
    publish_case(settings, case_no)
    return outcome


@task(
    name="feed-back",
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    cache_policy=NO_CACHE,
    persist_result=False,
)
def feed_back(case_no: str, feedback: FeedbackInput, cycle: int) -> list[Outcome]:
    """Tell the customer the result and invite them to the satisfaction survey."""
    settings = get_settings()
    now = utc_now()
    sent = [
        send_once(settings, case_no, MessageKind.RESULT, cycle, now, result=feedback.result),
        send_once(settings, case_no, MessageKind.SURVEY_INVITATION, cycle, now),
    ]
    casework.record_event(
        settings,
        case_no,
        Step.FEEDBACK,
        cycle,
        now,
        "fed_back",
        {"result": feedback.result},
    )
    publish_case(settings, case_no)
    return sent


@task(name="reopen", cache_policy=NO_CACHE, persist_result=False)
def reopen(case_no: str, cycle: int) -> int:
    settings = get_settings()
    new_cycle = casework.reopen(settings, case_no, cycle, utc_now())
    publish_case(settings, case_no)
    return new_cycle


@task(name="close", cache_policy=NO_CACHE, persist_result=False)
def close(case_no: str) -> str:
    """Close the case with its six-part report, stored in the ledger and on the run."""
    settings = get_settings()
    now = utc_now()
    report = casefile.report_markdown(settings, casefile.read(settings, case_no), now)
    casework.close(settings, case_no, now, report)
    create_markdown_artifact(
        markdown=report,
        key=f"report-{case_no.lower()}",
        description=f"{case_no} 投诉处理报告 / case report",
    )
    publish_case(settings, case_no)
    return report
