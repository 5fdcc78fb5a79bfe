"""What every benchmark shares: a private stack, process-tree memory, the ledger, results.

The stack is started exactly like the end-to-end tests start theirs (tests/flows/conftest.py):
a Prefect server and process worker(s) as child processes on a free port, a fresh SQLite
ledger, the work pool and the product's deployments. Everything lives in a temporary
directory of its own, so a benchmark never touches another stack running on the machine.

Memory is read from /proc (no psutil): the RSS of every process in the stack's trees,
found by walking parent ids from the server and worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from embedded.stack import Stack, local_product
from rules.human_steps import HUMAN_STEPS as STEPS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
WORK_POOL = "complaints"
LIFECYCLE = "case-lifecycle/case-lifecycle"
HUMAN_STEPS = tuple(step.value for step in STEPS)


# -- the stack ---------------------------------------------------------------------------
@dataclass
class Bench:
    stack: Stack
    root: Path
    settings: Any  # complaints.settings.Settings

    @property
    def roots(self) -> list[int]:
        """The processes the stack started itself: the server and the workers."""
        pids = [self.stack.server.pid] if self.stack.server is not None else []
        return pids + [worker.pid for worker in self.stack.workers]


@contextmanager
def product_stack(
    name: str,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    postgres: str | None = None,
) -> Iterator[Bench]:
    """Server + `workers` process workers + deployments on a fresh ledger, torn down after.

    The temporary directory is removed afterwards unless the benchmark failed or
    BENCH_KEEP=1 is set; its logs (server.log, worker-*.log) are then kept for a look.
    Given `postgres` (an admin URL), the server and the ledger are on PostgreSQL.
    """
    root = Path(tempfile.mkdtemp(prefix=f"complaints-bench-{name}-"))
    from complaints.settings import get_settings

    failed = False
    started = time.monotonic()
    try:
        with local_product(root, workers=workers, extra_env=extra_env, postgres=postgres) as stack:
            log(f"stack up on port {stack.port} in {time.monotonic() - started:.0f}s ({root})")
            yield Bench(stack, root, get_settings())
    except BaseException:
        failed = True
        raise
    finally:
        if failed or os.environ.get("BENCH_KEEP") == "1":
            log(f"kept {root} (logs of the server and workers)")
        else:
            shutil.rmtree(root, ignore_errors=True)


def deploy_benchmark_flow(
    entrypoint: str, name: str, job_variables: dict[str, Any] | None = None
) -> None:
    """Deploy a flow of benchmarks/ on the product's work pool, as the product's are (their
    job variables unless others are given)."""
    from typing import cast

    from prefect import Flow

    from complaints.settings import get_settings
    from deployments.definitions import job_variables as product_job_variables

    flow = cast(Flow[..., Any], Flow.from_source(source=str(PROJECT_ROOT), entrypoint=entrypoint))
    flow.deploy(
        name=name,
        work_pool_name=WORK_POOL,
        job_variables=(
            product_job_variables(get_settings().heartbeat_seconds)
            if job_variables is None
            else job_variables
        ),
        build=False,
        push=False,
        ignore_warnings=True,
        print_next_steps=False,
    )


def wait_worker_polling(bench: Bench, timeout: float = 120) -> None:
    """Until the worker has registered with its pool (it polls from then on)."""
    from prefect.client.orchestration import get_client

    def registered() -> bool:
        with get_client(sync_client=True) as client:
            return bool(client.read_workers_for_work_pool(WORK_POOL))

    wait_until(registered, timeout, "the worker to register with its pool", interval=1)


# -- processes and memory (/proc) --------------------------------------------------------
@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    rss: int  # bytes
    pss: int | None  # bytes: shared pages divided among their users
    python: bool
    command: str


@dataclass(frozen=True)
class TreeSnapshot:
    at: float
    procs: tuple[Proc, ...]

    @property
    def count(self) -> int:
        return len(self.procs)

    @property
    def python_count(self) -> int:
        return sum(p.python for p in self.procs)

    @property
    def rss(self) -> int:
        return sum(p.rss for p in self.procs)

    @property
    def flow_runs(self) -> int:
        """Flow-run processes (stock or forked: embedded.stack.is_flow_run)."""
        from embedded.stack import is_flow_run

        commands = {p.pid: p.command for p in self.procs}
        return sum(is_flow_run(p.command, commands.get(p.ppid, "")) for p in self.procs)

    @property
    def pss(self) -> int | None:
        values = [p.pss for p in self.procs]
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    def summary(self) -> dict[str, Any]:
        return {
            "processes": self.count,
            "python_processes": self.python_count,
            "rss_bytes": self.rss,
            "pss_bytes": self.pss,
            "members": [asdict(p) for p in self.procs],
        }


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc/<pid>/stat."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = _read(f"/proc/{entry.name}/stat")
        if not stat:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces or parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(roots: Iterable[int]) -> list[int]:
    """The roots and all their descendants that are alive now."""
    parents = _parents()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    stack = [pid for pid in roots if pid in parents]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return sorted(found)


def _kb_field(text: str | None, name: str) -> int | None:
    for line in (text or "").splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return None


def proc_info(pid: int, pss: bool = True) -> Proc | None:
    status = _read(f"/proc/{pid}/status")
    if status is None:
        return None
    ppid = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("PPid:")), 0)
    rss = _kb_field(status, "VmRSS") or 0  # kernel threads and zombies have none
    shared = _kb_field(_read(f"/proc/{pid}/smaps_rollup"), "Pss") if pss else None
    raw = _read(f"/proc/{pid}/cmdline") or ""
    argv = [a for a in raw.split("\0") if a]
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        exe = ""
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))
    return Proc(pid, ppid, rss, shared, exe.startswith("python"), command[:160])


def snapshot(roots: Iterable[int], pss: bool = True) -> TreeSnapshot:
    """The processes of the trees now; `pss=False` skips smaps_rollup (cheaper, for polling)."""
    procs = [p for pid in descendants(roots) if (p := proc_info(pid, pss)) is not None]
    return TreeSnapshot(time.time(), tuple(procs))


def settled_snapshot(roots: list[int], samples: int = 5, interval: float = 1.0) -> TreeSnapshot:
    """The sample with the median RSS of a few taken `interval` apart (noise of one read)."""
    taken = []
    for index in range(samples):
        if index:
            time.sleep(interval)
        taken.append(snapshot(roots))
    return sorted(taken, key=lambda s: s.rss)[len(taken) // 2]


def role(command: str) -> str:
    """Which part of the stack a process is, from its command line."""
    if " server start" in command or "complaints.orchestration.server" in command:
        return "server"
    if " worker start" in command:
        return "worker"
    return "other"


def by_role(tree: TreeSnapshot) -> dict[str, int]:
    return by_role_summary(tree.summary())


def by_role_summary(summary: dict[str, Any]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for member in summary["members"]:
        name = role(member["command"])
        roles[name] = roles.get(name, 0) + member["rss"]
    return roles


# -- the ledger, read without disturbing the product -------------------------------------
class Ledger:
    """Read-only view of the ledger for polling.

    The product's unit of work opens every SQLite transaction with BEGIN IMMEDIATE (the
    write lock); polling through it ten times a second would queue the flows' writes
    behind the benchmark. A plain engine reads the WAL database without any lock.
    """

    def __init__(self, database_url: str) -> None:
        import sqlalchemy as sa

        self._sa = sa
        sqlite = database_url.startswith("sqlite")
        self._engine = sa.create_engine(
            database_url, connect_args={"timeout": 30} if sqlite else {}
        )

    def rows(self, case_nos: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        from models.ledger import Case

        sa = self._sa
        query = sa.select(Case.case_no, Case.current_step, Case.waiting_key, Case.status)
        if case_nos is not None:
            query = query.where(Case.case_no.in_(list(case_nos)))
        with self._engine.connect() as connection:
            return {
                row.case_no: {
                    "current_step": row.current_step,
                    "waiting_key": row.waiting_key,
                    "closed": row.status.code == "closed",
                }
                for row in connection.execute(query)
            }

    def close(self) -> None:
        self._engine.dispose()


def run_states(run_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """flow run id -> (state type, pause key) as Prefect has them now."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    ids = [UUID(r) for r in run_ids]
    states: dict[str, tuple[str, str | None]] = {}
    with get_client(sync_client=True) as client:
        for start in range(0, len(ids), 200):
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids[start : start + 200])),
                limit=200,
            )
            for run in runs:
                state = run.state
                states[str(run.id)] = (
                    state.type.value if state else "NONE",
                    state.state_details.pause_key if state else None,
                )
    return states


def flow_processes(bench: Bench) -> list[int]:
    """Processes the workers are running flow runs in right now (their descendants)."""
    from embedded.stack import flow_run_pids

    return [pid for worker in bench.stack.workers for pid in flow_run_pids(worker.pid)]


def wait_quiet(bench: Bench, timeout: float = 180) -> float:
    """Until no flow run executes (say the reconcile schedule's); returns the seconds waited."""
    started = time.monotonic()
    wait_until(lambda: not flow_processes(bench), timeout, "the workers to be idle", 0.5)
    return time.monotonic() - started


# -- complaints --------------------------------------------------------------------------
def complaints_for_verification(count: int, seed: int, tag: str) -> list[Any]:
    """`count` synthetic complaints that go to verification, each with its own reference."""
    from complaints.timesource import utc_now
    from embedded.synthetic import generate_complaints

    pool = [
        c
        for c in generate_complaints(count * 2 + 20, seed=seed, now=utc_now())
        if not c.answered_on_spot
    ][:count]
    if len(pool) < count:
        raise RuntimeError("not enough complaints that go to verification")
    return [
        c.model_copy(update={"external_ref": f"BENCH-{tag}-{index:05d}"})
        for index, c in enumerate(pool)
    ]


# -- small helpers -----------------------------------------------------------------------
def arguments(name: str, doc: str | None, cases: int, seed: int) -> argparse.ArgumentParser:
    """The command line of a benchmark that drives `--cases` synthetic complaints drawn with
    `--seed`; the first line of its docstring (`doc`) describes it."""
    parser = argparse.ArgumentParser(
        prog=f"benchmarks.{name}", description=(doc or "").split("\n")[0]
    )
    parser.add_argument("--cases", type=int, default=cases)
    parser.add_argument("--seed", type=int, default=seed)
    return parser


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100); p50 is the median."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def mb(value: int | float | None) -> str:
    return "n/a" if value is None else f"{value / 1024 / 1024:.0f} MB"


def log(message: str) -> None:
    print(f"  [{datetime.now():%H:%M:%S}] {message}", flush=True)


def machine() -> dict[str, Any]:
    load = (_read("/proc/loadavg") or "").split()[:3]
    return {
        "cpus": os.cpu_count(),
        "memory_bytes": _kb_field(_read("/proc/meminfo"), "MemTotal"),
        "load_average_at_end": [float(x) for x in load] if load else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def source_state() -> dict[str, Any]:
    """Which commit was measured, and what was changed outside benchmarks/ (read-only git)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "--no-optional-locks", *args],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if not line[3:].startswith("benchmarks/")
    ]
    return {"commit": git("rev-parse", "HEAD") or None, "changed_outside_benchmarks": changed}


def write_result(name: str, data: dict[str, Any]) -> Path:
    from importlib.metadata import version

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {
        "benchmark": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "prefect": version("prefect"),
        "machine": machine(),
        "source": source_state(),
        **data,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    return path


@dataclass
class Timer:
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def log_counts(bench: Bench) -> dict[str, int]:
    """Signs of contention in the Prefect server's database and of refused submissions,
    counted in the stack's logs."""
    home = bench.stack.home
    server = (home / "server.log").read_text(errors="replace")
    workers = "".join(p.read_text(errors="replace") for p in home.glob("worker-*.log"))
    return {
        "database_is_locked": server.count("database is locked"),
        "requests_retried_in_server": server.count("busy database:"),
        "requests_given_up_in_server": server.count("still busy after"),
        "worker_saw_503": workers.count("503 Service Unavailable"),
        "worker_failed_submissions": workers.count("Failed to submit flow run"),
    }
