"""What waits for whom: worklists and the morning list, from the waiting cases.

A waiting case names the people who would be told it is their turn (rules.notices); a
person's list is the cases naming them, a department's its cases, a role's the cases
waiting at a step the role may take. Soonest due first, cases without a deadline last.

The morning list (每日待办) is one message per department and per person with open work
on each working day: overdue, due today, waiting on the customer, newly handed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.enums import Department, Role
from rules.notices import Notice
from rules.slack_blocks import case_link, escape, mrkdwn, plain
from rules.staff import STEP_ROLES
from rules.steps import Step

LISTED = 30  # per section of a morning message; the rest is counted, `complaints todo` has all


@dataclass(frozen=True)
class Waiting:
    """A case waiting for a person at its current step."""

    case_no: str
    severity: str
    category: str | None
    department: Department | None
    step: Step
    waiting_since: datetime | None
    due_at: datetime | None
    run_url: str | None
    told: tuple[str, ...] = ()  # the people it is the turn of (empty without a directory)
    on_hold: bool = False  # waiting on the customer: its clocks stand still
    forwarded_at: datetime | None = None  # when its department was last handed it

    def row(self, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
        """For `--json` and the table: local times, and whole minutes waited and left."""
        left = (self.due_at - now).total_seconds() // 60 if self.due_at else None
        waited = (now - self.waiting_since).total_seconds() // 60 if self.waiting_since else None
        return {
            "case_no": self.case_no,
            "step": self.step.value,
            "step_label": self.step.label,
            "severity": self.severity,
            "category": self.category,
            "department": self.department.value if self.department else None,
            "waiting_since": _local(self.waiting_since, tz),
            "due_at": _local(self.due_at, tz),
            "waited_minutes": int(waited) if waited is not None else None,
            "left_minutes": int(left) if left is not None else None,
            "waiting_on_customer": self.on_hold,
            "people": list(self.told),
            "run_url": self.run_url,
        }


def _local(at: datetime | None, tz: ZoneInfo) -> str | None:
    return f"{at.astimezone(tz):%Y-%m-%d %H:%M}" if at else None


def soonest_due(items: list[Waiting]) -> list[Waiting]:
    return sorted(
        items,
        key=lambda w: (w.due_at is None, w.due_at.timestamp() if w.due_at else 0.0, w.case_no),
    )


def select(
    items: list[Waiting],
    person: str | None = None,
    department: Department | None = None,
    role: Role | None = None,
) -> list[Waiting]:
    """The items of that person, department or role, soonest due first."""
    chosen = [
        w
        for w in items
        if (person is None or person in w.told)
        and (department is None or w.department is department)
        and (role is None or role in STEP_ROLES.get(w.step, frozenset()))
    ]
    return soonest_due(chosen)


@dataclass(frozen=True)
class Sections:
    overdue: list[Waiting]
    due_today: list[Waiting]
    on_hold: list[Waiting]
    handed_over: list[Waiting]

    def __bool__(self) -> bool:
        return any((self.overdue, self.due_today, self.on_hold, self.handed_over))


def sections(items: list[Waiting], now: datetime, since: datetime, tz: ZoneInfo) -> Sections:
    """The morning list's parts: overdue, due by the end of today (local), waiting on the
    customer, and handed over to the department since `since` (the last list)."""
    end_of_day = datetime.combine(
        now.astimezone(tz).date() + timedelta(days=1), datetime.min.time(), tz
    )
    ordered = soonest_due(items)
    running = [w for w in ordered if not w.on_hold]
    return Sections(
        overdue=[w for w in running if w.due_at is not None and w.due_at <= now],
        due_today=[w for w in running if w.due_at is not None and now < w.due_at < end_of_day],
        on_hold=[w for w in ordered if w.on_hold],
        handed_over=[w for w in ordered if w.forwarded_at is not None and w.forwarded_at > since],
    )


def morning_list(key: str, whose: str, parts: Sections, now: datetime, tz: ZoneInfo) -> Notice:
    """One message: each part with its cases (link, step, due), soonest due first."""
    day = f"{now.astimezone(tz):%Y-%m-%d}"
    title = f"☀️ 今日待办 / Today's work · {whose} · {day}"
    labelled = (
        ("已逾期 / Overdue", parts.overdue),
        ("今日到期 / Due today", parts.due_today),
        ("等待客户 / Waiting on the customer", parts.on_hold),
        ("新转交 / Newly handed over", parts.handed_over),
    )
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(title[:150])}]
    lines = [title, ""]
    for label, items in labelled:
        if not items:
            continue
        shown = [_line(w, tz) for w in items[:LISTED]]
        more = len(items) - len(shown)
        tail = [f"…另有 {more} 件 / {more} more: complaints todo"] if more else []
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(
                    "\n".join([f"*{escape(label)} ({len(items)})*", *(s[0] for s in shown), *tail])
                ),
            }
        )
        lines += [f"{label} ({len(items)})", *(s[1] for s in shown), *tail, ""]
    return Notice(key=key, text=title, blocks=blocks, body="\n".join(lines))


def _line(item: Waiting, tz: ZoneInfo) -> tuple[str, str]:
    """The item in Slack (linked) and in an e-mail (the link after it)."""
    due = (
        f"截止 due {item.due_at.astimezone(tz):%m-%d %H:%M}"
        if item.due_at
        else "无期限 / no deadline"
    )
    what = f"{item.step.label} · {item.severity} · {due}"
    slack = f"• {case_link(item.case_no, item.run_url)} · {escape(what)}"
    mail = f"- {item.case_no} · {what}" + (f"  {item.run_url}" if item.run_url else "")
    return slack, mail


def table_rows(items: list[Waiting], now: datetime, tz: ZoneInfo) -> list[dict[str, str]]:
    """A department's worklist as the Prefect UI's table shows it."""
    rows = []
    for item in soonest_due(items):
        row = item.row(now, tz)
        left = row["left_minutes"]
        rows.append(
            {
                "案件编号 case": item.case_no,
                "等级 severity": item.severity,
                "当前步骤 step": item.step.label,
                "截止 due": row["due_at"] or "—",
                "剩余 left": "—"
                if left is None
                else (f"{left} min" if left >= 0 else f"逾期 overdue {-left} min"),
                "已等 waited": "—"
                if row["waited_minutes"] is None
                else f"{row['waited_minutes']} min",
                "等待客户 on hold": "是 yes" if item.on_hold else "",
                "待办人 people": "、".join(item.told) or "—",
            }
        )
    return rows
