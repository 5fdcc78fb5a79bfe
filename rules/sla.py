"""The SLA policy and the deadlines it gives each running clock of a case.

A case runs two kinds of clocks:
- one per waiting step (verify, grade, approve, plan, approve, execute, feed back, call
  back), due by the step's limit: verification by the response promised for the
  severity (counted from receipt), execution by the plan's own deadline, the others by a
  fixed limit per step;
- the handling clock of each plan cycle (``handling``), from receipt or reopening until
  the result is fed back, due by the coordination scope: one department 24 h, city /
  across counties 48 h, across prefectures 4 working days.

Each clock has a warning point (a share of its time used) and an escalation ladder after
the deadline. Every number is a company default to be changed in the policy file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.alerts import Level
from rules.calendar import CalendarOverrides, WorkCalendar
from rules.enums import Scope, Severity
from rules.escalation import HANDLING
from rules.human_steps import DEFAULT_LIMITS
from rules.steps import Step
from rules.working_time import BusinessHours, Clock, Limit, Pause, Unit


def clock_label(name: str) -> str:
    """How a clock reads to people: the step's label, or the handling limit's."""
    if name == HANDLING:
        return "处理时限 / Handling limit"
    try:
        return Step(name).label
    except ValueError:
        return name


MAX_LIMIT = timedelta(days=366)


class CalendarPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["china", "24x7"] = Field(
        default="china",
        description="china: official working days with 调休; 24x7: every day counts",
    )
    holidays: list[date] = Field(default_factory=list, description="extra days off")
    workdays: list[date] = Field(default_factory=list, description="extra make-up working days")
    years: list[int] = Field(
        default_factory=list, description="years the two lists above cover completely"
    )


class Ladder(BaseModel):
    """The pre-breach warning and how long after the deadline each higher level fires."""

    model_config = ConfigDict(extra="forbid")

    warning_at: float = Field(
        default=0.8, gt=0, lt=1, description="share of the limit used when the warning fires"
    )
    level2_after: Limit = Field(
        default=Limit.model_validate("4h"), description="after the deadline: operations director"
    )
    level3_after: Limit = Field(
        default=Limit.model_validate("24h"), description="after the deadline: company leadership"
    )

    @model_validator(mode="after")
    def _climbs(self) -> Ladder:
        if self.level2_after.unit is self.level3_after.unit and not (
            self.level2_after.amount < self.level3_after.amount
        ):
            raise ValueError("level 3 must come after level 2")
        return self


K = TypeVar("K")


def _limits(values: dict[K, str]) -> dict[K, Limit]:
    return {key: Limit.model_validate(text) for key, text in values.items()}


class SlaPolicy(BaseModel):
    """Every limit of the process; loaded from one file, overridable per setting."""

    model_config = ConfigDict(extra="forbid")

    calendar: CalendarPolicy = Field(default_factory=CalendarPolicy)
    business_hours: BusinessHours | None = Field(
        default=None,
        description="count hour limits only in these hours of working days (default: round the clock)",
    )
    response: dict[Severity, Limit] = Field(
        default_factory=lambda: _limits(
            {Severity.GENERAL: "24h", Severity.SERIOUS: "12h", Severity.MAJOR: "2h"}
        ),
        description="response promised by severity: verification is due by then",
    )
    handling: dict[Scope, Limit] = Field(
        default_factory=lambda: _limits(
            {Scope.DEPARTMENT: "24h", Scope.CITY: "48h", Scope.PREFECTURE: "4wd"}
        ),
        description="handling limit by coordination scope: the result is fed back by then",
    )
    steps: dict[Step, Limit] = Field(
        default_factory=lambda: _limits(DEFAULT_LIMITS),
        description="limits of the other waiting steps (execution is due by the plan)",
    )
    ladder: Ladder = Field(default_factory=Ladder)

    @model_validator(mode="after")
    def _complete(self) -> SlaPolicy:
        missing = [f"response.{s.code}" for s in Severity if s not in self.response]
        missing += [f"handling.{s.code}" for s in Scope if s not in self.handling]
        fixed = sorted(DEFAULT_LIMITS)
        missing += [f"steps.{s.value}" for s in fixed if s not in self.steps]
        if missing:
            raise ValueError(f"SLA policy has no limit for: {', '.join(missing)}")
        limits = {
            **{f"response.{k.code}": v for k, v in self.response.items()},
            **{f"handling.{k.code}": v for k, v in self.handling.items()},
            **{f"steps.{k.value}": v for k, v in self.steps.items()},
        }
        wrong = [
            name
            for name, limit in limits.items()
            if limit.amount == 0 or limit.counted_time(timedelta(days=1)) > MAX_LIMIT
        ]
        if wrong:
            raise ValueError(
                f"SLA limits must be above zero and at most a year: {', '.join(wrong)}"
            )
        return self

    def clock(self, tz: ZoneInfo) -> Clock:
        return Clock(_calendar(self.calendar), tz, self.business_hours)

    def limit(self, step: Step | str, severity: Severity, scope: Scope | None) -> Limit | None:
        """The limit of a clock; None for execution (due by the plan) and automatic steps."""
        if step == HANDLING:
            return self.handling[scope or Scope.DEPARTMENT]
        if step == Step.VERIFY:
            return self.response[severity]
        return self.steps.get(Step(step))


@lru_cache(maxsize=8)
def _calendar_cached(
    mode: str, holidays: tuple[date, ...], workdays: tuple[date, ...], years: tuple[int, ...]
) -> WorkCalendar:
    if mode == "24x7":
        return WorkCalendar.round_the_clock()
    overrides = CalendarOverrides(
        holidays=list(holidays), workdays=list(workdays), years=list(years)
    )
    return WorkCalendar.china(overrides)


def _calendar(policy: CalendarPolicy) -> WorkCalendar:
    return _calendar_cached(
        policy.mode, tuple(policy.holidays), tuple(policy.workdays), tuple(policy.years)
    )


# -- the alerts of one clock ---------------------------------------------------------------
class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"


@dataclass(frozen=True)
class ClockPlan:
    """When a clock is due and when each rung of the ladder fires (None while paused)."""

    due_at: datetime | None
    alerts: tuple[tuple[Level, datetime], ...]
    assumed_years: frozenset[int] = frozenset()
    paused: bool = False

    @property
    def state(self) -> ClockState:
        return ClockState.PAUSED if self.paused else ClockState.RUNNING

    @property
    def warn_at(self) -> datetime | None:
        return dict(self.alerts).get(Level.WARNING)

    def next_alert(self, fired: int) -> tuple[Level, datetime] | None:
        """The first rung above the highest level already fired."""
        return next(((lvl, at) for lvl, at in self.alerts if lvl > fired), None)

    def due_levels(self, fired: int, now: datetime) -> list[Level]:
        """Rungs above `fired` whose time has come, lowest first."""
        return [lvl for lvl, at in self.alerts if lvl > fired and at <= now]

    def climb(self, fired: int, now: datetime) -> Climb:
        """What a watch pass does with a clock whose highest fired level is `fired`."""
        levels = self.due_levels(fired, now)
        reached = int(levels[-1]) if levels else fired
        following = self.next_alert(reached)
        return Climb(levels, reached, following[1] if following else None)


@dataclass(frozen=True)
class Climb:
    """The rungs to fire now, the level the clock has then reached, and its next alert."""

    levels: list[Level]
    alert_level: int
    next_alert_at: datetime | None


def plan_limit(
    policy: SlaPolicy,
    clock: Clock,
    limit: Limit,
    started_at: datetime,
    pauses: tuple[Pause, ...] = (),
) -> ClockPlan:
    """Deadline, warning and ladder of a clock counting `limit` from `started_at`."""
    unit = limit.unit
    need = limit.counted_time(clock.working_day)
    points = [
        (Level.WARNING, need * policy.ladder.warning_at),
        (Level.DEPARTMENT_HEAD, need),
        *((level, need + offset) for level, offset in _after_deadline(policy, clock)),
    ]
    return _plan(clock, started_at, unit, points, pauses)


def plan_fixed(
    policy: SlaPolicy,
    clock: Clock,
    due_at: datetime,
    started_at: datetime,
    pauses: tuple[Pause, ...] = (),
) -> ClockPlan:
    """A clock whose deadline is a moment (execution: the plan's deadline).

    The deadline is the moment as written, moved by the time the case waited on the
    customer (counted round the clock, as the moment was written). The warning fires when
    the share of the counted time from start to deadline is used, and the higher levels
    count from the deadline, both on the policy's clock — with business hours, never at
    night.
    """
    as_written = Clock(clock.calendar, clock.tz)  # hours round the clock
    span = max(as_written.counted(started_at, due_at, Unit.HOURS), timedelta(0))
    deadline = as_written.reach(started_at, span, Unit.HOURS, pauses)
    paused = any(p.end is None for p in pauses)
    need = max(clock.counted(started_at, due_at, Unit.HOURS), timedelta(0))
    warning = clock.reach(started_at, need * policy.ladder.warning_at, Unit.HOURS, pauses)
    assumed = set(deadline.assumed_years | warning.assumed_years)
    if warning.at is None:
        return ClockPlan(None, (), frozenset(assumed), paused)
    if deadline.at is None:
        return ClockPlan(None, ((Level.WARNING, warning.at),), frozenset(assumed), paused)
    alerts: list[tuple[Level, datetime]] = [
        (Level.WARNING, min(warning.at, deadline.at)),
        (Level.DEPARTMENT_HEAD, deadline.at),
    ]
    for level, offset in _after_deadline(policy, clock):
        reached = clock.reach(deadline.at, offset, Unit.HOURS, pauses)
        assumed |= reached.assumed_years
        if reached.at is None:
            break
        alerts.append((level, reached.at))
    return ClockPlan(deadline.at, tuple(alerts), frozenset(assumed), paused)


def _after_deadline(policy: SlaPolicy, clock: Clock) -> list[tuple[Level, timedelta]]:
    """The rungs above the deadline and how long after it each fires, counted on the clock
    of the limit they extend."""
    return [
        (Level.OPERATIONS_DIRECTOR, policy.ladder.level2_after.counted_time(clock.working_day)),
        (Level.LEADERSHIP, policy.ladder.level3_after.counted_time(clock.working_day)),
    ]


def _plan(
    clock: Clock,
    started_at: datetime,
    unit: Unit,
    points: list[tuple[Level, timedelta]],
    pauses: tuple[Pause, ...],
) -> ClockPlan:
    alerts: list[tuple[Level, datetime]] = []
    assumed: set[int] = set()
    paused = any(p.end is None for p in pauses)
    due: datetime | None = None
    for level, amount in points:
        reached = clock.reach(started_at, amount, unit, pauses)
        assumed |= reached.assumed_years
        if reached.at is None:  # paused before this point: nothing further is scheduled
            return ClockPlan(due, tuple(alerts), frozenset(assumed), paused)
        alerts.append((level, reached.at))
        if level is Level.DEPARTMENT_HEAD:
            due = reached.at
    return ClockPlan(due, tuple(alerts), frozenset(assumed), paused)


def response_promise(policy: SlaPolicy, severity: Severity) -> Limit:
    """The response time promised to the customer in the acknowledgement."""
    return policy.response[severity]
