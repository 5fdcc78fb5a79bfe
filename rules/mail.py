"""A mail in the complaints mailbox, read as what it says: who wrote, what, about which case.

Pure: bytes in, a `Mail` out (or `Unreadable` with the reason). The text is the plain part
when there is one, else the HTML part made plain; attachments are kept as they came. A
mail that names a case number (TS-YYYYMMDD-NNNN), as a reply to our acknowledgement does
in its subject, is correspondence on that case, not a new complaint.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from rules.case_number import PATTERN

TEXT_LIMIT = 2000
ATTACHMENT_LIMIT = 10 * 1024 * 1024
_QUOTE_HEAD = re.compile(
    r"^(在 .{0,80}写道[:：]|On .{0,200} wrote:|-{2,} ?(原始邮件|Original Message) ?-{2,}|>)"
)
_CASE = re.compile(PATTERN.pattern, re.IGNORECASE)


class Unreadable(ValueError):
    """The mail cannot be read as a complaint; the message says why, in one line."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    message_id: str
    sender_name: str
    sender_email: str
    subject: str
    text: str  # the new text: quoted earlier mails cut off
    sent_at: datetime | None
    case_no: str | None  # the case the mail is about, when it names one
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def description(self) -> str:
        """Subject and text, as the register's description (within its limit)."""
        text = f"{self.subject}\n{self.text}".strip() if self.subject else self.text
        return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def read(raw: bytes) -> Mail:
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient; this is a broken file, not a mail
        raise Unreadable(f"not a mail message ({type(exc).__name__})") from None
    if not isinstance(message, EmailMessage) or not message.keys():
        raise Unreadable("not a mail message (no headers)")
    try:
        senders = getaddresses([str(message.get("From", ""))])
        subject = " ".join(str(message.get("Subject", "")).split())
        message_id = str(message.get("Message-ID", "")).strip()
    except Exception as exc:
        raise Unreadable(f"unreadable headers ({type(exc).__name__})") from None
    name, address = senders[0] if senders else ("", "")
    if "@" not in address:
        raise Unreadable("no sender address (From)")
    text = _text_of(message)
    if not message_id:  # some systems send none: the content itself identifies the mail
        message_id = f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}>"
    found = _CASE.search(subject) or _CASE.search(text)
    return Mail(
        message_id=message_id[:100],
        sender_name=" ".join(name.split())[:50] or address.split("@")[0][:50],
        sender_email=address.strip(),
        subject=subject[:200],
        text=_new_text(text),
        sent_at=_date(message),
        case_no=found.group(0).upper() if found else None,
        attachments=list(_attachments(message)),
    )


def _text_of(message: EmailMessage) -> str:
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        return _content(plain)
    rich = message.get_body(preferencelist=("html",))
    if rich is not None:
        return html_to_text(_content(rich))
    return ""


def _content(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, ValueError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def html_to_text(markup: str) -> str:
    """Readable text of an HTML mail: scripts and styles dropped, blocks on their own lines."""
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])\s*>", "\n", markup)
    text = html.unescape(re.sub(r"(?s)<[^>]*>", " ", markup))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _new_text(text: str) -> str:
    """The text above the quoted earlier mail, without the control characters some mail
    programs leave in (the register refuses them)."""
    kept = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _QUOTE_HEAD.match(line.strip()):
            break
        kept.append(line.rstrip())
    cleaned = "\n".join(kept).strip()
    return "".join(c for c in cleaned if c in "\n\t" or (ord(c) >= 32 and c != "\x7f"))


def _date(message: EmailMessage) -> datetime | None:
    try:
        value = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else None


def _attachments(message: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data or len(data) > ATTACHMENT_LIMIT:
            continue
        name = part.get_filename() or f"attachment-{len(found) + 1}"
        found.append(Attachment(safe_filename(name), part.get_content_type(), data))
    return found


def safe_filename(name: str) -> str:
    """A file name that stays inside its folder: no path, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return name[:120] or "attachment"
