"""A flow that only waits for people: the yardstick of `throughput`.

Eight keyed suspensions with a one-field form, nothing else: no ledger, no task, no
message. Resumed, it starts again from the top like a case run; the suspensions already
answered return their input at once (Prefect refuses a pause key twice), so each resume
replays the earlier waits just as a case replays its earlier decisions.
"""

from __future__ import annotations

from prefect import flow
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput

STEPS = 8


class Answer(RunInput):
    note: str = ""


def pause_key(step: int) -> str:
    return f"bare-{step}"


@flow(name="bare-steps")
def bare_steps(steps: int = STEPS) -> None:
    for step in range(steps):
        suspend_flow_run(wait_for_input=Answer, key=pause_key(step), timeout=None)
