"""Start and stop a local Prefect server and process workers as child processes.

Used by `complaints up` (the embedded default: SQLite, UI on 127.0.0.1:4200), by the
end-to-end tests and by the benchmarks, so all three run the product the same way.

With Prefect's basic auth (`PREFECT_SERVER_API_AUTH_STRING` in the environment or in
`extra_env`) only the server is given the server's setting; every other process of the
stack — this one, the workers and their flow runs, the intake service — is given the
same credential as a client's (`PREFECT_API_AUTH_STRING`), in its environment only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.engine import make_url

from complaints.orchestration.server import CLIENT_AUTH, SERVER_AUTH, is_loopback

if TYPE_CHECKING:
    from complaints.settings import Settings

PREFECT = str(Path(sys.executable).with_name("prefect"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    home: Path
    port: int = 4200
    host: str = "127.0.0.1"  # where the Prefect server listens; beyond loopback only with auth
    database_url: str | None = None
    prefect_database_url: str | None = None
    worker_poll_seconds: float = 2
    worker_limit: int = 4
    worker_type: str = "prefork"
    extra_env: dict[str, str] = field(default_factory=dict)
    web_port: int | None = None  # the intake API and customer pages; None: not started
    server: subprocess.Popen[bytes] | None = None
    web: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_starts: int = 0

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    @property
    def ui_url(self) -> str:
        """The server's address from this machine (loopback when it listens everywhere)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def auth_string(self) -> str | None:
        """The server's basic-auth credential, or None: a server open to whoever reaches it."""
        return self.extra_env.get(SERVER_AUTH, os.environ.get(SERVER_AUTH)) or None

    def env(self) -> dict[str, str]:
        """The environment of every client process of the stack (the server's adds its own
        credential, `server_env`)."""
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": str(self.worker_poll_seconds),
            "PREFECT_WORKER_PREFETCH_SECONDS": "1",
            "PREFECT_RUNNER_POLL_FREQUENCY": str(max(1, int(self.worker_poll_seconds))),
            # A browser elsewhere reaches the API where it reached the UI (a name, a TLS
            # proxy in front): the UI takes a path as the API's address on its own origin.
            "PREFECT_UI_API_URL": self.api_url if is_loopback(self.host) else "/api",
            # The classic UI at the root too (3.9 opens its new UI there by default): the
            # Resume forms, the README and the browser tests are the classic UI's.
            "PREFECT_SERVER_UI_V2_ENABLED": "false",
            "COMPLAINTS_UI_URL": self.ui_url,
            **self.extra_env,
        }
        if self.web_port is not None:
            env["COMPLAINTS_API_PORT"] = str(self.web_port)
            env.setdefault("COMPLAINTS_PUBLIC_URL", self.web_url)
        if self.database_url:
            env["COMPLAINTS_DATABASE_URL"] = self.database_url
        if self.prefect_database_url:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = self.prefect_database_url
        env.pop(SERVER_AUTH, None)
        if self.auth_string:
            env[CLIENT_AUTH] = self.auth_string
        return env

    def server_env(self) -> dict[str, str]:
        env = self.env()
        if self.auth_string:
            env[SERVER_AUTH] = self.auth_string
        return env

    def start_server(self, timeout: float = 120) -> None:
        """Prefect's server (API, UI, services) with busy requests retried in the server."""
        self.home.mkdir(parents=True, exist_ok=True)
        log = (self.home / "server.log").open("ab")
        command = [sys.executable, "-m", "complaints.orchestration.server", "--host", self.host]
        self.server = subprocess.Popen(
            [*command, "--port", str(self.port)],
            env=self.server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_healthy(timeout)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_web(self, timeout: float = 60) -> None:
        """The intake API and the customer's pages (complaints.channels.web), on loopback."""
        if self.web_port is None:
            self.web_port = free_port()
        log = (self.home / "web.log").open("ab")
        self.web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "complaints.channels.web",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.web_port),
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_answering(f"{self.web_url}/health", self.web, self.home / "web.log", timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server is not None and self.server.poll() is not None:
                raise RuntimeError(
                    f"Prefect server exited ({self.server.returncode}); see {self.home}/server.log"
                )
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"Prefect server not healthy after {timeout:.0f}s")

    def start_worker(self, pool: str = "complaints", name: str | None = None) -> None:
        """A worker running at most `worker_limit` flow-run processes at once (the
        `worker_limit` setting; a suspended run holds no slot), of `worker_type`: `prefork`
        (runs forked from a warm process, complaints.orchestration.prefork) or Prefect's `process`."""
        self.worker_starts += 1
        log = (self.home / f"worker-{self.worker_starts}.log").open("ab")
        command = [PREFECT, "worker", "start", "--pool", pool, "--type", self.worker_type]
        command += ["--limit", str(self.worker_limit)]
        if name:
            command += ["--name", name]
        self.workers.append(
            subprocess.Popen(
                command,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def kill_workers(self) -> None:
        """Kill the workers and every flow-run process they started, as a lost machine would.

        Prefect starts each flow-run process in a session of its own, so killing the
        worker's process group is not enough: the whole tree of descendants is killed.
        """
        for worker in self.workers:
            for pid in [*descendants(worker.pid), worker.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            worker.wait(timeout=20)
        self.workers.clear()

    def stop_server(self) -> None:
        if self.server is not None:
            _kill_group(self.server, signal.SIGTERM)
            self.server = None

    def stop(self) -> None:
        if self.web is not None:
            _kill_group(self.web, signal.SIGTERM)
            self.web = None
        for worker in self.workers:
            _kill_group(worker, signal.SIGTERM)
        self.workers.clear()
        self.stop_server()


@contextmanager
def local_product(
    root: Path,
    workers: int = 1,
    worker_poll_seconds: float = 1,
    extra_env: dict[str, str] | None = None,
    postgres: str | None = None,
    host: str = "127.0.0.1",
) -> Iterator[Stack]:
    """The whole product under `root`, for tests and benchmarks.

    Starts the server, migrates the ledger, registers the deployments and starts the
    workers; this process talks to that server and ledger until the block ends. The
    ledger and the Prefect server are on fresh SQLite files (the embedded default), or,
    given `postgres` (a PostgreSQL server's admin URL), both on fresh databases of that
    server, dropped afterwards (the production topology).
    `extra_env` (e.g. an SLA policy in seconds) applies to this process and the stack;
    the server listens on `host` (beyond loopback with PREFECT_SERVER_API_AUTH_STRING in
    `extra_env`, or the server refuses to start).
    """
    with contextlib.ExitStack() as resources:
        if postgres:
            ledger = resources.enter_context(scratch_database(postgres, "complaints"))
            server_db = resources.enter_context(scratch_database(postgres, "prefect"))
            server_url = (
                make_url(server_db)
                .set(drivername="postgresql+asyncpg")
                .render_as_string(hide_password=False)
            )
        else:
            ledger, server_url = f"sqlite:///{root / 'ledger.db'}", None
        stack = Stack(
            home=root / "prefect",
            port=free_port(),
            host=host,
            web_port=free_port(),  # known before any worker starts: links in messages
            database_url=ledger,
            prefect_database_url=server_url,
            worker_poll_seconds=worker_poll_seconds,
            extra_env=dict(extra_env or {}),
        )
        yield from _run_product(stack, workers)


def _run_product(stack: Stack, workers: int) -> Iterator[Stack]:
    saved = dict(os.environ)
    os.environ.update(stack.env())
    from prefect.context import refresh_global_settings_context

    from complaints.settings import get_settings
    from models.db import engine_for, upgrade

    get_settings.cache_clear()
    settings = get_settings()
    stack.worker_limit, stack.worker_type = settings.worker_limit, settings.worker_type
    upgrade(settings.database_url)
    try:
        stack.start_server()
        # Every thread of this process talks to this stack: Prefect's global settings
        # (not a context manager, whose settings would hold for this thread only).
        refresh_global_settings_context()
        deploy_product(stack, settings, workers, "worker")
        yield stack
    finally:
        stack.kill_workers()  # and the runs they started: no orphan outlives the stack
        stack.stop()
        engine_for(settings.database_url).dispose()
        os.environ.clear()
        os.environ.update(saved)
        refresh_global_settings_context()
        get_settings.cache_clear()


def deploy_product(stack: Stack, settings: Settings, workers: int, worker_prefix: str) -> None:
    """On a running server: the work pool, every deployment, and `workers` workers."""
    from deployments.definitions import deploy_all, ensure_work_pool

    ensure_work_pool(settings.work_pool, settings.worker_type)
    deploy_all(
        settings.work_pool,
        settings.timezone,
        settings.report_crons,
        mailbox=bool(settings.mailbox.host),
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    for index in range(workers):
        stack.start_worker(settings.work_pool, name=f"{worker_prefix}-{index}")


@contextmanager
def scratch_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (SQLAlchemy URL with psycopg), dropped afterwards."""
    import secrets

    import psycopg
    from psycopg import sql

    admin = make_url(admin_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def parent_pid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def is_flow_run(command: str, parent_command: str) -> bool:
    """Whether a process (by its command line and its parent's) runs a flow run: the
    process worker's `python -m prefect.engine` child, or a child the prefork worker's
    template forked (it keeps the template's command line, which names prefect.engine
    among its imports)."""
    if "complaints.orchestration.prefork" in command:
        return "complaints.orchestration.prefork" in parent_command
    return "prefect.engine" in command


def flow_run_pids(worker_pid: int) -> list[int]:
    """The flow-run processes a worker has running now."""

    def text(pid: int) -> str:
        return command_line(pid).decode(errors="replace")

    return [pid for pid in descendants(worker_pid) if is_flow_run(text(pid), text(parent_pid(pid)))]


def descendants(pid: int) -> list[int]:
    """All live descendants of a process, children first (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found.extend(children)
        todo.extend(children)
    return found


def wait_answering(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Until `url` answers 200, or say why not (the process died, or time ran out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited ({process.returncode}); see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s; see {log}")


def _kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
