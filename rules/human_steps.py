"""The steps that wait for a person, declared once each.

A human step is its place in the process chart (flows/case.py), its input model (what the
person decides, and what that means for the case: rules.inputs), its default time limit,
its example file and the roles that may take it (rules.staff). Everything else — the
command line's `act`, the UI's form, the SLA policy's defaults, the audit trail's words,
who may act, the demo — reads this table. To add a step: add its `Step` and label
(rules.steps), its input model, a row here, its example, and its `wait_for` in the flow.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules import inputs
from rules.enums import Role
from rules.steps import Step


@dataclass(frozen=True)
class HumanStep:
    step: Step
    model: type[inputs.StepInput]
    limit: str | None  # the default SLA limit; None: set by severity or by the plan
    example: str  # in examples/
    roles: frozenset[Role]  # who may take it, once a staff directory is in force


RECEIVER, HANDLER = Role.RECEIVER, Role.HANDLER

HUMAN = (
    # due by the response promised for the complaint's severity (SlaPolicy.response)
    HumanStep(Step.VERIFY, inputs.VerifyInput, None, "verify.json", frozenset({RECEIVER, HANDLER})),
    HumanStep(Step.GRADE, inputs.GradeInput, "8h", "grade.json", frozenset({HANDLER})),
    HumanStep(
        Step.APPROVE_GRADE,
        inputs.ApprovalInput,
        "8h",
        "approve.json",
        frozenset({Role.DEPARTMENT_DIRECTOR}),
    ),
    HumanStep(Step.PLAN, inputs.PlanInput, "24h", "plan.json", frozenset({HANDLER})),
    HumanStep(
        Step.APPROVE_PLAN,
        inputs.ApprovalInput,
        "8h",
        "approve.json",
        frozenset({Role.OPERATIONS_DIRECTOR}),
    ),
    # due by the approved plan's deadline (or a recorded delay's)
    HumanStep(Step.EXECUTE, inputs.ProgressInput, None, "done.json", frozenset({HANDLER})),
    HumanStep(
        Step.FEEDBACK, inputs.FeedbackInput, "24h", "feedback.json", frozenset({HANDLER, RECEIVER})
    ),
    HumanStep(
        Step.CALLBACK,
        inputs.SurveyInput,
        "48h",
        "callback.json",
        frozenset({Role.CALLBACK, RECEIVER}),
    ),
)
"""In chart order."""

HUMAN_STEPS: tuple[Step, ...] = tuple(h.step for h in HUMAN)
STEP_INPUTS: dict[Step, type[inputs.StepInput]] = {h.step: h.model for h in HUMAN}
DEFAULT_LIMITS: dict[Step, str] = {h.step: h.limit for h in HUMAN if h.limit is not None}
