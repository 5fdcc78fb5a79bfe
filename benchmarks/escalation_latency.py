"""Deadline → Slack latency with 500 open cases, and what the pending timers cost.

A real stack (Prefect server, one process worker, the `sla-watch` deployment on its
schedule, the product's default watch interval) and a local server speaking the Slack
Web API to the real slack_sdk client. 500 cases wait at verification with a 4-minute
response limit and receipts spread over a minute, so their warnings (80 %) and deadlines
fall over about two minutes each. Measured:

- latency from each rung's moment (warning, deadline) to the message arriving in Slack,
  p50/p95/max (goal p95 ≤ 30 s), and duplicates (goal none);
- processes and RSS of the stack's process trees with the 500 timers pending versus
  with none (goal: no process and no memory per case);
- the cost of one watch pass that finds nothing due, with 500 timers pending versus none
  (the "no per-case cost" of polling an index).

    .venv/bin/python -m benchmarks.escalation_latency [--cases 500] [--limit-seconds 240]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import timedelta
from typing import Any

from benchmarks import common
from benchmarks.common import Timer, log

NAME = "escalation_latency"
GOAL_P95_SECONDS = 30


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.arguments(NAME, __doc__, cases=500, seed=2026)
    parser.add_argument("--limit-seconds", type=int, default=240)
    parser.add_argument("--spread-seconds", type=int, default=60)
    args = parser.parse_args(argv)

    from complaints.cases import supervision
    from tests.integration.slack_server import slack_server

    total = Timer()
    with slack_server() as slack:
        env = {
            "COMPLAINTS_SLA__RESPONSE__GENERAL": f"{args.limit_seconds}s",
            "COMPLAINTS_SLA__LADDER__WARNING_AT": "0.8",
            "COMPLAINTS_SLA__LADDER__LEVEL2_AFTER": "1h",  # only W and L1 inside the run
            "COMPLAINTS_SLA__LADDER__LEVEL3_AFTER": "2h",
            "COMPLAINTS_PATTERNS__CLUSTER_SIZE": str(args.cases * 10),  # no cluster alerts
            "COMPLAINTS_PATTERNS__REPEAT_WITHIN_DAYS": "0.00001",  # nor repeat alerts
            "COMPLAINTS_SLACK__TOKEN": slack.token,
            "COMPLAINTS_SLACK__BASE_URL": slack.base_url,
        }
        with common.product_stack(NAME, extra_env=env) as bench:
            common.wait_worker_polling(bench)
            pause_reconcile()
            first_watch = Timer()
            common.wait_until(
                supervision.watch_running, timeout=180, what="a running sla-watch run"
            )
            first_watch_seconds = first_watch.elapsed
            log(f"first sla-watch run running after {first_watch_seconds:.0f}s")
            idle = common.settled_snapshot(bench.roots)
            idle_pass = pass_seconds(bench.settings)
            log(
                f"no timers: {idle.count} processes, {common.mb(idle.rss)} RSS, pass {idle_pass * 1e3:.1f} ms"
            )

            moments = create_cases(bench.settings, args)
            pending = common.settled_snapshot(bench.roots)
            pending_pass = pass_seconds(bench.settings)
            log(
                f"{args.cases} timers pending: {pending.count} processes, {common.mb(pending.rss)} RSS, "
                f"pass {pending_pass * 1e3:.1f} ms"
            )
            expected = 2 * args.cases
            last = max(at for pair in moments.values() for at in pair.values())
            common.wait_until(
                lambda: len(slack.messages) >= expected,
                timeout=(last - now_ts()) + 300,
                what=f"{expected} Slack messages",
                interval=1,
            )
            time.sleep(10)  # duplicates, if any, arrive now
            messages = list(slack.messages)

    result = summarise(args, moments, messages, idle, pending, idle_pass, pending_pass)
    result["seconds_to_first_watch_run"] = round(first_watch_seconds, 1)
    result["total_seconds"] = round(total.elapsed, 1)
    common.write_result(NAME, result)
    report(result)
    return result


def pause_reconcile() -> None:
    """The cases here are written straight to the ledger, with no run: reconcile-cases
    would start 500 case runs mid-measurement. Real cases have their run from intake."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("reconcile-cases/reconcile-cases")
        client.pause_deployment(deployment.id)


def now_ts() -> float:
    return time.time()


def pass_seconds(settings: Any, repeats: int = 50) -> float:
    """Median time of one steady watch pass (as the sla-watch run makes) finding nothing due."""
    from complaints.deadlines import watch
    from complaints.timesource import utc_now

    watcher = watch.Watcher(settings)
    watcher.watch_once(utc_now())  # the first pass of a run also looks for clusters
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fired = watcher.watch_once(utc_now())
        times.append(time.perf_counter() - started)
        if fired.keys:
            raise RuntimeError(f"a pass meant to find nothing fired {fired.keys}")
    return common.percentile(times, 50)


def create_cases(settings: Any, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Register the cases waiting at verification; returns each one's W and L1 moments."""
    from complaints.cases import casework
    from complaints.timesource import utc_now
    from rules.enums import Severity
    from rules.steps import Step, wait_key

    rng = random.Random(args.seed)
    complaints = common.complaints_for_verification(args.cases, args.seed, f"E{int(time.time())}")
    moments: dict[str, dict[str, float]] = {}
    made = Timer()
    start = utc_now()
    for complaint in complaints:
        received = start - timedelta(seconds=rng.uniform(0, args.spread_seconds))
        one = complaint.model_copy(update={"received_at": received, "severity": Severity.GENERAL})
        case_no = casework.register(one, settings, utc_now()).case_no
        casework.open_step(settings, case_no, Step.VERIFY, wait_key(Step.VERIFY, 0), utc_now())
        base = received.timestamp()
        moments[case_no] = {
            "W": base + 0.8 * args.limit_seconds,
            "L1": base + args.limit_seconds,
        }
    log(f"registered {args.cases} waiting cases in {made.elapsed:.1f}s")
    return moments


def summarise(
    args: argparse.Namespace,
    moments: dict[str, dict[str, float]],
    messages: list[Any],
    idle: Any,
    pending: Any,
    idle_pass: float,
    pending_pass: float,
) -> dict[str, Any]:
    from complaints.settings import DEFAULT_CHANNELS

    level_of = {channel: level for level, channel in DEFAULT_CHANNELS.items()}
    latencies: dict[str, list[float]] = {"W": [], "L1": []}
    seen: dict[tuple[str, str], int] = {}
    unmatched = 0
    for message in messages:
        text = json.dumps(message.blocks, ensure_ascii=False)
        level = level_of.get(message.channel)
        case_no = next((c for c in moments if c in text), None)
        if level not in latencies or case_no is None:
            unmatched += 1
            continue
        seen[(case_no, level)] = seen.get((case_no, level), 0) + 1
        latencies[level].append(message.received - moments[case_no][level])
    everything = latencies["W"] + latencies["L1"]
    duplicates = sum(n - 1 for n in seen.values())
    missing = 2 * args.cases - len(seen)
    p95 = common.percentile(everything, 95) if everything else None
    return {
        "cases": args.cases,
        "limit_seconds": args.limit_seconds,
        "messages": len(messages),
        "missing": missing,
        "duplicates": duplicates,
        "unmatched": unmatched,
        "early": sum(1 for v in everything if v < -1),
        **{
            f"{level.lower()}_{name}_seconds": round(value, 1)
            for level, values in latencies.items()
            if values
            for name, value in (
                ("p50", common.percentile(values, 50)),
                ("p95", common.percentile(values, 95)),
                ("max", max(values)),
            )
        },
        "p50_seconds": round(common.percentile(everything, 50), 1) if everything else None,
        "p95_seconds": round(p95, 1) if p95 is not None else None,
        "p95_goal_met": p95 is not None and p95 <= GOAL_P95_SECONDS and missing == 0,
        "processes_idle": idle.count,
        "processes_pending": pending.count,
        "extra_processes": pending.count - idle.count,
        "rss_idle_mb": round(idle.rss / 2**20),
        "rss_pending_mb": round(pending.rss / 2**20),
        "rss_ratio_pending_to_idle": round(pending.rss / idle.rss, 3),
        "pass_ms_no_timers": round(idle_pass * 1e3, 2),
        "pass_ms_500_pending": round(pending_pass * 1e3, 2),
        "pass_ratio": round(pending_pass / idle_pass, 2),
    }


def report(result: dict[str, Any]) -> None:
    log(
        f"{result['messages']} messages for {result['cases']} cases: "
        f"missing {result['missing']}, duplicates {result['duplicates']}"
    )
    log(
        f"deadline → Slack p50 {result['p50_seconds']} s, p95 {result['p95_seconds']} s "
        f"(goal ≤ {GOAL_P95_SECONDS} s: {'met' if result['p95_goal_met'] else 'NOT met'})"
    )
    log(
        f"pending timers: {result['extra_processes']} extra processes, RSS ×"
        f"{result['rss_ratio_pending_to_idle']}; a pass finding nothing ×{result['pass_ratio']}"
    )


if __name__ == "__main__":
    main()
