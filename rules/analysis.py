"""The figures of a complaint analysis report, and the definition of each.

The numbers are computed by SQL aggregation in the ledger (complaints.reporting.analysis); this
module holds their shape, the KPI targets and the arithmetic that needs no data: rates,
changes, the KPI verdicts. Every figure's definition is written in the report's appendix
from `DEFINITIONS`, so a reader can check what was counted — those definitions, in two
languages, are a third of this module.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from rules.periods import Kind, Period

RECTIFY_WITHIN = timedelta(days=30)
"""A rectification notice gives its department this long to report the action done."""

SUMMARY_DUE_DAY = 5
"""Departments summarise the month by this day of the next one (PROCESS.md, "Analysis")."""

MIN_RISING = 3
"""A category · product pair is a potential problem when it has at least this many
complaints in the period and more than in the previous one."""


class KpiTargets(BaseModel):
    """Company targets (PROCESS.md, "Targets"); every one configurable."""

    model_config = ConfigDict(extra="forbid")

    resolution_rate: float = Field(default=0.90, ge=0, le=1, description="解决率 ≥")
    first_response_minutes: float = Field(
        default=30, gt=0, description="首次响应 ≤ (90 % of cases within)"
    )
    satisfaction_rate: float = Field(default=0.85, ge=0, le=1, description="满意率 ≥")
    callback_rate: float = Field(default=1.0, ge=0, le=1, description="回访率 ≥")
    timely_rate: float = Field(
        default=0.95, ge=0, le=1, description="及时率 ≥ (handling limits met; our default)"
    )


class Count(BaseModel):
    """One row of a distribution: a label, how many, and its share of the total."""

    label: str
    count: int
    share: float


class Rate(BaseModel):
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


class Duration(BaseModel):
    """Minutes: the median and the 90th percentile over `count` cases."""

    count: int
    median_minutes: float | None
    p90_minutes: float | None


class Change(BaseModel):
    current: int
    previous: int

    @property
    def ratio(self) -> float | None:
        """+0.25 for a quarter more than before; None when there was nothing before."""
        return (self.current - self.previous) / self.previous if self.previous else None


class EscalationCount(BaseModel):
    trigger: str
    level: int
    count: int


class TrendPoint(BaseModel):
    period: str
    count: int
    timely_rate: float | None
    satisfaction_rate: float | None


class Quote(BaseModel):
    """A customer's own words from a callback (raw; renderers mask them)."""

    case_no: str
    text: str
    accepted: bool


class Kpi(BaseModel):
    name: str
    target: str
    actual: str
    met: bool | None  # None: nothing to judge in this period


class MajorCase(BaseModel):
    case_no: str
    category: str | None
    product: str | None
    description: str  # raw; renderers mask it
    closed: bool


class ClusterAlert(BaseModel):
    fired_at: datetime
    category: str | None
    product: str | None
    cases: list[str]


class Rising(BaseModel):
    """A category · product with more complaints than in the period before."""

    label: str
    current: int
    previous: int


class Suggestion(BaseModel):
    case_no: str
    department: str | None
    text: str  # raw; renderers mask it


class Notice(BaseModel):
    """整改通报: what one responsible department is asked to rectify, and by when."""

    department: str
    complaints: int
    top_problems: list[str]
    timely: Rate
    satisfaction: Rate
    suggestions: list[str]
    due: date


class Review(BaseModel):
    """What the half-year (and annual) analysis adds to the monthly figures."""

    major_cases: list[MajorCase]
    clusters: list[ClusterAlert]
    rising: list[Rising]
    suggestions: list[Suggestion]
    notices: list[Notice]


class ActionStatus(BaseModel):
    """A corrective action from an earlier notice, as it stood at the end of the period."""

    ref: str
    period: str
    department: str
    requirement: str
    due_at: datetime
    done_at: datetime | None
    overdue: bool


class Standing(BaseModel):
    """How a share of the period's cases stands: rates, and what was left open at the end."""

    volume: int
    timely: Rate
    satisfaction: Rate
    open_at_end: int
    overdue_at_end: int


class DepartmentRow(Standing):
    """One responsible department's month: its cases, rates and what it left open."""

    department: str


class HandlerRow(Standing):
    """One owner's share of the period's cases: the owner of the case's latest plan made by
    the period's end, else its first receiver, who owns it until a plan hands it over
    (首问责任制; `handed_over` False)."""

    handler: str
    handed_over: bool


class SummarySent(BaseModel):
    """What became of a department's own monthly summary: saved, and sent when and where
    (`sent_at` None: not sent; `where` then says why)."""

    department: str
    period: str
    saved_at: datetime | None = None
    sent_at: datetime | None = None
    where: str = ""


class DepartmentInput(BaseModel):
    """A department's input to the consolidated monthly report: whether its own summary
    was sent by the 5th, and the lines of it a manager looks for."""

    department: str
    due: date
    saved: bool
    sent_at: datetime | None
    where: str
    on_time: bool | None  # None: not sent
    volume: int
    timely: Rate
    main_cause: str | None
    main_cause_cases: int
    actions_open: int
    actions_overdue: int


def summary_due(period: Period, tz: ZoneInfo) -> date:
    """The day a department's summary of `period` (a month) is due: the 5th of the next."""
    _, end = period.bounds(tz)
    return end.astimezone(tz).date().replace(day=SUMMARY_DUE_DAY)


def department_inputs(
    rows: list[DepartmentRow],
    causes: dict[str, Count | None],
    actions: list[ActionStatus],
    sent: dict[str, SummarySent],
    due: date,
    tz: ZoneInfo,
) -> list[DepartmentInput]:
    """Per department of the department table (in its order): its summary's fate and its
    key lines — volume, timely rate, main cause, corrective actions open and overdue."""
    found = []
    for row in rows:
        record = sent.get(row.department)
        sent_at = record.sent_at if record else None
        cause = causes.get(row.department)
        mine = [a for a in actions if a.department == row.department and a.done_at is None]
        found.append(
            DepartmentInput(
                department=row.department,
                due=due,
                saved=record is not None and record.saved_at is not None,
                sent_at=sent_at,
                where=record.where if record else "",
                on_time=None if sent_at is None else sent_at.astimezone(tz).date() <= due,
                volume=row.volume,
                timely=row.timely,
                main_cause=cause.label if cause else None,
                main_cause_cases=cause.count if cause else 0,
                actions_open=len(mine),
                actions_overdue=sum(a.overdue for a in mine),
            )
        )
    return found


class OverdueSource(BaseModel):
    """Where deadlines were missed: a step of a department's cases, and how often."""

    step: str
    department: str
    count: int


class OpenCase(BaseModel):
    """A case open at the period's end (no customer data: the case number leads to it)."""

    case_no: str
    received_at: datetime
    category: str
    department: str
    owner: str  # the latest plan's owner, else the first receiver (首问责任制)
    step: str
    overdue_days: float | None  # None: nothing overdue at the period's end
    handed_over: bool = True  # False: no plan yet, `owner` is the receiver


class StepTime(BaseModel):
    """Process analysis: how long one step of the period's cases took, and how often late."""

    step: str
    done: int  # steps finished by the period's end
    median_minutes: float | None
    late: int  # finished after their deadline
    overdue_at_end: int  # still running past their deadline at the period's end


class RankedSuggestion(BaseModel):
    """An improvement suggestion and how many cases raised it (raw text; renderers mask)."""

    text: str
    cases: int
    departments: list[str]


class KindTotal(BaseModel):
    """Plans that name one kind of measure or compensation, and the yuan named with it."""

    kind: str
    plans: int
    amount_yuan: float = 0.0


class CompensationSummary(BaseModel):
    """What the plans promised: how many offered compensation, the yuan amounts named, and
    both by kind (`measure_kinds`, `compensation_kinds`)."""

    plans: int
    with_compensation: int
    amount_yuan: float
    measures_by_kind: list[KindTotal] = Field(default_factory=list)
    compensation_by_kind: list[KindTotal] = Field(default_factory=list)


# What a plan's free text names, by the words a handler writes: each clause is of the first
# kind whose words it has (the order below decides: "50元优惠券补偿" is a coupon); text
# naming none counts as 其他 / other.
MEASURE_WORDS: dict[str, tuple[str, ...]] = {
    "换货 / exchange": ("换货", "更换", "换新", "调换"),
    "退款 / refund": ("退款", "退货", "退费", "退还"),
    "维修 / repair": ("维修", "修理", "检修", "上门"),
    "补发 / resend": ("补发", "重新发货", "重发", "补寄"),
    "道歉 / apology": ("道歉", "致歉", "赔礼"),
    "培训与考核 / retraining": ("培训", "考核", "整改", "通报批评"),
    "流程改进 / process": ("流程", "制度", "规范", "优化"),
}
COMPENSATION_WORDS: dict[str, tuple[str, ...]] = {
    "优惠券 / coupon": ("券",),
    "退款 / refund": ("退款", "退还", "返还", "退费"),
    "积分 / points": ("积分",),
    "赠品 / gift": ("赠品", "礼品"),
    "免费服务 / free service": ("免费", "免运费", "免单"),
    "现金赔偿 / cash": ("赔偿", "赔付", "现金", "补偿"),
}
OTHER_KIND = "其他 / other"
_CLAUSE = re.compile(r"[，,；;、。+＋]|和|及|并")
YUAN = re.compile(r"(\d+(?:\.\d+)?)\s*元")


def kinds_named(text: str | None, words: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """The kinds a plan's text names, each with the yuan amounts named in its clauses
    ("免费换货，赠送50元优惠券" → free service 0, coupon 50); {} for no text."""
    if not text or not text.strip():
        return {}
    found: dict[str, float] = {}
    for clause in (c for c in _CLAUSE.split(text) if c.strip()):
        amount = sum(float(n) for n in YUAN.findall(clause))
        kind = next((k for k, hints in words.items() if any(h in clause for h in hints)), None)
        if kind is None and not amount:
            continue
        kind = kind or OTHER_KIND
        found[kind] = found.get(kind, 0.0) + amount
    return found or {OTHER_KIND: 0.0}


def by_kind(named: list[dict[str, float]]) -> list[KindTotal]:
    """Plans per kind (and their yuan), most plans first."""
    plans: dict[str, int] = {}
    yuan: dict[str, float] = {}
    for kinds in named:
        for kind, amount in kinds.items():
            plans[kind] = plans.get(kind, 0) + 1
            yuan[kind] = yuan.get(kind, 0.0) + amount
    return [
        KindTotal(kind=kind, plans=plans[kind], amount_yuan=round(yuan[kind], 2))
        for kind in sorted(plans, key=lambda k: (-plans[k], k))
    ]


class Sentence(BaseModel):
    """One sentence of the written summary, in Chinese and in English."""

    zh: str
    en: str


class CustomerProfile(BaseModel):
    """Who complained in the period: distinct customers (by phone, else e-mail), those
    who had complained before the period (returning) and those who had not (new)."""

    customers: int
    new: int
    returning: int

    @property
    def returning_share(self) -> float | None:
        return self.returning / self.customers if self.customers else None


class Figures(BaseModel):
    kind: Kind
    period: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    timezone: str
    generated_at: datetime
    partial: bool = False  # a period not over yet: `end` is when the figures were taken
    department: str | None = None  # one responsible department's own summary

    volume: int
    by_category: list[Count]
    by_channel: list[Count]
    by_severity: list[Count]
    by_department: list[Count]
    top_problems: list[Count]
    timely_steps: Rate
    timely_cases: Rate
    satisfaction: Rate
    survey_averages: dict[str, float | None]
    callback: Rate  # callbacks made within their limit, of those due by the period's end
    callbacks_owed: int = 0  # asked for and not made by the period's end
    resolution: Rate
    first_response: Duration
    handling: Duration
    reopened: Rate
    escalations: list[EscalationCount]
    repeats: Rate
    by_attributed_department: list[Count]
    by_handler: list[Count]
    volume_mom: Change
    volume_yoy: Change
    trend: list[TrendPoint]
    kpis: list[Kpi]
    still_open: int
    quotes: list[Quote] = Field(default_factory=list)
    departments: list[DepartmentRow] = Field(default_factory=list)
    handlers: list[HandlerRow] = Field(default_factory=list)
    department_inputs: list[DepartmentInput] = Field(default_factory=list)  # monthly, all
    overdue_sources: list[OverdueSource] = Field(default_factory=list)
    open_cases: list[OpenCase] = Field(default_factory=list)
    causes: list[Count] = Field(default_factory=list)  # root causes of the plans, ranked
    step_times: list[StepTime] = Field(default_factory=list)
    ranked_suggestions: list[RankedSuggestion] = Field(default_factory=list)
    compensation: CompensationSummary | None = None
    by_product: list[Count] = Field(default_factory=list)
    customers: CustomerProfile | None = None
    summary: list[Sentence] = Field(default_factory=list)  # written from the rest (`summary`)
    recommendations: list[Sentence] = Field(default_factory=list)  # (`recommend`)
    review: Review | None = None  # half-year and annual reports only
    actions: list[ActionStatus] = Field(default_factory=list)


def distribution(rows: list[tuple[str | None, int]], total: int, missing: str) -> list[Count]:
    """Rows of (label, count) as shares of `total`, largest first, None labelled `missing`."""
    ordered = sorted(rows, key=lambda r: (-r[1], r[0] or ""))
    return [
        Count(label=label or missing, count=count, share=count / total if total else 0.0)
        for label, count in ordered
    ]


def kpis(figures: Figures, targets: KpiTargets) -> list[Kpi]:
    """Each target with the period's value and its verdict (None: nothing to measure)."""
    p90 = figures.first_response.p90_minutes
    rates = [  # (name, the period's rate, the target it must reach)
        ("解决率 / resolution rate", figures.resolution.value, targets.resolution_rate),
        ("满意率 / satisfaction rate", figures.satisfaction.value, targets.satisfaction_rate),
        (
            "及时率 / timely rate",
            figures.timely_cases.value,
            targets.timely_rate,
        ),
        ("回访率 / callback rate", figures.callback.value, targets.callback_rate),
    ]
    found = [
        Kpi(
            name=name,
            target=f"≥ {target:.0%}",
            actual="—" if value is None else f"{value:.1%}",
            met=None if value is None else value >= target,
        )
        for name, value, target in rates
    ]
    first_response = Kpi(
        name="首次响应（90%案件） / first response (90 % of cases)",
        target=f"≤ {targets.first_response_minutes:g} 分钟 / min",
        actual="—" if p90 is None else f"{p90:.1f} 分钟 / min",
        met=None if p90 is None else p90 <= targets.first_response_minutes,
    )
    return [found[0], first_response, *found[1:]]


DEFINITIONS: dict[str, str] = {
    "volume": "投诉量：受理时间（当地时间）落在本期内的案件数。"
    " Volume: cases received (local time) within the period.",
    "distribution": "分布：本期案件按类别、渠道、等级（当前等级）、责任部门计数；未分类的计为“待分类”。"
    " Distribution: the period's cases by category, channel, current severity and responsible"
    " department; ungraded ones as 待分类.",
    "top_problems": "高频问题前五：本期案件按“类别 · 产品”计数，取前五。"
    " Top-5 problems: the period's cases counted by category and product.",
    "timely_cases": "及时率：本期案件中，处理时限（按协调范围）在期末前已结束的案件——已反馈结果或时限已到——"
    "每个处理轮次都在时限内反馈结果的比例，按件计；时限已到仍未反馈的计为未及时。"
    " Timely rate: of the period's cases whose handling limit ended by the period's end (the"
    " result fed back, or the limit run out), the share that met every handling limit so far,"
    " counted in cases; a limit run out with no result counts as missed.",
    "timely_steps": "环节按时率：本期案件已完成、有时限的处理环节中，在截止时间前完成的比例（按环节计）。"
    " Steps on time: of the period's finished steps that had a deadline, the share done by it"
    " (counted in steps).",
    "satisfaction": "满意率：本期案件的回访中，客户接受处理结果的比例（每个处理轮次一次回访）。"
    " Satisfaction: of the callbacks of the period's cases, the share where the customer"
    " accepted the result (one callback per plan cycle).",
    "survey_averages": "满意度各项均分：本期回访的处理效率、解决程度、沟通态度、补偿公平四项 1–5 分平均。"
    " Survey averages: mean 1–5 score of each dimension over the period's callbacks.",
    "callback": "回访率（按时）：本期案件的回访中，在回访时限内完成的比例；分母为期末前已完成或已到期的回访，"
    "期末仍未完成的回访计为未按时（目标 100%）。"
    " Callback rate (on time): of the callbacks of the period's cases made or due by the"
    " period's end, the share made within their limit; one still owed at the end counts as"
    " late (target 100 %).",
    "resolution": "解决率：本期案件中，在报告期末前办结关闭的比例（含当场解答、不属实已说明后关闭的案件）。"
    " Resolution rate: of the period's cases, the share closed by the end of the period"
    " (cases answered on the spot or found unsubstantiated and explained included).",
    "first_response": "首次响应时间：受理到向客户确认收到的分钟数，取中位数与第90百分位。"
    " First response: minutes from receipt to the acknowledgement; median and 90th percentile.",
    "departments": "部门：按责任部门统计本期案件的投诉量、及时率、满意率，以及期末未结与期末逾期（有处理环节已过期限仍未完成）的案件数；未分类的案件不计入。"
    " Departments: the period's cases by responsible department — volume, timely rate,"
    " satisfaction, and the cases still open and those overdue (a deadline passed with its step"
    " not done) at the period's end; ungraded cases are not in any row.",
    "handlers": "处理人：本期案件按期末的负责人统计——期末前最近一次处理方案的负责人；尚无方案的案件归其受理人（首问责任制，标“受理人，未交办”）——投诉量、及时率、满意率、期末未结与期末逾期，口径同部门表；每件案件只在一行。"
    " Handlers: the period's cases by who owned them at the period's end — the owner of the"
    " latest plan made by then; a case with no plan yet stays with its first receiver"
    ' (marked "receiver, not handed over") — with volume, timely rate, satisfaction, open'
    " and overdue at the end, as in the department table; each case is in one row.",
    "department_inputs": "部门小结：合并月报中，各责任部门本月小结（次月 5 日前报送）是否已保存、何时发往何处、是否按时，以及其中的要点：投诉量、及时率、最主要原因、未完成与逾期的整改事项。"
    " Departments' summaries: in the consolidated monthly report, whether each responsible"
    " department's own summary (due by the 5th of the next month) was saved, when and where it"
    " was sent and whether on time, with its key lines: volume, timely rate, main cause,"
    " corrective actions open and overdue.",
    "overdue_sources": "逾期来源：本期内首次逾期（一级升级）的处理环节，按环节与责任部门计数。"
    " Where deadlines were missed: first overdue escalations (level 1) fired within the period,"
    " by step and responsible department.",
    "open_cases": "期末未结案件：期末尚未关闭的案件（含以前各期受理的），按逾期天数排序，最多 50 件；"
    "责任人取期末前最近一次处理方案的负责人；尚无方案时为受理人（首问责任制：受理人负责到交办为止）。"
    " Open cases: cases not closed at the period's end (received in this period or before), most"
    " overdue first, at most 50; the owner is the latest plan's owner before the end, else the"
    " first receiver, who owns a complaint until it is handed over.",
    "causes": "原因分析：本期案件的处理方案（期末前已制定）所记录的原因，按相同文字归并计数，取前十。"
    " Root causes: the causes recorded by the plans of the period's cases (made by its end),"
    " the same wording counted together, top ten.",
    "summary": "摘要：按固定规则由以上数字写成（升降、未达标的目标与部门、主要问题与原因、期末逾期与未回访）。"
    " Summary: written from the figures above by fixed rules (what rose or fell, targets missed"
    " and by whom, the main problem and cause, what was left overdue or uncalled).",
    "step_times": "流程分析：本期案件各处理环节（期末前完成者）从开始到完成的分钟数中位数，完成时已过期限的次数，以及期末仍在进行且已过期限的次数。"
    " Process analysis: for each step of the period's cases, the median minutes from its start"
    " to its end (steps finished by the period's end), how many finished after their deadline,"
    " and how many were still running past it at the end.",
    "ranked_suggestions": "改进建议：本期已关闭案件记录的改进措施，相同文字归并，按提出的案件数排序，并列出涉及的部门。"
    " Suggestions: the improvement measures of the period's closed cases, the same wording counted"
    " together, ranked by the number of cases that raised them, with the departments concerned.",
    "compensation": "补偿：本期案件最新处理方案（期末前制定）中写明补偿的方案数，以及其中以“元”写明的金额合计。"
    " Compensation: of the latest plan of each of the period's cases (made by its end), how many"
    " offered compensation, and the sum of the amounts written in yuan (元).",
    "by_product": "产品：本期案件按产品计数，取前十。 Products: the period's cases by product, top ten.",
    "percentiles": "中位数：排序后居中的值，个数为偶数时取中间两值的平均；第90百分位：最近秩法，即排序后第"
    " ⌈0.9×n⌉ 个值。 Median: the middle value, the mean of the two middle ones when their"
    " number is even; 90th percentile: nearest rank, the ⌈0.9 × n⌉-th smallest value.",
    "handling": "处理时长：受理到关闭的分钟数（本期案件中已在期末前关闭者），取中位数与第90百分位。"
    " Handling time: minutes from receipt to closing, for the period's cases closed by its end.",
    "reopened": "重新处理率：本期案件中因客户不满意而重新处理过的比例。"
    " Reopen rate: of the period's cases, the share reopened after a dissatisfied callback.",
    "escalations": "升级：本期内触发的升级，按原因与级别计数（集群预警计一次）。"
    " Escalations fired within the period by trigger and level (a cluster alert counts once).",
    "customers": "客户画像：本期案件的不同客户数（按手机号，无则按邮箱识别）；老客户为本期之前投诉过的客户，其余为新客户。"
    " Customers: distinct customers of the period's cases (by phone, else e-mail); returning"
    " ones had complained before the period, the others are new.",
    "repeats": "重复投诉：本期案件中被识别为同一客户就同一产品/订单再次投诉的比例。"
    " Repeat complaints: of the period's cases, the share linked to an earlier case.",
    "attribution": "责任归属：本期案件按方案中的责任部门与责任人计数。"
    " Attribution: the period's cases by the department and employee the plan attributed.",
    "change": "环比、同比：本期投诉量与上一期、上年同期相比的变化。"
    " Period-on-period and year-on-year change of the volume.",
    "trend": "趋势：截至本期最后一个月的连续12个月，每月投诉量、及时率与满意率（定义同上）。"
    " Trend: the 12 months up to the period's last month: volume, timely rate, satisfaction.",
    "kpis": "目标：解决率、首次响应（90%案件的首次响应分钟数）、满意率、及时率、回访率与公司目标比较，目标可配置。"
    " KPIs: resolution, first response (minutes within which 90 % of cases were answered),"
    " satisfaction, timely (handling limits met) and callback rates against the company's"
    " configurable targets.",
    "quotes": "客户原话：本期回访中客户留下的意见，不接受结果者优先，最多10条，个人信息已脱敏。"
    " Customer quotes: comments left at the period's callbacks, dissatisfied first, at most"
    " ten, personal data masked.",
    "major_cases": "重大问题：本期等级为“重大”的案件，以及本期触发的同类投诉集中预警。"
    " Major problems: the period's 重大 cases and the cluster alerts fired within it.",
    "rising": "潜在问题：本期投诉件数（至少3件）多于上一期的“类别 · 产品”，按增幅排序。"
    " Potential problems: category · product pairs with more complaints (at least 3) than in"
    " the period before, largest rise first.",
    "suggestions": "改进建议：本期已办结案件在处理方案中记录的改进措施。"
    " Improvement suggestions: the improvement measures recorded in the plans of the"
    " period's closed cases.",
    "notices": "整改通报：按责任部门汇总本期投诉、主要问题、及时率、满意率与改进建议，要求在期限内报告整改完成情况。"
    " Rectification notices: per responsible department, its complaints, main problems,"
    " timely and satisfaction rates and suggestions, with a date to report back by.",
    "actions": "整改跟踪：此前整改通报所立的每项整改，在本期末的状态（已完成、未到期、逾期）。"
    " Corrective actions: every action opened by an earlier notice, as it stood at the"
    " period's end (done, open, overdue).",
    "still_open": "期末未结：本期案件中在报告期末仍未关闭的件数。"
    " Still open: the period's cases not closed by the end of the period.",
}
