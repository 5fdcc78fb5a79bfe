"""The case file as people read it: timeline artifact, report at closing, open-cases table.

Reads the ledger and hands plain, already formatted and masked values to the templates.
Longer than most modules on purpose: every view of one case that people read (timeline,
form text, case report, open-cases table, escalation rows) is built here from the same
reading of the file, with the same masking and the same words for each decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from complaints.deadlines import clocks
from complaints.settings import Settings
from complaints.templating import Renderer
from models.db import unit_of_work
from models.ledger import (
    AuditEntry,
    Case,
    CustomerMessage,
    Escalation,
    StepDeadline,
    SurveyAnswer,
)
from models.repositories import CaseRepository, EscalationRepository
from rules.masking import mask_customer_text, mask_email, mask_name, mask_phone
from rules.presentation import FormContext, form_description
from rules.retention import ERASED_NAME
from rules.sla import clock_label
from rules.steps import Step

DECISION_WORDS = {
    "registered": "已登记",
    "acknowledged": "已确认收到",
    "answered_on_spot": "当场解答",
    "substantiated": "属实",
    "not_substantiated": "不属实",
    "explained": "已向客户说明",
    "submitted": "已提交",
    "approved": "批准",
    "rejected": "驳回",
    "progress": "进展",
    "delayed": "延期",
    "completed": "完成",
    "fed_back": "已反馈结果",
    "satisfied": "满意",
    "not_satisfied": "不满意",
    "reopened": "重新处理",
    "closed": "已关闭",
    "invalid_input": "输入无效",
    "refused": "无权办理（已拒绝）",
    "erased": "客户个人信息已删除",
    "on_hold": "等待客户（计时暂停）",
    "released": "客户已回复（恢复计时）",
    "repeat": "重复投诉",
    "customer_wrote": "客户来信",
    "evidence": "客户提供证据",
    "attachment_not_kept": "附件未保存",
    "mail_not_finished": "邮件处理中断",
    "mail_garbled": "邮件编码无法识别",
    "chased": "客户催办",
    "survey_page": "客户在线问卷已提交",
    "forwarded": "已书面转交责任部门",
    "not_notified": "通知无处可发",
    "escalated:W": "预警",
    "escalated:L1": "一级升级",
    "escalated:L2": "二级升级",
    "escalated:L3": "三级升级",
}

LEVEL_NAMES = {-1: "—", 0: "预警 W", 1: "一级 L1", 2: "二级 L2", 3: "三级 L3"}

SUMMARY_FIELDS = (
    "findings",
    "basis",
    "reason",
    "measures",
    "note",
    "result",
    "comment",
    "errors",
    "explanation_to_customer",
    "answer",
)


@dataclass(frozen=True)
class CaseFile:
    case: Case
    audit: list[AuditEntry]
    messages: list[CustomerMessage]
    deadlines: list[StepDeadline]
    surveys: list[SurveyAnswer]
    escalations: list[Escalation]


def read(settings: Settings, case_no: str) -> CaseFile:
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        case = repo.get(case_no)
        if case is None:
            raise LookupError(f"no case {case_no}")
        return CaseFile(
            case=case,
            audit=list(repo.audit(case.id)),
            messages=list(repo.messages(case.id)),
            deadlines=list(repo.deadlines(case.id)),
            surveys=list(repo.surveys(case.id)),
            escalations=list(EscalationRepository(repo.session).of_case(case.id)),
        )


def _when(value: datetime | None, settings: Settings) -> str | None:
    return f"{value.astimezone(settings.tz):%Y-%m-%d %H:%M}" if value else None


def _step_label(step: str) -> str:
    return clock_label(step)


def on_hold(file: CaseFile) -> bool:
    return clocks.on_hold(file.audit)


def clock_rows(file: CaseFile, settings: Settings) -> list[dict[str, Any]]:
    """Every SLA clock of the case: started, due, level reached, done."""
    return [
        {
            "clock": _step_label(d.step),
            "cycle": d.cycle + 1,
            "started": _when(d.started_at, settings),
            "due": _when(d.due_at, settings) or ("暂停 paused" if d.done_at is None else None),
            "warn": _when(d.warn_at, settings),
            "level": LEVEL_NAMES.get(d.alert_level, str(d.alert_level)),
            "done": _when(d.done_at, settings),
            "on_time": None if d.done_at is None or d.due_at is None else d.done_at <= d.due_at,
        }
        for d in file.deadlines
    ]


def masker(case: Case, raw: bool = False) -> Any:
    """Masks free text about this case's customer (their name, phone and e-mail wherever
    it repeats them, and any phone or address); `raw` leaves text as recorded."""
    if raw:
        return lambda text: text
    return lambda text: mask_customer_text(
        text, case.customer_name, case.customer_phone, case.customer_email
    )


def mask_recipient(recipient: str | None) -> str | None:
    if not recipient:
        return recipient
    return mask_email(recipient) if "@" in recipient else mask_phone(recipient)


def escalation_rows(file: CaseFile, settings: Settings) -> list[dict[str, Any]]:
    mask = masker(file.case)
    return [
        {
            "at": _when(e.fired_at, settings),
            "level": LEVEL_NAMES.get(e.level, str(e.level)),
            "audience": e.audience,
            "trigger": e.trigger,
            "summary": mask(e.summary),
        }
        for e in file.escalations
    ]


def summary_of(payload: dict[str, Any]) -> str:
    for field in SUMMARY_FIELDS:
        if payload.get(field):
            text = " ".join(str(payload[field]).split())
            return text if len(text) <= 80 else text[:79] + "…"
    return ""


def current_due(file: CaseFile) -> datetime | None:
    for deadline in reversed(file.deadlines):
        if (
            deadline.step == file.case.current_step
            and deadline.cycle == file.case.cycle
            and deadline.done_at is None
        ):
            return deadline.due_at
    return None


def case_fields(case: Case, settings: Settings, raw: bool = False) -> dict[str, Any]:
    """The register as shown beyond the case's handlers: masked, unless `raw`."""
    mask = masker(case, raw)
    phone, email = case.customer_phone, case.customer_email
    if not raw:
        phone, email = mask_phone(phone), mask_email(email)
    contact = " / ".join(filter(None, [phone, email]))
    return {
        "case_no": case.case_no,
        "channel": case.channel.value,
        "received_at": _when(case.received_at, settings),
        "occurred_at": _when(case.occurred_at, settings),
        "customer_name": case.customer_name
        if raw or case.customer_name == ERASED_NAME
        else mask_name(case.customer_name),
        "customer_contact": contact or None,
        "product": case.product,
        "order_no": case.order_no,
        "severity": case.severity.value,
        "category": case.category.value if case.category else None,
        "department": case.department.value if case.department else None,
        "scope": case.scope.value if case.scope else None,
        "receiver": case.receiver,
        "description": mask(case.description),
        "demand": case.demand.value,
        "demand_detail": mask(case.demand_detail),
        "status": case.status.value,
        "current_step": _step_label(case.current_step),
    }


def timeline(file: CaseFile, settings: Settings, raw: bool = False) -> list[dict[str, Any]]:
    mask = masker(file.case, raw)
    return [
        {
            "at": _when(entry.at, settings),
            "step": _step_label(entry.step),
            "actor": entry.actor,
            "decision": DECISION_WORDS.get(entry.decision, entry.decision),
            "summary": mask(summary_of(entry.payload)),
        }
        for entry in file.audit
    ]


def timeline_markdown(settings: Settings, file: CaseFile) -> str:
    context = {
        "case": {**case_fields(file.case, settings), "due_at": _when(current_due(file), settings)},
        "timeline": timeline(file, settings),
        "clocks": clock_rows(file, settings),
        "escalations": escalation_rows(file, settings),
        "messages": [
            {
                "kind": m.kind,
                "delivery": m.delivery,
                "status": m.status,
                "at": _when(m.sent_at or m.created_at, settings),
            }
            for m in file.messages
        ],
    }
    return Renderer(settings.templates_dir).case_timeline(file.case.language.value, context)


def report_markdown(settings: Settings, file: CaseFile, closed_at: datetime) -> str:
    case = file.case
    survey = file.surveys[-1] if file.surveys else None
    survey_dict = None
    if survey is not None:
        scores = (survey.efficiency, survey.resolution, survey.attitude, survey.fairness)
        survey_dict = {
            "efficiency": survey.efficiency,
            "resolution": survey.resolution,
            "attitude": survey.attitude,
            "fairness": survey.fairness,
            "average": round(sum(scores) / 4, 2),
            "comment": masker(case)(survey.comment),
        }
    reopen_count = sum(1 for e in file.audit if e.decision == "reopened")
    hours = (closed_at - case.received_at).total_seconds() / 3600
    resolved = bool(case.substantiated) and survey is not None and survey.accepts_result
    mask = masker(case)
    context = {
        "case": case_fields(case, settings),
        "timeline": timeline(file, settings),
        "result": {
            "resolved": resolved or case.answered_on_spot or case.substantiated is False,
            "satisfied": survey.accepts_result if survey else None,
            "result_summary": mask(
                case.result_summary or case.on_spot_answer or _explanation(file)
            ),
            "survey": survey_dict,
            "follow_up": None,
        },
        "improvement": {
            "root_cause": mask(case.root_cause),
            "improvement": mask(case.improvement),
            "attributed_department": (
                case.attributed_department.value if case.attributed_department else None
            ),
            "attributed_employee": case.attributed_employee,
        },
        "summary": {
            "hours_taken": round(hours, 1),
            "reopen_count": reopen_count,
            "closed_at": _when(closed_at, settings),
            "recommendations": mask(case.improvement),
        },
    }
    return Renderer(settings.templates_dir).case_report(case.language.value, context)


def _explanation(file: CaseFile) -> str | None:
    for entry in file.audit:
        if entry.payload.get("explanation_to_customer"):
            return str(entry.payload["explanation_to_customer"])
    return None


def open_cases_rows(settings: Settings, limit: int = 200) -> list[dict[str, Any]]:
    with unit_of_work(settings.database_url) as session:
        rows = CaseRepository(session).open_cases(limit)
        return [
            {
                "案件编号 case": case.case_no,
                "等级 severity": case.severity.value,
                "类别 category": case.category.value if case.category else "待分类",
                "当前步骤 step": _step_label(case.current_step),
                "截止 due": _when(due, settings) or "—",
                "责任部门 department": case.department.value if case.department else "—",
                "受理人 receiver": case.receiver,
            }
            for case, due in rows
        ]


def form_markdown(
    settings: Settings, file: CaseFile, step: Step, due: datetime | None, error: str | None
) -> str:
    """The case summary and its recent history, shown above the Resume form."""
    recent = [
        f"{item['at']} · {item['step']} · {item['actor']} · {item['decision']}"
        + (f" · {item['summary']}" if item["summary"] else "")
        for item in timeline(file, settings)[-8:]
    ]
    context = FormContext(
        case_no=file.case.case_no,
        severity=file.case.severity,
        category=file.case.category,
        customer_name=file.case.customer_name,
        description=masker(file.case)(file.case.description),
        demand=file.case.demand.value,
        step=step,
        cycle=file.case.cycle,
        due_at=due,
        history=tuple(recent),
        error=error,
    )
    return form_description(context, settings.tz)


def escalation_list(
    settings: Settings, overdue_only: bool = False, limit: int = 50
) -> list[dict[str, Any]]:
    """Escalations, newest first, with the cases each concerns; or only still-overdue ones."""
    with unit_of_work(settings.database_url) as session:
        return [
            {
                "at": _when(e.fired_at, settings),
                "level": LEVEL_NAMES.get(e.level, str(e.level)),
                "trigger": e.trigger,
                "cases": ", ".join(case_nos),
                "summary": e.summary,
            }
            for e, case_nos in EscalationRepository(session).recent(overdue_only, limit)
        ]
