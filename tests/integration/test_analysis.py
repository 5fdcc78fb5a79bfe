"""Every figure of the analysis, cross-checked against plain Python over the same cases.

Cases are driven through the real ledger operations (register, acknowledge, each step,
reopen, close) at chosen moments, on SQLite and PostgreSQL. The expected figures are then
computed here from the raw rows, following the definitions in rules.analysis, without
any of the report's SQL.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa

from complaints.cases import casework
from complaints.reporting import analysis, reports
from complaints.settings import Settings
from embedded.synthetic import generate_complaints
from models.db import unit_of_work
from models.ledger import AuditEntry, Case, Escalation, EscalationCase, StepDeadline, SurveyAnswer
from rules.analysis import Figures, Rate
from rules.enums import Category, Severity
from rules.periods import Kind, Period
from rules.sla import HANDLING, clock_label
from rules.steps import Step, event_key
from tests.integration.ledger_builder import (
    GENERATED,
    OCTOBER,
    SHANGHAI,
    Plan,
    build_ledger,
    drive,
    local,
)


def rows(settings: Settings) -> dict[str, list[Any]]:
    with unit_of_work(settings.database_url) as session:
        return {
            "cases": list(session.scalars(sa.select(Case))),
            "clocks": list(session.scalars(sa.select(StepDeadline))),
            "surveys": list(session.scalars(sa.select(SurveyAnswer))),
            "audit": list(session.scalars(sa.select(AuditEntry))),
            "escalations": list(session.scalars(sa.select(Escalation))),
        }


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def nearest_rank(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def timely_cases(clocks: list[StepDeadline], ids: set[int], end: datetime) -> tuple[int, int]:
    """Cases whose handling limit ended by `end` (fed back, or run out), and of them those
    that met every limit so far: counted in cases, in plain Python."""
    by_case: dict[int, list[StepDeadline]] = {}
    for d in clocks:
        if d.case_id in ids and d.step == HANDLING:
            by_case.setdefault(d.case_id, []).append(d)

    def fed_back(d: StepDeadline) -> bool:
        return d.done_at is not None and d.done_at < end

    def ran_out(d: StepDeadline) -> bool:
        return d.due_at is not None and d.due_at < end

    def missed(d: StepDeadline) -> bool:
        return ran_out(d) and (d.done_at is None or d.done_at > d.due_at)

    ended = [ds for ds in by_case.values() if any(fed_back(d) or ran_out(d) for d in ds)]
    return sum(not any(missed(d) for d in ds) for ds in ended), len(ended)


def expected(data: dict[str, list[Any]], period: Period) -> dict[str, Any]:
    start, end = period.bounds(SHANGHAI)
    cases = [c for c in data["cases"] if start <= c.received_at < end]
    ids = {c.id for c in cases}
    closed = [c for c in cases if c.closed_at is not None and c.closed_at < end]
    clocks = [
        d for d in data["clocks"] if d.case_id in ids and d.due_at and d.done_at and d.done_at < end
    ]
    steps = [d for d in clocks if d.step != HANDLING]
    surveys = [s for s in data["surveys"] if s.case_id in ids and s.at < end]
    acks = {
        e.case_id: e.at
        for e in data["audit"]
        if e.key == event_key(Step.ACKNOWLEDGE) and e.case_id in ids and e.at < end
    }
    received = {c.id: c.received_at for c in cases}
    first = [(at - received[i]).total_seconds() / 60 for i, at in acks.items()]
    handled = [(c.closed_at - c.received_at).total_seconds() / 60 for c in closed]
    reopened = {e.case_id for e in data["audit"] if e.step == "reopen" and e.at < end} & ids
    callbacks = [d for d in data["clocks"] if d.case_id in ids and d.step == "callback"]

    def made(d: StepDeadline) -> bool:
        return d.done_at is not None and d.done_at < end

    due_callbacks = [d for d in callbacks if made(d) or (d.due_at is not None and d.due_at < end)]
    categories: dict[str, int] = {}
    for c in cases:
        label = c.category.value if c.category else "待分类"
        categories[label] = categories.get(label, 0) + 1
    return {
        "volume": len(cases),
        "by_category": categories,
        "timely_steps": (sum(d.done_at <= d.due_at for d in steps), len(steps)),
        "timely_cases": timely_cases(data["clocks"], ids, end),
        "satisfaction": (sum(s.accepts_result for s in surveys), len(surveys)),
        "efficiency": round(sum(s.efficiency for s in surveys) / len(surveys), 2)
        if surveys
        else None,
        "callback": (
            sum(made(d) and d.done_at <= d.due_at for d in due_callbacks),
            len(due_callbacks),
        ),
        "callbacks_owed": sum(d.started_at < end and not made(d) for d in callbacks),
        "resolution": (len(closed), len(cases)),
        "first_response": (median(first), nearest_rank(first, 0.9), len(first)),
        "handling": (median(handled), nearest_rank(handled, 0.9), len(handled)),
        "reopened": (len(reopened), len(cases)),
        "repeats": (sum(c.repeat_of is not None for c in cases), len(cases)),
        "still_open": len(cases) - len(closed),
        "escalations": Counter(
            (e.trigger, e.level) for e in data["escalations"] if start <= e.fired_at < end
        ),
    }


class Computed(NamedTuple):
    """A period's figures, with the ledger's rows and the period's bounds to check them by."""

    figures: Figures
    data: dict[str, list[Any]]
    start: datetime
    end: datetime


def computed(settings: Settings, period: Period) -> Computed:
    start, end = period.bounds(SHANGHAI)
    return Computed(analysis.compute(settings, period, GENERATED), rows(settings), start, end)


def pair(rate: Rate) -> tuple[int, int]:
    return (rate.numerator, rate.denominator)


def close_to(actual: float | None, wanted: float | None) -> bool:
    if wanted is None or actual is None:
        return actual is wanted
    return abs(actual - wanted) < 0.02  # minutes; the databases round sub-second times


@pytest.fixture
def ledger(settings: Settings) -> tuple[Settings, list[str]]:
    return settings, build_ledger(settings)


@pytest.mark.parametrize(
    "period",
    [
        OCTOBER,
        Period.parse(Kind.MONTHLY, "2026-09"),
        Period.parse(Kind.MONTHLY, "2026-11"),
        Period.parse(Kind.HALF_YEAR, "2026-H2"),
        Period.parse(Kind.ANNUAL, "2026"),
    ],
    ids=str,
)
def test_every_figure_matches_an_independent_computation(
    ledger: tuple[Settings, list[str]], period: Period
) -> None:
    settings, _ = ledger
    figures = analysis.compute(settings, period, GENERATED)
    want = expected(rows(settings), period)

    assert figures.volume == want["volume"]
    assert {c.label: c.count for c in figures.by_category} == want["by_category"]
    assert sum(c.count for c in figures.by_channel) == want["volume"]
    assert pair(figures.timely_steps) == want["timely_steps"]
    assert pair(figures.timely_cases) == want["timely_cases"]
    assert pair(figures.satisfaction) == want["satisfaction"]
    assert figures.survey_averages["处理效率 / efficiency"] == want["efficiency"]
    assert pair(figures.callback) == want["callback"]
    assert figures.callbacks_owed == want["callbacks_owed"]
    assert pair(figures.resolution) == want["resolution"]
    assert pair(figures.reopened) == want["reopened"]
    assert pair(figures.repeats) == want["repeats"]
    assert figures.still_open == want["still_open"]
    assert {(e.trigger, e.level): e.count for e in figures.escalations} == want["escalations"]
    median, p90, count = want["first_response"]
    assert figures.first_response.count == count
    assert close_to(figures.first_response.median_minutes, median)
    assert close_to(figures.first_response.p90_minutes, p90)
    median, p90, count = want["handling"]
    assert figures.handling.count == count
    assert close_to(figures.handling.median_minutes, median)
    assert close_to(figures.handling.p90_minutes, p90)


def test_the_time_zone_decides_the_month_of_a_late_evening_complaint(
    settings: Settings,
) -> None:
    complaints = generate_complaints(4, seed=3, now=GENERATED)
    for complaint, at in zip(
        complaints, ("2026-10-31 23:30", "2026-11-01 00:30"), strict=False
    ):  # 15:30 and 16:30 UTC, both on 31 October in UTC
        casework.register(
            complaint.model_copy(update={"received_at": local(at)}), settings, GENERATED
        )

    october = analysis.compute(settings, OCTOBER, GENERATED)
    november = analysis.compute(settings, Period.parse(Kind.MONTHLY, "2026-11"), GENERATED)

    assert (october.volume, november.volume) == (1, 1)
    assert [p.count for p in november.trend[-2:]] == [1, 1]


def test_a_case_received_in_october_and_closed_in_november_is_still_open_in_october(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, case_nos = ledger
    figures, data, _, end = computed(settings, OCTOBER)
    spanning = next(c for c in data["cases"] if c.case_no == case_nos[2])
    assert spanning.closed_at is not None and spanning.closed_at >= end
    want = expected(data, OCTOBER)
    assert figures.still_open == want["still_open"] >= 1
    assert figures.resolution.numerator < figures.volume


def test_an_empty_period_gives_zeros_and_no_rates_not_an_error(settings: Settings) -> None:
    figures = analysis.compute(settings, OCTOBER, GENERATED)
    assert figures.volume == 0
    assert figures.by_category == []
    assert figures.timely_steps.value is None
    assert figures.satisfaction.value is None
    assert figures.first_response.median_minutes is None
    assert figures.volume_mom.ratio is None
    assert [k.met for k in figures.kpis] == [None] * 5
    assert len(figures.trend) == 12 and all(p.count == 0 for p in figures.trend)


def test_month_on_month_and_year_on_year_compare_the_volumes(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, _ = ledger
    figures = analysis.compute(settings, OCTOBER, GENERATED)
    september = analysis.compute(settings, Period.parse(Kind.MONTHLY, "2026-09"), GENERATED)
    assert figures.volume_mom.previous == september.volume
    assert figures.volume_yoy.previous == 0 and figures.volume_yoy.ratio is None
    assert [p.period for p in figures.trend][-2:] == ["2026-09", "2026-10"]
    assert figures.trend[-1].count == figures.volume


def test_reopened_cases_and_customer_quotes_are_counted_and_kept(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, case_nos = ledger
    reopened_case = case_nos[3]
    figures = analysis.compute(settings, OCTOBER, GENERATED)
    assert figures.reopened.numerator >= 1
    assert any(q.case_no == reopened_case and not q.accepted for q in figures.quotes)
    assert figures.quotes[0].accepted is False  # the dissatisfied voices come first


def test_the_kpis_judge_the_figures_against_the_configured_targets(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, _ = ledger
    strict = settings.model_copy(
        update={"kpi": settings.kpi.model_copy(update={"resolution_rate": 1.0})}
    )
    lenient = settings.model_copy(
        update={"kpi": settings.kpi.model_copy(update={"resolution_rate": 0.0})}
    )
    assert analysis.compute(strict, OCTOBER, GENERATED).kpis[0].met is False
    assert analysis.compute(lenient, OCTOBER, GENERATED).kpis[0].met is True


def test_categories_and_severities_are_shares_of_the_volume(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, _ = ledger
    figures = analysis.compute(settings, Period.parse(Kind.ANNUAL, "2026"), GENERATED)
    assert math.isclose(sum(c.share for c in figures.by_severity), 1.0)
    assert {c.label for c in figures.by_severity} <= {s.value for s in Severity}
    assert {c.label for c in figures.by_category} <= {c.value for c in Category} | {"待分类"}
    assert [c.count for c in figures.top_problems] == sorted(
        (c.count for c in figures.top_problems), reverse=True
    )
    assert len(figures.top_problems) <= 5


def test_the_half_year_review_lists_major_and_rising_problems_and_a_notice_per_department(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, _ = ledger
    half = Period.parse(Kind.HALF_YEAR, "2026-H2")
    figures = analysis.compute(settings, half, GENERATED)
    assert analysis.compute(settings, OCTOBER, GENERATED).review is None  # monthly: none
    review = figures.review
    assert review is not None

    data = rows(settings)
    start, end = half.bounds(SHANGHAI)
    cases = [c for c in data["cases"] if start <= c.received_at < end]
    majors = {c.case_no for c in cases if c.severity is Severity.MAJOR}
    assert {m.case_no for m in review.major_cases} == majors
    before_start, before_end = half.previous().bounds(SHANGHAI)

    def problems(since: datetime, until: datetime) -> Counter[str]:
        return Counter(
            f"{c.category.value if c.category else '待分类'} · {c.product or '—'}"
            for c in data["cases"]
            if since <= c.received_at < until
        )

    now_, before = problems(start, end), problems(before_start, before_end)
    rising = {k for k, n in now_.items() if n >= 3 and n > before.get(k, 0)}
    assert {r.label for r in review.rising} <= rising
    assert len(review.rising) == min(5, len(rising))
    suggested = {
        c.case_no for c in cases if c.improvement and c.closed_at is not None and c.closed_at < end
    }
    assert {s.case_no for s in review.suggestions} == suggested
    departments = Counter(c.department.value for c in cases if c.department is not None)
    assert {n.department: n.complaints for n in review.notices} == dict(departments)
    assert all(
        n.due == (GENERATED.astimezone(SHANGHAI) + timedelta(days=30)).date()
        for n in review.notices
    )


def test_the_half_year_report_shows_the_review_with_personal_data_masked(
    settings: Settings,
) -> None:
    from complaints.reporting import reports

    complaint = generate_complaints(3, seed=5, now=GENERATED)[0].model_copy(
        update={
            "received_at": local("2026-08-03 10:00"),
            "severity": Severity.MAJOR,
            "description": "热水壶爆裂烫伤孩子，请回电13987654321",
        }
    )
    casework.register(complaint, settings, local("2026-08-03 10:00"))

    report = reports.build(settings, Period.parse(Kind.HALF_YEAR, "2026-H2"), GENERATED)

    for text in (report.html, report.markdown):
        assert "整改通报" in text and "重大问题" in text
        assert "热水壶爆裂烫伤孩子" in text
        assert "13987654321" not in text


# Two generated cases closed in October: every step of the late one takes 50 h, so its
# callback comes after its 48 h limit.
ON_TIME = Plan(local("2026-10-06 10:00"), "close", 30)
LATE = Plan(local("2026-10-02 10:00"), "close", 50 * 60)


def october_after(settings: Settings, seed: int, *plans: Plan) -> Figures:
    """October's figures once a generated complaint that goes to verification has been
    driven as far as each plan says, one complaint a plan."""
    complaints = [
        c for c in generate_complaints(12, seed=seed, now=GENERATED) if not c.answered_on_spot
    ]
    for complaint, plan in zip(complaints[: len(plans)], plans, strict=True):
        drive(settings, complaint, plan, seed=seed)
    return analysis.compute(settings, OCTOBER, GENERATED)


def test_a_callback_made_late_or_still_owed_at_the_periods_end_counts_against_the_callback_rate(
    settings: Settings,
) -> None:
    # The owed callback is asked for in late October and never made.
    owed = Plan(local("2026-10-27 10:00"), "callback-owed", 30)

    figures = october_after(settings, 5, LATE, ON_TIME, owed)

    assert pair(figures.callback) == (1, 3)
    assert figures.callbacks_owed == 1
    (kpi,) = [k for k in figures.kpis if k.name.startswith("回访率")]
    assert kpi.met is False


def test_the_timely_rate_counts_cases_and_a_limit_run_out_without_a_result_as_missed(
    settings: Settings,
) -> None:
    ran_out = Plan(local("2026-10-08 10:00"), "plan", 30)  # no result

    figures = october_after(settings, 6, ON_TIME, ran_out, LATE)

    assert pair(figures.timely_cases) == (1, 3)  # in cases: three cases, one timely
    (kpi,) = [k for k in figures.kpis if k.name == "及时率 / timely rate"]
    assert kpi.actual == "33.3%" and kpi.met is False


@pytest.mark.parametrize("period", [OCTOBER, Period.parse(Kind.MONTHLY, "2026-11")], ids=str)
def test_departments_overdue_sources_and_open_cases_match_an_independent_computation(
    ledger: tuple[Settings, list[str]], period: Period
) -> None:
    settings, _ = ledger
    figures, data, start, end = computed(settings, period)
    with unit_of_work(settings.database_url) as session:
        links = list(
            session.execute(sa.select(EscalationCase.escalation_id, EscalationCase.case_id))
        )
    cases = [c for c in data["cases"] if start <= c.received_at < end]

    def open_at_end(c: Case) -> bool:
        return c.closed_at is None or c.closed_at >= end

    def overdue(c: Case) -> list[StepDeadline]:
        return [
            d
            for d in data["clocks"]
            if d.case_id == c.id
            and d.started_at < end
            and d.due_at is not None
            and d.due_at < end
            and (d.done_at is None or d.done_at >= end)
        ]

    departments = {}
    for dept in {c.department for c in cases if c.department is not None}:
        mine = [c for c in cases if c.department == dept]
        departments[dept.value] = (
            len(mine),
            timely_cases(data["clocks"], {c.id for c in mine}, end),
            sum(open_at_end(c) for c in mine),
            sum(open_at_end(c) and bool(overdue(c)) for c in mine),
        )
    assert {
        r.department: (r.volume, pair(r.timely), r.open_at_end, r.overdue_at_end)
        for r in figures.departments
    } == departments

    by_id = {c.id: c for c in data["cases"]}
    first_overdue = {e.id: e for e in data["escalations"] if e.trigger == "sla" and e.level == 1}
    sources: Counter[tuple[str, str]] = Counter()
    for escalation_id, case_id in links:
        e = first_overdue.get(escalation_id)
        if e is not None and start <= e.fired_at < end:
            dept = by_id[case_id].department
            sources[(clock_label(e.step or ""), dept.value if dept else "待分类")] += 1
    assert {(r.step, r.department): r.count for r in figures.overdue_sources} == sources

    still_open = [c for c in data["cases"] if c.received_at < end and open_at_end(c)]
    assert len(figures.open_cases) == min(50, len(still_open))
    days = {
        c.case_no: (end - min(d.due_at for d in overdue(c))).total_seconds() / 86400
        if overdue(c)
        else None
        for c in still_open
    }
    for shown in figures.open_cases:
        assert close_to(
            shown.overdue_days,
            None if days[shown.case_no] is None else round(days[shown.case_no], 1),
        )
    shown_days = [o.overdue_days for o in figures.open_cases if o.overdue_days is not None]
    assert shown_days == sorted(shown_days, reverse=True)  # most overdue first

    # Handlers: the owner of each case's latest plan made by the end, else its receiver.
    owners = {c.id: owner_at(data["audit"], c, end) for c in cases}
    handlers = {}
    for who in set(owners.values()):
        mine = [c for c in cases if owners[c.id] == who]
        ids = {c.id for c in mine}
        surveys = [s for s in data["surveys"] if s.case_id in ids and s.at < end]
        handlers[who] = (
            len(mine),
            timely_cases(data["clocks"], ids, end),
            (sum(s.accepts_result for s in surveys), len(surveys)),
            sum(open_at_end(c) for c in mine),
            sum(open_at_end(c) and bool(overdue(c)) for c in mine),
        )
    assert {
        (h.handler, h.handed_over): (
            h.volume,
            pair(h.timely),
            pair(h.satisfaction),
            h.open_at_end,
            h.overdue_at_end,
        )
        for h in figures.handlers
    } == handlers
    assert sum(h.volume for h in figures.handlers) == len(cases)  # each case in one row
    assert any(handed_over for _, handed_over in handlers), "plans name owners this period"
    for shown in figures.open_cases:
        case = next(c for c in still_open if c.case_no == shown.case_no)
        assert (shown.owner, shown.handed_over) == owner_at(data["audit"], case, end)


def owner_at(audit: list[AuditEntry], case: Case, end: datetime) -> tuple[str, bool]:
    """Who owns a case at `end`: its latest plan's owner, else its first receiver."""
    plans = [e for e in audit if e.case_id == case.id and e.step == "plan" and e.at < end]
    if plans:
        return str(max(plans, key=lambda e: e.id).payload["owner"]), True
    return case.receiver, False


def test_an_open_case_with_no_plan_yet_is_owned_by_its_receiver_and_named_once(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, case_nos = ledger
    figures = analysis.compute(settings, OCTOBER, GENERATED)
    data = rows(settings)
    unplanned = case_nos[5]  # registered on 3 October and taken no further
    case = next(c for c in data["cases"] if c.case_no == unplanned)

    (shown,) = [o for o in figures.open_cases if o.case_no == unplanned]

    assert (shown.owner, shown.handed_over) == (case.receiver, False)
    assert shown.owner != shown.department
    text = "".join(s.zh for s in figures.summary) + "".join(s.en for s in figures.summary)
    for o in figures.open_cases:
        assert f"{o.department}，{o.department}" not in text
        assert f"{o.department}, {o.department}" not in text
    report = reports.build(settings, OCTOBER, GENERATED)
    assert f"{case.receiver}（受理人，未交办）" in report.markdown


def test_a_plan_the_case_refused_and_asked_again_for_hands_nothing_over(
    ledger: tuple[Settings, list[str]],
) -> None:
    from complaints.cases import casework
    from rules.steps import Step

    settings, case_nos = ledger
    unplanned = case_nos[5]  # registered on 3 October and taken no further
    case = next(c for c in rows(settings)["cases"] if c.case_no == unplanned)
    refused_at = OCTOBER.bounds(SHANGHAI)[0] + timedelta(days=5)
    casework.record_invalid(settings, unplanned, Step.PLAN, "plan-c0", refused_at, "deadline: …")

    figures = analysis.compute(settings, OCTOBER, GENERATED)

    (shown,) = [o for o in figures.open_cases if o.case_no == unplanned]
    assert (shown.owner, shown.handed_over) == (case.receiver, False)
    assert all(h.handler != "None" for h in figures.handlers)


def test_root_causes_are_counted_from_the_plans_made_by_the_periods_end(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, _ = ledger
    figures, data, start, end = computed(settings, OCTOBER)
    planned = {e.case_id for e in data["audit"] if e.step == "plan" and e.at < end}
    causes = Counter(
        c.root_cause.strip()
        for c in data["cases"]
        if start <= c.received_at < end and c.id in planned and c.root_cause
    )
    assert causes, "the test ledger has plans in October"
    shown = [(c.label, c.count) for c in figures.causes]
    assert [n for _, n in shown] == sorted((n for _, n in shown), reverse=True)
    assert len(shown) == min(10, len(causes))
    assert all(causes[label] == n for label, n in shown)  # ties may sort by the collation
    assert min((n for _, n in shown), default=0) >= max(
        (n for label, n in causes.items() if label not in dict(shown)), default=0
    )


def test_process_analysis_suggestions_and_compensation_match_an_independent_computation(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, _ = ledger
    figures, data, start, end = computed(settings, OCTOBER)
    cases = {c.id: c for c in data["cases"] if start <= c.received_at < end}

    for shown in figures.step_times:
        step = next(s for s in Step if s.label == shown.step)
        clocks = [d for d in data["clocks"] if d.case_id in cases and d.step == step.value]
        done = [d for d in clocks if d.done_at is not None and d.done_at < end]
        assert shown.done == len(done)
        assert shown.late == sum(d.due_at is not None and d.done_at > d.due_at for d in done)
        assert shown.overdue_at_end == sum(
            d.started_at < end
            and d.due_at is not None
            and d.due_at < end
            and (d.done_at is None or d.done_at >= end)
            for d in clocks
        )
        took = [(d.done_at - d.started_at).total_seconds() / 60 for d in done]
        assert close_to(shown.median_minutes, median(took))
    assert figures.step_times, "the test ledger has finished steps in October"

    raised: Counter[str] = Counter(
        c.improvement.strip()
        for c in cases.values()
        if c.closed_at is not None and c.closed_at < end and c.improvement
    )
    assert {r.text: r.cases for r in figures.ranked_suggestions} == dict(
        sorted(raised.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    )

    latest: dict[int, AuditEntry] = {}
    for e in sorted(data["audit"], key=lambda e: e.id):
        if e.case_id in cases and e.step == "plan" and e.at < end:
            latest[e.case_id] = e
    offered = [e.payload.get("compensation") for e in latest.values()]
    offered = [text for text in offered if text and text.strip()]
    amount = sum(float(n) for text in offered for n in re.findall(r"(\d+(?:\.\d+)?)\s*元", text))
    assert figures.compensation is not None
    assert (figures.compensation.plans, figures.compensation.with_compensation) == (
        len(latest),
        len(offered),
    )
    assert figures.compensation.amount_yuan == round(amount, 2)
    # by kind: each plan counted once per kind its text names (the naming rule is
    # rules.analysis.kinds_named, tested on its own); the yuan of each kind add up
    from rules.analysis import COMPENSATION_WORDS, MEASURE_WORDS, kinds_named

    for words, texts, shown_kinds in (
        (COMPENSATION_WORDS, offered, figures.compensation.compensation_by_kind),
        (
            MEASURE_WORDS,
            [e.payload.get("measures") for e in latest.values()],
            figures.compensation.measures_by_kind,
        ),
    ):
        plans: Counter[str] = Counter()
        yuan: Counter[str] = Counter()
        for text in texts:
            for kind, named in kinds_named(text, words).items():
                plans[kind] += 1
                yuan[kind] += named
        assert {k.kind: (k.plans, k.amount_yuan) for k in shown_kinds} == {
            kind: (plans[kind], round(yuan[kind], 2)) for kind in plans
        }
        assert [k.plans for k in shown_kinds] == sorted(
            (k.plans for k in shown_kinds), reverse=True
        )
    assert sum(k.amount_yuan for k in figures.compensation.compensation_by_kind) == pytest.approx(
        figures.compensation.amount_yuan
    )
    products = Counter(c.product or "—" for c in cases.values())
    shown = [(c.label, c.count) for c in figures.by_product]
    assert len(shown) == min(10, len(products))
    assert all(products[label] == n for label, n in shown)
    assert [n for _, n in shown] == sorted((n for _, n in shown), reverse=True)


def test_a_departments_summary_counts_only_its_own_cases(
    ledger: tuple[Settings, list[str]],
) -> None:
    settings, _ = ledger
    data = rows(settings)
    whole = analysis.compute(settings, OCTOBER, GENERATED)
    for row in whole.departments:
        own = analysis.compute(settings, OCTOBER, GENERATED, department=row.department)
        mine = {
            c.case_no
            for c in data["cases"]
            if c.department and c.department.value == row.department
        }
        assert own.volume == row.volume
        assert pair(own.timely_cases) == pair(row.timely)
        assert own.still_open == row.open_at_end
        assert {o.case_no for o in own.open_cases} <= mine
        assert [d.department for d in own.departments] == [row.department]


def test_a_departments_summary_lists_only_its_own_corrective_actions(
    ledger: tuple[Settings, list[str]],
) -> None:
    from models.ledger import CorrectiveAction
    from models.repositories import ActionRepository

    settings, _ = ledger
    issued = GENERATED - timedelta(days=40)
    with unit_of_work(settings.database_url) as session:
        for department in ("物流部", "产品部"):
            ActionRepository(session).add(
                CorrectiveAction(
                    key=f"half_year:2026-H1:{department}",
                    report_kind="half_year",
                    period="2026-H1",
                    department=department,
                    requirement="整改",
                    started_at=issued,
                    due_at=issued + timedelta(days=30),
                    alert_level=-1,
                    status="open",
                    created_at=issued,
                )
            )

    whole = analysis.compute(settings, OCTOBER, GENERATED)
    own = analysis.compute(settings, OCTOBER, GENERATED, department="物流部")

    assert {a.department for a in whole.actions} == {"物流部", "产品部"}
    assert [a.department for a in own.actions] == ["物流部"]


@pytest.mark.parametrize("period", [OCTOBER, Period.parse(Kind.MONTHLY, "2026-11")])
def test_the_customer_profile_counts_new_and_returning_customers_independently(
    ledger: tuple[Settings, list[str]], period: Period
) -> None:
    from rules.intake import ComplaintIn

    settings, _ = ledger
    start, end = period.bounds(settings.tz)
    october_case = next(c for c in rows(settings)["cases"] if c.customer_phone)
    again = start + timedelta(days=3)  # the same customer, once more within the period
    casework.register(
        ComplaintIn(
            channel=october_case.channel,
            external_ref=f"AGAIN-{period}",
            customer_name=october_case.customer_name,
            customer_phone=october_case.customer_phone,
            description="上次的问题又出现了，热水壶还是漏水。",
            demand=october_case.demand,
            received_at=again,
            receiver="客服-王芳",
        ),
        settings,
        again,
    )
    cases = rows(settings)["cases"]

    def who(case: Case) -> str:
        return case.customer_phone or (case.customer_email or "").lower()

    in_period = {who(c) for c in cases if start <= c.received_at < end}
    before = {who(c) for c in cases if c.received_at < start}

    profile = analysis.compute(settings, period, GENERATED).customers

    assert profile is not None
    assert profile.customers == len(in_period)
    assert profile.returning == len(in_period & before)
    assert profile.new == len(in_period - before)
    assert profile.new > 0
    if october_case.received_at < start:
        assert profile.returning > 0
