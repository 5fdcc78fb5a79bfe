"""E-mail intake: the complaints mailbox, read over IMAP, one pass at a time.

Each new mail becomes a complaint on the e-mail channel, its Message-ID the channel
reference (so a mail delivered twice, or read again after a lost connection, is one
case), its sender the contact, its attachments kept as evidence (one over the size limit is
named on the case with its size, and stays in the mailbox: rules.mail). A mail from a
case's customer that threads on one of our e-mails about the case (In-Reply-To or
References names its Message-ID, which the ledger keeps) or names the case number is added
to that case as the customer's correspondence instead; from anyone else it is a complaint
of its own (rules.mail.case_joined).

A mail is flagged handled (IMAP keyword `$ComplaintsHandled`) only after the ledger
committed what it said. One that cannot be read or registered is flagged
`$ComplaintsSkipped`, stays in the mailbox for a person, and is reported by the pass; it is
never read again, so it is never lost and never retried forever.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from complaints.cases import casework, intake
from complaints.settings import Settings, secret_from_block
from models.db import unit_of_work
from models.repositories import CaseRepository
from rules.enums import Channel, Demand
from rules.intake import ComplaintIn
from rules.mail import Attachment, Mail, Unreadable, case_joined, cases_named, read
from rules.masking import mask_email

log = logging.getLogger(__name__)

HANDLED = "$ComplaintsHandled"
SKIPPED = "$ComplaintsSkipped"
RECEIVER = "邮件自动受理 / mailbox"
CHASE_WORDS = re.compile(r"催|何时|什么时候|还没(有)?(处理|回复|解决)|进展如何", re.IGNORECASE)
"""A reply that asks where its case stands is a chase (催办) as well as correspondence."""


class MailboxError(RuntimeError):
    """The mailbox could not be read this pass (server down, login refused); one line."""


@dataclass
class MailboxPass:
    registered: list[str] = field(default_factory=list)  # new cases
    repeated: list[str] = field(default_factory=list)  # a mail already registered
    correspondence: list[str] = field(default_factory=list)  # cases a reply was added to
    skipped: list[str] = field(default_factory=list)  # one line per mail left for a person

    @property
    def read(self) -> int:
        return sum(map(len, (self.registered, self.repeated, self.correspondence, self.skipped)))


def take(settings: Settings, raw: bytes, now: datetime) -> tuple[str, str]:
    """What one mail becomes: ("registered" | "repeated" | "correspondence", case number).
    Raises Unreadable or intake.ComplaintRefused when it can become nothing."""
    mail = read(raw)
    case_no = _case_of_sender(settings, mail)
    if case_no is not None:
        evidence = _keep(settings, case_no, mail.attachments)
        casework.record_correspondence(
            settings,
            case_no,
            now,
            mail.message_id,
            "customer_wrote",
            {"note": mail.description, "message_id": mail.message_id, "evidence": evidence},
        )
        _note_not_kept(settings, case_no, mail, now)
        if CHASE_WORDS.search(mail.description):
            with contextlib.suppress(casework.CaseStateError):  # closed: a letter, not a chase
                casework.chase(settings, case_no, now, "email", mail.text[:200] or None)
        return "correspondence", case_no
    complaint = _complaint(settings, mail, now)
    try:
        submitted = intake.submit(complaint, settings, now)
    except casework.IdempotencyConflict as exc:
        raise intake.ComplaintRefused(str(exc)) from None
    if mail.attachments:
        evidence = _keep(settings, submitted.case_no, mail.attachments)
        casework.record_correspondence(
            settings,
            submitted.case_no,
            now,
            mail.message_id,
            "evidence",
            {"note": f"随邮件附件 / attached: {', '.join(evidence)}", "evidence": evidence},
        )
    _note_not_kept(settings, submitted.case_no, mail, now)
    return ("registered" if submitted.created else "repeated"), submitted.case_no


def poll(settings: Settings, now: datetime) -> MailboxPass:
    """Read the mails not handled yet (up to the batch size) and take each one."""
    box = settings.mailbox
    if not box.host:
        raise MailboxError("no mailbox configured (COMPLAINTS_MAILBOX__HOST)")
    done = MailboxPass()
    with _connect(settings) as imap:
        uids = _search(imap)[: box.batch]
        for uid in uids:
            raw = _fetch(imap, uid)
            try:
                outcome, case_no = take(settings, raw, now)
            except (Unreadable, intake.ComplaintRefused) as exc:
                _flag(imap, uid, SKIPPED)
                line = f"mail {uid}: {_reason(exc)}"
                log.warning("left in the mailbox for a person: %s", line)
                done.skipped.append(line)
                continue
            _flag(imap, uid, HANDLED)  # only now: the ledger has committed it
            getattr(done, outcome).append(case_no)
    return done


def _case_of_sender(settings: Settings, mail: Mail) -> str | None:
    """The case the mail is about, when it threads on or names one of its sender's own."""
    if mail.case_no is None and not mail.replies_to:
        return None
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        threads = repo.cases_of_mails(mail.replies_to)
        customers = repo.customer_emails(cases_named(mail, threads))
        return case_joined(mail, threads, customers)


def _note_not_kept(settings: Settings, case_no: str, mail: Mail, now: datetime) -> None:
    """Tell the handler, on the case, of each attachment left out for its size."""
    for number, left in enumerate(mail.not_kept, start=1):
        casework.record_correspondence(
            settings,
            case_no,
            now,
            f"{mail.message_id} not-kept {number}",
            "attachment_not_kept",
            {
                "note": left.note,
                "message_id": mail.message_id,
                "filename": left.filename,
                "content_type": left.content_type,
                "bytes": left.size,
            },
        )


def _complaint(settings: Settings, mail: Mail, now: datetime) -> ComplaintIn:
    return intake.accept(
        {
            "channel": Channel.EMAIL.value,
            "external_ref": mail.message_id,
            "customer_name": mail.sender_name,
            "customer_email": mail.sender_email,
            "description": mail.description,
            # what the customer wants is asked at verification; a mail rarely says it in
            # the register's words
            "demand": Demand.EXPLANATION.value,
            # set by the product, typed by no one: not a person the staff directory checks
            "receiver": RECEIVER,
        },
        settings,
        now,
    )


def _keep(settings: Settings, case_no: str, attachments: list[Attachment]) -> list[str]:
    """Save the attachments under the case's evidence folder; their names as saved."""
    if not attachments:
        return []
    folder = Path(settings.evidence_dir) / case_no
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for attachment in attachments:
        path = folder / attachment.filename
        stem, suffix, n = path.stem, path.suffix, 1
        while path.exists() and path.read_bytes() != attachment.data:
            n += 1
            path = folder / f"{stem}-{n}{suffix}"
        path.write_bytes(attachment.data)
        names.append(path.name)
    return names


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:300]
    return re.sub(r"\S+@\S+", lambda m: mask_email(m.group()) or "", text)


class _Connection:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.imap: imaplib.IMAP4 | None = None

    def __enter__(self) -> imaplib.IMAP4:
        box = self.settings.mailbox
        host = cast(str, box.host)
        try:
            if box.ssl:
                context = ssl.create_default_context()
                self.imap = imaplib.IMAP4_SSL(
                    host, box.port, ssl_context=context, timeout=box.timeout_seconds
                )
            else:
                self.imap = imaplib.IMAP4(host, box.port, timeout=box.timeout_seconds)
            self.imap.login(box.user or "", password(self.settings) or "")
            status, _ = self.imap.select(_quoted(box.folder))
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"cannot read the mailbox at {host}:{box.port}: {exc}") from None
        if status != "OK":
            raise MailboxError(f"no folder {box.folder!r} in the mailbox at {host}")
        return self.imap

    def __exit__(self, *exc: Any) -> None:
        if self.imap is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                self.imap.logout()


def _connect(settings: Settings) -> _Connection:
    return _Connection(settings)


def _search(imap: imaplib.IMAP4) -> list[str]:
    status, data = imap.uid("SEARCH", "UNKEYWORD", HANDLED, "UNKEYWORD", SKIPPED)
    if status != "OK":
        raise MailboxError(f"the mailbox refused the search: {data!r}")
    return [uid.decode() for uid in (data[0] or b"").split()]


def _fetch(imap: imaplib.IMAP4, uid: str) -> bytes:
    status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")  # PEEK: staff still see it unread
    for item in data or []:
        if isinstance(item, tuple) and isinstance(item[1], bytes):
            return item[1]
    raise MailboxError(f"the mailbox gave no content for mail {uid} ({status})")


def _flag(imap: imaplib.IMAP4, uid: str, keyword: str) -> None:
    status, data = imap.uid("STORE", uid, "+FLAGS", f"({keyword})")
    if status != "OK":
        raise MailboxError(f"the mailbox would not flag mail {uid}: {data!r}")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def password(settings: Settings) -> str | None:
    """The mailbox password: from the settings, else from the named Prefect Secret block."""
    box = settings.mailbox
    if box.password is not None:
        return box.password.get_secret_value()
    if not box.password_block:
        return None
    try:
        return secret_from_block(box.password_block, "mailbox password")
    except ValueError as exc:
        raise MailboxError(str(exc)) from None
