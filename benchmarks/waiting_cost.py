"""What 200 cases waiting for a person cost: processes and memory of the whole stack.

Each case suspends its flow run at every human step (`suspend_flow_run`): the run's
process exits and nothing is kept running for it. This measures that claim on a real
stack (server + one process worker): the RSS and the process count of the stack's
process trees when idle, and again once 200 complaints are all suspended at
verification (ledger: waiting at `verify`; Prefect: the run PAUSED).

Submissions are paced so at most --in-flight (4) cases are between intake and their first
wait at any moment: the process worker starts a process for every scheduled run it
finds, and 200 at once would need ~20 GB on this shared machine and bury its SQLite
databases in lock waits. Pacing changes when the runs start, not what they cost.

    .venv/bin/python -m benchmarks.waiting_cost [--cases 200] [--in-flight 4] [--warm 10]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from benchmarks import common
from benchmarks.common import Bench, Ledger, Timer, TreeSnapshot, log

NAME = "waiting_cost"
SETTLE_SECONDS = 10
BLOCKING_MB_PER_CASE = 96  # the note's figure for a blocking pause (process kept), not measured
RSS_GOAL = 1.10


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.arguments(NAME, __doc__, cases=200, seed=2024)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for all to wait")
    parser.add_argument(
        "--warm", type=int, default=10, help="also measure once this many cases wait (0: no)"
    )
    args = parser.parse_args(argv)

    total = Timer()
    with common.product_stack(NAME) as bench:
        common.wait_worker_polling(bench)
        time.sleep(SETTLE_SECONDS)
        common.wait_quiet(bench)
        idle = common.settled_snapshot(bench.roots)
        log(f"idle: {idle.count} processes, {common.mb(idle.rss)} RSS")

        wave = fill(bench, args.cases, args.in_flight, args.seed, args.timeout, args.warm)

        time.sleep(SETTLE_SECONDS)
        quiet_wait = common.wait_quiet(bench)
        waiting = common.settled_snapshot(bench.roots)
        run_ids = wave.pop("run_ids")
        still_paused = sum(1 for t, _ in common.run_states(run_ids).values() if t == "PAUSED")
        log(f"waiting: {waiting.count} processes, {common.mb(waiting.rss)} RSS")
        wave["server_log"] = common.log_counts(bench)

    result = summarise(args, idle, waiting, wave, still_paused, quiet_wait)
    result["total_seconds"] = round(total.elapsed, 1)
    common.write_result(NAME, result)
    report(result)
    return result


def fill(
    bench: Bench, cases: int, in_flight: int, seed: int, timeout: float, warm: int
) -> dict[str, Any]:
    """Submit `cases` complaints and return once all are suspended at verification.

    Submissions stop once at `warm` cases until those wait and the worker is idle, for a
    second baseline: the first runs warm the server and the worker up (imports, caches,
    connection pools) once, which is not a cost of each waiting case.
    """
    from complaints.cases import intake
    from complaints.timesource import utc_now

    complaints = common.complaints_for_verification(cases, seed, f"W{int(time.time())}")
    ledger = Ledger(bench.settings.database_url)
    submitted: list[str] = []
    run_ids: list[str] = []
    submit_seconds: list[float] = []
    peak: TreeSnapshot | None = None
    peak_count = 0
    ready: dict[str, str] = {}  # case number -> its waiting key
    warm_snapshot: TreeSnapshot | None = None
    paused_for_checkpoint = 0.0
    warm = warm if 0 < warm < cases else 0
    crashed: dict[str, float] = {}  # run id -> when it was first seen Crashed
    health: dict[str, Any] = {"crashed_runs": []}
    wave = Timer()
    last_report = last_check = 0.0
    deadline = time.monotonic() + timeout
    while True:
        rows = ledger.rows(submitted) if submitted else {}
        ready = {
            case_no: row["waiting_key"]
            for case_no, row in rows.items()
            if row["current_step"] == "verify" and row["waiting_key"]
        }
        if warm and warm_snapshot is None and len(ready) == warm:
            checkpoint = Timer()
            common.wait_quiet(bench)
            warm_snapshot = common.settled_snapshot(bench.roots)
            paused_for_checkpoint = checkpoint.elapsed
            log(
                f"{warm} waiting: {warm_snapshot.count} processes, {common.mb(warm_snapshot.rss)} RSS"
            )
        limit = warm if warm and warm_snapshot is None else cases
        while len(submitted) < limit and len(submitted) - len(ready) < max(in_flight, 1):
            one = Timer()
            done = intake.submit(complaints[len(submitted)], bench.settings, utc_now())
            submit_seconds.append(one.elapsed)
            if not done.flow_run_id:
                raise RuntimeError(f"{done.case_no} got no flow run: {done.start_error}")
            submitted.append(done.case_no)
            run_ids.append(done.flow_run_id)
        now = common.snapshot(bench.roots, pss=False)
        peak_count = max(peak_count, now.count)
        if peak is None or now.rss > peak.rss:
            peak = now
        if len(ready) == cases:
            break
        if wave.elapsed - last_report >= 30:
            last_report = wave.elapsed
            log(f"{len(ready)}/{cases} waiting, {len(submitted)} submitted, {now.count} processes")
        if wave.elapsed - last_check >= 10:
            last_check = wave.elapsed
            check_runs(run_ids, crashed, health)
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(ready)}/{cases} waiting after {timeout:.0f}s")
        time.sleep(1)
    ledger_seconds = wave.elapsed - paused_for_checkpoint
    ledger.close()

    def all_paused() -> bool:
        states = common.run_states(run_ids)
        return sum(1 for t, _ in states.values() if t == "PAUSED") == cases

    common.wait_until(all_paused, 300, "every run to be PAUSED in Prefect", interval=1)
    paused_seconds = wave.elapsed - paused_for_checkpoint
    log(f"{cases} waiting after {paused_seconds:.0f}s (not counting the warm checkpoint)")
    assert peak is not None
    return {
        "run_ids": run_ids,
        "seconds_to_all_waiting_in_ledger": round(ledger_seconds, 1),
        "seconds_to_all_paused_in_prefect": round(paused_seconds, 1),
        "seconds_paused_at_warm_checkpoint": round(paused_for_checkpoint, 1),
        "submit_seconds_p50": round(common.percentile(submit_seconds, 50), 3),
        "submit_seconds_max": round(max(submit_seconds), 3),
        "submits_over_one_second": sum(1 for t in submit_seconds if t > 1),
        "peak_processes": peak_count,
        "peak_rss_bytes": peak.rss,
        "warm_cases": warm,
        "warm": warm_snapshot.summary() if warm_snapshot else None,
        **health,
    }


CRASH_RECOVERY_SECONDS = 420  # the product's reconcile flow runs every 5 minutes


def check_runs(run_ids: list[str], crashed: dict[str, float], health: dict[str, Any]) -> None:
    """Stop on a failed run; note crashed ones and give the product time to restart them.

    A run the worker could not start (say the server answered 503 while its SQLite was
    locked) is reported Crashed; the scheduled reconcile flow reschedules such runs.
    """
    states = common.run_states(run_ids)
    failed = [run for run, (kind, _) in states.items() if kind == "FAILED"]
    if failed:
        raise RuntimeError(f"{len(failed)} runs failed, e.g. {failed[0]}")
    for run, (kind, _) in states.items():
        if kind == "CRASHED" and run not in crashed:
            crashed[run] = time.monotonic()
            health["crashed_runs"].append(run)
            log(f"run {run} crashed; waiting for the reconcile flow to restart it")
        if kind == "CRASHED" and time.monotonic() - crashed[run] > CRASH_RECOVERY_SECONDS:
            raise RuntimeError(f"run {run} still crashed after {CRASH_RECOVERY_SECONDS}s")


def summarise(
    args: argparse.Namespace,
    idle: TreeSnapshot,
    waiting: TreeSnapshot,
    wave: dict[str, Any],
    still_paused: int,
    quiet_wait: float,
) -> dict[str, Any]:
    ratio = waiting.rss / idle.rss
    pss_ratio = waiting.pss / idle.pss if idle.pss and waiting.pss else None
    blocking = args.cases * BLOCKING_MB_PER_CASE
    warm = wave.get("warm")
    after_warm: dict[str, Any] = {}
    if warm:
        after_warm = {
            "rss_ratio_to_warm": round(waiting.rss / warm["rss_bytes"], 3),
            "rss_per_case_after_warm_bytes": round(
                (waiting.rss - warm["rss_bytes"]) / (args.cases - wave["warm_cases"])
            ),
        }
    return {
        "cases": args.cases,
        "in_flight_limit": args.in_flight,
        "seed": args.seed,
        "idle": idle.summary(),
        "waiting": waiting.summary(),
        "rss_ratio": round(ratio, 3),
        "rss_goal": RSS_GOAL,
        "rss_goal_met": ratio <= RSS_GOAL,
        "rss_added_per_waiting_case_bytes": round((waiting.rss - idle.rss) / args.cases),
        **after_warm,
        "rss_by_role": {
            "idle": common.by_role(idle),
            "warm": common.by_role_summary(warm) if warm else None,
            "waiting": common.by_role(waiting),
        },
        "pss_ratio": round(pss_ratio, 3) if pss_ratio else None,
        "extra_python_processes": waiting.python_count - idle.python_count,
        "process_goal_met": waiting.python_count <= idle.python_count,
        "runs_paused_at_measurement": still_paused,
        "seconds_waited_for_idle_workers": round(quiet_wait, 1),
        **wave,
        "blocking_pause_note": {
            "source": "the project's note (not measured here)",
            "mb_per_case": BLOCKING_MB_PER_CASE,
            "cases": args.cases,
            "total_mb": blocking,
        },
    }


def report(r: dict[str, Any]) -> None:
    idle, waiting, n = r["idle"], r["waiting"], r["cases"]
    ok = {True: "met", False: "NOT met"}
    print(f"\n{NAME}: {n} cases suspended at verification (server + 1 process worker)")
    print(
        f"  processes in the stack tree: {idle['processes']} idle -> {waiting['processes']} "
        f"with {n} waiting (Python: {idle['python_processes']} -> "
        f"{waiting['python_processes']}); goal no extra Python process: "
        f"{ok[r['process_goal_met']]}"
    )
    print(
        f"  RSS of the stack tree: {common.mb(idle['rss_bytes'])} idle -> {common.mb(waiting['rss_bytes'])} "
        f"with {n} waiting; ratio {r['rss_ratio']:.3f} (goal <= {RSS_GOAL}: "
        f"{ok[r['rss_goal_met']]}); {r['rss_added_per_waiting_case_bytes'] / 1024:.0f} KB "
        f"per waiting case"
    )
    roles = r["rss_by_role"]
    print(
        "  by process: "
        + "; ".join(
            f"{name} {common.mb(roles['idle'].get(name))} -> {common.mb(roles['waiting'].get(name))}"
            for name in sorted(set(roles["idle"]) | set(roles["waiting"]))
        )
    )
    if r.get("warm"):
        print(
            f"  after the first {r['warm_cases']} cases (one-time warm-up of server and worker):"
            f" {common.mb(r['warm']['rss_bytes'])}; from {r['warm_cases']} to {n} waiting: ratio "
            f"{r['rss_ratio_to_warm']:.3f}, {r['rss_per_case_after_warm_bytes'] / 1024:.0f} KB "
            f"per further case"
        )
    if r["pss_ratio"]:
        print(
            f"  PSS (shared pages split): {common.mb(idle['pss_bytes'])} -> "
            f"{common.mb(waiting['pss_bytes'])}, ratio {r['pss_ratio']:.3f}"
        )
    print(
        f"  time to get {n} waiting: {r['seconds_to_all_waiting_in_ledger']:.0f}s in the "
        f"ledger, {r['seconds_to_all_paused_in_prefect']:.0f}s until all PAUSED in Prefect "
        f"({r['seconds_to_all_paused_in_prefect'] / n:.2f}s per case; at most "
        f"{r['in_flight_limit']} in flight; peak {r['peak_processes']} processes, "
        f"{common.mb(r['peak_rss_bytes'])} RSS while starting)"
    )
    print(
        f"  submit(): p50 {r['submit_seconds_p50'] * 1000:.0f} ms, max "
        f"{r['submit_seconds_max'] * 1000:.0f} ms, {r['submits_over_one_second']} over 1 s, "
        f"while runs were starting"
    )
    locks = r["server_log"]
    print(
        f"  health: {len(r['crashed_runs'])} run(s) reported Crashed by the worker; "
        f"server log: {locks['database_is_locked']} 'database is locked' errors, "
        f"worker log: {locks['worker_saw_503']} HTTP 503"
    )
    note = r["blocking_pause_note"]
    print(
        f"  for context, the note's figure (not measured): a blocking pause keeps one "
        f"process per case, {note['cases']} x {note['mb_per_case']} MB = "
        f"{note['total_mb']:,} MB (~{note['total_mb'] / 1024:.1f} GB) on top of the stack"
    )


if __name__ == "__main__":
    main()
