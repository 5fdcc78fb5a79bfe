"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from embedded.stack import free_port

HOST = "127.0.0.1"


class Inbox:
    """An aiosmtpd handler that keeps what it receives and can refuse a recipient."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refused: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def received(self) -> EmailMessage:
        (envelope,) = self.envelopes
        assert isinstance(envelope.content, bytes)
        return cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Inbox, int]]:
    """An Inbox listening on a free loopback port; `options` go to aiosmtpd's Controller."""
    handler = Inbox()
    controller = Controller(handler, hostname=HOST, port=free_port(), **options)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()
