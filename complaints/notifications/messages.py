"""Messages to the customer: rendered from templates, recorded once, then delivered.

The ledger row (unique per case, kind and plan cycle) is written before sending, so a retry
or a replayed run finds it and never sends twice. With an e-mail address and SMTP
configured the message is e-mailed; else, with a mainland mobile and SMS configured, it is
sent by the kind's approved SMS template (its links short, complaints.notifications.sms);
otherwise it is kept as a call script for the receiver to read to the customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from complaints.channels import links
from complaints.notifications import sms
from complaints.notifications.mailer import Mailer, MailError
from complaints.settings import Settings
from complaints.templating import MessageContext, MessageKind, Renderer
from models.db import unit_of_work
from models.ledger import Case, CustomerMessage
from models.repositories import CaseRepository
from rules import sms as sms_rules
from rules.sla import response_promise
from rules.working_time import Unit


@dataclass(frozen=True)
class Outcome:
    kind: str
    delivery: str
    status: str
    recipient: str


def send_once(
    settings: Settings,
    case_no: str,
    kind: MessageKind,
    cycle: int,
    now: datetime,
    *,
    explanation: str | None = None,
    result: str | None = None,
    reason: str | None = None,
    expected_at: datetime | None = None,
    occasion: int | None = None,
) -> Outcome:
    """Record the message if it is not recorded yet, then deliver it if it is pending.

    A kind is sent once per plan cycle; one that may come more often in a cycle (a delay
    notice per delay) names its `occasion`, and is sent once per occasion."""
    key = links.secret(settings, now)  # before the unit of work: it may write the key
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        case = repo.get(case_no)
        if case is None:
            raise LookupError(f"no case {case_no}")
        row_kind = kind.value if occasion is None else f"{kind.value}#{occasion}"
        message = repo.message(case.id, row_kind, cycle)
        if message is None:
            extra = {"explanation": explanation, "result": result, "reason": reason}
            if expected_at is not None:
                extra["expected_at"] = f"{expected_at.astimezone(settings.tz):%Y-%m-%d %H:%M}"
            composed = _compose(settings, key, case, kind, cycle, now, extra)
            composed.kind = row_kind
            message = repo.add_message(composed)
        message_id = message.id
        outcome = Outcome(kind.value, message.delivery, message.status, message.recipient)
    if outcome.status in ("sent", "delivered", "script"):
        return outcome
    return _deliver(settings, message_id, now)


def _compose(
    settings: Settings,
    key: bytes,
    case: Case,
    kind: MessageKind,
    cycle: int,
    now: datetime,
    extra: dict[str, str | None],
) -> CustomerMessage:
    promise = response_promise(settings.sla, case.severity)
    in_days = promise.unit is Unit.WORKING_DAYS
    context = MessageContext(
        company_name=settings.company_name,
        case_no=case.case_no,
        customer_name=case.customer_name,
        received_at=f"{case.received_at.astimezone(settings.tz):%Y-%m-%d %H:%M}",
        description=case.description,
        promised_hours=None if in_days else promise.amount,
        promised_days=promise.amount if in_days else None,
        **extra,
        status_url=links.status_url(settings, key, case.case_no, now),
        survey_url=(
            links.survey_url(settings, key, case.case_no, cycle, now)
            if kind is MessageKind.SURVEY_INVITATION
            else None
        ),
        survey_days=settings.survey_link_days,
    )
    rendered = Renderer(settings.templates_dir).message(kind, case.language.value, context)
    by_email = bool(case.customer_email and settings.smtp_host)
    params, why_not = (
        (None, None)
        if by_email
        else _sms_params(settings, key, case, kind, cycle, now, context, extra)
    )
    delivery = "email" if by_email else "sms" if params is not None else "script"
    return CustomerMessage(
        case_id=case.id,
        kind=kind.value,
        cycle=cycle,
        language=case.language.value,
        delivery=delivery,
        recipient=(case.customer_email if by_email else case.customer_phone)
        or case.customer_email
        or "",
        subject=rendered.subject,
        body=rendered.body,
        status="script" if delivery == "script" else "pending",
        error=why_not,
        attempts=0,
        created_at=now,
        sms_params=params,
    )


def _sms_params(
    settings: Settings,
    key: bytes,
    case: Case,
    kind: MessageKind,
    cycle: int,
    now: datetime,
    context: MessageContext,
    extra: dict[str, str | None],
) -> tuple[dict[str, str] | None, str | None]:
    """The SMS template's variables when this message can go by SMS (a provider, the
    kind's template, a mainland mobile); else None, with why not when SMS was configured."""
    template = settings.sms.templates.get(kind.value)
    if settings.sms.provider is None or not sms_rules.can_text(case.customer_phone):
        return None, None
    if template is None:
        return (
            None,
            f"no SMS template for {kind.value} (COMPLAINTS_SMS__TEMPLATES): kept as a script",
        )
    link = (
        links.survey_link(settings, case.case_no, cycle, now)
        if kind is MessageKind.SURVEY_INVITATION
        else links.status_link(settings, case.case_no, now)
    )
    values = {
        "case": case.case_no,
        "code": links.short_token(key, link),
        "promise": sms_rules.promise_text(context.promised_hours, context.promised_days),
        "days": str(settings.survey_link_days),
        "time": extra.get("expected_at") or "",
    }
    params = {name: values[name] for name in sms_rules.VARIABLES[kind.value]}
    problems = sms_rules.problems(kind.value, params, settings.sms.variable_max_chars)
    if problems:
        return None, f"not sent by SMS ({'; '.join(problems)}): kept as a script"
    return params, None


def _deliver(settings: Settings, message_id: int, now: datetime) -> Outcome:
    with unit_of_work(settings.database_url) as session:
        by_sms = CaseRepository(session).message_by_id(message_id).delivery == "sms"
    return _text(settings, message_id, now) if by_sms else _mail(settings, message_id, now)


def _text(settings: Settings, message_id: int, now: datetime) -> Outcome:
    """Send the message by its SMS template. Refused for good (not a mobile, a blocked
    number), it becomes a script for the receiver to phone the customer; not taken now
    (throttled, unreachable), it raises and the step tries again later."""
    texter = sms.provider(settings)
    with unit_of_work(settings.database_url) as session:
        message = CaseRepository(session).message_by_id(message_id)
        phone, params = message.recipient, dict(message.sms_params or {})
        template = settings.sms.templates.get(message.kind.split("#")[0], "")
    failure: sms.SmsUnavailable | None = None
    sent = sms.Sent(refused="SMS is no longer configured")
    if texter is not None and template:
        try:
            sent = texter.send(phone, template, params, out_id=str(message_id))
        except sms.SmsUnavailable as exc:
            failure = exc
    with unit_of_work(settings.database_url) as session:
        message = CaseRepository(session).message_by_id(message_id)
        message.attempts += 1
        if failure is not None:
            message.status, message.error = "failed", str(failure)
        elif sent.ref is not None:
            message.status, message.provider_ref, message.sent_at = "sent", sent.ref, now
            message.error = None
        else:
            message.delivery, message.status = "script", "script"
            message.error = f"SMS refused for good, kept as a script: {sent.refused}"
        outcome = Outcome(message.kind, message.delivery, message.status, message.recipient)
    if failure is not None:
        raise failure
    return outcome


def refresh_sms_reports(settings: Settings, now: datetime, limit: int = 50) -> int:
    """Ask the provider what became of the SMS sent in the last three days and not known
    delivered yet: delivered, or failed for good (then a script for a colleague to phone).
    Returns how many changed."""
    texter = sms.provider(settings)
    if texter is None:
        return 0
    with unit_of_work(settings.database_url) as session:
        waiting = [
            (m.id, m.recipient, m.provider_ref or "", m.sent_at or now)
            for m in CaseRepository(session).sms_awaiting_report(now - timedelta(days=3), limit)
        ]
    changed = 0
    for message_id, phone, ref, sent_at in waiting:
        try:
            report = texter.report(phone, ref, sent_at)
        except sms.SmsUnavailable:
            break  # the provider is not answering: the next pass asks again
        if not (report.delivered or report.failed):
            continue
        with unit_of_work(settings.database_url) as session:
            message = CaseRepository(session).message_by_id(message_id)
            if report.delivered:
                message.status = "delivered"
            else:
                message.delivery, message.status = "script", "script"
                message.error = f"SMS not delivered ({report.failed}), kept as a script"
        changed += 1
    return changed


def _mail(settings: Settings, message_id: int, now: datetime) -> Outcome:
    """E-mail the message under a Message-ID the ledger holds before the first attempt (a
    reply threading on it finds the case; a retry is the same mail). A passing failure
    raises (the task tries again later); a refusal for good (no such mailbox) turns it
    into a script for the receiver to phone or text the customer, so a mistyped address
    never stops the case."""
    sender = mailer(settings)
    with unit_of_work(settings.database_url) as session:  # the identity, before sending
        message = CaseRepository(session).message_by_id(message_id)
        if message.mail_message_id is None:
            message.mail_message_id = sender.new_message_id()
        to, subject, body = message.recipient, message.subject, message.body
        mail_id = message.mail_message_id
    failure: MailError | None = None
    try:
        sender.send(to, subject, body, message_id=mail_id)
    except MailError as exc:
        failure = exc
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        message = repo.message_by_id(message_id)
        message.attempts += 1
        message.error = str(failure) if failure else None
        message.sent_at = None if failure else now
        if failure is None:
            message.status = "sent"
        elif failure.permanent:
            phone = repo.by_id(message.case_id).customer_phone
            message.delivery, message.status = "script", "script"
            message.recipient = phone or message.recipient
            message.error = f"e-mail refused for good, kept as a script: {failure}"
        else:
            message.status = "failed"
        outcome = Outcome(message.kind, message.delivery, message.status, message.recipient)
    if failure is not None and not failure.permanent:
        raise failure
    return outcome


def mailer(settings: Settings) -> Mailer:
    assert settings.smtp_host is not None
    return Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )
