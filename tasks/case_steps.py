"""The tasks of the case flow, one per box of the process chart.

Each task is one unit of work on the ledger, idempotent by construction (audit keys and
per-kind message rows), so a retry or a replayed run never repeats a side effect. Each
`case_step` publishes the case's view in the UI when it is done (tasks.kinds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from complaints.cases import casefile, casework, intake, staff
from complaints.cases.casework import INVALID_SUFFIX
from complaints.notifications import notices
from complaints.notifications.messages import Outcome, send_once
from complaints.orchestration import forms
from complaints.settings import get_settings
from complaints.templating import MessageKind
from complaints.timesource import utc_now
from rules.inputs import (
    FeedbackInput,
    ProgressInput,
    StepInput,
    VerifyInput,
    WaitOnCustomer,
    settle,
)
from rules.intake import ComplaintIn
from rules.presentation import report_artifact_key
from rules.staff import CUSTOMER
from rules.steps import Step
from tasks.kinds import DELIVERY_RETRIES, case_step, ledger_task
from tasks.views import publish_case

S = TypeVar("S", bound=StepInput)


class DuplicateRun(RuntimeError):
    """This run was started for a case that already has its own run."""


@ledger_task("open-case")
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
        refused = staff.receiver_check(settings, complaint)  # typed by hand too
        if refused is not None:
            raise ValueError(f"invalid complaint: {refused}")
        case_no = casework.register(complaint, settings, now, flow_run_id=run_id).case_no
        intake.forget_form(run_id, case_no)  # the customer's data lives in the ledger only
    owner = casework.attach_run(settings, case_no, run_id, utc_now())
    if owner != run_id:
        raise DuplicateRun(f"{case_no} is already handled by flow run {owner}")
    view = casework.load(settings, case_no)
    if view.current_step == Step.REGISTER.value:  # first shown now; a replay changes nothing
        publish_case(settings, case_no)
    return view


def tell_customer(
    case_no: str,
    step: Step,
    cycle: int,
    decision: str,
    messages: list[tuple[MessageKind, dict[str, Any]]],
    payload: dict[str, Any] | Callable[[list[Outcome]], dict[str, Any]],
    entry: int = 0,
) -> list[Outcome]:
    """Send each message once, then record the step as done with `payload` (or what it
    makes of the outcomes)."""
    settings = get_settings()
    now = utc_now()
    sent = [send_once(settings, case_no, kind, cycle, now, **extra) for kind, extra in messages]
    recorded = payload(sent) if callable(payload) else payload
    casework.record_event(settings, case_no, step, cycle, now, decision, recorded, entry=entry)
    return sent


@case_step("acknowledge", **DELIVERY_RETRIES)
def acknowledge(case_no: str) -> Outcome:
    (outcome,) = tell_customer(
        case_no,
        Step.ACKNOWLEDGE,
        0,
        "acknowledged",
        [(MessageKind.ACKNOWLEDGEMENT, {})],
        lambda sent: {"delivery": sent[0].delivery},
    )
    return outcome


@case_step("answer-on-spot", **DELIVERY_RETRIES)
def answer_on_spot(case_no: str, answer: str) -> list[Outcome]:
    """The answer given on the spot is recorded, and the customer is invited to the survey
    the callback asks: every path that ends in a callback invites them."""
    return tell_customer(
        case_no,
        Step.ANSWER_ON_SPOT,
        0,
        "answered_on_spot",
        [(MessageKind.SURVEY_INVITATION, {})],
        {"answer": answer},
    )


@case_step("await-person", task_run_name="wait-{step}")
def await_person(
    case_no: str,
    step: Step,
    key: str,
    error: str | None = None,
) -> tuple[str, list[str] | None]:
    """Mark the case as waiting at `step` and tell the people who may take it that it is
    theirs; returns the markdown shown above its form and the names its actor field offers
    (None: typed freely, no staff directory in force)."""
    settings = get_settings()
    now = utc_now()
    due = casework.open_step(settings, case_no, step, key, now)
    markdown = casefile.form_markdown(settings, casefile.read(settings, case_no), step, due, error)
    names = staff.eligible(settings, case_no, step)
    notices.tell_turn(settings, case_no, step, key, due, error, names, now)
    return markdown, forms.offered(step, names)


@case_step("record-decision", task_run_name="{step}")
def record(case_no: str, step: Step, key: str, data: S) -> tuple[S, list[str]]:
    """Record the decision as settled (a deadline in working days made a moment); returns
    it, or the problems instead when it breaks a rule of time."""
    settings = get_settings()
    now = utc_now()
    data, problems = settle(data, now, settings.sla.clock(settings.tz), settings.input_limits)
    if problems:
        casework.record_invalid(settings, case_no, step, key, now, "; ".join(problems))
        return data, problems
    # The UI's form resumed the run without asking anyone: the directory is asked here. The
    # customer's own survey page checked its link instead (complaints.channels.portal) and
    # left its mark; the customer's name from anyone else is refused like any stranger's.
    on_page = step is Step.CALLBACK and data.actor == CUSTOMER
    if not (on_page and casework.answered_on_page(settings, case_no, key)):
        refused = staff.attempt(
            settings, case_no, step, data.actor, now, key + INVALID_SUFFIX, data=data
        )
        if refused is not None:
            return data, [refused]
    casework.record_decision(settings, case_no, step, key, data, now)
    return data, problems


@ledger_task("reject-input", task_run_name="reject-{step}")
def reject_input(case_no: str, step: Step, key: str, errors: str) -> None:
    settings = get_settings()
    casework.record_invalid(settings, case_no, step, key, utc_now(), errors)


@case_step("explain", **DELIVERY_RETRIES)
def explain(case_no: str, verification: VerifyInput, cycle: int) -> list[Outcome]:
    """Tell the customer why the complaint was not substantiated, and invite them to the
    survey of the callback that follows."""
    explanation = verification.explanation_to_customer
    return tell_customer(
        case_no,
        Step.EXPLAIN,
        cycle,
        "explained",
        [
            (MessageKind.NOT_SUBSTANTIATED, {"explanation": explanation}),
            (MessageKind.SURVEY_INVITATION, {}),
        ],
        {"explanation_to_customer": explanation},
    )


@case_step("feed-back", **DELIVERY_RETRIES)
def feed_back(case_no: str, feedback: FeedbackInput, cycle: int) -> list[Outcome]:
    """Tell the customer the result and invite them to the satisfaction survey."""
    messages = [
        (MessageKind.RESULT, {"result": feedback.result}),
        (MessageKind.SURVEY_INVITATION, {}),
    ]
    return tell_customer(
        case_no, Step.FEEDBACK, cycle, "fed_back", messages, {"result": feedback.result}
    )


@case_step("tell-delay", **DELIVERY_RETRIES)
def tell_delay(case_no: str, progress: ProgressInput, cycle: int, entry: int) -> Outcome:
    """The customer learns that handling takes longer: the reason, and the new time."""
    (outcome,) = tell_customer(
        case_no,
        Step.EXECUTE,
        cycle,
        "delay_told",
        [
            (
                MessageKind.DELAY_NOTICE,
                {
                    "reason": progress.delay_reason,
                    "expected_at": progress.new_deadline,
                    "occasion": entry,
                },
            )
        ],
        {"new_deadline": progress.new_deadline.isoformat() if progress.new_deadline else None},
        entry=entry,
    )
    return outcome


@case_step("reopen")
def reopen(case_no: str, cycle: int) -> int:
    return casework.reopen(get_settings(), case_no, cycle, utc_now())


@case_step("close")
def close(case_no: str) -> str:
    """Close the case with its six-part report, stored in the ledger and on the run."""
    settings = get_settings()
    now = utc_now()
    report = casefile.report_markdown(settings, casefile.read(settings, case_no), now)
    casework.close(settings, case_no, now, report)
    create_markdown_artifact(
        markdown=report,
        key=report_artifact_key(case_no),
        description=f"{case_no} 投诉处理报告 / case report",
    )
    return report


@case_step("record-customer-wait")
def record_customer_wait(case_no: str, request: WaitOnCustomer) -> None:
    """The case waits on the customer (its SLA clocks stop), or the customer answered."""
    settings = get_settings()
    now = utc_now()
    refused = staff.attempt(settings, case_no, Step.HOLD, request.actor, now)
    if refused is not None:
        raise ValueError(f"{case_no}: {refused}")  # the run says why; nothing changed
    if request.waiting:
        casework.hold(settings, case_no, now, request.actor, request.note)
    else:
        casework.release(settings, case_no, now, request.actor, request.note)
