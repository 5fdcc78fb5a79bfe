"""What flow-run heartbeats cost a step: the bare flow with and without them, in one run.

The yardstick flow of benchmarks/throughput.py (keyed suspensions and nothing else) is
deployed twice on the same stack and work pool: once as it is, once with the product's
heartbeat (`PREFECT_FLOWS_HEARTBEAT_FREQUENCY`, as `complaints deploy` sets it). A desk
of operators resumes whatever waits, in alternating phases (without, with, without,
with), so both see the same machine. Measured per variant: steps per minute, resume →
next wait p50/p95, and the machine's busy CPU seconds per step (/proc/stat, everything on
the machine: the server, the worker, the flow-run processes, this driver).

    .venv/bin/python -m benchmarks.heartbeat_cost [--minutes 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks import common
from benchmarks.common import Bench, Timer, log
from benchmarks.throughput import Desk, Item, bare_desk, measure

NAME = "heartbeat_cost"


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / 100  # USER_HZ


def variant(heartbeat: bool) -> Any:
    """A desk over the bare flow deployed with or without the heartbeat."""
    from deployments.definitions import job_variables

    name = "bare-heartbeat" if heartbeat else "bare"

    def make(bench: Bench, args: argparse.Namespace) -> tuple[Desk, list[Item]]:
        return bare_desk(
            bench, args, name=name, job_variables=job_variables(30 if heartbeat else 0)
        )

    return make


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2, help="per phase")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--operators", type=int, default=8)
    parser.add_argument("--cases", type=int, default=24)
    args = parser.parse_args(argv)
    total = Timer()
    phases: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    with common.product_stack(NAME) as bench:
        common.wait_worker_polling(bench)
        common.wait_quiet(bench)
        for round_ in range(args.rounds):
            for label, heartbeat in (("without", False), ("with", True)):
                before = busy_seconds()
                measured = measure(bench, args, variant(heartbeat))
                measured["busy_cpu_seconds"] = round(busy_seconds() - before, 1)
                phases[label].append(measured)
                log(
                    f"round {round_ + 1} {label} heartbeats: {measured['steps_per_minute']} "
                    f"steps/min, p50 {measured['resume_to_next_wait_p50_seconds']} s"
                )
    result: dict[str, Any] = {"minutes_per_phase": args.minutes, "rounds": args.rounds}
    for label, runs in phases.items():
        steps = sum(r["steps"] for r in runs)
        result[label] = {
            "steps": steps,
            "steps_per_minute": round(steps / (args.minutes * len(runs)), 1),
            "resume_to_next_wait_p50_seconds": common.median(
                [r["resume_to_next_wait_p50_seconds"] for r in runs]
            ),
            "cpu_seconds_per_step": round(sum(r["busy_cpu_seconds"] for r in runs) / steps, 2),
            "errors": sum(r["errors"] for r in runs),
        }
    result["throughput_ratio_with_to_without"] = round(
        result["with"]["steps_per_minute"] / result["without"]["steps_per_minute"], 3
    )
    result["cpu_per_step_ratio_with_to_without"] = round(
        result["with"]["cpu_seconds_per_step"] / result["without"]["cpu_seconds_per_step"], 3
    )
    result["total_seconds"] = round(total.elapsed, 1)
    common.write_result(NAME, result)
    log(
        f"heartbeats: throughput ×{result['throughput_ratio_with_to_without']}, CPU per step "
        f"×{result['cpu_per_step_ratio_with_to_without']} "
        f"({result['without']['cpu_seconds_per_step']} → {result['with']['cpu_seconds_per_step']} s)"
    )
    return result


if __name__ == "__main__":
    main()
