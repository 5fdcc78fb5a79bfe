"""A mail in the complaints mailbox, read as what it says: who wrote, what, about which case.

Pure: bytes in, a `Mail` out (or `Unreadable` with the reason). The text is the plain part
when there is one, else the HTML part made plain; attachments are kept as they came (a mail
forwarded as an attachment as its .eml file), up to `ATTACHMENT_LIMIT` each. A mail that
threads on one of our e-mails to a customer (In-Reply-To, References) or names a case
number (TS-YYYYMMDD-NNNN) is correspondence on that case when its sender is the case's
customer (`case_joined`), not a new complaint.

An attachment over the limit is not kept but listed (`Mail.not_kept`), so the case says
which file of what size was left out. A serious helpdesk does the same (Zendesk, Freshdesk
and Jira Service Management cap attachments and note the ones dropped) rather than keep
everything: the evidence folder sits beside the ledger and serves every case, one mail
with a film attached would fill it for all of them, and the mail itself is never lost —
intake only flags it, so the original, attachment and all, stays in the mailbox under its
Message-ID for the handler to open or to ask the customer for a smaller copy.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from rules.case_number import PATTERN
from rules.patterns import normal_email

TEXT_LIMIT = 2000
ATTACHMENT_LIMIT = 10 * 1024 * 1024
_QUOTE_HEAD = re.compile(
    r"^(在 .{0,80}写道[:：]|On .{0,200} wrote:|-{2,} ?(原始邮件|Original Message) ?-{2,}|>)"
)
_CASE = re.compile(PATTERN.pattern, re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,248}>")
THREAD_LIMIT = 50
"""Message-IDs looked up per mail: a long thread's References are cut to its newest."""


class Unreadable(ValueError):
    """The mail cannot be read as a complaint; the message says why, in one line."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class NotKept:
    """An attachment left out of the case for its size."""

    filename: str
    content_type: str
    size: int  # bytes

    @property
    def note(self) -> str:
        """What the handler reads on the case (the mail is left in the mailbox)."""
        size = f"{self.size / 1024 / 1024:.1f} MB"
        limit = f"{ATTACHMENT_LIMIT // 1024 // 1024} MB"
        return (
            f"附件「{self.filename}」（{size}）超过 {limit} 上限，未存入案件，原件在邮箱的原邮件中"
            f" / attachment {self.filename!r} ({size}) is over the {limit} limit and was not"
            " kept; the original mail in the mailbox still has it"
        )


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
    not_kept: list[NotKept] = field(default_factory=list)  # attachments over the limit
    # the Message-IDs the mail answers, the nearest first: In-Reply-To, then References
    # from the newest
    replies_to: tuple[str, ...] = ()

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
        replies_to = _thread(
            str(message.get("In-Reply-To", "")), str(message.get("References", ""))
        )
    except Exception as exc:
        raise Unreadable(f"unreadable headers ({type(exc).__name__})") from None
    name, address = senders[0] if senders else ("", "")
    if "@" not in address:
        raise Unreadable("no sender address (From)")
    text = _text_of(message)
    if not message_id:  # some systems send none: the content itself identifies the mail
        message_id = f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}>"
    found = _CASE.search(subject) or _CASE.search(text)
    kept, not_kept = _attachments(message)
    return Mail(
        message_id=message_id[:100],
        sender_name=" ".join(name.split())[:50] or address.split("@")[0][:50],
        sender_email=address.strip(),
        subject=subject[:200],
        text=_new_text(text),
        sent_at=_date(message),
        case_no=found.group(0).upper() if found else None,
        attachments=kept,
        not_kept=not_kept,
        replies_to=replies_to,
    )


def case_joined(
    mail: Mail, threads: Mapping[str, str], customers: Mapping[str, str | None]
) -> str | None:
    """The case this mail joins as its customer's correspondence; None: a new complaint.

    The candidates, most certain first (`cases_named`): the case of our e-mail the mail
    threads on, then the case number it names. The first whose customer (`customers`: case
    number → the e-mail address registered) is the mail's sender is the one. A thread and
    a number both reach other people (a forward, a colleague in copy, a number typed from
    a letter), so neither proves a case is the sender's: a mail from anyone else is a
    complaint of its own, registered from its own sender, and the case it points at is left
    as it was (nothing of another person's mail is added to it).
    """
    sender = normal_email(mail.sender_email)
    for case_no in cases_named(mail, threads):
        owner = customers.get(case_no)
        if sender and normal_email(owner) == sender:
            return case_no
    return None


def cases_named(mail: Mail, threads: Mapping[str, str]) -> list[str]:
    """The cases a mail points at, most certain first, each once: the cases of our e-mails
    it answers (`threads`: a Message-ID we sent → its case number; the nearest reply
    first), then the case number it quotes — a reply may have lost it from its subject and
    text, or quote an older case in them."""
    named = [threads[mail_id] for mail_id in mail.replies_to if mail_id in threads]
    if mail.case_no is not None:
        named.append(mail.case_no)
    return list(dict.fromkeys(named))


def _thread(in_reply_to: str, references: str) -> tuple[str, ...]:
    """Message-IDs a mail answers, nearest first (References lists the oldest first)."""
    ids = _MESSAGE_ID.findall(in_reply_to) + _MESSAGE_ID.findall(references)[::-1]
    return tuple(dict.fromkeys(ids))[:THREAD_LIMIT]


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


def _attachments(message: EmailMessage) -> tuple[list[Attachment], list[NotKept]]:
    """The attachments to keep, and those over the limit (named, with their size)."""
    found: list[Attachment] = []
    too_big: list[NotKept] = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        data = part.get_payload(decode=True)
        default = f"attachment-{number}"
        if part.get_content_type() == "message/rfc822":  # a mail forwarded as an attachment
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            data = first.as_bytes() if isinstance(first, Message) else None
            default += ".eml"
        if not isinstance(data, bytes) or not data:
            continue
        name = safe_filename(part.get_filename() or default)
        if len(data) > ATTACHMENT_LIMIT:
            too_big.append(NotKept(name, part.get_content_type(), len(data)))
            continue
        found.append(Attachment(name, part.get_content_type(), data))
    return found, too_big


def safe_filename(name: str) -> str:
    """A file name that stays inside its folder: no path, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return name[:120] or "attachment"
