"""Sends customer e-mail over SMTP.

Built from plain values rather than the settings object, so it can be made in a task from
secrets resolved at run time and tested against a local server. Any failure becomes one
``MailError`` with a one-line reason, which the caller records on the message and shows
to a person; the password never appears in it, in the repr or in a log line.
"""

from __future__ import annotations

import logging
import mimetypes
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from rules.masking import mask_text

logger = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message was not handed to the SMTP server; the text says why, on one line.

    `permanent`: the server refused it for good (no such mailbox, a 5xx answer), so
    trying again cannot help. Recipients are masked in the text: it reaches run logs."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, kw_only=True)
class Mailer:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str
    starttls: bool = False
    timeout: float = 10.0

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Sequence[Path] = (),
        message_id: str | None = None,
    ) -> str:
        """Send one plain-text UTF-8 message and return its Message-ID, the proof of sending.

        `attachments` are added as files (their type guessed from the name). `message_id`
        (from `new_message_id`) sends it under an identity recorded beforehand, so a retry
        is the same message and a reply to either copy names it.
        """
        message = self._compose(to, subject, body, message_id or self.new_message_id())
        for path in attachments:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            maintype, _, subtype = kind.partition("/")
            message.add_attachment(
                path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
            )
        message_id = str(message["Message-ID"])
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except OSError as exc:
            raise MailError(
                f"could not send mail via {self.host}:{self.port}: {_reason(exc)}",
                permanent=_permanent(exc),
            ) from exc
        logger.info("mail %s sent via %s:%s", message_id, self.host, self.port)
        return message_id

    def new_message_id(self) -> str:
        """A fresh Message-ID in the sender's domain."""
        # An explicit domain avoids make_msgid's DNS lookup of the local host name.
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        return make_msgid(domain=domain)

    def _compose(self, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
        message = EmailMessage()
        try:
            message["From"] = self.sender
            message["To"] = to
            message["Subject"] = subject
        except ValueError as exc:
            raise MailError(f"invalid message header: {_reason(exc)}") from exc
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id
        # base64 keeps Chinese text intact even through a server without 8BITMIME.
        message.set_content(body, charset="utf-8", cte="base64")
        return message


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        reason = f"{exc.smtp_code} {detail}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        reason = "; ".join(
            f"{rcpt}: {code} {text.decode(errors='replace')}"
            for rcpt, (code, text) in exc.recipients.items()
        )
    else:
        reason = str(exc) or type(exc).__name__
    return mask_text(" ".join(reason.split()))  # an address or phone a server repeats
