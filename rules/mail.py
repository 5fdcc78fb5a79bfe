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
from email.header import decode_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

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
NAME_BYTES = 200
"""An attachment's stored name, in UTF-8 bytes: file systems take 255 bytes a name (98
Chinese characters are 294), less room for the "-2" of a repeated name."""
GB_FAMILY = frozenset(
    {"gb2312", "gb_2312", "gb_2312-80", "csgb2312", "euc-cn", "x-euc-cn", "gbk", "x-gbk"}
    | {"cp936", "ms936", "windows-936", "gb18030"}
)
"""Charsets read as GB18030: mail programs (Outlook, Foxmail) label GBK text "GB2312", and
GB18030 reads both and every character GBK added (堃 镕 玥)."""
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)}
)


class Unreadable(ValueError):
    """The mail cannot be read as a complaint; the message says why, in one line."""


@dataclass(frozen=True)
class Attachment:
    filename: str  # safe to store on any file system (`safe_filename`)
    content_type: str
    data: bytes
    original: str = ""  # the name the mail gave it, when that is not `filename`


@dataclass(frozen=True)
class NotKept:
    """An attachment left out of the case: over the size limit, or (`why`) one that could
    not be read or stored."""

    filename: str
    content_type: str
    size: int  # bytes
    why: str = ""  # empty: over the size limit

    @property
    def note(self) -> str:
        """What the handler reads on the case (the mail is left in the mailbox)."""
        if self.why:
            return (
                f"附件「{self.filename}」未能存入案件（{self.why}），原件在邮箱的原邮件中"
                f" / attachment {self.filename!r} could not be kept ({self.why}); the original"
                " mail in the mailbox still has it"
            )
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
    # a text whose bytes no charset explains (neither the declared one, nor UTF-8, nor
    # GB18030): read with replacement characters, and said so on the case
    garbled: bool = False

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
        senders = getaddresses([_header(message, "From")[0]])
        subject, subject_read = _header(message, "Subject")
        subject = " ".join(subject.split())
        message_id = str(message.get("Message-ID", "")).strip()
        replies_to = _thread(
            str(message.get("In-Reply-To", "")), str(message.get("References", ""))
        )
    except Exception as exc:
        raise Unreadable(f"unreadable headers ({type(exc).__name__})") from None
    name, address = senders[0] if senders else ("", "")
    if "@" not in address:
        raise Unreadable("no sender address (From)")
    text, text_read = _text_of(message)
    forwarded, forwarded_read = _forwarded_text(message)
    if not message_id:  # some systems send none: the content itself identifies the mail
        message_id = content_id(raw)
    text = "\n\n".join(t for t in (_new_text(text), forwarded) if t)
    found = _CASE.search(subject) or _CASE.search(text)
    kept, not_kept = _attachments(message)
    return Mail(
        message_id=message_id[:100],
        sender_name=" ".join(name.split())[:50] or address.split("@")[0][:50],
        sender_email=address.strip(),
        subject=subject[:200],
        text=text,
        sent_at=_date(message),
        case_no=found.group(0).upper() if found else None,
        attachments=kept,
        not_kept=not_kept,
        replies_to=replies_to,
        garbled=not (subject_read and text_read and forwarded_read),
    )


def content_id(raw: bytes) -> str:
    """The id of a mail that carries no Message-ID (some systems send none): its content."""
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}>"


def identity(raw: bytes) -> tuple[str, str]:
    """The key of any bytes in the mailbox, read or not — its Message-ID, else
    `content_id` — and its sender's address ("" when none is found), read as leniently as
    the bytes allow: what a mail the intake could not take is known by."""
    try:
        message = message_from_bytes(raw, policy=policy.compat32)
        message_id = " ".join(str(message.get("Message-ID", "")).split())[:100]
        sender = parseaddr(str(message.get("From", "")))[1]
    except Exception:  # bytes no parser makes sense of
        message_id, sender = "", ""
    return message_id or content_id(raw), sender


def decode_text(data: bytes, declared: str | None) -> tuple[str, bool]:
    """The text of `data` and whether it read cleanly: in its declared charset (the GB
    family as GB18030), else — undeclared, declared ASCII with 8-bit bytes, or a label that
    lies — as UTF-8, then as GB18030; when nothing fits, UTF-8 with replacement characters
    and False, so the case can say the mail is garbled."""
    label = (declared or "").strip().lower()
    tried = ["gb18030"] if label in GB_FAMILY else [label] if label not in ("", "us-ascii") else []
    for charset in dict.fromkeys([*tried, "utf-8", "gb18030"]):
        try:
            return data.decode(charset), True
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace"), False


def _header(message: EmailMessage, name: str) -> tuple[str, bool]:
    """A header's text and whether it read cleanly. The parser's own reading is kept when it
    is clean; a header it could not read (a GB2312 label on GBK text, raw 8-bit bytes) is
    decoded again from its raw value by `decode_text`."""
    value = str(message.get(name, ""))
    if "\ufffd" not in value and not _SURROGATE.search(value):
        return value, True
    raw = next((v for k, v in message.raw_items() if k.lower() == name.lower()), "")
    texts, clean = [], True
    for chunk, charset in decode_header(str(raw)):
        if isinstance(chunk, str):
            data = chunk.encode("utf-8", "surrogateescape")
        elif charset is None:  # text between encoded words, escaped by decode_header
            data = chunk.decode("raw-unicode-escape").encode("utf-8", "surrogateescape")
        else:
            data = chunk
        text, read_cleanly = decode_text(data, charset)
        texts.append(text)
        clean = clean and read_cleanly
    return "".join(texts), clean


_SURROGATE = re.compile("[\ud800-\udfff]")


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


def _text_of(message: Message) -> tuple[str, bool]:
    """The mail's own text (a forwarded message inside it is not its body) and whether it
    read cleanly."""
    if not isinstance(message, EmailMessage):
        return "", True
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        if body is not None:
            text, clean = _content(body)
            return (text if kind == "plain" else html_to_text(text)), clean
    return "", True


def _content(part: Message) -> tuple[str, bool]:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return "", True
    return decode_text(payload, part.get_content_charset())


def _carried(part: Message) -> Message | None:
    """The mail a message/rfc822 part carries."""
    inner = part.get_payload()
    first = inner[0] if isinstance(inner, list) and inner else None
    return first if isinstance(first, Message) else None


def _forwarded(message: Message) -> list[Message]:
    """The mails this one carries whole (message/rfc822 parts), the outermost ones only: a
    forward of a forward is one mail, kept with everything inside it."""
    if message.get_content_type() == "message/rfc822":
        carried = _carried(message)
        return [carried] if carried is not None else []
    if message.is_multipart():
        parts = message.get_payload()
        return [m for part in parts if isinstance(part, Message) for m in _forwarded(part)]
    return []


FORWARD_DEPTH = 5
"""Forwards inside forwards read for their text; deeper ones are kept in the .eml only."""


def _forwarded_text(message: Message, depth: int = 1) -> tuple[str, bool]:
    """The text of each forwarded mail, under who sent it and its subject, and whether all
    of it read cleanly: a mail that is wholly a forward is a complaint in that text."""
    texts, clean = [], True
    for inner in _forwarded(message) if depth <= FORWARD_DEPTH else []:
        if not isinstance(inner, EmailMessage):
            continue
        sender, sender_read = _header(inner, "From")
        subject, subject_read = _header(inner, "Subject")
        body, body_read = _text_of(inner)
        deeper, deeper_read = _forwarded_text(inner, depth + 1)
        clean = clean and sender_read and subject_read and body_read and deeper_read
        head = f"---------- 转发的邮件 / Forwarded message ----------\n发件人 / From: {sender}"
        text = "\n\n".join(t for t in (_new_text(body), deeper) if t)
        texts.append(f"{head}\n主题 / Subject: {' '.join(subject.split())}\n\n{text}".strip())
    return "\n\n".join(texts), clean


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
    """The attachments to keep, and those left out: over the limit (named, with their
    size), or not readable (named, with why). A mail that is itself a forward (its body one
    message/rfc822 part) keeps the forwarded mail as an attachment too."""
    found: list[Attachment] = []
    left: list[NotKept] = []
    parts = list(message.iter_attachments())
    if message.get_content_type() == "message/rfc822":
        parts.append(message)
    for number, part in enumerate(parts, start=1):
        default = f"attachment-{number}"
        kind = part.get_content_type()
        given = default
        try:
            given = (part.get_filename() or default) if part is not message else default
            if kind == "message/rfc822":  # a mail forwarded as an attachment, as its .eml
                given = given if given != default else f"{default}.eml"
                data = _forwarded_bytes(part)
            else:
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else None
        except Exception as exc:  # a part broken in any way is one file left out, not the mail
            left.append(NotKept(safe_filename(str(given)), kind, 0, why=_why(exc)))
            continue
        if not isinstance(data, bytes) or not data:
            continue
        name = safe_filename(given)
        if len(data) > ATTACHMENT_LIMIT:
            left.append(NotKept(name, kind, len(data)))
            continue
        found.append(Attachment(name, kind, data, original="" if name == given else given))
    return found, left


def _forwarded_bytes(part: Message) -> bytes | None:
    first = _carried(part)
    if first is None:
        return None
    try:
        return first.as_bytes()
    except (UnicodeError, LookupError, ValueError):  # a corrupted forward: its text as it came
        return first.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}".rstrip(": ")


def safe_filename(name: str) -> str:
    """A file name that stays inside its folder and that any file system takes: no path, no
    control or reserved characters, no device name, at most `NAME_BYTES` bytes in UTF-8
    (cut on a character, keeping the extension)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*').strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix.encode()) > 16:
        stem, suffix = name, ""
    else:
        suffix = f".{suffix}"
    if stem.upper() in _RESERVED:
        stem = f"_{stem}"
    room = NAME_BYTES - len(suffix.encode())
    if len(stem.encode()) > room:
        stem = stem.encode()[: room - len("…".encode())].decode("utf-8", "ignore") + "…"
    return f"{stem}{suffix}" if stem else "attachment"
