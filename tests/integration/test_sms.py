"""Messages to customers by SMS: the real Alibaba Cloud SMS client (its endpoint setting)
against a local stand-in of the provider's API, on both ledgers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from complaints.cases import casework
from complaints.channels.web import create_app
from complaints.notifications import sms
from complaints.notifications.messages import refresh_sms_reports, send_once
from complaints.settings import Settings, SmsSettings
from complaints.templating import MessageKind
from models.db import unit_of_work
from models.ledger import CustomerMessage
from rules.enums import Channel, Demand, Severity
from rules.intake import ComplaintIn
from tests.integration.sms_server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeSms, sms_server
from tests.integration.smtp_server import HOST, Inbox

# 10:00 in Shanghai on the Monday of last week: the texts' links (valid 14 days from
# sending) are followed by the web service at today's real time.
_TODAY = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
NOW = _TODAY - timedelta(days=_TODAY.weekday() + 7)
MOBILE = "13812345678"
TEMPLATES = {kind: f"SMS_{100 + n}" for n, kind in enumerate(sorted(m.value for m in MessageKind))}


@pytest.fixture
def stand_in() -> Any:
    with sms_server() as server:
        yield server


@pytest.fixture
def texting(settings: Settings, stand_in: FakeSms) -> Settings:
    return settings.model_copy(
        update={
            "sms": SmsSettings(
                provider="aliyun",
                access_key_id=ACCESS_KEY_ID,
                access_key_secret=SecretStr(ACCESS_KEY_SECRET),
                endpoint=stand_in.endpoint,
                protocol="http",
                sign_name="客服中心",
                templates=TEMPLATES,
                timeout_seconds=5,
            )
        }
    )


def hotline(settings: Settings, **changes: Any) -> str:
    """A hotline complaint that gave only a mobile number, as most do."""
    fields: dict[str, Any] = {
        "channel": Channel.HOTLINE,
        "external_ref": "HL-20261123-000001",
        "customer_name": "张三",
        "customer_phone": MOBILE,
        "description": "快递延误五天还没送到。",
        "demand": Demand.COMPENSATION,
        "severity": Severity.SERIOUS,
        "receiver": "热线-王芳",
    }
    fields.update(changes)
    return casework.register(ComplaintIn(**fields), settings, NOW).case_no


def the_message(settings: Settings) -> CustomerMessage:
    with unit_of_work(settings.database_url) as session:
        (message,) = session.scalars(sa.select(CustomerMessage))
        session.expunge(message)
        return message


def test_a_customer_with_only_a_mobile_gets_the_acknowledgement_by_sms_with_a_working_link(
    texting: Settings, stand_in: FakeSms
) -> None:
    case_no = hotline(texting)

    send_once(texting, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW)
    send_once(texting, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW)  # a retried step

    (text,) = stand_in.texts
    assert (text.phone, text.sign_name) == (MOBILE, "客服中心")
    assert text.template == TEMPLATES["acknowledgement"]
    assert text.params["case"] == case_no and text.params["promise"] == "12小时"
    assert all(len(v) <= 35 for v in text.params.values())
    message = the_message(texting)
    assert (message.delivery, message.status, message.provider_ref) == ("sms", "sent", text.biz_id)
    assert text.out_id == str(message.id)

    web = TestClient(create_app(texting.model_copy(update={"public_url": "http://testserver"})))
    hop = web.get(f"/l/{text.params['code']}", follow_redirects=False)
    assert hop.status_code == 303 and "/c/" in hop.headers["location"]
    page = web.get(hop.headers["location"].removeprefix("http://testserver"))
    assert page.status_code == 200 and case_no in page.text
    assert web.get(f"/l/{text.params['code'][:-2]}xx").status_code == 404


def test_the_survey_invitation_links_to_the_survey_and_says_how_long_it_works(
    texting: Settings, stand_in: FakeSms
) -> None:
    case_no = hotline(texting)
    send_once(texting, case_no, MessageKind.SURVEY_INVITATION, 0, NOW)

    (text,) = stand_in.texts
    assert set(text.params) == {"case", "days", "code"} and text.params["days"] == "14"
    web = TestClient(create_app(texting.model_copy(update={"public_url": "http://testserver"})))
    hop = web.get(f"/l/{text.params['code']}", follow_redirects=False)
    assert "/s/" in hop.headers["location"]


def test_a_number_the_provider_refuses_for_good_becomes_a_call_script_at_once(
    texting: Settings, stand_in: FakeSms
) -> None:
    stand_in.refused_numbers.add(MOBILE)
    case_no = hotline(texting)

    outcome = send_once(texting, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW)

    assert (outcome.delivery, outcome.status) == ("script", "script")
    assert "isv.MOBILE_NUMBER_ILLEGAL" in (the_message(texting).error or "")
    assert stand_in.texts == []


def test_a_throttled_sms_is_tried_again_and_sent_once(texting: Settings, stand_in: FakeSms) -> None:
    stand_in.throttle(1)
    case_no = hotline(texting)

    with pytest.raises(sms.SmsUnavailable, match="BUSINESS_LIMIT_CONTROL"):
        send_once(texting, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW)
    assert the_message(texting).status == "failed"
    send_once(texting, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW + timedelta(seconds=10))

    assert len(stand_in.texts) == 1 and the_message(texting).status == "sent"
    assert the_message(texting).attempts == 2


def test_delivery_reports_mark_an_sms_delivered_or_turn_it_into_a_call_script(
    texting: Settings, stand_in: FakeSms
) -> None:
    delivered = hotline(texting)
    lost = hotline(texting, external_ref="HL-2", customer_phone="13900001111")
    stand_in.undelivered_numbers.add("13900001111")
    for case_no in (delivered, lost):
        send_once(texting, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW)

    assert refresh_sms_reports(texting, NOW + timedelta(minutes=1)) == 2
    assert refresh_sms_reports(texting, NOW + timedelta(minutes=2)) == 0  # nothing left to ask

    with unit_of_work(texting.database_url) as session:
        rows = {m.recipient: m for m in session.scalars(sa.select(CustomerMessage))}
        assert rows[MOBILE].status == "delivered"
        assert (rows["13900001111"].delivery, rows["13900001111"].status) == ("script", "script")
        assert "IS_CLOSE" in (rows["13900001111"].error or "")


def test_an_unreachable_provider_is_retried_and_its_secret_is_in_no_error(
    texting: Settings,
) -> None:
    unreachable = texting.model_copy(
        update={"sms": texting.sms.model_copy(update={"endpoint": "127.0.0.1:9"})}
    )
    case_no = hotline(unreachable)

    with pytest.raises(sms.SmsUnavailable) as failed:
        send_once(unreachable, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW)

    assert ACCESS_KEY_SECRET not in str(failed.value)
    assert ACCESS_KEY_SECRET not in (the_message(unreachable).error or "")


@pytest.mark.parametrize(
    ("changes", "delivery", "why"),
    [
        ({"customer_phone": "010-12345678"}, "script", None),  # a landline cannot be texted
        ({"customer_email": "zhangsan@example.com"}, "email", None),  # e-mail comes first
    ],
)
def test_sms_only_for_a_mobile_without_an_e_mail_address(
    texting: Settings,
    stand_in: FakeSms,
    smtp: tuple[Inbox, int],
    changes: Any,
    delivery: str,
    why: Any,
) -> None:
    _, port = smtp
    mailing = texting.model_copy(update={"smtp_host": HOST, "smtp_port": port})
    case_no = hotline(mailing, **changes)

    outcome = send_once(mailing, case_no, MessageKind.ACKNOWLEDGEMENT, 0, NOW)

    assert outcome.delivery == delivery and stand_in.texts == []


def test_a_kind_without_an_approved_template_is_kept_as_a_script_saying_so(
    texting: Settings, stand_in: FakeSms
) -> None:
    partial = texting.model_copy(
        update={"sms": texting.sms.model_copy(update={"templates": {"acknowledgement": "SMS_1"}})}
    )
    case_no = hotline(partial)

    outcome = send_once(partial, case_no, MessageKind.RESULT, 0, NOW, result="已补发")

    assert outcome.delivery == "script" and stand_in.texts == []
    assert "COMPLAINTS_SMS__TEMPLATES" in (the_message(partial).error or "")
