"""Run every benchmark in order, each in its own Python process with its own stack.

    .venv/bin/python -m benchmarks.run_all [--only waiting_cost,resume_latency]

A separate process per benchmark keeps Prefect's settings and clients, the ledger's
engines and the environment of one from leaking into the next. Results are in
benchmarks/results/<name>.json; a summary of all of them in benchmarks/results/run_all.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks.common import PROJECT_ROOT, RESULTS_DIR, source_state, write_result

BENCHMARKS = (
    "waiting_cost",
    "intake_rate",
    "resume_latency",
    "escalation_latency",
    "analysis_speed",
    "synthetic_stream",
    "burst",
    "throughput",
)

HEADLINES: dict[str, tuple[str, ...]] = {
    "synthetic_stream": ("count", "seconds", "goal_met", "first_goal_met"),
    "waiting_cost": (
        "cases",
        "rss_ratio",
        "rss_goal_met",
        "rss_ratio_to_warm",
        "extra_python_processes",
        "process_goal_met",
        "seconds_to_all_paused_in_prefect",
    ),
    "intake_rate": (
        "bare_calls_per_second",
        "product_calls_per_second",
        "ratio_product_to_bare",
        "overall_ratio_product_to_bare",
        "ratio_product_to_lifecycle",
        "ratio_goal_met",
    ),
    "resume_latency": (
        "p50_first_seconds",
        "p50_eighth_seconds",
        "ratio_eighth_to_first",
        "ratio_goal_met",
    ),
    "escalation_latency": (
        "cases",
        "p50_seconds",
        "p95_seconds",
        "p95_goal_met",
        "missing",
        "duplicates",
        "extra_processes",
        "rss_ratio_pending_to_idle",
        "pass_ratio",
    ),
    "burst": ("cases", "one_case_seconds", "burst", "resume_storm"),
    "throughput": ("worker_type", "bare", "product", "ratio_product_to_bare", "goal_met"),
    "analysis_speed": (
        "cases",
        "product_seconds",
        "bare_seconds",
        "ratio_product_to_bare",
        "seconds_goal_met",
        "ratio_goal_met",
        "peak_ratio_big_to_small",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.run_all", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated names, in the given order")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    source = source_state()
    changed = source["changed_outside_benchmarks"]
    print(
        f"measuring commit {str(source['commit'])[:10]}"
        + (f" with {len(changed)} changed file(s): {', '.join(changed)}" if changed else "")
    )
    started = time.monotonic()
    outcomes: dict[str, dict[str, object]] = {}
    for name in names:
        print(f"=== {name} ===", flush=True)
        began = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"benchmarks.{name}"], cwd=PROJECT_ROOT)
        outcome: dict[str, object] = {
            "exit_code": code,
            "seconds": round(time.monotonic() - began, 1),
        }
        path = RESULTS_DIR / f"{name}.json"
        if code == 0 and path.exists():
            result = json.loads(path.read_text())
            outcome.update({key: result.get(key) for key in HEADLINES[name]})
        outcomes[name] = outcome
        print(flush=True)

    total = time.monotonic() - started
    write_result("run_all", {"total_seconds": round(total, 1), "benchmarks": outcomes})
    print(f"=== all done in {total / 60:.1f} min ===")
    for name, outcome in outcomes.items():
        status = "ok" if outcome["exit_code"] == 0 else f"FAILED (exit {outcome['exit_code']})"
        print(f"  {name:<15} {status:<8} {outcome['seconds']:>6.0f}s")
    return 0 if all(o["exit_code"] == 0 for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
