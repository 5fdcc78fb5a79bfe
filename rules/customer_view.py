"""What the customer is shown of their own case: the stages of the process in their words.

Handlers see every decision, who made it and every rejection; the customer sees where
their complaint stands — received, being looked into, a solution decided, being carried
out, result given, closed — with the time each stage was reached. Internal rounds (a
grading sent back, a plan rejected, an escalation) are not the customer's business and
never show here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rules.steps import Step


class Stage(StrEnum):
    RECEIVED = "received"
    INVESTIGATING = "investigating"
    SOLUTION = "solution"
    CARRYING_OUT = "carrying_out"
    RESULT = "result"
    SURVEY = "survey"
    CLOSED = "closed"


STAGE_LABELS: dict[Stage, str] = {
    Stage.RECEIVED: "已受理 / Received",
    Stage.INVESTIGATING: "核实调查 / Looking into it",
    Stage.SOLUTION: "确定处理方案 / Deciding the solution",
    Stage.CARRYING_OUT: "执行处理方案 / Carrying it out",
    Stage.RESULT: "反馈处理结果 / Result given",
    Stage.SURVEY: "满意度回访 / Your opinion",
    Stage.CLOSED: "已办结 / Closed",
}

# The stage a case is in while it is at a step of the process chart.
STAGE_OF_STEP: dict[Step, Stage] = {
    Step.REGISTER: Stage.RECEIVED,
    Step.ACKNOWLEDGE: Stage.RECEIVED,
    Step.ANSWER_ON_SPOT: Stage.RESULT,
    Step.VERIFY: Stage.INVESTIGATING,
    Step.EXPLAIN: Stage.RESULT,
    Step.GRADE: Stage.SOLUTION,
    Step.APPROVE_GRADE: Stage.SOLUTION,
    Step.PLAN: Stage.SOLUTION,
    Step.APPROVE_PLAN: Stage.SOLUTION,
    Step.EXECUTE: Stage.CARRYING_OUT,
    Step.FEEDBACK: Stage.CARRYING_OUT,
    Step.CALLBACK: Stage.SURVEY,
    Step.REOPEN: Stage.SOLUTION,
    Step.CLOSE: Stage.CLOSED,
}

# The audit decisions that complete a stage for the customer: (step, decision) → stage.
REACHED_BY: dict[tuple[Step, str], Stage] = {
    (Step.ACKNOWLEDGE, "acknowledged"): Stage.RECEIVED,
    (Step.VERIFY, "substantiated"): Stage.INVESTIGATING,
    (Step.VERIFY, "not_substantiated"): Stage.INVESTIGATING,
    (Step.APPROVE_PLAN, "approved"): Stage.SOLUTION,
    (Step.EXECUTE, "completed"): Stage.CARRYING_OUT,
    (Step.FEEDBACK, "fed_back"): Stage.RESULT,
    (Step.EXPLAIN, "explained"): Stage.RESULT,
    (Step.ANSWER_ON_SPOT, "answered_on_spot"): Stage.RESULT,
    (Step.CALLBACK, "satisfied"): Stage.SURVEY,
    (Step.CALLBACK, "not_satisfied"): Stage.SURVEY,
    (Step.CLOSE, "closed"): Stage.CLOSED,
}


@dataclass(frozen=True)
class Milestone:
    stage: Stage
    label: str
    reached_at: datetime | None  # None: not reached (yet)
    current: bool


def milestones(
    entries: Iterable[tuple[str, str, datetime]], current_step: str, closed: bool
) -> list[Milestone]:
    """Every stage in order, with when it was last reached, and which one the case is in.

    `entries` are the audit trail's (step, decision, at). A reopened case goes back to
    deciding the solution: stages reached before the reopening show as reached again only
    when they are reached again.
    """
    reached: dict[Stage, datetime] = {}
    for step_name, decision, at in entries:
        step = _step(step_name)
        if step is Step.REOPEN:
            for stage in list(reached):
                if _order(stage) >= _order(Stage.SOLUTION):
                    del reached[stage]
            continue
        got = REACHED_BY.get((step, decision)) if step else None
        if got is not None:
            reached[got] = at
    at_step = _step(current_step)
    now_stage = (
        Stage.CLOSED
        if closed
        else STAGE_OF_STEP.get(at_step, Stage.RECEIVED)
        if at_step
        else Stage.RECEIVED
    )
    return [
        Milestone(stage, STAGE_LABELS[stage], reached.get(stage), stage is now_stage)
        for stage in Stage
        if stage in reached or stage is now_stage or _order(stage) > _order(now_stage)
    ]


def _step(name: str) -> Step | None:
    try:
        return Step(name)
    except ValueError:
        return None


def _order(stage: Stage) -> int:
    return list(Stage).index(stage)
