"""What an escalation says and to whom: the alert, its level and its audience.

An `Alert` carries the raw facts of one escalation. Whatever shows it outside the case
handlers (Slack, the open-cases table) masks the customer's personal data itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from pydantic import BaseModel, Field

from rules.enums import Category, Severity


class Level(IntEnum):
    """The escalation ladder: a warning before the deadline, then three levels above it."""

    WARNING = 0
    DEPARTMENT_HEAD = 1
    OPERATIONS_DIRECTOR = 2
    LEADERSHIP = 3

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def tag(self) -> str:
        """The short name used in keys, tags and configuration: W, L1, L2, L3."""
        return "W" if self is Level.WARNING else f"L{int(self)}"


LEVEL_LABELS: dict[Level, str] = {
    Level.WARNING: "预警·处理人/客服主管 / warning to handler and supervisor",
    Level.DEPARTMENT_HEAD: "一级·部门负责人 / level 1: department head",
    Level.OPERATIONS_DIRECTOR: "二级·运营总监 / level 2: operations director",
    Level.LEADERSHIP: "三级·公司领导 / level 3: company leadership",
}


class Trigger(StrEnum):
    """Why a case was escalated."""

    SLA = "sla"  # a step's deadline (or its warning point) passed
    MAJOR = "major"  # a 重大 complaint: leadership is told at once
    REJECTED = "rejected"  # the customer does not accept the result
    PLAN_REJECTED = "plan_rejected"  # the resolution plan was rejected twice
    CLUSTER = "cluster"  # many complaints of one kind in a short window
    REPEAT = "repeat"  # the same customer complains again about the same thing
    RECTIFICATION = "rectification"  # a corrective action from a notice is overdue
    RUN_FAILED = "run_failed"  # the case's flow run failed: nobody can act until it is retried
    CHASED = "chased"  # the customer chased the case after the time we promised

    @property
    def label(self) -> str:
        return TRIGGER_LABELS[self]


TRIGGER_LABELS: dict[Trigger, str] = {
    Trigger.SLA: "超时 / overdue",
    Trigger.MAJOR: "重大投诉 / major complaint",
    Trigger.REJECTED: "客户不接受处理结果 / customer rejects the result",
    Trigger.PLAN_REJECTED: "方案两次被驳回 / plan rejected twice",
    Trigger.CLUSTER: "同类投诉集中 / cluster of similar complaints",
    Trigger.REPEAT: "重复投诉 / repeat complaint",
    Trigger.RECTIFICATION: "整改逾期 / corrective action overdue",
    Trigger.RUN_FAILED: "处理流程故障 / case run failed",
    Trigger.CHASED: "客户催办，已超承诺时间 / customer chased after the promised time",
}


DUE_SOON = "即将超时 / due soon"


class ClusterMember(BaseModel):
    case_no: str
    received_at: datetime
    run_url: str | None = None


class Alert(BaseModel):
    """One escalation, as it is recorded and sent (raw data; renderers mask it)."""

    key: str = Field(description="unique per escalation, e.g. sla:TS-20261123-0001:verify:c0:L2")
    trigger: Trigger
    level: Level
    fired_at: datetime
    case_no: str | None = None  # None for a cluster alert
    severity: Severity | None = None
    category: Category | None = None
    product: str | None = None
    step: str | None = None
    step_label: str | None = None
    cycle: int | None = None
    due_at: datetime | None = None
    overdue_by: timedelta | None = None  # None before the deadline (warnings)
    owner: str | None = None  # responsible department / handler
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_email: str | None = None
    description: str | None = None
    reason: str | None = None  # e.g. the customer's comment when rejecting
    run_url: str | None = None  # the case's run in the Prefect UI
    members: list[ClusterMember] = Field(default_factory=list)  # the cases of a cluster

    @property
    def headline(self) -> str:
        """What happened, in a few words: a warning before the deadline is not "overdue"."""
        if self.trigger is Trigger.SLA and self.overdue_by is None:
            return DUE_SOON
        return self.trigger.label
