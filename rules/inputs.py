"""What each person enters at a human step: one small model per decision.

They are plain pydantic models so the rules stay framework-free; the flow hands them to
Prefect's ``suspend_flow_run(wait_for_input=...)``, whose UI renders a form from their JSON
schema (Chinese label first, English after). Cross-field rules live in validators: the
command line runs them before resuming, and the flow runs them again after a resume from
the UI, where only the JSON schema was checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)

from rules.case_number import PATTERN as CASE_NUMBER
from rules.case_number import normalize as normalize_case_number
from rules.enums import Category, Demand, Department, FeedbackMethod, ProgressKind, Scope, Severity
from rules.fields import DEFAULT_LIMITS, Flag, InputLimits, Line, Moment, Prose, Score, ahead
from rules.routing import DEFAULT_ROUTING, responsible_department
from rules.working_time import Clock, Unit

TEXT = 2000
WorkingDays = Annotated[int, Strict(), Field(ge=1, le=120)]


@dataclass(frozen=True)
class CaseContext:
    """What a decision's effect on the case depends on besides the decision itself."""

    department: Department | None  # the case's responsible department so far
    routing: Mapping[Category, Department] = field(default_factory=lambda: DEFAULT_ROUTING)


class StepInput(BaseModel):
    """A person's decision at a step. Besides its fields, each kind says what it means for
    the case: the word the audit trail records, whether it finishes its step, and the
    case's fields it sets (the casework service stores them; rules.escalation says whom
    it alerts)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    actor: Line = Field(min_length=1, max_length=50, title="处理人 / Acted by")

    @property
    def decision(self) -> str:
        """The word the audit trail records for this decision."""
        return "submitted"

    @property
    def completes_step(self) -> bool:
        """Whether the decision finishes its step (a progress report does not)."""
        return True

    def case_changes(self, context: CaseContext) -> dict[str, Any]:
        """The fields of the case this decision sets."""
        return {}


class VerifyInput(StepInput):
    substantiated: Flag = Field(title="投诉属实 / Substantiated")
    findings: Prose = Field(
        min_length=1,
        max_length=TEXT,
        title="核实情况 / Findings",
        description="查询订单、物流、检验记录及与客户确认的事实 / what records and the customer confirmed",
    )
    confirmed_demand: Demand | None = Field(default=None, title="确认的诉求 / Confirmed demand")
    evidence: Prose | None = Field(
        default=None, max_length=TEXT, title="证据 / Evidence", description="照片、视频、单据"
    )
    explanation_to_customer: Prose | None = Field(
        default=None,
        max_length=TEXT,
        title="向客户的说明 / Explanation to the customer",
        description="不属实时必填 / required when not substantiated",
    )

    @model_validator(mode="after")
    def _explained(self) -> VerifyInput:
        if not self.substantiated and not self.explanation_to_customer:
            raise ValueError(
                "explanation_to_customer: 不属实时必须向客户说明 / required when not substantiated"
            )
        return self

    @property
    def decision(self) -> str:
        return "substantiated" if self.substantiated else "not_substantiated"

    def case_changes(self, context: CaseContext) -> dict[str, Any]:
        return {"substantiated": self.substantiated}


class GradeInput(StepInput):
    category: Category = Field(title="投诉类别 / Category")
    severity: Severity = Field(title="严重等级 / Severity")
    scope: Scope = Field(default=Scope.DEPARTMENT, title="协调范围 / Coordination scope")
    department: Department | None = Field(
        default=None,
        title="责任部门 / Responsible department",
        description="留空则按类别分派 / empty: routed by category",
    )
    basis: Prose = Field(min_length=1, max_length=TEXT, title="定级依据 / Basis")
    reason: Prose = Field(min_length=1, max_length=TEXT, title="定级理由 / Reason")

    def case_changes(self, context: CaseContext) -> dict[str, Any]:
        return {
            "category": self.category,
            "severity": self.severity,
            "scope": self.scope,
            "department": responsible_department(self.category, context.routing, self.department),
        }


class ApprovalInput(StepInput):
    approved: Flag = Field(title="批准 / Approved")
    reason: Prose | None = Field(
        default=None,
        max_length=TEXT,
        title="意见 / Reason",
        description="驳回时必填 / required when rejected",
    )

    @model_validator(mode="after")
    def _reasoned(self) -> ApprovalInput:
        if not self.approved and not self.reason:
            raise ValueError("reason: 驳回必须说明理由 / a rejection needs a reason")
        return self

    @property
    def decision(self) -> str:
        return "approved" if self.approved else "rejected"


class PlanInput(StepInput):
    measures: Prose = Field(
        min_length=1,
        max_length=TEXT,
        title="处理措施 / Measures",
        description="如：免费换货并赠送50元优惠券 / e.g. free exchange plus a 50 CNY coupon",
    )
    compensation: Prose | None = Field(default=None, max_length=500, title="补偿 / Compensation")
    owner: Line = Field(min_length=1, max_length=50, title="负责人 / Owner")
    owner_department: Department | None = Field(
        default=None,
        title="负责人所属部门 / Owner's department",
        description="负责人不属于责任部门时填写 / only when the owner is not of the responsible "
        "department",
    )
    owner_department_reason: Prose | None = Field(
        default=None,
        max_length=500,
        title="跨部门负责的原因 / Why an owner from that department",
        description="与上一项同时填写 / given together with the owner's department",
    )
    deadline: Moment | None = Field(
        default=None,
        title="完成期限 / Deadline",
        description="具体时刻，或填下一项 / a moment with its zone, or fill in the next field",
    )
    deadline_working_days: WorkingDays | None = Field(
        default=None,
        title="或：几个工作日内完成 / or: done within N working days",
        description="从现在起按工作日历计算 / counted from now on the working calendar",
    )
    resources: Prose | None = Field(
        default=None, max_length=TEXT, title="所需资源 / Resources across departments"
    )
    root_cause: Prose = Field(min_length=1, max_length=TEXT, title="原因分析 / Root cause")
    attributed_department: Department | None = Field(
        default=None, title="责任归属部门 / Attributed to department"
    )
    attributed_employee: Line | None = Field(
        default=None, max_length=50, title="责任人 / Attributed to employee"
    )
    improvement: Prose | None = Field(
        default=None, max_length=TEXT, title="改进措施 / Improvement measures"
    )

    @model_validator(mode="after")
    def _has_deadline(self) -> PlanInput:
        if self.deadline is None and self.deadline_working_days is None:
            raise ValueError(
                "deadline: 请给出完成期限或工作日数 / give a deadline or deadline_working_days"
            )
        return self

    @model_validator(mode="after")
    def _owner_department_explained(self) -> PlanInput:
        # a department alone says nothing of why; a reason alone names no department
        named, reason = self.owner_department is not None, bool(self.owner_department_reason)
        if named != reason:
            missing = "owner_department_reason" if named else "owner_department"
            raise ValueError(
                f"{missing}: 负责人所属部门与原因须同时填写 / give owner_department and "
                "owner_department_reason together, or neither"
            )
        return self

    def case_changes(self, context: CaseContext) -> dict[str, Any]:
        return {
            "root_cause": self.root_cause,
            # the responsible department unless the plan names another
            "attributed_department": self.attributed_department or context.department,
            "attributed_employee": self.attributed_employee,
            "improvement": self.improvement,
        }


class ProgressInput(StepInput):
    kind: ProgressKind = Field(title="类型 / Kind", description="进展 / 延期 / 完成")
    note: Prose = Field(
        min_length=1,
        max_length=TEXT,
        title="进展说明 / Note",
        description="如：已预约快递，3天内送达 / e.g. courier booked, arrives in 3 days",
    )
    delay_reason: Prose | None = Field(
        default=None, max_length=TEXT, title="延期原因 / Delay reason"
    )
    new_deadline: Moment | None = Field(default=None, title="新期限 / New deadline")
    new_deadline_working_days: WorkingDays | None = Field(
        default=None, title="或：延期至几个工作日后 / or: N working days from now"
    )

    @model_validator(mode="after")
    def _delay_explained(self) -> ProgressInput:
        if self.kind is ProgressKind.DELAY:
            if not self.delay_reason:
                raise ValueError("delay_reason: 延期必须说明原因 / a delay needs a reason")
            if self.new_deadline is None and self.new_deadline_working_days is None:
                raise ValueError("new_deadline: 延期必须给出新期限 / a delay needs a new deadline")
        return self

    @property
    def decision(self) -> str:
        return {"progress": "progress", "delay": "delayed", "done": "completed"}[self.kind.code]

    @property
    def completes_step(self) -> bool:
        return self.kind.code == "done"


class FeedbackInput(StepInput):
    result: Prose = Field(
        min_length=1, max_length=TEXT, title="处理结果 / Result told to the customer"
    )
    method: FeedbackMethod = Field(default=FeedbackMethod.PHONE, title="反馈方式 / Method")

    def case_changes(self, context: CaseContext) -> dict[str, Any]:
        return {"result_summary": self.result}


class SurveyInput(StepInput):
    efficiency: Score = Field(title="处理效率 / Handling efficiency (1-5)")
    resolution: Score = Field(title="解决程度 / Degree of resolution (1-5)")
    attitude: Score = Field(title="沟通态度 / Communication attitude (1-5)")
    fairness: Score = Field(title="补偿合理性 / Fairness of compensation (1-5)")
    accepts_result: Flag = Field(title="客户接受处理结果 / Customer accepts the result")
    comment: Prose | None = Field(
        default=None, max_length=TEXT, title="客户原话 / Customer's words"
    )

    @property
    def satisfied(self) -> bool:
        return self.accepts_result

    @property
    def decision(self) -> str:
        return "satisfied" if self.satisfied else "not_satisfied"

    @property
    def average(self) -> float:
        return (self.efficiency + self.resolution + self.attitude + self.fairness) / 4


S = TypeVar("S", bound=StepInput)


def settle(
    data: S, now: datetime, clock: Clock, limits: InputLimits = DEFAULT_LIMITS
) -> tuple[S, list[str]]:
    """The input as it is recorded — a deadline given in working days turned into its
    moment on the working calendar — and the rules of time it breaks, if any."""
    if isinstance(data, PlanInput) and data.deadline is None and data.deadline_working_days:
        due = working_days_from(now, data.deadline_working_days, clock)
        data = data.model_copy(update={"deadline": due})
    if (
        isinstance(data, ProgressInput)
        and data.new_deadline is None
        and data.new_deadline_working_days
    ):
        due = working_days_from(now, data.new_deadline_working_days, clock)
        data = data.model_copy(update={"new_deadline": due})
    return data, timing_problems(data, now, limits)


def working_days_from(now: datetime, days: int, clock: Clock) -> datetime:
    """The moment `days` working days of counted time have passed from `now`."""
    reached = clock.reach(now, clock.working_day * days, Unit.WORKING_DAYS)
    if reached.at is None:  # pragma: no cover - no pauses are given
        raise ValueError("the working calendar cannot count this deadline")
    return reached.at


def timing_problems(
    data: StepInput, now: datetime, limits: InputLimits = DEFAULT_LIMITS
) -> list[str]:
    """Rules that need the current time, so they cannot live in the validators: a deadline
    lies ahead, within the policy's horizon (which the working-day calendar can count)."""
    if isinstance(data, PlanInput):
        return ahead("deadline", data.deadline, now, limits)
    if isinstance(data, ProgressInput):
        return ahead("new_deadline", data.new_deadline, now, limits)
    return []


def describe_errors(exc: ValidationError) -> str:
    """One line naming each wrong field and why, e.g. ``reason: 驳回必须说明理由 / …``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(
            message if not where or message.startswith(f"{where}:") else f"{where}: {message}"
        )
    return "; ".join(parts)


class WaitOnCustomer(BaseModel):
    """Stop or restart a case's SLA clocks while it waits on the customer (photos, details).

    Not a step of the chart: it can be recorded at any open step, from the Prefect UI (a
    run of the `customer-wait` deployment) or with `complaints hold` / `release`.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    case_no: Annotated[str, BeforeValidator(normalize_case_number)] = Field(
        pattern=f"^{CASE_NUMBER.pattern}$",
        title="案件编号 / Case number",
        examples=["TS-20261123-0001"],
    )
    waiting: Flag = Field(
        title="等待客户 / Waiting on the customer",
        description="是：计时暂停；否：客户已回复，恢复计时 / yes: clocks stop; no: clocks run again",
    )
    note: Prose = Field(
        min_length=1,
        max_length=500,
        title="原因或客户答复 / Why, or what the customer sent",
        examples=["已请客户补充故障照片 / asked the customer for photos of the fault"],
    )
    actor: Line = Field(min_length=1, max_length=50, title="记录人 / Recorded by")
