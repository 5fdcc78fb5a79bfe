"""A ledger of generated cases driven through the real casework service to chosen steps at
chosen times: what the analysis, report and rectification tests compute from."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from complaints.cases import casework
from complaints.deadlines import watch
from complaints.settings import Settings
from embedded.synthetic import decisions_for, generate_complaints
from rules.human_steps import STEP_INPUTS
from rules.periods import Kind, Period
from rules.steps import Step, wait_key

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = Period.parse(Kind.MONTHLY, "2026-10")
GENERATED = datetime(2026, 11, 7, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@dataclass
class Plan:
    """How far a generated case gets, and when."""

    received: datetime
    stop_after: str  # "register", "verify", "plan", "callback-owed", "close", "reopen-close"
    step_minutes: int  # time between steps
    accepts: bool = True


def drive(
    settings: Settings,
    complaint: Any,
    plan: Plan,
    seed: int,
    said: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Take one complaint through the ledger operations the flow would call; `said`: what
    to put into a step's input instead of the generated words."""
    complaint = complaint.model_copy(update={"received_at": plan.received})
    case_no = casework.register(complaint, settings, plan.received).case_no
    clock = plan.received + timedelta(minutes=plan.step_minutes // 3 + 1)
    casework.record_event(settings, case_no, Step.ACKNOWLEDGE, 0, clock, "acknowledged")
    if plan.stop_after == "register":
        return case_no
    steps = decisions_for(complaint, seed=seed, now=plan.received)

    def step(name: str, cycle: int = 0, **changes: Any) -> None:
        nonlocal clock
        key = wait_key(Step(name), cycle)
        casework.open_step(settings, case_no, Step(name), key, clock)
        clock += timedelta(minutes=plan.step_minutes)
        given = {**steps[name], **changes, **(said or {}).get(name, {})}
        data = STEP_INPUTS[Step(name)].model_validate(given)
        casework.record_decision(settings, case_no, Step(name), key, data, clock)

    step("verify")
    if plan.stop_after == "verify":
        return case_no
    for name in ("grade", "approve_grade", "plan", "approve_plan"):
        step(name)
    if plan.stop_after == "plan":
        return case_no
    for name in ("execute", "feedback"):
        step(name)
    if plan.stop_after == "callback-owed":  # the callback is asked for and never made
        casework.open_step(settings, case_no, Step.CALLBACK, wait_key(Step.CALLBACK, 0), clock)
        return case_no
    cycle = 0
    if plan.stop_after == "reopen-close":
        step("callback", accepts_result=False, resolution=2, comment="还是不满意，电话13812345678")
        cycle = casework.reopen(settings, case_no, 0, clock)
        for name in ("plan", "approve_plan", "execute", "feedback"):
            step(name, cycle)
    step("callback", cycle, accepts_result=plan.accepts, comment=None if plan.accepts else "不接受")
    casework.close(settings, case_no, clock, "# report")
    return case_no


def build_ledger(settings: Settings, count: int = 36, seed: int = 11) -> list[str]:
    """Cases across September–November 2026, with every edge the definitions name."""
    rng = random.Random(seed)
    complaints = [
        c
        for c in generate_complaints(count * 2, seed=seed, now=GENERATED)
        if not c.answered_on_spot
    ][:count]
    plans = [
        # The edges: a complaint at 23:30 on 31 October (October, in Shanghai) and one at
        # 00:30 on 1 November; a case received in October and closed in November (open at
        # October's end); a reopened case; a case never acknowledged beyond registration.
        Plan(local("2026-10-31 23:30"), "close", 90),
        Plan(local("2026-11-01 00:30"), "close", 30),
        Plan(local("2026-10-30 20:00"), "close", 24 * 60),  # closed in November
        Plan(local("2026-10-12 10:00"), "reopen-close", 45),
        Plan(local("2026-10-20 09:00"), "plan", 600),
        Plan(local("2026-10-03 12:00"), "register", 10),
    ]
    start = local("2026-09-01 00:00")
    while len(plans) < count:
        received = start + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        plans.append(
            Plan(
                received,
                rng.choice(["register", "verify", "plan", "close", "close", "reopen-close"]),
                rng.choice([5, 30, 120, 400, 900]),
                accepts=rng.random() < 0.8,
            )
        )
    case_nos = [drive(settings, c, p, seed) for c, p in zip(complaints, plans, strict=False)]
    watch.fire_due(settings, local("2026-11-06 12:00"))  # the SLA ladder of what is overdue
    return case_nos


# -- the same figures, computed in plain Python ---------------------------------------------
