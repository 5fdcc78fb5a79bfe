"""A Prefect worker that starts each flow run by forking a warm, pre-imported process.

Most of a case step's cost on the stock process worker is starting Python and importing
Prefect and the product (about 1.3 s of CPU and 80 MB before any work). This worker keeps
one *template* process that has imported all of that and nothing else: no thread, no event
loop, no client, no connection. For each flow run the template forks a child, which sets
the run's environment and runs `python -m prefect.engine`'s own main, exactly as the stock
child would, from a copy-on-write image of the template.

Everything else is the stock `ProcessWorker`: the `--limit` cap, the control channel that
cancels a run, the crash reporting by exit code, the base job template. Only the final
"start a process" is swapped: Prefect's engine-command starter asks for `FORK_COMMAND`,
and the dispatcher below forks instead of executing it. A deployment that configures its
own `command`, or a template that cannot start or dies, falls back to a normal subprocess,
so the worst case is the stock worker's speed, never a lost run.

Work-pool type `prefork` (registered with Prefect through the `prefect.collections` entry
point); `COMPLAINTS_WORKER_TYPE=process` keeps the stock worker. The template's side and
the worker's side of one pipe protocol are kept in this one module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from prefect.runner import _starter_engine
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker

FORK_COMMAND = "complaints-prefork-engine"
# What the template imports before it forks: Prefect's engine and every flow of the product.
PRELOAD = (
    "prefect.engine",
    "prefect.flow_engine",
    "prefect.task_engine",
    "flows.case",
    "flows.watch",
    "flows.reconcile",
    "flows.report",
    "flows.customer_wait",
)
READY_TIMEOUT = 120.0

logger = logging.getLogger("complaints.orchestration.prefork")


# --- the template process -------------------------------------------------------------


def _reply(message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the worker has gone; nobody is left to tell
        os.write(1, (json.dumps(message) + "\n").encode())


def _sources() -> dict[str, int]:
    """The product's own modules the template imported, with their modification times."""
    root = str(Path(__file__).resolve().parents[2])  # the project: rules, flows, tasks, …
    found = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and path.startswith(root + os.sep) and os.sep + ".venv" + os.sep not in path:
            with contextlib.suppress(OSError):
                found[path] = os.stat(path).st_mtime_ns
    return found


def _changed(sources: dict[str, int]) -> str | None:
    """The first imported source file changed on disk since the import, if any: a child
    forked now would run the old code of the modules the template holds beside the new
    code of the flow Prefect loads from its file."""
    for path, mtime in sources.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return path
        except OSError:
            return path
    return None


def _see_children_out() -> None:
    """The worker is done with the template: wait for the runs still going, reporting each."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue
        _reply({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _reply({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})


def serve_template(preload: tuple[str, ...] = PRELOAD) -> dict[str, Any] | None:
    """Import, then fork one child per request read on stdin; reports pids and exit codes
    on stdout. Returns a request only in a forked child (the caller runs it); returns None
    when the worker has gone (stdin closed)."""
    import gc
    import importlib
    import threading

    # Ctrl-C in the worker's terminal stops the worker, which then closes our stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in preload:
        importlib.import_module(name)
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if threads:  # forking a process with threads copies locks held by them: not safe
        _reply({"refused": f"threads after import: {threads}"})
        return None
    sources = _sources()
    gc.collect()
    gc.freeze()  # what the template holds stays shared with the children
    _reply({"ready": os.getpid()})

    buffered = b""
    while True:
        readable, _, _ = select.select([0], [], [], 0.05)
        _reap()
        if not readable:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            _see_children_out()
            return None
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            request = json.loads(line)
            stale = _changed(sources)
            if stale:  # new code on disk: the worker starts a fresh template for it
                _reply({"id": request["id"], "stale": stale})
                continue
            pid = os.fork()
            if pid == 0:
                return request
            _reply({"id": request["id"], "pid": pid})


def run_child(request: dict[str, Any]) -> None:
    """In the forked child: become the flow-run process `python -m prefect.engine` is."""
    import runpy
    import warnings

    from prefect.context import refresh_global_settings_context

    os.setsid()  # a session of its own, as Prefect starts a flow-run process
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stdout is the template's reply pipe; the run's output goes to stderr
    os.close(devnull)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if request.get("cwd"):
        os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    refresh_global_settings_context()
    sys.argv = ["prefect.engine"]
    # runpy notes that the template imported the module already: that is the point.
    warnings.filterwarnings("ignore", "'prefect.engine' found in sys.modules", RuntimeWarning)
    runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)


def template_main(argv: list[str]) -> int:
    request = serve_template(tuple(argv) or PRELOAD)
    if request is None:
        return 0
    run_child(request)  # the engine ends with exit(); SystemExit leaves as from any process
    return 0


# --- the worker side ------------------------------------------------------------------


class ForkedProcess:
    """What Prefect's process handle needs of a child: its pid and, once done, its code."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None


class StaleTemplate(RuntimeError):
    """The product's code changed on disk since the template imported it."""


class ForkServer:
    """The worker's end of the template: one request line per run, replies read back."""

    def __init__(self, preload: tuple[str, ...] = PRELOAD) -> None:
        self.preload = preload
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._readers: set[asyncio.Task[None]] = set()
        self._started: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._orphans: set[asyncio.Task[None]] = set()
        self._owner: dict[int, asyncio.subprocess.Process] = {}  # child pid -> its template
        self._next_id = 0
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def ensure_started(self) -> bool:
        async with self._lock:
            if self.alive:
                return True
            try:
                self._process = process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "complaints.orchestration.prefork",
                    *self.preload,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
                assert process.stdout is not None
                line = await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)
                hello = json.loads(line) if line else {"refused": "exited while importing"}
            except (OSError, TimeoutError, ValueError) as exc:
                hello = {"refused": repr(exc)}
            if "ready" not in hello:
                logger.warning("no warm template (%s): runs start as new processes", hello)
                await self.close()
                return False
            logger.info("warm template ready (pid %s)", hello["ready"])
            if self._reader is not None and not self._reader.done():
                self._readers.add(self._reader)  # a retired template's: keep it alive
                self._reader.add_done_callback(self._readers.discard)
            self._reader = asyncio.create_task(self._read_replies(process))
            return True

    async def _read_replies(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            message = json.loads(line)
            if "stale" in message:
                future = self._started.pop(message["id"], None)
                if future and not future.done():
                    future.set_exception(StaleTemplate(message["stale"]))
            elif "id" in message:
                pid = message["pid"]
                self._owner[pid] = process
                self._exits.setdefault(pid, asyncio.get_running_loop().create_future())
                future = self._started.pop(message["id"], None)
                if future and not future.done():
                    future.set_result(pid)
            elif "exit" in message:
                exit_future = self._exits.setdefault(
                    message["pid"], asyncio.get_running_loop().create_future()
                )
                if not exit_future.done():
                    exit_future.set_result(message["exit"])
        if process is not self._process:  # a retired template, gone after its last child
            return
        # The template is gone: its children are orphans now; follow them by pid.
        for future in self._started.values():
            if not future.done():
                future.set_exception(RuntimeError("the warm template exited"))
        self._started.clear()
        for pid, exit_future in list(self._exits.items()):
            if self._owner.get(pid) is process and not exit_future.done():
                task = asyncio.create_task(_await_orphan(pid, exit_future))
                self._orphans.add(task)
                task.add_done_callback(self._orphans.discard)

    async def fork(self, env: dict[str, str], cwd: str | None) -> tuple[int, asyncio.Future[int]]:
        assert self._process is not None and self._process.stdin is not None
        self._next_id += 1
        request_id = self._next_id
        started = asyncio.get_running_loop().create_future()
        self._started[request_id] = started
        line = json.dumps({"id": request_id, "env": env, "cwd": cwd}) + "\n"
        process = self._process
        assert process is not None and process.stdin is not None
        process.stdin.write(line.encode())
        await process.stdin.drain()
        try:
            pid = await started
        except StaleTemplate as exc:
            logger.info("product code changed (%s): starting a fresh warm template", exc)
            self._retire(process)
            if not await self.ensure_started():
                raise RuntimeError("no fresh warm template") from None
            return await self.fork(env, cwd)
        return pid, self._exits[pid]

    def _retire(self, process: asyncio.subprocess.Process) -> None:
        """Stop sending `process` work; it sees its running children out, then exits."""
        if self._process is process:
            self._process = None
            if process.stdin is not None:
                process.stdin.close()

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)
        self._owner.pop(pid, None)

    async def close(self) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            with contextlib.suppress(ProcessLookupError):
                self._process.terminate()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._process.wait(), 10)
        if self._reader is not None:
            self._reader.cancel()
        self._process = self._reader = None


async def _await_orphan(pid: int, exit_future: asyncio.Future[int]) -> None:
    """A child whose template died: wait for it to end; its exit code is lost (1)."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.5)
    if not exit_future.done():
        exit_future.set_result(1)


_server: ForkServer | None = None
_stock_run_process = _starter_engine.run_process


async def _run_process_or_fork(
    command: list[str],
    task_status: anyio.abc.TaskStatus[Any] = anyio.TASK_STATUS_IGNORED,
    task_status_handler: Callable[[Any], Any] | None = None,
    env: dict[str, str] | None = None,
    cwd: Any = None,
    **kwargs: Any,
) -> Any:
    """Prefect's `run_process` for the engine command, forking when it asks for FORK_COMMAND."""

    async def spawn(argv: list[str]) -> Any:
        return await _stock_run_process(
            command=argv,
            task_status=task_status,
            task_status_handler=task_status_handler,
            env=env,
            cwd=cwd,
            **kwargs,
        )

    if command != [FORK_COMMAND]:
        return await spawn(command)
    engine = [sys.executable, "-m", "prefect.engine"]
    server = _server
    if server is None or not await server.ensure_started():
        return await spawn(engine)
    try:
        pid, exited = await server.fork(dict(env or {}), str(cwd) if cwd else None)
    except (RuntimeError, OSError) as exc:  # the template died just now
        logger.warning("the warm template could not fork (%s): a new process runs this", exc)
        return await spawn(engine)
    process = ForkedProcess(pid)
    task_status.started(task_status_handler(process) if task_status_handler else process)
    try:
        process.returncode = await exited
    finally:
        server.forget(pid)
    return process


class PreforkJobConfiguration(ProcessJobConfiguration):
    def prepare_for_flow_run(self, *args: Any, **kwargs: Any) -> None:
        configured = self.command is not None
        super().prepare_for_flow_run(*args, **kwargs)
        if not configured:  # a deployment's own command runs as it says
            self.command = FORK_COMMAND
            self._command_configured = True


class PreforkWorker(ProcessWorker):
    """The process worker, with flow-run processes forked from a warm template."""

    type = "prefork"
    job_configuration = PreforkJobConfiguration
    _description = (
        "Process worker whose flow-run processes are forked from a warm process that has "
        "already imported Prefect and the flows: runs start in milliseconds."
    )
    _display_name = "Prefork process"

    async def __aenter__(self) -> PreforkWorker:
        global _server
        await super().__aenter__()
        _starter_engine.run_process = _run_process_or_fork  # type: ignore[assignment]
        _server = ForkServer()
        await _server.ensure_started()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        global _server
        try:
            await super().__aexit__(*exc_info)
        finally:
            if _server is not None:
                await _server.close()
                _server = None


if __name__ == "__main__":
    sys.exit(template_main(sys.argv[1:]))
