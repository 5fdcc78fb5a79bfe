"""How a case reads in the Prefect UI: run name, tags and the text above each form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rules.enums import Category, Channel, Department, Severity
from rules.masking import mask_name
from rules.steps import Step

SUMMARY_CHARS = 12
UNGRADED = "待分类"

# Markdown punctuation that could start a link, image, emphasis, code, heading or table
# cell; escaped with a backslash, which every CommonMark renderer shows as the character.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]()#!|~"})


def inert(text: object) -> str:
    """Text from outside (a complaint, a form) as Markdown that renders as that text and
    nothing else: no link, image, HTML, emphasis or table cell can come out of it.

    HTML characters become entities; Markdown punctuation is escaped; the patterns GFM
    turns into links by themselves (``https://…``, ``www.…``, ``a@b.c``) are broken with an
    entity the reader never sees.
    """
    escaped = (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .translate(_MARKDOWN)
    )
    return escaped.replace("://", "&#58;//").replace("www.", "www&#46;").replace("@", "&#64;")


def short(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_name(case_no: str, severity: Severity, category: Category | None, description: str) -> str:
    """e.g. ``TS-20261123-0007 · 严重 · 物流配送 · 快递延误三天``. The name shows in lists,
    logs and the worker's output: pass the description masked."""
    label = category.value if category else UNGRADED
    return f"{case_no} · {severity.value} · {label} · {short(description)}"


def run_tags(
    severity: Severity,
    category: Category | None,
    channel: Channel,
    department: Department | None,
    status_tag: str | None = None,
) -> list[str]:
    tags = ["投诉", f"等级:{severity.value}", f"渠道:{channel.value}"]
    if category:
        tags.append(f"类别:{category.value}")
    if department:
        tags.append(f"部门:{department.value}")
    if status_tag:
        tags.append(status_tag)
    return tags


OVERDUE_TAG = "逾期"
WARNED_TAG = "预警"
REPEAT_TAG = "重复投诉"
ON_HOLD_TAG = "等待客户"


def alert_tags(levels: list[int], repeat: bool = False, on_hold: bool = False) -> list[str]:
    """Tags the UI can filter on: overdue (and the highest level reached), warned, repeat.

    `levels` are the highest ladder levels fired on the case's running clocks.
    """
    tags = []
    highest = max(levels, default=-1)
    if highest >= 1:
        tags += [OVERDUE_TAG, f"升级:L{highest}"]
    elif highest == 0:
        tags.append(WARNED_TAG)
    if repeat:
        tags.append(REPEAT_TAG)
    if on_hold:
        tags.append(ON_HOLD_TAG)
    return tags


def artifact_key(case_no: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return "case-" + case_no.lower()


def report_artifact_key(case_no: str) -> str:
    """The key of the case's six-part report, published when it closes."""
    return "report-" + case_no.lower()


def worklist_artifact_key(department: Department) -> str:
    """The key of a department's worklist table (one per department, kept current)."""
    return "worklist-" + department.code.replace("_", "-")


@dataclass(frozen=True)
class FormContext:
    """What the form shows; `description` and `history` come masked (the caller knows the
    customer), and everything typed is made inert here."""

    case_no: str
    severity: Severity
    category: Category | None
    customer_name: str
    description: str
    demand: str
    step: Step
    cycle: int
    due_at: datetime | None
    history: tuple[str, ...] = ()
    error: str | None = None


STEP_HINTS: dict[Step, str] = {
    Step.VERIFY: "查询订单、物流、检验记录，联系客户确认事实与核心诉求。"
    " Check the records, confirm the facts and the core demand with the customer.",
    Step.GRADE: "填写类别、等级、协调范围及定级依据。 Category, severity, scope and the basis.",
    Step.APPROVE_GRADE: "部门总监审批定级；驳回需写明理由。 The director approves or rejects.",
    Step.PLAN: "责任部门制定措施、负责人、期限与所需资源。 Measures, owner, deadline, resources.",
    Step.APPROVE_PLAN: "运营总监审批方案；驳回需写明理由。 The operations director decides.",
    Step.EXECUTE: "记录执行进展；延期须说明原因并给出新期限；完成后选择“完成”。"
    " Record progress; a delay needs a reason and a new deadline.",
    Step.FEEDBACK: "告知客户处理结果。 Tell the customer the result.",
    Step.CALLBACK: "回访客户，按1-5分评价四项满意度，并确认是否接受处理结果。"
    " Call back: four 1-5 scores and whether the result is accepted.",
}


def form_description(ctx: FormContext, tz: ZoneInfo) -> str:
    """Markdown shown above the Resume form of a waiting step."""
    due = f"{ctx.due_at.astimezone(tz):%Y-%m-%d %H:%M}" if ctx.due_at else "—"
    lines = [
        f"## {ctx.case_no} · {ctx.step.label}",
        "",
        f"**等级 / Severity:** {ctx.severity.value}  ",
        f"**类别 / Category:** {ctx.category.value if ctx.category else UNGRADED}  ",
        f"**客户 / Customer:** {inert(mask_name(ctx.customer_name))}  ",
        f"**诉求 / Demand:** {inert(ctx.demand)}  ",
        f"**处理轮次 / Cycle:** {ctx.cycle + 1}  ",
        f"**截止 / Due:** {due}",
        "",
        f"> {inert(short(ctx.description, 300))}",
        "",
        STEP_HINTS.get(ctx.step, ""),
    ]
    if ctx.history:
        lines += ["", "**已记录 / So far:**", *[f"- {inert(item)}" for item in ctx.history]]
    if ctx.error:
        lines += ["", f"**⚠ 上次提交无效 / The last input was rejected:** {inert(ctx.error)}"]
    return "\n".join(lines)


def taken_message(taken: tuple[str, datetime] | None, tz: Any = None) -> str:
    """The line told to the second person answering a wait: who took it, and when."""
    if taken is None:
        return "这一步已不在等待处理 / the case is no longer waiting at this step"
    actor, at = taken
    when = (at.astimezone(tz) if tz else at).strftime("%Y-%m-%d %H:%M:%S")
    return f"这一步已由 {actor} 于 {when} 处理 / this step was already taken by {actor} at {when}"
