"""Human steps handled per minute, sustained, against a flow that only waits for people.

A desk of operators works through waiting cases as fast as the stack lets them: each
operator takes a case that waits for a person (the ledger shows the step and its key,
Prefect shows the run PAUSED under that key, so `act` is accepted at once), acts with
the synthetic decision for that step (`complaints.cases.actions.act`, what the CLI and the
UI form do), and takes the next waiting case. A case that closes is replaced by a new
complaint, so the number of cases in play stays the same. Counted: steps acted on and
moved on (the case waits at its next step, or closed) inside the measured minutes, and
for each, the seconds from the act until it waits again.

The yardstick is `bare-steps` (benchmarks/bare_flow.py) on the same stack, worker type
and cap: eight keyed suspensions and nothing else, resumed by the same number of
operators with `resume_flow_run`. Goal: product ≥ 0.8 × bare steps per minute.

    .venv/bin/python -m benchmarks.throughput [--minutes 10] [--operators 8] [--cases 24]
    COMPLAINTS_WORKER_TYPE=process .venv/bin/python -m benchmarks.throughput --name throughput-process
    .venv/bin/python -m benchmarks.throughput --postgres postgresql://postgres@127.0.0.1/test --workers 2
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from benchmarks import common
from benchmarks.common import Bench, Ledger, Timer, log

NAME = "throughput"
GOAL_RATIO = 0.8
POLL = 0.2


@dataclass
class Item:
    """One case (or bare run) in play."""

    key: str  # case number, or the bare run's id
    run_id: str
    waiting: str | None = None  # the pause key it waits under, once ready
    step: str | None = None
    acted_at: float | None = None
    acted_key: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    path: str = "happy"
    acted: dict[str, int] = field(default_factory=dict)  # times acted on, by step
    closed: bool = False


@dataclass
class Tally:
    started: float = 0.0
    ends: float = 0.0
    done: list[tuple[float, float]] = field(default_factory=list)  # (finished at, seconds)
    errors: list[str] = field(default_factory=list)
    replaced: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def counted(self) -> list[float]:
        return [s for at, s in self.done if self.started <= at - s and at <= self.ends]


class Desk:
    """Operators working through whatever waits; a watcher sees who waits again."""

    def __init__(
        self,
        operators: int,
        ready: Callable[[list[Item]], list[tuple[Item, str | None, str | None]]],
        act: Callable[[Item], None],
        replace: Callable[[Item], Item | None],
    ) -> None:
        self.operators, self._ready, self._act, self._replace = operators, ready, act, replace
        self.queue: queue.Queue[Item] = queue.Queue()
        self.items: list[Item] = []
        self.tally = Tally()
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def run(
        self, items: list[Item], minutes: float, until: Callable[[], bool] | None = None
    ) -> Tally:
        """Work for `minutes`, or until `until()` says the work is done."""
        self.items = list(items)
        self.tally.started = time.perf_counter()
        self.tally.ends = self.tally.started + minutes * 60
        threads = [threading.Thread(target=self._watch, daemon=True)]
        threads += [
            threading.Thread(target=self._operate, daemon=True) for _ in range(self.operators)
        ]
        for thread in threads:
            thread.start()
        while time.perf_counter() < self.tally.ends and not (until and until()):
            time.sleep(1)
        self.tally.ends = min(self.tally.ends, time.perf_counter())
        self._stop.set()
        for thread in threads:
            thread.join(timeout=120)
        return self.tally

    def _watch(self) -> None:
        pending: list[Item] = []
        while not self._stop.is_set():
            with self._lock:
                watched = [i for i in self.items if i.waiting is None and not i.closed]
            for item, waiting, step in self._ready(watched):
                now = time.perf_counter()
                if item.acted_at is not None:
                    with self.tally.lock:
                        self.tally.done.append((now, now - item.acted_at))
                if waiting is None:  # closed: a new complaint takes its place
                    item.closed = True
                    pending.append(item)
                    continue
                item.waiting, item.step, item.acted_at = waiting, step, None
                self.queue.put(item)
            for item in list(pending):
                fresh = self._replace(item)
                if fresh is not None:
                    with self._lock:
                        self.items[self.items.index(item)] = fresh
                    pending.remove(item)
                    self.tally.replaced += 1
            time.sleep(POLL)

    def _operate(self) -> None:
        while not self._stop.is_set():
            try:
                item = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            item.acted_key, item.waiting, item.acted_at = item.waiting, None, time.perf_counter()
            try:
                self._act(item)
            except Exception as exc:  # a person would see this: count it
                with self.tally.lock:
                    self.tally.errors.append(f"{item.key}: {exc}"[:300])


# -- the product ---------------------------------------------------------------------------
def cases_ready(ledger: Ledger, items: list[Item]) -> list[tuple[Item, str | None, str | None]]:
    """Cases that closed (None, None), or wait for a person under a key not yet acted on
    — the ledger shows the key and Prefect the run PAUSED under it — with (key, step)."""
    if not items:
        return []
    rows = ledger.rows([i.key for i in items])
    states = common.run_states([i.run_id for i in items])
    found: list[tuple[Item, str | None, str | None]] = []
    for item in items:
        row = rows.get(item.key)
        if row is None:
            continue
        if row["closed"]:
            found.append((item, None, None))
            continue
        key = row["waiting_key"]
        state, pause_key = states.get(item.run_id, ("NONE", None))
        if key and key != item.acted_key and state == "PAUSED" and pause_key == key:
            found.append((item, key, row["current_step"]))
    return found


def product_desk(bench: Bench, args: argparse.Namespace) -> tuple[Desk, list[Item]]:
    from complaints.cases import intake
    from complaints.cases.actions import act
    from complaints.timesource import utc_now
    from embedded.synthetic import decisions_for

    ledger = Ledger(bench.settings.database_url)
    counter = iter(range(10**9))
    tag = f"T{int(time.time())}"

    def submit(_: Any = None) -> Item:
        (complaint,) = common.complaints_for_verification(1, args.seed + next(counter), tag)
        complaint = complaint.model_copy(update={"external_ref": f"BENCH-{tag}-{next(counter)}"})
        done = intake.submit(complaint, bench.settings, utc_now())
        if not done.flow_run_id:
            raise RuntimeError(f"{done.case_no} got no flow run: {done.start_error}")
        inputs = decisions_for(complaint, seed=args.seed, now=utc_now())
        return Item(done.case_no, done.flow_run_id, inputs=inputs)

    def ready(items: list[Item]) -> list[tuple[Item, str | None, str | None]]:
        return cases_ready(ledger, items)

    def operate(item: Item) -> None:
        act(bench.settings, item.key, item.step or "", item.inputs[item.step or ""])

    def replace(_: Item) -> Item | None:
        return submit()

    log(f"submitting {args.cases} complaints")
    with ThreadPoolExecutor(8) as pool:
        items = list(pool.map(submit, range(args.cases)))
    return Desk(args.operators, ready, operate, replace), items


# -- the yardstick ---------------------------------------------------------------------------
def bare_desk(
    bench: Bench,
    args: argparse.Namespace,
    name: str = "bare",
    job_variables: dict[str, Any] | None = None,
) -> tuple[Desk, list[Item]]:
    """The bare flow's desk; `name` and `job_variables` deploy it under another name and
    with other job variables (benchmarks.heartbeat_cost)."""
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    common.deploy_benchmark_flow("benchmarks/bare_flow.py:bare_steps", name, job_variables)

    def start(_: Any = None) -> Item:
        run = run_deployment(f"bare-steps/{name}", timeout=0, as_subflow=False)
        return Item(str(run.id), str(run.id))

    def ready(items: list[Item]) -> list[tuple[Item, str | None, str | None]]:
        if not items:
            return []
        states = common.run_states([i.run_id for i in items])
        found: list[tuple[Item, str | None, str | None]] = []
        for item in items:
            state, key = states.get(item.run_id, ("NONE", None))
            if state == "COMPLETED":
                found.append((item, None, None))
            elif state == "PAUSED" and key and key != item.acted_key:
                found.append((item, key, key))
        return found

    def operate(item: Item) -> None:
        from uuid import UUID

        resume_flow_run(UUID(item.run_id), run_input={"note": "ok"})

    def replace(_: Item) -> Item | None:
        return start()

    log(f"starting {args.cases} bare runs")
    items = [start() for _ in range(args.cases)]
    return Desk(args.operators, ready, operate, replace), items


def measure(
    bench: Bench, args: argparse.Namespace, make: Callable[..., tuple[Desk, list[Item]]]
) -> dict[str, Any]:
    desk, items = make(bench, args)
    warm = Timer()
    # Everyone in play waits before the clock starts: the desk starts with a full queue.
    while True:
        waiting = desk._ready(items)
        if len(waiting) == len(items):
            break
        if warm.elapsed > 900:
            raise TimeoutError(f"only {len(waiting)}/{len(items)} waiting after 15 min")
        time.sleep(1)
    log(f"{len(items)} waiting after {warm.elapsed:.0f}s; the desk works {args.minutes} min")
    before = common.snapshot(bench.roots, pss=False)
    peak_rss = [before.rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(2):
            peak_rss.append(common.snapshot(bench.roots, pss=False).rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tally = desk.run(items, args.minutes)
    stop.set()
    sampler.join()
    seconds = tally.counted()
    steps_per_minute = len(seconds) / args.minutes
    return {
        "steps": len(seconds),
        "steps_per_minute": round(steps_per_minute, 1),
        "resume_to_next_wait_p50_seconds": round(common.percentile(seconds, 50), 2),
        "resume_to_next_wait_p95_seconds": round(common.percentile(seconds, 95), 2),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
        "replaced_when_closed": tally.replaced,
        "stack_rss_start_bytes": before.rss,
        "stack_rss_peak_bytes": max(peak_rss),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--operators", type=int, default=8)
    parser.add_argument("--cases", type=int, default=24, help="cases (and bare runs) in play")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", help="admin URL: Prefect server and ledger on PostgreSQL")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--name", help="result file name (default: throughput[-pg])")
    args = parser.parse_args(argv)
    name = args.name or (f"{NAME}-pg" if args.postgres else NAME)
    total = Timer()
    result: dict[str, Any] = {
        "minutes": args.minutes,
        "operators": args.operators,
        "cases_in_play": args.cases,
        "workers": args.workers,
        "topology": "postgresql" if args.postgres else "sqlite",
    }
    with common.product_stack(name, workers=args.workers, postgres=args.postgres) as bench:
        result["worker_type"] = bench.stack.worker_type
        result["worker_limit"] = bench.stack.worker_limit
        common.wait_worker_polling(bench)
        common.wait_quiet(bench)
        log("bare flow first")
        result["bare"] = measure(bench, args, bare_desk)
        log(f"bare: {result['bare']['steps_per_minute']} steps/min")
        result["product"] = measure(bench, args, product_desk)
        log(f"product: {result['product']['steps_per_minute']} steps/min")
    ratio = result["product"]["steps_per_minute"] / max(result["bare"]["steps_per_minute"], 1e-9)
    result["ratio_product_to_bare"] = round(ratio, 2)
    result["goal_ratio"] = GOAL_RATIO
    result["goal_met"] = ratio >= GOAL_RATIO
    result["total_seconds"] = round(total.elapsed, 1)
    common.write_result(name, result)
    report(result)
    return result


def report(r: dict[str, Any]) -> None:
    print(
        f"\n{NAME}: {r['operators']} operators, {r['cases_in_play']} cases in play, "
        f"{r['minutes']} min each, {r['workers']} {r['worker_type']} worker(s) × cap "
        f"{r['worker_limit']} on {r['topology']}"
    )
    for part in ("bare", "product"):
        m = r[part]
        print(
            f"  {part:<8} {m['steps_per_minute']:6.1f} steps/min ({m['steps']} steps), "
            f"resume → next wait p50 {m['resume_to_next_wait_p50_seconds']:.2f}s "
            f"p95 {m['resume_to_next_wait_p95_seconds']:.2f}s, errors {m['errors']}, "
            f"RSS {common.mb(m['stack_rss_start_bytes'])} → peak {common.mb(m['stack_rss_peak_bytes'])}"
        )
    ok = "met" if r["goal_met"] else "NOT met"
    print(f"  product / bare = {r['ratio_product_to_bare']:.2f} (goal ≥ {GOAL_RATIO}: {ok})")


if __name__ == "__main__":
    main()
