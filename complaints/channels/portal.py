"""The customer's side of a case, and the channels' API use cases behind the web service.

- `submit`: a complaint from a channel's system, registered exactly as the command line
  registers one (committed to the ledger before the answer; a Prefect outage leaves it
  for reconcile), idempotent by channel + the channel's own reference.
- `channel_status`: a case as the channel that submitted it may read it.
- `customer_status`: the customer's status page behind a signed link.
- `survey` / `answer_survey`: the customer's own satisfaction survey; an answer resumes
  the callback step exactly as the callback staff's form does (the same validation, the
  same reopening on rejection, the same escalation).

Everything the customer or a channel reads is masked (their name, contact) and speaks in
stages (rules.customer_view), never in handlers' names or internal rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from complaints.cases import actions, casefile, casework, intake, staff
from complaints.cases.casefile import CaseFile, current_due, masker
from complaints.channels import links
from complaints.channels.keys import Caller
from complaints.settings import Settings
from rules.customer_view import Milestone, milestones
from rules.enums import CaseStatus, Channel
from rules.fields import prose
from rules.intake import CROSS_FIELD_RULES, ComplaintIn
from rules.masking import mask_name
from rules.sla import response_promise
from rules.staff import CUSTOMER
from rules.steps import Step
from rules.working_time import Unit


class Refused(ValueError):
    """A request that cannot be served: `status` is the HTTP status, `fields` the wrong ones."""

    def __init__(
        self, status: int, message: str, fields: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.fields = fields or []


@dataclass(frozen=True)
class Submitted:
    case_no: str
    created: bool
    flow_run_started: bool
    promised_response: str
    status_url: str


class CaseStatusView(BaseModel):
    """A case as its customer and its channel see it (masked; stages, not handlers)."""

    case_no: str
    status: str
    stage: str
    received_at: str
    promised_response: str
    due_at: str | None
    result: str | None
    milestones: list[Milestone]
    customer_name: str
    language: str


@dataclass(frozen=True)
class SurveyForm:
    case_no: str
    customer_name: str
    result: str | None
    token: str
    language: str


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Each wrong field with its reason, as the API answers them."""
    fields = []
    for error in exc.errors():
        reason = error["msg"].removeprefix("Value error, ")
        where = ".".join(str(p) for p in error["loc"])
        for field in (where,) if where else CROSS_FIELD_RULES.get(reason, ("body",)):
            fields.append({"field": field, "reason": reason})
    return fields


RECEIVER_NAME = 44
"""Characters of a key's name in the receiver it registers a complaint by, with " (API)"
within the register's 50."""


def submit(settings: Settings, caller: Caller, body: Any, now: datetime) -> Submitted:
    if not isinstance(body, dict):
        raise Refused(422, "a complaint must be a JSON object")
    body = dict(body)
    given = body.pop("channel", None)
    if given is not None and _channel(given) is not caller.channel:
        raise Refused(
            403,
            f"this key submits for the channel {caller.channel.code} ({caller.channel.value})",
            [{"field": "channel", "reason": f"must be {caller.channel.code} or left out"}],
        )
    body["channel"] = caller.channel.value
    typed = "receiver" in body  # else the key's name registers it, not a person to check
    body.setdefault("receiver", f"{caller.name[:RECEIVER_NAME]} (API)")
    ref = body.get("external_ref")
    if not ref or (isinstance(ref, str) and not ref.strip()):  # blank: a new case per retry
        raise Refused(
            422,
            "invalid complaint",
            [
                {
                    "field": "external_ref",
                    "reason": "the channel's own id of this complaint is required, so a retried "
                    "request registers one case",
                }
            ],
        )
    try:
        complaint = ComplaintIn.model_validate(body)
    except ValidationError as exc:
        raise Refused(422, "invalid complaint", field_errors(exc)) from None
    problems = complaint.timing_problems(now, settings.input_limits)
    if problems:
        raise Refused(422, "invalid complaint", [_problem_field(problem) for problem in problems])
    refused = staff.receiver_check(settings, complaint) if typed else None
    if refused is not None:
        reason = refused.removeprefix("receiver: ")
        raise Refused(422, "invalid complaint", [{"field": "receiver", "reason": reason}])
    try:
        result = intake.submit(complaint, settings, now)
    except casework.IdempotencyConflict as exc:
        raise Refused(
            409, str(exc), [{"field": "external_ref", "reason": "already used"}]
        ) from None
    key = links.secret(settings, now)
    return Submitted(
        case_no=result.case_no,
        created=result.created,
        flow_run_started=result.flow_run_id is not None,
        promised_response=promise_text(settings, complaint.severity),
        status_url=links.status_url(settings, key, result.case_no, now),
    )


def channel_status(settings: Settings, caller: Caller, case_no: str) -> CaseStatusView:
    """A case as its channel may read it; another channel's case is 'not found', so a key
    cannot even learn which numbers exist elsewhere."""
    file = _file(settings, case_no)
    if file is None or file.case.channel is not caller.channel:
        raise Refused(404, f"no case {case_no} for the channel {caller.channel.code}")
    return _status(settings, file)


def customer_status(settings: Settings, token: str, now: datetime) -> CaseStatusView:
    return _status(settings, _linked(settings, token, links.Page.STATUS, now)[1])


def survey(settings: Settings, token: str, now: datetime) -> SurveyForm:
    """The survey behind a link, while the case waits for exactly this survey."""
    link, file = _linked(settings, token, links.Page.SURVEY, now)
    case = file.case
    answered = any(
        entry.step == Step.CALLBACK.value
        and entry.cycle == link.cycle
        and entry.decision in ("satisfied", "not_satisfied")
        for entry in file.audit
    )
    if answered or case.status is CaseStatus.CLOSED or case.cycle != link.cycle:
        raise Refused(410, "this survey has been answered already, or the case has moved on")
    if case.current_step != Step.CALLBACK.value or case.waiting_key is None:
        raise Refused(409, "the case is not ready for your opinion yet; please try again later")
    return SurveyForm(
        case_no=case.case_no,
        customer_name=mask_name(case.customer_name) or "",
        result=masker(case)(case.result_summary) if case.result_summary else None,
        token=token,
        language=case.language.value,
    )


def answer_survey(
    settings: Settings, token: str, answer: dict[str, Any], now: datetime
) -> SurveyForm:
    """Resume the callback step with the customer's own answer (as the staff's form would)."""
    form = survey(settings, token, now)
    raw = {**answer, "actor": CUSTOMER}
    try:
        actions.validate_input(Step.CALLBACK, raw, settings)
    except actions.ActionRefused as exc:
        raise Refused(400, str(exc).split(": ", 2)[-1]) from None
    try:
        actions.act(settings, form.case_no, Step.CALLBACK.value, raw, as_customer=True)
    except actions.ActionRefused as exc:
        survey(settings, token, now)  # answered meanwhile (a second click): says so, 410
        raise Refused(
            409, f"your answer could not be taken just now ({exc}); please try again"
        ) from None
    return form


@dataclass(frozen=True)
class Chased:
    case_no: str
    escalated: bool  # the promised time had passed: the department head was alerted


CHASE_NOTE = 200


def chase(settings: Settings, case_no: str, via: str, note: str | None, now: datetime) -> Chased:
    """The customer (or their channel) asks for progress: recorded on the case for the
    handler, escalated like an overdue step when the promised time has passed."""
    note = (note or "").strip() or None
    if note is not None:
        try:
            prose(note)
        except ValueError as exc:
            raise Refused(422, "invalid chase", [{"field": "note", "reason": str(exc)}]) from None
        if len(note) > CHASE_NOTE:
            raise Refused(
                422,
                "invalid chase",
                [{"field": "note", "reason": f"at most {CHASE_NOTE} characters"}],
            )
    try:
        fired = casework.chase(settings, case_no, now, via, note)
    except casework.CaseStateError:
        raise Refused(409, "this case is closed; contact us if you need anything more") from None
    return Chased(case_no, bool(fired))


def customer_chase(settings: Settings, token: str, note: str | None, now: datetime) -> Chased:
    link, _ = _linked(settings, token, links.Page.STATUS, now)
    return chase(settings, link.case_no, "status-page", note, now)


def channel_chase(
    settings: Settings, caller: Caller, case_no: str, note: str | None, now: datetime
) -> Chased:
    channel_status(settings, caller, case_no)  # another channel's case is not found
    return chase(settings, case_no, f"api:{caller.name}", note, now)


def promise_text(settings: Settings, severity: Any) -> str:
    promise = response_promise(settings.sla, severity)
    amount = f"{promise.amount:g}"
    if promise.unit is Unit.WORKING_DAYS:
        return f"{amount} 个工作日内答复 / a reply within {amount} working days"
    return f"{amount} 小时内答复 / a reply within {amount} hours"


def _status(settings: Settings, file: CaseFile) -> CaseStatusView:
    case = file.case
    closed = case.status is CaseStatus.CLOSED
    stages = milestones(((e.step, e.decision, e.at) for e in file.audit), case.current_step, closed)
    now_stage = next((m for m in stages if m.current), stages[-1])
    return CaseStatusView(
        case_no=case.case_no,
        status=case.status.value,
        stage=now_stage.label,
        received_at=_when(settings, case.received_at) or "",
        promised_response=promise_text(settings, case.severity),
        due_at=None if closed else _when(settings, current_due(file)),
        result=masker(case)(case.result_summary) if case.result_summary else None,
        milestones=[
            replace(m, reached_at=m.reached_at.astimezone(settings.tz)) if m.reached_at else m
            for m in stages
        ],
        customer_name=mask_name(case.customer_name) or "",
        language=case.language.value,
    )


def _when(settings: Settings, value: datetime | None) -> str | None:
    return f"{value.astimezone(settings.tz):%Y-%m-%d %H:%M}" if value else None


def _file(settings: Settings, case_no: str) -> CaseFile | None:
    try:
        return casefile.read(settings, case_no)
    except LookupError:
        return None


def unfold(settings: Settings, token: str, now: datetime) -> str:
    """The page a short link (from an SMS) stands for; refused when forged or expired."""
    key = links.secret(settings, now)
    try:
        return links.long_url(settings, key, links.verify_short(key, token, now))
    except links.LinkRefused as exc:
        raise Refused(410 if exc.expired else 404, str(exc)) from None


def _linked(
    settings: Settings, token: str, page: links.Page, now: datetime
) -> tuple[links.Link, CaseFile]:
    """The link a customer followed and the case it is for; refused when forged,
    expired (410) or for no case."""
    try:
        link = links.verify(links.secret(settings, now), token, page, now)
    except links.LinkRefused as exc:
        raise Refused(410 if exc.expired else 404, str(exc)) from None
    file = _file(settings, link.case_no)
    if file is None:
        raise Refused(404, "this link is not valid")
    return link, file


def _channel(value: Any) -> Channel | None:
    try:
        return Channel(value)
    except ValueError:
        return None


def _problem_field(problem: str) -> dict[str, str]:
    field, _, reason = problem.partition(": ")
    return {"field": field, "reason": reason or problem}
