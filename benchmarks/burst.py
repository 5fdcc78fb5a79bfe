"""A burst of complaints, then a storm of resumes, as a complaint desk meets them.

1. Baseline: one complaint on the idle stack; how long from submitting it until its run
   waits at verification (t1).
2. Burst: N complaints submitted at once by S concurrent submitters (`intake.submit`,
   what the CLI and scripts call), unpaced. Recorded: each submit's latency; errors the
   callers saw (an exception, or a complaint registered without a run, left for
   reconcile); seconds until every case waits at verification (ledger and Prefect agree);
   runs seen Crashed; peak processes and RSS of the whole stack.
   Goal: 0 errors, 0 crashed, 0 left; all waiting within 1.5 × N × t1 ÷ slots, where
   slots = the worker cap × workers, less the one the deadline watch holds.
3. Resume storm: every one of the N waiting cases resumed at once through the REST call
   the UI's Resume form makes (POST /api/flow_runs/{id}/resume), without any retry.
   Goal: N/N accepted, all waiting at grading, the same bounds.

    .venv/bin/python -m benchmarks.burst [--cases 200] [--submitters 20]
    .venv/bin/python -m benchmarks.burst --postgres postgresql://postgres@127.0.0.1/test --workers 2
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks import common
from benchmarks.common import Bench, Ledger, Timer, log
from tests.sampler import Sampler

NAME = "burst"
GOAL_FACTOR = 1.5


class Peak(Sampler):
    """Peak process count and RSS of the stack's trees, sampled in the background."""

    def __init__(self, bench: Bench, every: float = 0.5) -> None:
        super().__init__(every)
        self.bench = bench
        self.processes = 0
        self.rss = 0
        self.flow_processes = 0

    def sample(self) -> None:
        tree = common.snapshot(self.bench.roots, pss=False)
        self.processes = max(self.processes, tree.count)
        self.rss = max(self.rss, tree.rss)
        self.flow_processes = max(self.flow_processes, tree.flow_runs)

    def summary(self) -> dict[str, Any]:
        return {
            "peak_processes": self.processes,
            "peak_flow_run_processes": self.flow_processes,
            "peak_rss_bytes": self.rss,
        }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog=f"benchmarks.{NAME}", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--submitters", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", help="admin URL: Prefect server and ledger on PostgreSQL")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=1800, help="longest wait of a phase")
    parser.add_argument("--no-storm", action="store_true", help="the burst only")
    parser.add_argument("--name", default=None, help="result file name (default: burst[-pg])")
    args = parser.parse_args(argv)
    name = args.name or (NAME + ("-postgres" if args.postgres else ""))

    total = Timer()
    with common.product_stack(name, workers=args.workers, postgres=args.postgres) as bench:
        common.wait_worker_polling(bench)
        common.wait_quiet(bench)
        # The deadline watch holds one slot while it runs (about 55 s of each minute).
        slots = bench.stack.worker_limit * args.workers - 1
        idle = common.snapshot(bench.roots, pss=False)
        one = baseline(bench, args)
        log(f"one case alone: submitted → waiting in {one:.2f}s; {slots} slots")
        burst_result = burst(bench, args, one, slots)
        cases = burst_result.pop("cases")
        storm_result = {} if args.no_storm else storm(bench, args, cases, one, slots)
        burst_result["server_log"] = common.log_counts(bench)
    result = {
        "topology": {
            "server_database": "postgresql" if args.postgres else "sqlite",
            "ledger": "postgresql" if args.postgres else "sqlite",
            "workers": args.workers,
            "worker_limit": bench.stack.worker_limit,
            "slots": slots,
        },
        "cases": args.cases,
        "submitters": args.submitters,
        "idle_processes": idle.count,
        "idle_rss_bytes": idle.rss,
        "one_case_seconds": round(one, 2),
        "burst": burst_result,
        "resume_storm": storm_result,
        "total_seconds": round(total.elapsed, 1),
    }
    common.write_result(name, result)
    report(result)
    return result


def fresh(complaints: list[Any]) -> list[Any]:
    """Received now, so no deadline passes during the benchmark."""
    from complaints.timesource import utc_now

    return [c.model_copy(update={"received_at": utc_now()}) for c in complaints]


def waiting_at(bench: Bench, ledger: Ledger, step: str, cases: dict[str, str]) -> set[str]:
    """Cases (number → run id) waiting at `step` in the ledger and suspended there."""
    rows = ledger.rows(cases)
    keyed = {
        case_no: row["waiting_key"]
        for case_no, row in rows.items()
        if row["current_step"] == step and row["waiting_key"]
    }
    states = common.run_states(cases[c] for c in keyed)
    return {c for c, key in keyed.items() if states.get(cases[c]) == ("PAUSED", key)}


def follow(
    bench: Bench,
    ledger: Ledger,
    step: str,
    cases: dict[str, str],
    expected: int,
    timeout: float,
    clock: Timer,
    crashed: set[str],
) -> set[str]:
    """Poll until `expected` cases wait at `step` (or `timeout`); runs seen Crashed are
    added to `crashed`. Returns the cases waiting there."""
    ready: set[str] = set()
    deadline = time.monotonic() + timeout
    last = 0.0
    while len(ready) < expected and time.monotonic() < deadline:
        ready = waiting_at(bench, ledger, step, cases)
        crashed |= {r for r, (t, _) in common.run_states(cases.values()).items() if t == "CRASHED"}
        if time.monotonic() - last > 15:
            log(f"{len(ready)}/{expected} waiting at {step} after {clock.elapsed:.0f}s")
            last = time.monotonic()
        time.sleep(1)
    return ready


def baseline(bench: Bench, args: argparse.Namespace) -> float:
    from complaints.cases import intake
    from complaints.timesource import utc_now

    (complaint,) = fresh(
        common.complaints_for_verification(1, args.seed + 1, f"B1{int(time.time())}")
    )
    ledger = Ledger(bench.settings.database_url)
    clock = Timer()
    done = intake.submit(complaint, bench.settings, utc_now())
    assert done.flow_run_id, done.start_error
    cases = {done.case_no: done.flow_run_id}
    while not waiting_at(bench, ledger, "verify", cases):
        time.sleep(0.1)
    seconds = clock.elapsed
    ledger.close()
    return seconds


def burst(bench: Bench, args: argparse.Namespace, one: float, slots: int) -> dict[str, Any]:
    from complaints.cases import intake
    from complaints.timesource import utc_now

    complaints = fresh(
        common.complaints_for_verification(args.cases, args.seed, f"B{int(time.time())}")
    )
    ledger = Ledger(bench.settings.database_url)
    latencies: list[float] = []
    errors: list[str] = []

    def submit(complaint: Any) -> tuple[str, str | None]:
        clock = Timer()
        try:
            done = intake.submit(complaint, bench.settings, utc_now())
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return "", None
        latencies.append(clock.elapsed)
        if not done.flow_run_id:
            errors.append(f"{done.case_no} left for reconcile: {done.start_error}")
        return done.case_no, done.flow_run_id

    crashed: set[str] = set()
    with Peak(bench) as peak:
        clock = Timer()
        with ThreadPoolExecutor(args.submitters) as pool:
            submitted = list(pool.map(submit, complaints))
        submit_seconds = clock.elapsed
        log(f"{len(submitted)} submitted in {submit_seconds:.1f}s, {len(errors)} error(s)")
        cases = {case_no: run for case_no, run in submitted if case_no and run}
        ready = follow(bench, ledger, "verify", cases, len(cases), args.timeout, clock, crashed)
        all_waiting = clock.elapsed
    ledger.close()
    goal = GOAL_FACTOR * args.cases * one / slots
    log(f"all {len(ready)} waiting after {all_waiting:.0f}s (goal ≤ {goal:.0f}s)")
    return {
        "cases": cases,
        "submit_p50_seconds": round(common.percentile(latencies, 50), 3),
        "submit_p95_seconds": round(common.percentile(latencies, 95), 3),
        "submit_max_seconds": round(max(latencies, default=float("nan")), 3),
        "submit_all_seconds": round(submit_seconds, 1),
        "errors_seen_by_callers": len(errors),
        "error_samples": errors[:5],
        "left_for_reconcile": sum(1 for _, run in submitted if not run),
        "runs_crashed": len(crashed),
        "waiting": len(ready),
        "seconds_until_all_waiting": round(all_waiting, 1),
        "goal_seconds": round(goal, 1),
        "goal_met": len(ready) == args.cases and all_waiting <= goal and not errors and not crashed,
        **peak.summary(),
    }


def storm(
    bench: Bench, args: argparse.Namespace, cases: dict[str, str], one: float, slots: int
) -> dict[str, Any]:
    """Resume every waiting case at once with the UI's REST call, no retries."""
    import httpx

    url = bench.stack.api_url
    verify = {"actor": "客服-王芳", "substantiated": True, "findings": "核实属实"}
    refusals: list[str] = []
    latencies: list[float] = []
    barrier = threading.Barrier(len(cases))

    def resume(run_id: str) -> bool:
        with httpx.Client(timeout=120) as client:  # a browser: no retries of its own
            barrier.wait()
            clock = Timer()
            try:
                response = client.post(
                    f"{url}/flow_runs/{run_id}/resume", json={"run_input": verify}
                )
            except httpx.HTTPError as exc:
                refusals.append(f"{type(exc).__name__}: {exc}")
                return False
            latencies.append(clock.elapsed)
        if response.status_code not in (200, 201) or response.json().get("status") != "ACCEPT":
            refusals.append(f"{response.status_code} {response.text[:160]}")
            return False
        return True

    ledger = Ledger(bench.settings.database_url)
    crashed: set[str] = set()
    with Peak(bench) as peak:
        clock = Timer()
        with ThreadPoolExecutor(len(cases)) as pool:
            accepted = sum(pool.map(resume, cases.values()))
        log(f"{accepted}/{len(cases)} resumes accepted in {clock.elapsed:.1f}s")
        ready = follow(bench, ledger, "grade", cases, accepted, args.timeout, clock, crashed)
        all_waiting = clock.elapsed
    ledger.close()
    goal = GOAL_FACTOR * len(cases) * one / slots
    log(f"all {len(ready)} waiting at grading after {all_waiting:.0f}s (goal ≤ {goal:.0f}s)")
    return {
        "resumed": len(cases),
        "accepted": accepted,
        "refusal_samples": refusals[:5],
        "resume_p50_seconds": round(common.percentile(latencies, 50), 3),
        "resume_max_seconds": round(max(latencies, default=float("nan")), 3),
        "runs_crashed": len(crashed),
        "waiting_at_next_step": len(ready),
        "seconds_until_all_waiting": round(all_waiting, 1),
        "goal_seconds": round(goal, 1),
        "goal_met": accepted == len(cases) == len(ready) and all_waiting <= goal and not crashed,
        **peak.summary(),
    }


def report(result: dict[str, Any]) -> None:
    b, s = result["burst"], result["resume_storm"]
    print(f"\n{NAME}: {result['cases']} complaints, {result['topology']}")
    print(f"  one case alone: {result['one_case_seconds']}s to its first wait")
    print(
        f"  burst: submit p50 {b['submit_p50_seconds']}s p95 {b['submit_p95_seconds']}s "
        f"max {b['submit_max_seconds']}s; errors {b['errors_seen_by_callers']}, "
        f"left {b['left_for_reconcile']}, crashed {b['runs_crashed']}; all waiting after "
        f"{b['seconds_until_all_waiting']}s (goal ≤ {b['goal_seconds']}s); peak "
        f"{b['peak_processes']} processes ({b['peak_flow_run_processes']} flow runs), "
        f"{common.mb(b['peak_rss_bytes'])}"
    )
    if s:
        print(
            f"  storm: {s['accepted']}/{s['resumed']} accepted (p50 {s['resume_p50_seconds']}s, "
            f"max {s['resume_max_seconds']}s); crashed {s['runs_crashed']}; all at the next wait "
            f"after {s['seconds_until_all_waiting']}s (goal ≤ {s['goal_seconds']}s); peak "
            f"{s['peak_processes']} processes, {common.mb(s['peak_rss_bytes'])}"
        )
    print(f"  server/worker logs: {b['server_log']}")


if __name__ == "__main__":
    main()
