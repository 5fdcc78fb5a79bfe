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
committed what it said. A mail is never more than itself: whatever goes wrong with one
(it cannot be read or registered, an attachment cannot be stored, any error at all) flags
it `$ComplaintsSkipped` with the reason, and the pass goes on with the next. A skipped mail
stays in the mailbox for a person, is never read again (never lost, never retried for
ever), is listed in the ledger (`skipped_mails`, the failed-mail report) and its owner is
told once on Slack; a case registered before the failure says on its timeline what went
wrong. An attachment that cannot be stored is one file left out, named on the case, not a
failed mail.
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
from complaints.notifications.notices import queue
from complaints.settings import Settings, secret_from_block
from models.db import unit_of_work
from models.ledger import SkippedMail
from models.repositories import CaseRepository
from rules.enums import Channel, Demand
from rules.intake import ComplaintIn
from rules.mail import Attachment, Mail, NotKept, case_joined, cases_named, identity, read
from rules.masking import mask_email
from rules.notices import Address, skipped_notice

log = logging.getLogger(__name__)

HANDLED = "$ComplaintsHandled"
SKIPPED = "$ComplaintsSkipped"
RECEIVER = "邮件自动受理 / mailbox"
CHASE_WORDS = re.compile(r"催|何时|什么时候|还没(有)?(处理|回复|解决)|进展如何", re.IGNORECASE)
"""A reply that asks where its case stands is a chase (催办) as well as correspondence."""


class MailboxError(RuntimeError):
    """The mailbox could not be read this pass (server down, login refused); one line."""


class NotStored(RuntimeError):
    """The mail's case was registered or joined, but an attachment could not be stored: the
    mail is left for a person, who still has the attachment in the mailbox."""


@dataclass
class Taking:
    """How far one mail got: the case it registered or joined, once it did."""

    case_no: str | None = None


@dataclass
class MailboxPass:
    registered: list[str] = field(default_factory=list)  # new cases
    repeated: list[str] = field(default_factory=list)  # a mail already registered
    correspondence: list[str] = field(default_factory=list)  # cases a reply was added to
    skipped: list[str] = field(default_factory=list)  # one line per mail left for a person

    @property
    def read(self) -> int:
        return sum(map(len, (self.registered, self.repeated, self.correspondence, self.skipped)))


def take(
    settings: Settings, raw: bytes, now: datetime, taking: Taking | None = None
) -> tuple[str, str]:
    """What one mail becomes: ("registered" | "repeated" | "correspondence", case number).
    Raises Unreadable or intake.ComplaintRefused when it can become nothing; `taking` says
    which case it reached if it fails after that."""
    taking = taking or Taking()
    mail = read(raw)
    case_no = _case_of_sender(settings, mail)
    if case_no is not None:
        taking.case_no = case_no
        evidence, not_stored = _keep(settings, case_no, mail.attachments)
        casework.record_correspondence(
            settings,
            case_no,
            now,
            mail.message_id,
            "customer_wrote",
            {
                "note": mail.description,
                "message_id": mail.message_id,
                "evidence": evidence,
                **_originals(mail.attachments, evidence),
            },
        )
        _note_left_out(settings, case_no, mail, not_stored, now)
        if CHASE_WORDS.search(mail.description):
            with contextlib.suppress(casework.CaseStateError):  # closed: a letter, not a chase
                casework.chase(settings, case_no, now, "email", mail.text[:200] or None)
        _refuse_if_not_stored(not_stored)
        return "correspondence", case_no
    complaint = _complaint(settings, mail, now)
    try:
        submitted = intake.submit(complaint, settings, now)
    except casework.IdempotencyConflict as exc:
        raise intake.ComplaintRefused(str(exc)) from None
    taking.case_no = submitted.case_no
    evidence, not_stored = _keep(settings, submitted.case_no, mail.attachments)
    if evidence:
        casework.record_correspondence(
            settings,
            submitted.case_no,
            now,
            mail.message_id,
            "evidence",
            {
                "note": f"随邮件附件 / attached: {', '.join(evidence)}",
                "evidence": evidence,
                **_originals(mail.attachments, evidence),
            },
        )
    _note_left_out(settings, submitted.case_no, mail, not_stored, now)
    _refuse_if_not_stored(not_stored)
    return ("registered" if submitted.created else "repeated"), submitted.case_no


def _refuse_if_not_stored(not_stored: list[NotKept]) -> None:
    if not_stored:
        named = "; ".join(f"{left.filename}: {left.why}" for left in not_stored)
        raise NotStored(f"attachment not stored ({named})")


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
            taking = Taking()
            try:
                outcome, case_no = take(settings, raw, now, taking)
            except Exception as exc:  # one mail, whatever it did, never stops the others
                _flag(imap, uid, SKIPPED)
                line = skip(settings, uid, raw, exc, taking.case_no, now)
                log.warning("left in the mailbox for a person: %s", line)
                done.skipped.append(line)
                continue
            _flag(imap, uid, HANDLED)  # only now: the ledger has committed it
            getattr(done, outcome).append(case_no)
    return done


def skip(
    settings: Settings, uid: str, raw: bytes, exc: Exception, case_no: str | None, now: datetime
) -> str:
    """Record a mail left for a person, once: its row in `skipped_mails`, the owner's Slack
    notice, and on the case it registered or joined before failing, what went wrong. Never
    raises: the pass goes on whatever the ledger says. The line the pass reports."""
    reason = _reason(exc)
    line = f"mail {uid}: {reason}" + (f" (case {case_no})" if case_no else "")
    key, address = identity(raw)
    sender = mask_email(address) if "@" in address else None
    try:
        with unit_of_work(settings.database_url) as session:
            repo = CaseRepository(session)
            if repo.skipped_mail(key) is not None:
                return line
            repo.add_skipped_mail(
                SkippedMail(
                    mail_key=key,
                    uid=uid[:20],
                    folder=settings.mailbox.folder,
                    sender=sender,
                    reason=reason,
                    case_no=case_no,
                    skipped_at=now,
                )
            )
            case = repo.get(case_no) if case_no else None
            channel = settings.mailbox.owner_channel or settings.slack.channels["W"]
            folder = settings.mailbox.folder
            notice = skipped_notice(key, uid, folder, sender, reason, case_no)
            queue(session, case.id if case else None, notice, Address("slack", channel), None, now)
        if case_no:
            casework.record_correspondence(
                settings,
                case_no,
                now,
                f"{key} skipped",
                "mail_not_finished",
                {
                    "note": f"邮件处理中断，原邮件留在邮箱 / the mail could not be finished and "
                    f"stays in the mailbox: {reason}",
                    "message_id": key,
                },
                actor=RECEIVER,
            )
    except Exception:  # the ledger itself is failing: the log and the run say it
        log.exception("could not record the skipped mail %s", uid)
    return line


def _case_of_sender(settings: Settings, mail: Mail) -> str | None:
    """The case the mail is about, when it threads on or names one of its sender's own."""
    if mail.case_no is None and not mail.replies_to:
        return None
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        threads = repo.cases_of_mails(mail.replies_to)
        customers = repo.customer_emails(cases_named(mail, threads))
        return case_joined(mail, threads, customers)


def _note_left_out(
    settings: Settings, case_no: str, mail: Mail, not_stored: list[NotKept], now: datetime
) -> None:
    """Tell the handler, on the case, of each attachment left out (for its size, or because
    it could not be read or stored), and of a mail whose text no charset explains."""
    if mail.garbled:
        casework.record_correspondence(
            settings,
            case_no,
            now,
            f"{mail.message_id} garbled",
            "mail_garbled",
            {
                "note": "邮件的编码无法识别，部分文字可能显示为乱码，原邮件在邮箱中 / the mail's "
                "charset could not be told; some text may be garbled, the original is in the "
                "mailbox",
                "message_id": mail.message_id,
            },
        )
    for number, left in enumerate([*mail.not_kept, *not_stored], start=1):
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


def _keep(
    settings: Settings, case_no: str, attachments: list[Attachment]
) -> tuple[list[str], list[NotKept]]:
    """Save the attachments under the case's evidence folder: their names as saved, and
    those the file system would not take (the reason named)."""
    if not attachments:
        return [], []
    folder = Path(settings.evidence_dir) / case_no
    names: list[str] = []
    failed: list[NotKept] = []
    for attachment in attachments:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / attachment.filename
            stem, suffix, n = path.stem, path.suffix, 1
            while path.exists() and path.read_bytes() != attachment.data:
                n += 1
                path = folder / f"{stem}-{n}{suffix}"
            path.write_bytes(attachment.data)
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            size = len(attachment.data)
            failed.append(NotKept(attachment.filename, attachment.content_type, size, why))
            continue
        names.append(path.name)
    return names, failed


def _originals(attachments: list[Attachment], saved: list[str]) -> dict[str, Any]:
    """The names the mail gave the attachments saved under another name (made safe for the
    file system), for the ledger: saved name → original."""
    renamed = {a.filename: a.original for a in attachments if a.original}
    originals = {name: renamed[name] for name in saved if name in renamed}
    return {"original_names": originals} if originals else {}


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
