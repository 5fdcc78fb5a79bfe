"""Demo cases at every step, so a newcomer sees the Prefect UI populated.

Generated complaints are submitted, then each is moved on by the same actions a person
would take (`complaints act`), one step further than the one before: the first stays at
verification, the last is closed. Idempotent: the demo complaints carry fixed channel
references, so running it again finds the same cases.
"""

from __future__ import annotations

import contextlib
import time

from complaints.cases import casework, intake
from complaints.cases.actions import ActionRefused, act
from complaints.settings import Settings
from complaints.timesource import utc_now
from embedded.synthetic import decisions_for, generate_complaints
from rules.enums import CaseStatus
from rules.human_steps import HUMAN_STEPS
from rules.steps import Step

DEMO_SEED = 2026


def populate(settings: Settings, seed: int = DEMO_SEED, timeout: float = 300) -> list[str]:
    now = utc_now()
    complaints = [c for c in generate_complaints(40, seed=seed, now=now) if not c.answered_on_spot][
        : len(HUMAN_STEPS) + 1
    ]
    cases = []
    for depth, complaint in enumerate(complaints):
        # Same content on every start (no times relative to now), so a restart finds the
        # cases it seeded before instead of clashing with them.
        complaint = complaint.model_copy(
            update={
                "external_ref": f"DEMO-{seed}-{depth:02d}",
                "occurred_at": None,
                "received_at": None,
            }
        )
        submission = intake.submit(complaint, settings, now)
        cases.append((submission.case_no, depth, decisions_for(complaint, seed=seed, now=now)))
    deadline = time.monotonic() + timeout
    pending = list(cases)
    while pending and time.monotonic() < deadline:
        still = []
        for case_no, depth, decisions in pending:
            if not advance(settings, case_no, depth, decisions):
                still.append((case_no, depth, decisions))
        pending = still
        time.sleep(1)
    return [case_no for case_no, _, _ in cases]


def advance(settings: Settings, case_no: str, depth: int, decisions: dict[str, dict]) -> bool:
    """Act on the case if it waits at a step before `depth`; True when it is where it belongs."""
    view = casework.load(settings, case_no)
    if view.status is CaseStatus.CLOSED:
        return True
    done_steps = {s.value for s in HUMAN_STEPS[:depth]}
    if view.current_step not in done_steps:
        return view.waiting_key is not None and view.current_step == _target(depth)
    with contextlib.suppress(ActionRefused):  # still moving to that step: next pass
        act(settings, case_no, view.current_step, decisions[view.current_step])
    return False


def _target(depth: int) -> str:
    return HUMAN_STEPS[depth].value if depth < len(HUMAN_STEPS) else Step.CLOSE.value
