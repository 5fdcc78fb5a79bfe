"""How an escalation reads in Slack: a Block Kit message and its notification text.

Slack is read beyond the case handlers, so the customer's name, phone and e-mail are
masked, and free text (description, reason) is masked and shortened. Customer-written
text goes into ``plain_text`` objects, which Slack shows literally: a ``<!channel>`` in a
complaint pings nobody. Everything placed in ``mrkdwn`` is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.alerts import Alert, ClusterMember, Trigger
from rules.masking import mask_customer_text, mask_email, mask_name, mask_phone
from rules.presentation import short

DESCRIPTION_CHARS = 200
HEADER_CHARS = 150  # Slack's limit for a header block
LISTED_MEMBERS = 20
OPEN_BUTTON = "在 Prefect 中打开 / Open in Prefect"

TRIGGER_ICONS: dict[Trigger, str] = {
    Trigger.SLA: "⏰",
    Trigger.MAJOR: "🚨",
    Trigger.REJECTED: "👎",
    Trigger.PLAN_REJECTED: "📝",
    Trigger.CLUSTER: "📈",
    Trigger.REPEAT: "🔁",
    Trigger.RECTIFICATION: "🛠",
    Trigger.RUN_FAILED: "🧯",
    Trigger.CHASED: "📣",
}

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """What `chat.postMessage` gets: the blocks and the text of the notification."""

    text: str
    blocks: list[Block]


def slack_message(alert: Alert, tz: ZoneInfo) -> SlackMessage:
    """The message for one escalation; times are shown in `tz`."""
    blocks: list[Block] = [_header(alert)]
    if alert.trigger is Trigger.CLUSTER or alert.members:
        blocks.append(_section(_members(alert.members, tz)))
    fields = _fields(alert, tz)
    if fields:
        blocks.append({"type": "section", "fields": [mrkdwn(f) for f in fields]})
    for label, free_text in (
        ("描述 / Description", alert.description),
        ("原因 / Reason", alert.reason),
    ):
        if free_text and free_text.strip():
            quoted = short(_mask_free_text(free_text, alert), DESCRIPTION_CHARS)
            blocks.append({"type": "section", "text": plain(f"{label}：{quoted}")})
    if alert.run_url:
        blocks.append(open_button(alert.run_url))
    fired = f"{alert.fired_at.astimezone(tz):%Y-%m-%d %H:%M} ({tz})"
    blocks.append(
        {"type": "context", "elements": [mrkdwn(f"触发 / Fired {fired} · `{escape(alert.key)}`")]}
    )
    return SlackMessage(text=_fallback(alert, tz), blocks=blocks)


def overdue_text(overdue_by: timedelta) -> str:
    """``2小时15分 / 2 h 15 min``; whole minutes, days when it runs past one."""
    minutes = int(overdue_by.total_seconds()) // 60
    if minutes < 1:
        return "不到1分钟 / under 1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    zh = en = ""
    for amount, zh_unit, en_unit in (
        (days, "天", "d"),
        (hours, "小时", "h"),
        (minutes, "分", "min"),
    ):
        if amount:
            zh += f"{amount}{zh_unit}"
            en += f" {amount} {en_unit}"
    return f"{zh} /{en}"


def due_text(due_at: datetime, fired_at: datetime, tz: ZoneInfo) -> str:
    """``将于 10:30 到期 / due at 10:30``; with the date when it is not the same local day."""
    due, fired = due_at.astimezone(tz), fired_at.astimezone(tz)
    when = f"{due:%H:%M}" if due.date() == fired.date() else f"{due:%m-%d %H:%M}"
    return f"将于 {when} 到期 / due at {when}"


def _header(alert: Alert) -> Block:
    title = f"{TRIGGER_ICONS[alert.trigger]} {alert.level.label} · {alert.headline}"
    return {"type": "header", "text": plain(short(title, HEADER_CHARS))}


def _fields(alert: Alert, tz: ZoneInfo) -> list[str]:
    fields: list[tuple[str, str | None]] = [
        ("案件 / Case", case_link(alert.case_no, alert.run_url) if alert.case_no else None),
        (
            "等级 / Severity",
            f"{alert.severity.value} / {alert.severity.code}" if alert.severity else None,
        ),
        (
            "类别 / Category",
            f"{alert.category.value} / {alert.category.code}" if alert.category else None,
        ),
        ("产品 / Product", escape(alert.product) if alert.product else None),
        ("步骤 / Step", _step(alert)),
        *_timing(alert, tz),
        ("负责 / Owner", escape(alert.owner) if alert.owner else None),
        ("级别 / Level", f"{alert.level.tag} · {escape(alert.level.label)}"),
        ("客户 / Customer", _customer(alert)),
    ]
    return [f"*{label}*\n{value}" for label, value in fields if value]


def _step(alert: Alert) -> str | None:
    label = alert.step_label or alert.step
    if not label:
        return None
    if alert.cycle:
        return f"{escape(label)} · 第{alert.cycle + 1}轮 / cycle {alert.cycle + 1}"
    return escape(label)


def _timing(alert: Alert, tz: ZoneInfo) -> list[tuple[str, str | None]]:
    if alert.overdue_by is not None:
        value = overdue_text(alert.overdue_by)
        if alert.due_at is not None:
            value += f"\n截止 / due {alert.due_at.astimezone(tz):%m-%d %H:%M}"
        return [("逾期 / Overdue", value)]
    if alert.due_at is not None:
        return [("到期 / Due", due_text(alert.due_at, alert.fired_at, tz))]
    return []


def _customer(alert: Alert) -> str | None:
    """Masked values in code spans: Slack neither formats their ``*`` nor links them."""
    parts = [
        mask_name(alert.customer_name),
        mask_phone(alert.customer_phone),
        mask_email(alert.customer_email),
    ]
    shown = [code(part) for part in parts if part]
    return " ".join(shown) or None


def _members(members: list[ClusterMember], tz: ZoneInfo) -> str:
    lines = [f"*案件 / Cases ({len(members)})*"]
    for member in members[:LISTED_MEMBERS]:
        received = f"{member.received_at.astimezone(tz):%m-%d %H:%M}"
        lines.append(f"• {case_link(member.case_no, member.run_url)} · {received}")
    if len(members) > LISTED_MEMBERS:
        more = len(members) - LISTED_MEMBERS
        lines.append(f"…另有 {more} 件 / {more} more")
    return "\n".join(lines)


def _fallback(alert: Alert, tz: ZoneInfo) -> str:
    """The notification text: no customer data, customer text escaped."""
    if alert.case_no:
        subject = alert.case_no
    else:
        kind = alert.category.value if alert.category else alert.trigger.label
        subject = f"{kind} · {len(alert.members)} 件 / cases"
    timing = None
    if alert.overdue_by is not None:
        timing = f"逾期 {overdue_text(alert.overdue_by)}"
    elif alert.due_at is not None:
        timing = due_text(alert.due_at, alert.fired_at, tz)
    parts = [
        f"{TRIGGER_ICONS[alert.trigger]} {alert.level.tag} {subject}",
        alert.headline,
        alert.step_label or alert.step,
        timing,
    ]
    return escape(" · ".join(part for part in parts if part))


def _mask_free_text(text: str, alert: Alert) -> str:
    return mask_customer_text(text, alert.customer_name, alert.customer_phone, alert.customer_email)


def case_link(case_no: str, url: str | None) -> str:
    return f"<{url}|{escape(case_no)}>" if url else escape(case_no)


def escape(text: str) -> str:
    """The three characters Slack's mrkdwn wants escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    return "`" + escape(text).replace("`", "ˋ") + "`"


def open_button(url: str) -> Block:
    """The button that opens the case's run in the Prefect UI."""
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "open_in_prefect",
                "text": plain(OPEN_BUTTON),
                "url": url,
            }
        ],
    }


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}
