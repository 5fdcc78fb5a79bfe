"""Telling staff in writing that work is theirs: who is told, where, when and in what words.

Two notices (complaints.notifications.notices writes them to the outbox):
- **Forwarding (转交通知).** When a case's responsible department is set or changed, that
  department is told at once, in its channel and at its addresses: the case, its severity
  and category, the complaint in a line (masked), what is asked of it and by when, and
  from whom it was handed over on a re-routing.
- **Your turn.** When a case waits for a person, the people who may take that step are
  told: each by a Slack direct message (their member ID, else the member Slack finds by
  their e-mail), else by e-mail, else in the step's role channel. Without a directory, the
  department's channel.

A notice is about a case anyone beyond its handlers may read in a channel, so the
customer's name, phone and e-mail are masked as in the escalations; customer-written text
goes into ``plain_text``, which Slack shows literally.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from rules.enums import Category, Department, Role, Severity
from rules.masking import mask_customer_text
from rules.presentation import short
from rules.slack_blocks import OPEN_BUTTON, case_link, escape, mrkdwn, open_button, plain
from rules.staff import STEP_ROLES, Person
from rules.steps import Step
from rules.working_time import Clock

Medium = Literal["slack", "slack-email", "email"]
DESCRIPTION_CHARS = 120
OWNER_STEPS = frozenset({Step.EXECUTE, Step.FEEDBACK})
"""Steps the plan hands to its owner: the owner is told, not everyone who may take them."""

ASKED: dict[Step, str] = {
    Step.VERIFY: "核实投诉 / verify the complaint",
    Step.GRADE: "分类定级 / classify and grade it",
    Step.APPROVE_GRADE: "审批定级 / approve the grading",
    Step.PLAN: "制定处理方案 / plan the resolution",
    Step.APPROVE_PLAN: "审批处理方案 / approve the plan",
    Step.EXECUTE: "执行方案并报告进展 / carry out the plan and report progress",
    Step.FEEDBACK: "向客户反馈结果 / feed the result back to the customer",
    Step.CALLBACK: "回访客户并记录满意度 / call the customer back and record the survey",
}
"""What a wait at each step asks of its people, in a line."""


@dataclass(frozen=True)
class CaseBrief:
    """What a notice says of a case (raw: the notice masks it)."""

    case_no: str
    severity: Severity
    category: Category | None
    description: str
    customer_name: str | None
    customer_phone: str | None
    customer_email: str | None
    run_url: str | None

    @property
    def urgent(self) -> bool:
        """A major case's notices go out at night too."""
        return self.severity is Severity.MAJOR

    def line(self) -> str:
        masked = mask_customer_text(
            self.description, self.customer_name, self.customer_phone, self.customer_email
        )
        return short(" ".join(masked.split()), DESCRIPTION_CHARS)


@dataclass(frozen=True)
class Notice:
    """One notice in the words of each medium: Slack (text, blocks) and e-mail."""

    key: str
    text: str  # Slack's notification text, the e-mail's subject: no customer text in it
    blocks: list[dict[str, Any]]
    body: str  # the e-mail's body


@dataclass(frozen=True)
class Address:
    """Where one copy of a notice goes; `fallback`: a channel, when the recipient cannot be
    reached for good (no such Slack member, a mailbox that refuses)."""

    medium: Medium
    to: str
    fallback: str | None = None
    person: str | None = None  # whom it is for, when a person
    names: tuple[str, ...] = ()  # whom a channel's copy is for

    @property
    def meant_for(self) -> tuple[str, ...]:
        return (self.person,) if self.person else self.names


def forwarding_key(case_no: str, routing: int) -> str:
    """Once per routing: the n-th department a case is handed to."""
    return f"fwd:{case_no}:{routing}"


def turn_key(case_no: str, wait_key: str, to: str) -> str:
    """Once per wait and recipient: a wait asked again (input refused) has a key of its own."""
    return f"turn:{case_no}:{wait_key}:{to}"[:120]


def forwarding_notice(
    brief: CaseBrief,
    key: str,
    department: Department,
    handed_from: Department | None,
    asked: str,
    due_at: datetime | None,
    tz: ZoneInfo,
) -> Notice:
    """The written notice that hands a case to its responsible department (转交通知)."""
    title = f"📨 转交{department.value} / Forwarded to {department.code}: {brief.case_no}"
    handed = (
        f"由{handed_from.value}转来 / handed over from {handed_from.code}"
        if handed_from is not None
        else None
    )
    return _notice(brief, key, title, asked, due_at, tz, handed)


def turn_notice(
    brief: CaseBrief,
    key: str,
    step: Step,
    due_at: datetime | None,
    asked_again: str | None,
    tz: ZoneInfo,
    meant_for: tuple[str, ...] = (),
) -> Notice:
    """A turn at a step of the case for the people `meant_for` (none: whoever reads the
    channel); `asked_again`: why the last input was refused."""
    title = f"🙋 待您办理 / Your turn: {step.label} · {brief.case_no}"
    notes = [f"致 / For: {'、'.join(meant_for)}"] if meant_for else []
    if asked_again:
        notes.append(f"上次输入未被接受 / asked again: {asked_again}")
    note = "\n".join(notes) or None
    return _notice(brief, key, title, ASKED.get(step, step.label), due_at, tz, note)


def _notice(
    brief: CaseBrief,
    key: str,
    title: str,
    asked: str,
    due_at: datetime | None,
    tz: ZoneInfo,
    note: str | None,
) -> Notice:
    due = f"{due_at.astimezone(tz):%Y-%m-%d %H:%M}" if due_at else "—"
    severity = f"{brief.severity.value} / {brief.severity.code}"
    category = (
        f"{brief.category.value} / {brief.category.code}" if brief.category else "未分类 / not yet"
    )
    fields = [
        ("案件 / Case", case_link(brief.case_no, brief.run_url)),
        ("等级 / Severity", severity),
        ("类别 / Category", category),
        ("办理期限 / Due by", due),
        ("请办理 / Asked", escape(asked)),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(short(title, 150))},
        {"type": "section", "fields": [mrkdwn(f"*{label}*\n{value}") for label, value in fields]},
        {"type": "section", "text": plain(f"投诉 / Complaint：{brief.line()}")},
    ]
    if note:
        blocks.append({"type": "section", "text": plain(short(note, 500))})
    if brief.run_url:
        blocks.append(open_button(brief.run_url))
    blocks.append({"type": "context", "elements": [mrkdwn(f"`{escape(key)}`")]})
    lines = [
        title,
        "",
        f"案件 / Case: {brief.case_no}",
        f"等级 / Severity: {severity}",
        f"类别 / Category: {category}",
        f"办理期限 / Due by: {due} ({tz})",
        f"请办理 / Asked: {asked}",
        f"投诉 / Complaint: {brief.line()}",
    ]
    if note:
        lines.append(note)
    if brief.run_url:
        lines += ["", f"{OPEN_BUTTON}: {brief.run_url}"]
    return Notice(key=key, text=title, blocks=blocks, body="\n".join(lines) + "\n")


WATCH_GAP = timedelta(minutes=2)
"""Longer than this between two passes of the deadline watch, and a minute was missed: the
watch runs every minute and keeps the timers for most of it."""


def watch_gap(last_pass: datetime | None, now: datetime) -> timedelta | None:
    """How long the deadline watch kept no timers before `now`, when a minute was missed;
    None when it was keeping them (or never ran before)."""
    if last_pass is None or now - last_pass <= WATCH_GAP:
        return None
    return now - last_pass


def watch_gap_notice(last_pass: datetime, now: datetime, tz: ZoneInfo) -> Notice:
    """The W channel's notice that the deadline watch was down from `last_pass` to `now`:
    alerts that fell due meanwhile fire now, late by up to the gap."""
    minutes = round((now - last_pass).total_seconds() / 60)
    since, until = (t.astimezone(tz).strftime("%m-%d %H:%M") for t in (last_pass, now))
    title = f"⏱️ 时限监控中断 {minutes} 分钟 / The deadline watch was down {minutes} min"
    lines = [
        title,
        f"{since} – {until}",
        "期间到期的提醒现已补发，可能迟到至多上述时长；请检查 worker 与 Prefect 服务器 / alerts "
        "that fell due meanwhile fire now, up to that late; check the worker and the Prefect "
        "server",
    ]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    return Notice(
        key=f"watch-gap:{last_pass.isoformat()}",
        text=title,
        blocks=blocks,
        body="\n".join(lines) + "\n",
    )


def skipped_mail_key(mail_key: str) -> str:
    return f"mail-skipped:{mail_key}"


def skipped_notice(
    mail_key: str, uid: str, folder: str, sender: str | None, reason: str, case_no: str | None
) -> Notice:
    """The mailbox owner's notice of one mail the intake left for a person (`sender`
    masked): where it is, why, and the case it reached before failing."""
    title = f"📭 邮件未能受理 / A mail was left for a person: {folder} #{uid}"
    lines = [
        title,
        f"发件人 / From: {sender or '—'}",
        f"原因 / Why: {reason}",
        f"已登记的案件 / Case registered: {case_no}"
        if case_no
        else "未登记案件 / No case was registered",
        "原邮件留在邮箱中（$ComplaintsSkipped），请人工处理 / The mail stays in the mailbox"
        " (flagged $ComplaintsSkipped) for a person to handle",
    ]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    return Notice(
        key=skipped_mail_key(mail_key), text=title, blocks=blocks, body="\n".join(lines) + "\n"
    )


def person_address(person: Person, slack: bool, email: bool, fallback: str) -> Address:
    """How one person is told: a direct message by member ID, else the member Slack finds
    by their e-mail, else an e-mail; else the `fallback` channel. `slack`, `email`: whether
    Slack and e-mail are configured."""
    if slack and person.slack_id:
        return Address("slack", person.slack_id, fallback, person.name)
    if slack and person.email:
        return Address("slack-email", str(person.email), fallback, person.name)
    if email and person.email:
        return Address("email", str(person.email), fallback, person.name)
    return Address("slack", fallback, None, person.name)


def who_is_told(
    people: dict[str, Person],
    offered: list[str],
    step: Step,
    department: Department | None,
    owner: str | None = None,
) -> list[Person]:
    """The people told that a wait at `step` is theirs, of those who may take it now
    (`offered`: rules.staff.eligible, four eyes kept for an approval): those of the case's
    responsible department when any is; for the plan's own steps its owner, when they may
    take it. Empty without a directory."""
    names = [n for n in offered if n in people]
    if step in OWNER_STEPS and owner in names:
        return [people[owner]]
    mine = [n for n in names if department is not None and people[n].department is department]
    return [people[n] for n in (mine or names)]


def turn_addresses(
    told: list[Person],
    step: Step,
    department_channel: str,
    role_channel: Callable[[Role], str | None],
    slack: bool,
    email: bool,
) -> list[Address]:
    """One address per person told; those who can only be told in a channel share one
    copy there, naming them. With nobody to tell (no directory, or nobody who may take the
    step), the department's channel."""
    if not told:
        return [Address("slack", department_channel)]
    addresses: list[Address] = []
    in_channel: dict[str, list[str]] = {}
    for person in told:
        roles = sorted(person.roles & STEP_ROLES.get(step, frozenset()))
        fallback = next((c for r in roles if (c := role_channel(r))), None) or department_channel
        address = person_address(person, slack, email, fallback)
        if address.fallback is None:  # nothing but the channel
            in_channel.setdefault(address.to, []).append(person.name)
        else:
            addresses.append(address)
    addresses += [Address("slack", to, names=tuple(names)) for to, names in in_channel.items()]
    return addresses


def not_before(now: datetime, clock: Clock, urgent: bool) -> datetime | None:
    """When a notice may go: now (None) for a major case or within business hours; else
    at the next opening of the SLA policy's business hours."""
    if urgent:
        return None
    opening = clock.next_opening(now)
    return None if opening <= now else opening
