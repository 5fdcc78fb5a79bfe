"""The figures of an analysis report, by SQL aggregation in the ledger.

Every figure is one aggregate query over the period's rows (found through the index on
`cases.received_at`), so memory stays flat however many complaints the ledger holds.
Figures are taken as of the period's end: a step done, a case closed or a callback made
after it counts in no earlier report, so a report re-run later gives the same numbers.
Definitions: rules.analysis.DEFINITIONS. One query object per period (`PeriodQuery`)
holds every statement a report needs, which is most of this module's length.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from complaints.cases.casework import INVALID_INPUT
from complaints.reporting import rectification
from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import AuditEntry, Case, Escalation, EscalationCase, StepDeadline, SurveyAnswer
from rules.alerts import Level, Trigger
from rules.analysis import (
    COMPENSATION_WORDS,
    MEASURE_WORDS,
    MIN_RISING,
    RECTIFY_WITHIN,
    YUAN,
    Change,
    ClusterAlert,
    CompensationSummary,
    Count,
    CustomerProfile,
    DepartmentRow,
    Duration,
    EscalationCount,
    Figures,
    HandlerRow,
    MajorCase,
    Notice,
    OpenCase,
    OverdueSource,
    Quote,
    RankedSuggestion,
    Rate,
    Review,
    Rising,
    StepTime,
    Suggestion,
    SummarySent,
    TrendPoint,
    by_kind,
    department_inputs,
    distribution,
    kinds_named,
    kpis,
    summary_due,
)
from rules.enums import Category, Department, Severity
from rules.human_steps import HUMAN_STEPS
from rules.masking import mask_customer_text
from rules.periods import Kind, Period, trailing_months
from rules.sla import HANDLING, clock_label
from rules.steps import Step, event_key
from rules.summary import recommend, summary

UNGRADED = "待分类"
NONE = "未填写"
QUOTES = 10


def compute(
    settings: Settings,
    period: Period,
    now: datetime,
    partial: bool = False,
    department: str | None = None,
    summaries: dict[str, SummarySent] | None = None,
) -> Figures:
    """Every figure of `period` from the ledger (read in one transaction); `partial`: of a
    period not over yet, as of `now`; `department`: of that responsible department's
    cases only (its own summary); `summaries`: what became of the departments' own
    summaries of the month, which the consolidated monthly report shows with their key
    lines."""
    tz = settings.tz
    start, end = period.bounds(tz)
    if partial:
        end = min(end, now)
    with unit_of_work(settings.database_url) as session:
        q = PeriodQuery(session, start, end, department)
        volume = q.volume()
        figures = Figures(
            kind=period.kind,
            period=str(period),
            start=start,
            end=end,
            timezone=settings.timezone,
            generated_at=now,
            partial=partial,
            department=department,
            volume=volume,
            by_category=distribution(q.grouped(Case.category), volume, UNGRADED),
            by_channel=distribution(q.grouped(Case.channel), volume, NONE),
            by_severity=distribution(q.grouped(Case.severity), volume, NONE),
            by_department=distribution(q.grouped(Case.department), volume, UNGRADED),
            top_problems=q.top_problems(volume),
            timely_steps=q.timely_steps(),
            timely_cases=q.timely_cases(),
            satisfaction=q.satisfaction(),
            survey_averages=q.survey_averages(),
            callback=q.callback(),
            callbacks_owed=q.callbacks_owed(),
            resolution=Rate(numerator=q.closed(), denominator=volume),
            first_response=q.first_response(),
            handling=q.handling(),
            reopened=Rate(numerator=q.reopened(), denominator=volume),
            escalations=q.escalations(),
            repeats=Rate(numerator=q.repeats(), denominator=volume),
            by_attributed_department=distribution(
                q.grouped(Case.attributed_department, closed_only=True), volume, NONE
            ),
            by_handler=distribution(
                q.grouped(Case.attributed_employee, closed_only=True), volume, NONE
            )[:10],
            volume_mom=Change(current=volume, previous=_volume(q, period.previous(), tz)),
            volume_yoy=Change(current=volume, previous=_volume(q, period.year_before(), tz)),
            trend=[_trend_point(q, month, tz) for month in trailing_months(period)],
            kpis=[],
            still_open=volume - q.closed(),
            quotes=q.quotes(),
            departments=q.departments(),
            handlers=q.handlers(),
            overdue_sources=q.overdue_sources(),
            open_cases=q.open_cases(),
            causes=q.causes(),
            step_times=q.step_times(),
            ranked_suggestions=q.ranked_suggestions(),
            compensation=q.compensation(),
            by_product=q.by_product(volume),
            customers=q.customers(),
        )
        if period.kind is not Kind.MONTHLY and department is None:
            figures.review = review(q, period, settings, now)
        consolidated_month = period.kind is Kind.MONTHLY and department is None
        causes = {  # each department's main cause, the line its own summary leads with
            row.department: next(iter(q.for_department(row.department).causes(limit=1)), None)
            for row in (figures.departments if consolidated_month else [])
        }
    figures.actions = [
        action
        for action in rectification.status_as_of(settings, end)
        if department is None or action.department == department
    ]
    if consolidated_month:
        figures.department_inputs = department_inputs(
            figures.departments,
            causes,
            figures.actions,
            summaries or {},
            summary_due(period, tz),
            tz,
        )
    figures.kpis = kpis(figures, settings.kpi)
    figures.summary = summary(figures, settings.kpi)
    figures.recommendations = recommend(figures, settings.kpi)
    return figures


def review(q: PeriodQuery, period: Period, settings: Settings, now: datetime) -> Review:
    """Major and potential problems, suggestions and a rectification notice per department."""
    before_start, before_end = period.previous().bounds(settings.tz)
    previous = PeriodQuery(q.session, before_start, before_end)
    now_counts = q.problem_counts()
    before_counts = previous.problem_counts()
    rising = sorted(
        (
            Rising(label=label, current=count, previous=before_counts.get(label, 0))
            for label, count in now_counts.items()
            if count >= MIN_RISING and count > before_counts.get(label, 0)
        ),
        key=lambda r: (-(r.current - r.previous), r.label),
    )[:5]
    suggestions = q.suggestions()
    due = (now.astimezone(settings.tz) + RECTIFY_WITHIN).date()
    notices = []
    for department, count in sorted(q.grouped(Case.department), key=lambda r: -r[1]):
        if department is None:
            continue
        dept = q.for_department(department)
        notices.append(
            Notice(
                department=department,
                complaints=count,
                top_problems=[c.label for c in dept.top_problems(count, limit=3)],
                timely=dept.timely_cases(),
                satisfaction=dept.satisfaction(),
                suggestions=list(
                    dict.fromkeys(s.text for s in suggestions if s.department == department)
                )[:5],
                due=due,
            )
        )
    return Review(
        major_cases=q.major_cases(),
        clusters=q.clusters(),
        rising=rising,
        suggestions=suggestions,
        notices=notices,
    )


def departments_of(settings: Settings, period: Period) -> list[str]:
    """The responsible departments with cases received in `period`, most cases first."""
    start, end = period.bounds(settings.tz)
    with unit_of_work(settings.database_url) as session:
        rows = PeriodQuery(session, start, end).grouped(Case.department)
    return [d for d, _ in sorted(rows, key=lambda r: -r[1]) if d is not None]


def _volume(within: PeriodQuery, period: Period, tz: Any) -> int:
    start, end = period.bounds(tz)
    return within.over(start, end).volume()


def _trend_point(within: PeriodQuery, month: Period, tz: Any) -> TrendPoint:
    start, end = month.bounds(tz)
    q = within.over(start, end)
    return TrendPoint(
        period=str(month),
        count=q.volume(),
        timely_rate=q.timely_cases().value,
        satisfaction_rate=q.satisfaction().value,
    )


class PeriodQuery:
    """Aggregates over the cases received in [start, end), as of `end`; of one department's
    cases, or of one owner's (`handler`: the name and whether a plan handed it over)."""

    def __init__(
        self,
        session: Session,
        start: datetime,
        end: datetime,
        department: str | None = None,
        handler: tuple[str, bool] | None = None,
    ) -> None:
        self.session = session
        self.start, self.end = start, end
        self.department = department
        self.handler = handler
        self.dialect = session.get_bind().dialect.name

    def for_department(self, department: str) -> PeriodQuery:
        return PeriodQuery(self.session, self.start, self.end, department)

    def for_handler(self, name: str, handed_over: bool) -> PeriodQuery:
        return PeriodQuery(self.session, self.start, self.end, self.department, (name, handed_over))

    def over(self, start: datetime, end: datetime) -> PeriodQuery:
        """The same cases (all, or one department's) in another period."""
        return PeriodQuery(self.session, start, end, self.department)

    @property
    def mine(self) -> sa.ColumnElement[bool]:
        """The cases this query is about, whenever received: all, or one department's."""
        if self.department is None:
            return sa.true()
        return Case.department == Department(self.department)

    @property
    def in_period(self) -> sa.ColumnElement[bool]:
        window = sa.and_(Case.received_at >= self.start, Case.received_at < self.end)
        if self.department is not None:
            window = sa.and_(window, Case.department == Department(self.department))
        if self.handler is not None:
            name, handed_over = self.handler
            planned = self._planned() if handed_over else sa.not_(self._planned())
            window = sa.and_(window, planned, self._owner() == name)
        return window

    def _latest_plan_owner(self) -> Any:
        """The owner named by the case's latest plan made before the period's end."""
        return (
            sa.select(AuditEntry.payload["owner"].as_string())
            .where(*self._entered(Step.PLAN))
            .order_by(AuditEntry.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    def _planned(self) -> sa.ColumnElement[bool]:
        return sa.select(AuditEntry.id).where(*self._entered(Step.PLAN)).exists()

    def _owner(self) -> Any:
        """Who owns the case at the period's end: its latest plan's owner, else the first
        receiver, who owns a complaint until a plan hands it over (首问责任制)."""
        return sa.func.coalesce(self._latest_plan_owner(), Case.receiver)

    def _scalar(self, stmt: sa.Select[Any]) -> int:
        return int(self.session.scalar(stmt) or 0)

    def volume(self) -> int:
        return self._scalar(sa.select(sa.func.count()).select_from(Case).where(self.in_period))

    def closed(self) -> int:
        stmt = sa.select(sa.func.count()).where(self.in_period, Case.closed_at < self.end)
        return self._scalar(stmt)

    def grouped(self, column: Any, closed_only: bool = False) -> list[tuple[str | None, int]]:
        stmt = sa.select(column, sa.func.count()).where(self.in_period).group_by(column)
        if closed_only:
            stmt = stmt.where(Case.closed_at < self.end)
        return [(_text(value), int(count)) for value, count in self.session.execute(stmt)]

    def top_problems(self, volume: int, limit: int = 5) -> list[Count]:
        stmt = (
            sa.select(Case.category, Case.product, sa.func.count().label("n"))
            .where(self.in_period)
            .group_by(Case.category, Case.product)
            .order_by(sa.desc("n"), Case.category, Case.product)
            .limit(limit)
        )
        return [
            Count(
                label=f"{_text(category) or UNGRADED} · {product or '—'}",
                count=int(n),
                share=n / volume if volume else 0.0,
            )
            for category, product, n in self.session.execute(stmt)
        ]

    def timely_steps(self) -> Rate:
        on_time = sa.case((StepDeadline.done_at <= StepDeadline.due_at, 1), else_=0)
        stmt = (
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(on_time), 0))
            .select_from(StepDeadline)
            .join(Case, Case.id == StepDeadline.case_id)
            .where(
                self.in_period,
                StepDeadline.step != HANDLING,
                StepDeadline.due_at.is_not(None),
                StepDeadline.done_at < self.end,
            )
        )
        total, in_time = self.session.execute(stmt).one()
        return Rate(numerator=int(in_time), denominator=int(total))

    def timely_cases(self) -> Rate:
        """Cases, not clocks: of the period's cases with a handling limit that ended by the
        period's end (the result fed back, or the limit run out), those whose every
        handling limit so far was met. A limit run out with no result counts as missed,
        and a quick reopened cycle does not make a late first one timely."""
        handling = sa.and_(StepDeadline.case_id == Case.id, StepDeadline.step == HANDLING)
        fed_back = sa.and_(StepDeadline.done_at.is_not(None), StepDeadline.done_at < self.end)
        ran_out = sa.and_(StepDeadline.due_at.is_not(None), StepDeadline.due_at < self.end)
        missed = sa.and_(
            ran_out,
            sa.or_(StepDeadline.done_at.is_(None), StepDeadline.done_at > StepDeadline.due_at),
        )
        ended = sa.select(StepDeadline.id).where(handling, sa.or_(fed_back, ran_out)).exists()
        late = sa.select(StepDeadline.id).where(handling, missed).exists()
        stmt = sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((late, 0), else_=1)), 0)
        ).where(self.in_period, ended)
        total, on_time = self.session.execute(stmt).one()
        return Rate(numerator=int(on_time), denominator=int(total))

    def _surveys(self) -> sa.Select[Any]:
        return (
            sa.select(SurveyAnswer)
            .join(Case, Case.id == SurveyAnswer.case_id)
            .where(self.in_period, SurveyAnswer.at < self.end)
        )

    def satisfaction(self) -> Rate:
        accepted = sa.case((SurveyAnswer.accepts_result.is_(True), 1), else_=0)
        stmt = (
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(accepted), 0))
            .select_from(SurveyAnswer)
            .join(Case, Case.id == SurveyAnswer.case_id)
            .where(self.in_period, SurveyAnswer.at < self.end)
        )
        total, yes = self.session.execute(stmt).one()
        return Rate(numerator=int(yes), denominator=int(total))

    def survey_averages(self) -> dict[str, float | None]:
        columns = {
            "处理效率 / efficiency": SurveyAnswer.efficiency,
            "解决程度 / resolution": SurveyAnswer.resolution,
            "沟通态度 / attitude": SurveyAnswer.attitude,
            "补偿公平 / fairness": SurveyAnswer.fairness,
        }
        stmt = (
            sa.select(*[sa.func.avg(c) for c in columns.values()])
            .select_from(SurveyAnswer)
            .join(Case, Case.id == SurveyAnswer.case_id)
            .where(self.in_period, SurveyAnswer.at < self.end)
        )
        row = self.session.execute(stmt).one()
        return {
            name: (round(float(value), 2) if value is not None else None)
            for name, value in zip(columns, row, strict=True)
        }

    def _callbacks(self) -> tuple[Any, Any]:
        """The callback clocks of the period's cases, and "made by the period's end"."""
        made = sa.and_(StepDeadline.done_at.is_not(None), StepDeadline.done_at < self.end)
        clocks = (
            sa.select(sa.func.count())
            .select_from(StepDeadline)
            .join(Case, Case.id == StepDeadline.case_id)
            .where(self.in_period, StepDeadline.step == Step.CALLBACK.value)
        )
        return clocks, made

    def callback(self) -> Rate:
        """Callbacks made within their limit, of those made or due by the period's end."""
        clocks, made = self._callbacks()
        due = sa.or_(
            made, sa.and_(StepDeadline.due_at.is_not(None), StepDeadline.due_at < self.end)
        )
        on_time = sa.case((sa.and_(made, StepDeadline.done_at <= StepDeadline.due_at), 1), else_=0)
        stmt = clocks.add_columns(sa.func.coalesce(sa.func.sum(on_time), 0)).where(due)
        total, in_time = self.session.execute(stmt).one()
        return Rate(numerator=int(in_time), denominator=int(total))

    def callbacks_owed(self) -> int:
        """Callbacks asked for before the period's end and not made by then."""
        clocks, made = self._callbacks()
        return self._scalar(clocks.where(StepDeadline.started_at < self.end, sa.not_(made)))

    def _minutes(self, later: Any, earlier: Any) -> Any:
        if self.dialect == "sqlite":
            return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 1440.0
        return sa.extract("epoch", later - earlier) / 60.0

    def _duration(self, minutes: Any, where: list[Any], *joins: Any) -> Duration:
        base = sa.select(minutes.label("m")).select_from(Case)
        for target, on in joins:
            base = base.join(target, on)
        base = base.where(self.in_period, *where)
        count = self._scalar(sa.select(sa.func.count()).select_from(base.subquery()))
        if count == 0:
            return Duration(count=0, median_minutes=None, p90_minutes=None)
        ordered = base.order_by(sa.text("m"))

        def rank(n: int) -> float:  # the n-th smallest (1-based), found by the database
            return float(self.session.scalar(ordered.offset(n - 1).limit(1)) or 0.0)

        # The usual median (the mean of the two middle values when their number is even);
        # the 90th percentile by nearest rank: the value at rank ceil(0.9 × n).
        middle = (rank((count + 1) // 2) + rank(count // 2 + 1)) / 2
        p90 = rank(max(1, -(-9 * count // 10)))
        return Duration(count=count, median_minutes=round(middle, 2), p90_minutes=round(p90, 2))

    def first_response(self) -> Duration:
        ack = aliased(AuditEntry)
        return self._duration(
            self._minutes(ack.at, Case.received_at),
            [ack.at < self.end],
            (ack, sa.and_(ack.case_id == Case.id, ack.key == event_key(Step.ACKNOWLEDGE))),
        )

    def handling(self) -> Duration:
        return self._duration(
            self._minutes(Case.closed_at, Case.received_at), [Case.closed_at < self.end]
        )

    def reopened(self) -> int:
        reopen = sa.select(AuditEntry.id).where(*self._entered(Step.REOPEN)).exists()
        return self._scalar(sa.select(sa.func.count()).where(self.in_period, reopen))

    def customers(self) -> CustomerProfile:
        """Distinct customers of the period's cases; returning: one with a case received
        before the period (the same phone, else the same e-mail). Counted by the one-way
        `customer_key`, so erasing a customer's contact changes no figure (rules.retention)."""
        period = (
            sa.select(Case.customer_key.label("who")).where(self.in_period).distinct().subquery()
        )
        earlier = aliased(Case)
        before = (
            sa.select(earlier.id)
            .where(earlier.customer_key == period.c.who, earlier.received_at < self.start)
            .exists()
        )
        customers = self._scalar(sa.select(sa.func.count()).select_from(period))
        returning = self._scalar(sa.select(sa.func.count()).select_from(period).where(before))
        return CustomerProfile(customers=customers, new=customers - returning, returning=returning)

    def repeats(self) -> int:
        stmt = sa.select(sa.func.count()).where(self.in_period, Case.repeat_of.is_not(None))
        return self._scalar(stmt)

    def _overdue_at_end(self) -> sa.ColumnElement[bool]:
        """The case has a step whose deadline passed by the period's end, not done by then."""
        return (
            sa.select(StepDeadline.id)
            .where(
                StepDeadline.case_id == Case.id,
                StepDeadline.started_at < self.end,
                StepDeadline.due_at < self.end,
                sa.or_(StepDeadline.done_at.is_(None), StepDeadline.done_at >= self.end),
            )
            .exists()
        )

    def _open_at_end(self) -> sa.ColumnElement[bool]:
        return sa.or_(Case.closed_at.is_(None), Case.closed_at >= self.end)

    def _entered(self, step: Step) -> tuple[sa.ColumnElement[bool], ...]:
        """A decision at `step` in the case's audit trail by the period's end (not input
        the case refused and asked again for)."""
        return (
            AuditEntry.case_id == Case.id,
            AuditEntry.step == step.value,
            AuditEntry.at < self.end,
            AuditEntry.decision != INVALID_INPUT,
        )

    def departments(self) -> list[DepartmentRow]:
        rows = []
        for department, volume in sorted(self.grouped(Case.department), key=lambda r: -r[1]):
            if department is None:
                continue
            standing = self._standing(self.for_department(department), volume)
            rows.append(DepartmentRow(department=department, **standing))
        return rows

    def _standing(self, share: PeriodQuery, volume: int) -> dict[str, Any]:
        """The `Standing` figures of a share of the period's cases (`share` narrows this
        query to it)."""
        open_ = sa.select(sa.func.count()).where(share.in_period, self._open_at_end())
        return {
            "volume": volume,
            "timely": share.timely_cases(),
            "satisfaction": share.satisfaction(),
            "open_at_end": self._scalar(open_),
            "overdue_at_end": self._scalar(open_.where(self._overdue_at_end())),
        }

    def handlers(self) -> list[HandlerRow]:
        """One row per owner at the period's end (`_owner`), most cases first: every case
        of the period is in one row."""
        owners = (
            sa.select(self._owner().label("owner"), self._planned().label("planned"))
            .where(self.in_period)
            .subquery()
        )
        stmt = sa.select(owners.c.owner, owners.c.planned, sa.func.count()).group_by(
            owners.c.owner, owners.c.planned
        )
        groups = [
            (str(name), bool(planned), int(n)) for name, planned, n in self.session.execute(stmt)
        ]
        rows = []
        for name, handed_over, volume in sorted(groups, key=lambda g: (-g[2], not g[1], g[0])):
            standing = self._standing(self.for_handler(name, handed_over), volume)
            rows.append(HandlerRow(handler=name, handed_over=handed_over, **standing))
        return rows

    def overdue_sources(self) -> list[OverdueSource]:
        stmt = (
            sa.select(Escalation.step, Case.department, sa.func.count(sa.distinct(Escalation.id)))
            .join(EscalationCase, EscalationCase.escalation_id == Escalation.id)
            .join(Case, Case.id == EscalationCase.case_id)
            .where(
                self.mine,
                Escalation.trigger == Trigger.SLA.value,
                Escalation.level == int(Level.DEPARTMENT_HEAD),
                Escalation.fired_at >= self.start,
                Escalation.fired_at < self.end,
            )
            .group_by(Escalation.step, Case.department)
        )
        found = [
            OverdueSource(
                step=clock_label(step or ""), department=_text(dept) or UNGRADED, count=int(n)
            )
            for step, dept, n in self.session.execute(stmt)
        ]
        return sorted(found, key=lambda r: (-r.count, r.step, r.department))

    def open_cases(self, limit: int = 50) -> list[OpenCase]:
        """Cases open at the period's end, whenever received, most overdue first."""
        overdue_since = (
            sa.select(sa.func.min(StepDeadline.due_at))
            .where(
                StepDeadline.case_id == Case.id,
                StepDeadline.started_at < self.end,
                StepDeadline.due_at < self.end,
                sa.or_(StepDeadline.done_at.is_(None), StepDeadline.done_at >= self.end),
            )
            .scalar_subquery()
        )
        stmt = (
            sa.select(Case, overdue_since, self._owner(), self._planned())
            .where(Case.received_at < self.end, self._open_at_end(), self.mine)
            .order_by(overdue_since.is_(None), overdue_since, Case.received_at)
            .limit(limit)
        )
        found = []
        for case, since, owner, handed_over in self.session.execute(stmt).tuples():
            entries = [
                e
                for e in self.session.scalars(
                    sa.select(AuditEntry)
                    .where(
                        AuditEntry.case_id == case.id,
                        AuditEntry.at < self.end,
                        AuditEntry.decision != INVALID_INPUT,  # asked again: not where it is
                        AuditEntry.step.not_in([Step.REFUSED.value, Step.NOTIFY.value]),
                    )
                    .order_by(AuditEntry.id)
                )
            ]
            step = next((e.step for e in reversed(entries) if not e.key.startswith("esc:")), "")
            overdue = (self.end - _aware(since)).total_seconds() / 86400 if since else None
            found.append(
                OpenCase(
                    case_no=case.case_no,
                    received_at=case.received_at,
                    category=_text(case.category) or UNGRADED,
                    department=_text(case.department) or UNGRADED,
                    owner=str(owner),
                    step=clock_label(step) if step else "—",
                    overdue_days=round(overdue, 1) if overdue is not None else None,
                    handed_over=bool(handed_over),
                )
            )
        return found

    def escalations(self) -> list[EscalationCount]:
        stmt = (
            sa.select(Escalation.trigger, Escalation.level, sa.func.count())
            .where(Escalation.fired_at >= self.start, Escalation.fired_at < self.end)
            .group_by(Escalation.trigger, Escalation.level)
            .order_by(Escalation.trigger, Escalation.level)
        )
        if self.department is not None:  # those about the department's cases
            about = (
                sa.select(EscalationCase.escalation_id)
                .join(Case, Case.id == EscalationCase.case_id)
                .where(self.mine)
            )
            stmt = stmt.where(Escalation.id.in_(about))
        return [
            EscalationCount(trigger=trigger, level=int(level), count=int(count))
            for trigger, level, count in self.session.execute(stmt)
        ]

    def problem_counts(self) -> dict[str, int]:
        stmt = (
            sa.select(Case.category, Case.product, sa.func.count())
            .where(self.in_period)
            .group_by(Case.category, Case.product)
        )
        return {
            f"{_text(category) or UNGRADED} · {product or '—'}": int(n)
            for category, product, n in self.session.execute(stmt)
        }

    def major_cases(self, limit: int = 20) -> list[MajorCase]:
        stmt = (
            sa.select(Case)
            .where(self.in_period, Case.severity == Severity.MAJOR)
            .order_by(Case.received_at.desc())
            .limit(limit)
        )
        return [
            MajorCase(
                case_no=c.case_no,
                category=_text(c.category),
                product=c.product,
                description=mask_customer_text(
                    c.description, c.customer_name, c.customer_phone, c.customer_email
                ),
                closed=c.closed_at is not None and c.closed_at < self.end,
            )
            for c in self.session.scalars(stmt)
        ]

    def clusters(self) -> list[ClusterAlert]:
        stmt = (
            sa.select(Escalation)
            .where(
                Escalation.trigger == "cluster",
                Escalation.fired_at >= self.start,
                Escalation.fired_at < self.end,
            )
            .order_by(Escalation.fired_at)
        )
        found = []
        for alert in self.session.scalars(stmt):
            # cluster:<category code>:<product or ->:<first case>
            parts = alert.key.split(":")
            product = parts[2] if len(parts) > 3 else "-"
            found.append(
                ClusterAlert(
                    fired_at=alert.fired_at,
                    category=alert.detail.get("category") or _category_label(parts[1]),
                    product=None if product == "-" else product,
                    cases=[m["case_no"] for m in alert.detail.get("members", [])],
                )
            )
        return found

    def causes(self, limit: int = 10) -> list[Count]:
        """The root causes of the period's cases whose plan was made by the period's end,
        the same wording (spaces trimmed) counted together, most frequent first.

        Staff may have written the customer's name, phone or e-mail into a cause: each is
        masked with its case's customer before counting, as an erased case's cause already
        is (complaints.cases.retention), so erasing a case never changes this figure."""
        planned = sa.select(AuditEntry.id).where(*self._entered(Step.PLAN)).exists()
        cause = sa.func.trim(Case.root_cause)
        stmt = (
            sa.select(cause, *CUSTOMER)
            .where(self.in_period, planned, Case.root_cause.is_not(None), cause != "")
            .order_by(cause)
        )
        counted: Counter[str] = Counter()
        for text, *customer in self.session.execute(stmt):
            counted[mask_customer_text(str(text), *customer).strip()] += 1
        found = sorted(counted.items(), key=lambda item: -item[1])  # ties: in wording order
        total = sum(counted.values())
        return [Count(label=text, count=n, share=n / total) for text, n in found[:limit]]

    def step_times(self) -> list[StepTime]:
        """Per step that waits for a person (each has a clock), in chart order."""
        found = []
        for step in HUMAN_STEPS:
            mine = sa.and_(StepDeadline.case_id == Case.id, StepDeadline.step == step.value)
            finished = sa.and_(StepDeadline.done_at.is_not(None), StepDeadline.done_at < self.end)
            late = sa.case((StepDeadline.done_at > StepDeadline.due_at, 1), else_=0)
            stmt = (
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(late), 0))
                .select_from(StepDeadline)
                .join(Case, mine)
                .where(self.in_period, finished)
            )
            done, late_count = self.session.execute(stmt).one()
            running_late = self._scalar(
                sa.select(sa.func.count())
                .select_from(StepDeadline)
                .join(Case, mine)
                .where(
                    self.in_period,
                    StepDeadline.started_at < self.end,
                    StepDeadline.due_at < self.end,
                    sa.or_(StepDeadline.done_at.is_(None), StepDeadline.done_at >= self.end),
                )
            )
            if not done and not running_late:
                continue
            took = self._duration(
                self._minutes(StepDeadline.done_at, StepDeadline.started_at),
                [finished],
                (StepDeadline, mine),
            )
            found.append(
                StepTime(
                    step=step.label,
                    done=int(done),
                    median_minutes=took.median_minutes,
                    late=int(late_count),
                    overdue_at_end=running_late,
                )
            )
        return found

    def ranked_suggestions(self, limit: int = 10) -> list[RankedSuggestion]:
        """Suggestions of the period's closed cases, masked per case, then the same wording
        counted together, most often raised first."""
        stmt = (
            sa.select(Case.attributed_department, Case.department, Case.improvement, *CUSTOMER)
            .where(
                self.in_period,
                Case.closed_at < self.end,
                Case.improvement.is_not(None),
                Case.improvement != "",
            )
            .execution_options(yield_per=500)
        )
        counted: dict[str, tuple[int, set[str]]] = {}
        for attributed, department, text, *customer in self.session.execute(stmt):
            said = mask_customer_text(text, *customer).strip()
            cases, departments = counted.get(said, (0, set()))
            departments.add(_text(attributed or department) or UNGRADED)
            counted[said] = (cases + 1, departments)
        ranked = sorted(counted.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [
            RankedSuggestion(text=text, cases=n, departments=sorted(depts))
            for text, (n, depts) in ranked
        ]

    def compensation(self) -> CompensationSummary:
        """The latest plan of each of the period's cases made by the end: compensation
        offered, the yuan amounts it names ("50元优惠券", "退款 199.5 元"), and the plans
        by kind of measure and of compensation (rules.analysis.kinds_named)."""
        latest = (
            sa.select(sa.func.max(AuditEntry.id))
            .join(Case, Case.id == AuditEntry.case_id)
            .where(self.in_period, *self._entered(Step.PLAN))
            .group_by(AuditEntry.case_id)
        )
        stmt = (
            sa.select(
                AuditEntry.payload["compensation"].as_string(),
                AuditEntry.payload["measures"].as_string(),
            )
            .where(AuditEntry.id.in_(latest))
            .execution_options(yield_per=500)
        )
        plans = offered = 0
        amount = 0.0
        measures, compensations = [], []
        for text, measure in self.session.execute(stmt):
            plans += 1
            measures.append(kinds_named(measure, MEASURE_WORDS))
            if text and text.strip():
                offered += 1
                amount += sum(float(n) for n in YUAN.findall(text))
                compensations.append(kinds_named(text, COMPENSATION_WORDS))
        return CompensationSummary(
            plans=plans,
            with_compensation=offered,
            amount_yuan=round(amount, 2),
            measures_by_kind=by_kind(measures),
            compensation_by_kind=by_kind(compensations),
        )

    def by_product(self, volume: int, limit: int = 10) -> list[Count]:
        rows = self.grouped(Case.product)
        return distribution(rows, volume, "—")[:limit]

    def suggestions(self, limit: int = 20) -> list[Suggestion]:
        stmt = (
            sa.select(
                Case.case_no,
                Case.attributed_department,
                Case.department,
                Case.improvement,
                *CUSTOMER,
            )
            .where(
                self.in_period,
                Case.closed_at < self.end,
                Case.improvement.is_not(None),
                Case.improvement != "",
            )
            .order_by(Case.received_at.desc())
            .limit(limit)
        )
        return [
            Suggestion(
                case_no=no,
                department=_text(attributed or department),
                text=mask_customer_text(text, *customer),
            )
            for no, attributed, department, text, *customer in self.session.execute(stmt)
        ]

    def quotes(self) -> list[Quote]:
        stmt = (
            sa.select(Case.case_no, SurveyAnswer.comment, SurveyAnswer.accepts_result, *CUSTOMER)
            .join(Case, Case.id == SurveyAnswer.case_id)
            .where(
                self.in_period,
                SurveyAnswer.at < self.end,
                SurveyAnswer.comment.is_not(None),
                SurveyAnswer.comment != "",
            )
            .order_by(SurveyAnswer.accepts_result, SurveyAnswer.at.desc(), SurveyAnswer.id)
            .limit(QUOTES)
        )
        return [
            Quote(
                case_no=case_no,
                text=mask_customer_text(comment, *customer),
                accepted=bool(accepted),
            )
            for case_no, comment, accepted, *customer in self.session.execute(stmt)
        ]


# Who a case's free text may name: masked out of everything a report shows.
CUSTOMER = (Case.customer_name, Case.customer_phone, Case.customer_email)


def _aware(moment: datetime) -> datetime:
    """An aggregate over a timestamp column may come back without its zone (SQLite): UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _category_label(code: str) -> str | None:
    try:
        return Category(code).value
    except ValueError:
        return code or None
