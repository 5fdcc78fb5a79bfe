"""One complaint, one flow run: the process chart of PROCESS.md as code.

register → acknowledge → (answered on the spot → callback → close)
         → verify → (not substantiated → explain → callback → close)
         → grade ⇄ approve → [plan ⇄ approve → execute → feed back → callback]
           → satisfied: close | not satisfied: reopen and plan again

Every wait suspends the run (no process is held). A resume starts the flow again from the
top; decisions already in the ledger are returned by `wait_for` without waiting and
tasks already done are skipped, so a replay costs one ledger read however long the
history is.
"""

from __future__ import annotations

from typing import TypeVar

from prefect import flow
from prefect.flow_runs import suspend_flow_run
from pydantic import ValidationError

from complaints.cases.casework import INVALID_SUFFIX, CaseView
from complaints.orchestration.forms import person_form
from rules import inputs
from rules.intake import ComplaintIn
from rules.steps import Step, event_key, wait_key
from tasks.case_steps import (
    acknowledge,
    answer_on_spot,
    await_person,
    close,
    explain,
    feed_back,
    open_case,
    record,
    reject_input,
    reopen,
    tell_delay,
)

M = TypeVar("M", bound=inputs.StepInput)


@flow(name="case-lifecycle", log_prints=True)
def case_lifecycle(complaint: ComplaintIn | None = None, case_no: str | None = None) -> str:
    """Handle one complaint from registration to closing (客户投诉处理)."""
    case = open_case(complaint, case_no)
    if not case.done(event_key(Step.ACKNOWLEDGE)):
        acknowledge(case.case_no)

    cycle = 0
    if case.answered_on_spot:
        if not case.done(event_key(Step.ANSWER_ON_SPOT)):
            answer_on_spot(case.case_no, case.on_spot_answer or "")
        if wait_for(case, Step.CALLBACK, inputs.SurveyInput, cycle).satisfied:
            return finish(case)
        cycle = reopen_case(case, cycle)  # the answer did not settle it: handle it fully

    verification = wait_for(case, Step.VERIFY, inputs.VerifyInput, cycle)
    if not verification.substantiated:
        if not case.done(event_key(Step.EXPLAIN, cycle)):
            explain(case.case_no, verification, cycle)
        wait_for(case, Step.CALLBACK, inputs.SurveyInput, cycle)
        return finish(case)

    approved_decision(case, Step.GRADE, inputs.GradeInput, Step.APPROVE_GRADE, cycle)

    while True:
        approved_decision(case, Step.PLAN, inputs.PlanInput, Step.APPROVE_PLAN, cycle)
        execute(case, cycle)
        feedback = wait_for(case, Step.FEEDBACK, inputs.FeedbackInput, cycle)
        if not case.done(event_key(Step.FEEDBACK, cycle)):
            feed_back(case.case_no, feedback, cycle)
        if wait_for(case, Step.CALLBACK, inputs.SurveyInput, cycle).satisfied:
            return finish(case)
        cycle = reopen_case(case, cycle)


def reopen_case(case: CaseView, cycle: int) -> int:
    if not case.done(event_key(Step.REOPEN, cycle)):
        reopen(case.case_no, cycle)
    return cycle + 1


def approved_decision(case: CaseView, step: Step, model: type[M], approval: Step, cycle: int) -> M:
    """A decision and its approval; a rejection sends it back to be decided again."""
    round_ = 0
    while True:
        decision = wait_for(case, step, model, cycle, entry=round_)
        verdict = wait_for(case, approval, inputs.ApprovalInput, cycle, entry=round_)
        if verdict.approved:
            return decision
        round_ += 1


def execute(case: CaseView, cycle: int) -> None:
    """Progress entries until the owner reports completion (due by the plan's deadline)."""
    entry = 0
    while True:
        progress = wait_for(case, Step.EXECUTE, inputs.ProgressInput, cycle, entry=entry)
        if progress.kind.code == "done":
            return
        if progress.kind.code == "delay" and not case.done(event_key(Step.EXECUTE, cycle, entry)):
            tell_delay(case.case_no, progress, cycle, entry)
        entry += 1


def wait_for(
    case: CaseView,
    step: Step,
    model: type[M],
    cycle: int,
    entry: int = 0,
) -> M:
    """The person's input for this wait: from the ledger if given before, else suspend.

    Input that passes the form's schema but breaks a cross-field rule is recorded as
    rejected, and the case waits again under a new key with the reason shown on the form.
    """
    attempt, error = 0, None
    while rejected := case.decision(wait_key(step, cycle, attempt, entry) + INVALID_SUFFIX):
        error = rejected.get("errors")
        attempt += 1
    while True:
        key = wait_key(step, cycle, attempt, entry)
        given = case.decision(key)
        if given is not None:
            return model.model_validate(given)
        description, names = await_person(case.case_no, step, key, error)
        form = person_form(model, description, names)
        try:
            # The form class carries the model's validators, so a cross-field rule broken
            # in the UI surfaces here, when Prefect loads the input.
            answer = suspend_flow_run(wait_for_input=form, key=key, timeout=None)
            data = model.model_validate(answer.model_dump())
        except ValidationError as exc:
            error = inputs.describe_errors(exc)
            reject_input(case.case_no, step, key, error)
            attempt += 1
            continue
        data, problems = record(case.case_no, step, key, data)
        if problems:
            error = "; ".join(problems)
            attempt += 1
            continue
        case.decisions[key] = data.model_dump(mode="json")
        return data


def finish(case: CaseView) -> str:
    if not case.done(event_key(Step.CLOSE)):
        close(case.case_no)
    return case.case_no
