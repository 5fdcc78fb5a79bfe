"""The mailer against a real SMTP server on loopback."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from complaints.notifications.mailer import Mailer, MailError
from embedded.stack import free_port
from tests.integration.smtp_server import HOST, Inbox, smtp_server

SENDER = "客户服务中心 <complaints@example.com>"
PASSWORD = "s3cret-Pa55"


def only_our_password(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def guarded_inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server(authenticator=only_our_password, auth_require_tls=False) as server:
        yield server


def test_a_chinese_message_arrives_with_its_subject_body_and_recipient_intact(
    smtp: tuple[Inbox, int],
) -> None:
    handler, port = smtp
    mailer = Mailer(host=HOST, port=port, sender=SENDER, timeout=5)
    body = "您好，张三：已收到您的反馈（案件编号 TS-20250101-0001），我们将在 12 小时内答复您。"

    message_id = mailer.send(
        "张三 <zhangsan@example.com>", "已收到您的反馈（案件编号 TS-20250101-0001）", body
    )

    received = handler.received()
    assert handler.envelopes[0].rcpt_tos == ["zhangsan@example.com"]
    assert received["Subject"] == "已收到您的反馈（案件编号 TS-20250101-0001）"
    assert received["To"].addresses[0].display_name == "张三"
    assert received["From"].addresses[0].display_name == "客户服务中心"
    assert received.get_content().strip() == body
    assert received["Message-ID"] == message_id
    assert message_id.endswith("@example.com>")


def test_a_refused_connection_raises_a_mail_error_with_a_one_line_reason() -> None:
    mailer = Mailer(host=HOST, port=free_port(), sender=SENDER, timeout=5)

    with pytest.raises(MailError, match=f"{HOST}:\\d+: .*refused") as caught:
        mailer.send("zhangsan@example.com", "主题", "正文")

    assert "\n" not in str(caught.value)


def test_a_refused_recipient_raises_a_permanent_mail_error_with_the_server_reply_masked(
    smtp: tuple[Inbox, int],
) -> None:
    handler, port = smtp
    handler.refused.add("nobody@example.com")
    mailer = Mailer(host=HOST, port=port, sender=SENDER, timeout=5)

    with pytest.raises(MailError, match=re.escape(": 550 5.1.1 no such mailbox")) as caught:
        mailer.send("nobody@example.com", "主题", "正文")

    assert caught.value.permanent  # trying again cannot help
    assert "nobody@example.com" not in str(caught.value)  # the text reaches run logs
    assert handler.envelopes == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_mailer_logs_in_when_given_a_user(guarded_inbox: tuple[Inbox, int]) -> None:
    handler, port = guarded_inbox
    mailer = Mailer(host=HOST, port=port, user="robot", password=PASSWORD, sender=SENDER)

    mailer.send("zhangsan@example.com", "主题", "正文")

    assert handler.received()["Subject"] == "主题"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_rejected_login_is_reported_without_revealing_the_password(
    guarded_inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = guarded_inbox
    wrong = "wrong-Pa55word"
    mailer = Mailer(host=HOST, port=port, user="robot", password=wrong, sender=SENDER)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(MailError, match="535") as caught:
        mailer.send("zhangsan@example.com", "主题", "正文")

    assert wrong not in str(caught.value)
    assert wrong not in caplog.text
    assert wrong not in repr(mailer)


def test_a_header_with_a_line_break_is_refused_before_connecting() -> None:
    mailer = Mailer(host=HOST, port=free_port(), sender=SENDER)

    with pytest.raises(MailError, match="invalid message header"):
        mailer.send("zhangsan@example.com", "主题\nBcc: everyone@example.com", "正文")
