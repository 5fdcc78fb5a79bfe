"""Customer messages (complaints.notifications.messages): recorded once, e-mailed once, or kept as a script."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from complaints.cases import casework
from complaints.notifications.mailer import MailError
from complaints.notifications.messages import Outcome, send_once
from complaints.settings import Settings
from complaints.templating import MessageKind
from embedded.stack import free_port
from models.db import unit_of_work
from models.ledger import CustomerMessage
from rules.enums import Channel, Demand, Severity
from rules.intake import ComplaintIn
from tests.integration.smtp_server import HOST, Inbox

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ACK = MessageKind.ACKNOWLEDGEMENT


def register(settings: Settings, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "external_ref": "EM-20261123-000001",
        "customer_name": "张三",
        "customer_phone": "13812345678",
        "customer_email": "zhangsan@example.com",
        "description": "快递延误五天还没送到，床垫的物流信息一直停在中转站。",
        "demand": Demand.COMPENSATION,
        "severity": Severity.SERIOUS,
        "receiver": "网络客服-赵雪",
    }
    fields.update(changes)
    return casework.register(ComplaintIn(**fields), settings, NOW).case_no


def messages(settings: Settings) -> list[CustomerMessage]:
    with unit_of_work(settings.database_url) as session:
        return list(session.scalars(sa.select(CustomerMessage).order_by(CustomerMessage.id)))


def received(inbox: Inbox) -> list[EmailMessage]:
    return [
        cast(EmailMessage, message_from_bytes(cast(bytes, e.content), policy=policy.default))
        for e in inbox.envelopes
    ]


def test_an_acknowledgement_is_e_mailed_once(settings: Settings, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = settings.model_copy(update={"smtp_host": HOST, "smtp_port": port})
    case_no = register(settings)

    outcome = send_once(settings, case_no, ACK, 0, NOW)

    assert outcome == Outcome("acknowledgement", "email", "sent", "zhangsan@example.com")
    (mail,) = received(inbox)
    assert inbox.envelopes[0].rcpt_tos == ["zhangsan@example.com"]
    assert mail["Subject"] == f"已收到您的反馈（案件编号 {case_no}）"
    body = mail.get_content()
    assert case_no in body and "张三" in body and "12 小时" in body
    (row,) = messages(settings)
    assert (row.status, row.attempts, row.error) == ("sent", 1, None)
    assert row.sent_at == NOW


def test_sending_the_acknowledgement_again_sends_nothing_and_returns_the_recorded_outcome(
    settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = settings.model_copy(update={"smtp_host": HOST, "smtp_port": port})
    case_no = register(settings)
    first = send_once(settings, case_no, ACK, 0, NOW)

    again = send_once(settings, case_no, ACK, 0, NOW + timedelta(minutes=5))

    assert again == first
    assert len(inbox.envelopes) == 1
    (row,) = messages(settings)
    assert (row.attempts, row.sent_at) == (1, NOW)


def test_a_message_that_cannot_be_sent_is_kept_as_failed_and_sent_once_when_the_server_is_back(
    settings: Settings,
) -> None:
    port = free_port()  # nothing listens here yet
    settings = settings.model_copy(update={"smtp_host": HOST, "smtp_port": port})
    case_no = register(settings)

    with pytest.raises(MailError, match="refused"):
        send_once(settings, case_no, ACK, 0, NOW)

    (row,) = messages(settings)
    assert (row.delivery, row.status, row.attempts, row.sent_at) == ("email", "failed", 1, None)
    assert row.error and "refused" in row.error and f"{HOST}:{port}" in row.error

    inbox = Inbox()
    controller = Controller(inbox, hostname=HOST, port=port)
    controller.start()
    try:
        later = NOW + timedelta(minutes=1)
        outcome = send_once(settings, case_no, ACK, 0, later)
        repeated = send_once(settings, case_no, ACK, 0, later + timedelta(minutes=1))
    finally:
        controller.stop()

    assert outcome.status == "sent"
    assert repeated == outcome
    assert len(inbox.envelopes) == 1
    (row,) = messages(settings)
    assert (row.status, row.attempts, row.error, row.sent_at) == ("sent", 2, None, later)


@pytest.mark.parametrize(
    ("severity", "hours"),
    [(Severity.GENERAL, 24), (Severity.SERIOUS, 12), (Severity.MAJOR, 2)],
)
def test_without_an_e_mail_address_the_acknowledgement_is_a_script_with_the_promised_hours(
    settings: Settings, smtp: tuple[Inbox, int], severity: Severity, hours: int
) -> None:
    inbox, port = smtp
    settings = settings.model_copy(update={"smtp_host": HOST, "smtp_port": port})
    case_no = register(settings, customer_email=None, severity=severity)

    outcome = send_once(settings, case_no, ACK, 0, NOW)

    assert outcome == Outcome("acknowledgement", "script", "script", "13812345678")
    (row,) = messages(settings)
    assert case_no in row.body
    assert f"{hours} 小时" in row.body
    assert (row.attempts, row.sent_at) == (0, None)
    assert inbox.envelopes == []


def test_without_smtp_configured_the_acknowledgement_is_a_script_for_the_receiver(
    settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    assert settings.smtp_host is None
    case_no = register(settings, severity=Severity.MAJOR)

    outcome = send_once(settings, case_no, ACK, 0, NOW)
    again = send_once(settings, case_no, ACK, 0, NOW + timedelta(minutes=1))

    assert outcome == again == Outcome("acknowledgement", "script", "script", "13812345678")
    (row,) = messages(settings)
    assert case_no in row.body and "2 小时" in row.body
    assert inbox.envelopes == []


def test_a_customer_reachable_only_by_e_mail_gets_a_script_addressed_to_the_e_mail_when_smtp_is_off(
    settings: Settings,
) -> None:
    case_no = register(settings, customer_phone=None)

    outcome = send_once(settings, case_no, ACK, 0, NOW)

    assert outcome == Outcome("acknowledgement", "script", "script", "zhangsan@example.com")


def test_the_acknowledgement_links_the_status_page_and_the_invitation_links_the_survey(
    settings: Settings,
) -> None:
    from complaints.channels import links

    case_no = register(settings)

    send_once(settings, case_no, ACK, 0, NOW)
    send_once(settings, case_no, MessageKind.SURVEY_INVITATION, 1, NOW)

    ack, invitation = messages(settings)
    key = links.secret(settings, NOW)
    status_token = ack.body.split(f"{settings.public_url}/c/")[1].split()[0]
    survey_token = invitation.body.split(f"{settings.public_url}/s/")[1].split()[0]
    assert links.verify(key, status_token, links.Page.STATUS, NOW).case_no == case_no
    survey = links.verify(key, survey_token, links.Page.SURVEY, NOW)
    assert (survey.case_no, survey.cycle) == (case_no, 1)
    assert f"{settings.survey_link_days} 天内有效" in invitation.body
    # the key is made once and shared through the ledger: the next reader gets the same
    assert links.secret(settings, NOW + timedelta(days=1)) == key


def test_an_address_the_mail_server_refuses_for_good_becomes_a_script_and_the_case_goes_on(
    settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    inbox.refused.add("no-such-box@example.com")
    settings = settings.model_copy(update={"smtp_host": HOST, "smtp_port": port})
    case_no = register(settings, customer_email="no-such-box@example.com")

    outcome = send_once(settings, case_no, ACK, 0, NOW)  # no exception: nothing to retry

    assert outcome == Outcome("acknowledgement", "script", "script", "13812345678")
    (row,) = messages(settings)
    assert row.error and "550" in row.error and "kept as a script" in row.error
    assert "no-such-box@example.com" not in row.error  # it reaches the run's log
    assert inbox.envelopes == []
    assert send_once(settings, case_no, ACK, 0, NOW) == outcome  # recorded once
