"""How fast intake creates cases, against the bare Prefect call it is built on.

`intake.submit` writes the complaint to the ledger, creates the case's flow run
(`run_deployment` with an idempotency key, name and tags) and records the run in the
ledger. The yardstick is a bare `run_deployment` of an empty flow deployed on the same
work pool. The worker is stopped first, so only run creation is measured, never
execution. The kinds of call alternate in batches (bare, product, lifecycle, bare, ...)
so all see the same noise of this shared machine. The third kind, for reference only,
is the same `run_deployment` intake makes (the lifecycle deployment, a case number as
parameter) without the ledger: it separates what the ledger costs from what the bigger
deployment costs Prefect.

Both rates are reported over all calls. The ratio judged against the goal is the median
over the batch pairs: the Prefect server's SQLite now and then stalls one call for
seconds, and the overall rates swing with whichever kind that call happened to be.

    .venv/bin/python -m benchmarks.intake_rate [--calls 100] [--batch 20]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from benchmarks.common import (
    LIFECYCLE,
    Bench,
    Timer,
    complaints_for_verification,
    deploy_benchmark_flow,
    flow_processes,
    log,
    median,
    percentile,
    product_stack,
    write_result,
)

NAME = "intake_rate"
EMPTY = "empty/empty"
RATIO_GOAL = 0.8
WARM_UP = 3


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog=f"benchmarks.{NAME}", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="calls of each kind")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)

    total = Timer()
    with product_stack(NAME) as bench:
        bench.stack.kill_workers()  # nothing executes: only run creation is measured
        if flow_processes(bench):
            raise RuntimeError("a worker process survived kill_workers")
        deploy_empty()
        result = measure(bench, args.calls, args.batch, args.seed)
    result["total_seconds"] = round(total.elapsed, 1)
    write_result(NAME, result)
    report(result)
    return result


def deploy_empty() -> None:
    deploy_benchmark_flow("benchmarks/empty_flow.py:empty", "empty")


def measure(bench: Bench, calls: int, batch: int, seed: int) -> dict[str, Any]:
    from prefect.deployments import run_deployment

    from complaints.cases import intake
    from complaints.timesource import utc_now

    complaints = iter(complaints_for_verification(calls + WARM_UP, seed, f"I{int(time.time())}"))

    def bare() -> None:
        run = run_deployment(EMPTY, timeout=0, as_subflow=False)
        assert run is not None

    def product() -> None:
        done = intake.submit(next(complaints), bench.settings, utc_now())
        if not done.flow_run_id:
            raise RuntimeError(f"{done.case_no} got no flow run: {done.start_error}")

    numbers = iter(range(10**9))

    def lifecycle() -> None:
        # the Prefect call intake makes, without the ledger: a run of the lifecycle
        # deployment (never executed: no worker) for a case number that does not exist
        run = run_deployment(
            LIFECYCLE,
            parameters={"case_no": f"BENCH-NONE-{next(numbers)}"},
            timeout=0,
            as_subflow=False,
        )
        assert run is not None

    kinds = {"bare": bare, "product": product, "lifecycle": lifecycle}
    for _ in range(WARM_UP):  # first calls load modules and open connections
        for call in kinds.values():
            call()

    batches: dict[str, list[float]] = {kind: [] for kind in kinds}
    per_call: dict[str, list[float]] = {kind: [] for kind in kinds}
    slow: list[dict[str, Any]] = []  # calls over a second: the server's SQLite stalls
    remaining = dict.fromkeys(kinds, calls)
    while any(remaining.values()):
        for kind, call in kinds.items():
            size = min(batch, remaining[kind])
            if not size:
                continue
            started = time.perf_counter()
            for index in range(size):
                one = time.perf_counter()
                call()
                seconds = time.perf_counter() - one
                per_call[kind].append(seconds)
                if seconds > 1:
                    where = {"batch": len(batches[kind]), "call": index}
                    slow.append({"kind": kind, **where, "seconds": round(seconds, 3)})
            batches[kind].append(time.perf_counter() - started)
            remaining[kind] -= size
        log(f"{calls - remaining['bare']}/{calls} calls of each kind")

    rates = {kind: calls / sum(times) for kind, times in batches.items()}
    pair_ratios = [b / p for b, p in zip(batches["bare"], batches["product"], strict=True)]
    lifecycle_ratios = [
        c / p for c, p in zip(batches["lifecycle"], batches["product"], strict=True)
    ]
    overall = rates["product"] / rates["bare"]
    ratio = median(pair_ratios)  # robust: one stalled call can swing the overall figure
    p50 = {kind: percentile(times, 50) for kind, times in per_call.items()}
    typical = {kind: batch / median(times) for kind, times in batches.items()}
    return {
        "calls_per_kind": calls,
        "batch": batch,
        "warm_up_calls_per_kind": WARM_UP,
        "bare_calls_per_second": round(rates["bare"], 2),
        "product_calls_per_second": round(rates["product"], 2),
        "overall_ratio_product_to_bare": round(overall, 3),
        "bare_calls_per_second_median_batch": round(typical["bare"], 2),
        "product_calls_per_second_median_batch": round(typical["product"], 2),
        "ratio_product_to_bare": round(ratio, 3),
        "ratio_definition": "median over the interleaved batch pairs of product rate / bare rate",
        "ratio_goal": RATIO_GOAL,
        "ratio_goal_met": ratio >= RATIO_GOAL,
        "ratio_of_p50_call_rates": round(p50["bare"] / p50["product"], 3),
        "batch_ratios": [round(r, 3) for r in pair_ratios],
        "lifecycle_calls_per_second": round(rates["lifecycle"], 2),
        "ratio_product_to_lifecycle": round(median(lifecycle_ratios), 3),
        "lifecycle_batch_ratios": [round(r, 3) for r in lifecycle_ratios],
        "calls_over_one_second": slow,
        "batch_seconds": {k: [round(t, 3) for t in v] for k, v in batches.items()},
        "per_call_ms": {
            kind: {
                "p50": round(percentile(times, 50) * 1000, 1),
                "p90": round(percentile(times, 90) * 1000, 1),
                "max": round(max(times) * 1000, 1),
            }
            for kind, times in per_call.items()
        },
    }


def report(r: dict[str, Any]) -> None:
    ok = "met" if r["ratio_goal_met"] else "NOT met"
    call = r["per_call_ms"]
    print(f"\n{NAME}: run creation only (worker stopped), {r['calls_per_kind']} calls of each")
    print(
        f"  bare run_deployment({EMPTY!r}): {r['bare_calls_per_second']:.1f} calls/s overall, "
        f"{r['bare_calls_per_second_median_batch']:.1f} in the median batch "
        f"(per call p50 {call['bare']['p50']:.0f} ms, max {call['bare']['max']:.0f} ms)"
    )
    print(
        f"  intake.submit (ledger + run + ledger): {r['product_calls_per_second']:.1f} calls/s "
        f"overall, {r['product_calls_per_second_median_batch']:.1f} in the median batch "
        f"(per call p50 {call['product']['p50']:.0f} ms, max {call['product']['max']:.0f} ms)"
    )
    print(
        f"  ratio product/bare: {r['ratio_product_to_bare']:.2f} (median of the "
        f"{len(r['batch_ratios'])} batch pairs, {min(r['batch_ratios']):.2f}.."
        f"{max(r['batch_ratios']):.2f}; goal >= {RATIO_GOAL}: {ok}); overall "
        f"{r['overall_ratio_product_to_bare']:.2f}; from the p50 calls "
        f"{r['ratio_of_p50_call_rates']:.2f}"
    )
    print(
        f"  for reference, bare run_deployment({LIFECYCLE!r}) (the call intake makes, no "
        f"ledger): {r['lifecycle_calls_per_second']:.1f} calls/s overall (per call p50 "
        f"{call['lifecycle']['p50']:.0f} ms); product/that: "
        f"{r['ratio_product_to_lifecycle']:.2f} (median of the batch triples)"
    )
    for stall in r["calls_over_one_second"]:
        print(
            f"  stalled call: {stall['kind']} batch {stall['batch'] + 1} call "
            f"{stall['call'] + 1}: {stall['seconds']:.1f}s"
        )


if __name__ == "__main__":
    main()
