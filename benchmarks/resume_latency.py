"""How long a case takes to move on after a person acts, at the 1st and the 8th step.

A resumed run starts the flow again from the top and replays the steps already decided
from the ledger (one read), so moving on after the 8th decision should cost about what
it costs after the 1st. K cases are walked through all eight human steps with the
synthetic decisions; for each `act()` the clock runs from its successful return (the run
is resumed) until the ledger shows the case waiting at the next step under a new key, or
closed after the callback. The cases are walked one after the other, each through all
its steps, so the 1st and 8th steps of every case see the same moment of machine noise.
The time until Prefect shows the run PAUSED again (when the next `act` is accepted) is
recorded too.

    .venv/bin/python -m benchmarks.resume_latency [--cases 5]
"""

from __future__ import annotations

import argparse
import time
from typing import Any
from uuid import UUID

from benchmarks.common import (
    HUMAN_STEPS,
    Bench,
    Ledger,
    Timer,
    by_role,
    complaints_for_verification,
    log,
    mb,
    percentile,
    product_stack,
    run_states,
    settled_snapshot,
    wait_quiet,
    wait_until,
    wait_worker_polling,
    write_result,
)

NAME = "resume_latency"
RATIO_GOAL = 1.3
POLL = 0.05  # seconds between ledger reads while timing
STEP_TIMEOUT = 180


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog=f"benchmarks.{NAME}", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    total = Timer()
    with product_stack(NAME) as bench:
        wait_worker_polling(bench)
        measurements, memory = walk(bench, args.cases, args.seed)
    result = summarise(measurements, args)
    result["stack_memory_around_the_walk"] = memory
    result["total_seconds"] = round(total.elapsed, 1)
    write_result(NAME, result)
    report(result)
    return result


def walk(bench: Bench, cases: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Walk the cases; also the stack's memory before and after all the resumed runs."""
    from complaints.cases import intake
    from complaints.timesource import utc_now
    from embedded.synthetic import decisions_for

    ledger = Ledger(bench.settings.database_url)
    complaints = complaints_for_verification(cases, seed, f"R{int(time.time())}")
    started = Timer()
    submitted = [(intake.submit(c, bench.settings, utc_now()), c) for c in complaints]
    for done, _ in submitted:
        if not done.flow_run_id:
            raise RuntimeError(f"{done.case_no} got no flow run: {done.start_error}")
    for done, _ in submitted:
        wait_paused(ledger, done.case_no, done.flow_run_id or "", "verify")
    log(f"{cases} cases waiting at verify after {started.elapsed:.0f}s")
    wait_quiet(bench)
    before = settled_snapshot(bench.roots)

    measurements = []
    for number, (done, complaint) in enumerate(submitted, 1):
        inputs = decisions_for(complaint, seed=seed, now=utc_now())
        for index, step in enumerate(HUMAN_STEPS):
            following = HUMAN_STEPS[index + 1] if index + 1 < len(HUMAN_STEPS) else None
            measurements.append(
                act_and_time(bench, ledger, done.case_no, index + 1, step, following, inputs)
            )
        log(f"case {number}/{cases} ({done.case_no}) closed")
    ledger.close()
    wait_quiet(bench)
    after = settled_snapshot(bench.roots)
    memory = {
        "runs_resumed": len(measurements),
        "before": {"rss_bytes": before.rss, "processes": before.count, **by_role(before)},
        "after": {"rss_bytes": after.rss, "processes": after.count, **by_role(after)},
    }
    return measurements, memory


def wait_paused(ledger: Ledger, case_no: str, run_id: str, step: str) -> str:
    """Until the case waits at `step` in the ledger and its run is PAUSED under that key."""

    def ready() -> str | None:
        row = ledger.rows([case_no])[case_no]
        key = row["waiting_key"]
        if row["current_step"] != step or not key:
            return None
        state, pause_key = run_states([run_id]).get(run_id, ("NONE", None))
        return key if state == "PAUSED" and pause_key == key else None

    return str(wait_until(ready, STEP_TIMEOUT, f"{case_no} to wait at {step}", 0.1))


def act_and_time(
    bench: Bench,
    ledger: Ledger,
    case_no: str,
    ordinal: int,
    step: str,
    following: str | None,
    inputs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    from complaints.cases.actions import act

    view_run = ledger_run_id(bench, case_no)
    wait_paused(ledger, case_no, view_run, step)  # so `act` is accepted at once
    call = Timer()
    acted = act(bench.settings, case_no, step, inputs[step])
    act_seconds = call.elapsed
    resumed = time.perf_counter()  # the run is resumed: the clock starts here

    def moved_on() -> bool:
        row = ledger.rows([case_no])[case_no]
        if following is None:
            return bool(row["closed"])
        return bool(
            row["current_step"] == following
            and row["waiting_key"]
            and row["waiting_key"] != acted.key
        )

    wait_until(moved_on, STEP_TIMEOUT, f"{case_no} to move on from {step}", POLL)
    ledger_seconds = time.perf_counter() - resumed

    target = "COMPLETED" if following is None else "PAUSED"
    with get_client(sync_client=True) as client:

        def settled() -> bool:
            state = client.read_flow_run(UUID(view_run)).state
            return state is not None and state.type.value == target

        wait_until(settled, STEP_TIMEOUT, f"{case_no}'s run to be {target}", 0.1)
    prefect_seconds = time.perf_counter() - resumed
    return {
        "case_no": case_no,
        "ordinal": ordinal,
        "step": step,
        "next": following or "closed",
        "act_seconds": round(act_seconds, 3),
        "seconds_to_next_wait_in_ledger": round(ledger_seconds, 3),
        "seconds_to_run_paused_or_completed": round(prefect_seconds, 3),
    }


def ledger_run_id(bench: Bench, case_no: str) -> str:
    from complaints.cases import casework

    run_id = casework.load(bench.settings, case_no).flow_run_id
    if run_id is None:
        raise RuntimeError(f"{case_no} has no flow run")
    return run_id


def summarise(measurements: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    per_step: dict[str, dict[str, Any]] = {}
    for step in HUMAN_STEPS:
        rows = [m for m in measurements if m["step"] == step]
        ledger = [m["seconds_to_next_wait_in_ledger"] for m in rows]
        prefect = [m["seconds_to_run_paused_or_completed"] for m in rows]
        acts = [m["act_seconds"] for m in rows]
        per_step[step] = {
            "ordinal": HUMAN_STEPS.index(step) + 1,
            "next": rows[0]["next"] if rows else None,
            "p50_seconds": round(percentile(ledger, 50), 3),
            "min_seconds": round(min(ledger), 3) if ledger else None,
            "max_seconds": round(max(ledger), 3) if ledger else None,
            "p50_seconds_until_prefect_paused_or_completed": round(percentile(prefect, 50), 3),
            "p50_act_seconds": round(percentile(acts, 50), 3),
        }
    first, seventh, eighth = (
        per_step[s]["p50_seconds"] for s in ("verify", "feedback", "callback")
    )
    ratio = eighth / first
    return {
        "cases": args.cases,
        "seed": args.seed,
        "first_step": "verify",
        "eighth_step": "callback",
        "p50_first_seconds": first,
        "p50_eighth_seconds": eighth,
        "ratio_eighth_to_first": round(ratio, 3),
        "ratio_goal": RATIO_GOAL,
        "ratio_goal_met": ratio <= RATIO_GOAL,
        "ratio_seventh_to_first": round(seventh / first, 3),
        "per_step": per_step,
        "measurements": measurements,
    }


def report(r: dict[str, Any]) -> None:
    ok = "met" if r["ratio_goal_met"] else "NOT met"
    print(f"\n{NAME}: {r['cases']} cases walked through the 8 human steps (1 process worker)")
    print("  from act() (run resumed) until the ledger shows the case waiting at the next step:")
    for step, row in r["per_step"].items():
        print(
            f"    {row['ordinal']}. {step:<14} -> {row['next']:<13} p50 {row['p50_seconds']:5.2f}s"
            f"  (min {row['min_seconds']:.2f}, max {row['max_seconds']:.2f}; Prefect "
            f"{'COMPLETED' if row['next'] == 'closed' else 'PAUSED'} p50 "
            f"{row['p50_seconds_until_prefect_paused_or_completed']:.2f}s)"
        )
    print(
        f"  1st step (verify) p50 {r['p50_first_seconds']:.2f}s, 8th step (callback, until "
        f"closed) p50 {r['p50_eighth_seconds']:.2f}s: ratio 8th/1st "
        f"{r['ratio_eighth_to_first']:.2f} (goal <= {RATIO_GOAL}: {ok}); "
        f"7th/1st {r['ratio_seventh_to_first']:.2f}"
    )
    memory = r["stack_memory_around_the_walk"]
    before, after = memory["before"], memory["after"]
    print(
        f"  stack RSS around the walk ({memory['runs_resumed']} resumed runs, no case left "
        f"waiting): {mb(before['rss_bytes'])} -> {mb(after['rss_bytes'])} (server "
        f"{mb(before.get('server'))} -> {mb(after.get('server'))}, worker "
        f"{mb(before.get('worker'))} -> {mb(after.get('worker'))})"
    )


if __name__ == "__main__":
    main()
