"""The prefork worker's template: forks a flow-run process per request, reports its exit.

The child runs `prefect.engine`'s own main, which reads its flow run from the API named in
its environment. Here that API is a loopback server that records what it is asked and
answers 404, so the engine exits 1: the whole round trip (request, fork, the child's own
settings, exit code back) is observable without a Prefect server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

from complaints.orchestration import prefork

LIGHT = ("prefect.engine",)  # what a flow-run process needs at the least; quick to import


class Started:
    """Prefect's task status: records the handle the starter signals."""

    def __init__(self) -> None:
        self.value: Any = None

    def started(self, value: Any = None) -> None:
        self.value = value


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    """A loopback 'Prefect API' that knows no flow run; yields its URL and the paths asked."""
    asked: list[str] = []

    class NoSuchRun(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'{"detail": "Flow run not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NoSuchRun)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api", asked
    finally:
        server.shutdown()


def run_env(api_url: str, run_id: uuid.UUID) -> dict[str, str]:
    return {
        "PREFECT_API_URL": api_url,
        "PREFECT__FLOW_RUN_ID": str(run_id),
        "PREFECT_CLIENT_MAX_RETRIES": "0",
    }


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def start_engine(env: dict[str, str], tmp_path: Path) -> tuple[Any, Any]:
    status = Started()
    process = await prefork._run_process_or_fork(
        command=[prefork.FORK_COMMAND],
        task_status=status,  # type: ignore[arg-type]
        task_status_handler=lambda p: ("handle", p.pid, parent_of(p.pid)),
        env={**os.environ, **env},
        cwd=tmp_path,
        stream_output=True,
    )
    return process, status.value


def test_each_run_is_a_fork_of_the_warm_template_and_its_exit_code_comes_back(
    tmp_path: Path, api: tuple[str, list[str]]
) -> None:
    api_url, asked = api
    run_ids = [uuid.uuid4() for _ in range(3)]

    async def scenario() -> None:
        prefork._server = server = prefork.ForkServer(LIGHT)
        try:
            assert await server.ensure_started()
            template = server._process.pid  # type: ignore[union-attr]
            runs = await asyncio.gather(
                *(start_engine(run_env(api_url, run_id), tmp_path) for run_id in run_ids)
            )
            pids = {handle[1] for _, handle in runs}
            assert len(pids) == 3 and template not in pids
            assert all(handle[2] == template for _, handle in runs)  # forked, not spawned
            assert all(process.returncode == 1 for process, _ in runs)
        finally:
            await server.close()
            prefork._server = None

    asyncio.run(scenario())
    # Each child read its own environment (API address, run id), not the template's.
    assert sorted(asked) == sorted(f"/api/flow_runs/{run_id}" for run_id in run_ids)


def test_a_template_that_cannot_fork_safely_leaves_runs_to_new_processes(
    tmp_path: Path, api: tuple[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    api_url, asked = api
    run_id = uuid.uuid4()

    async def scenario() -> tuple[Any, Any]:
        prefork._server = server = prefork.ForkServer((*LIGHT, "tests.integration.starts_a_thread"))
        try:
            with caplog.at_level(logging.WARNING, "complaints.orchestration.prefork"):
                return await start_engine(run_env(api_url, run_id), tmp_path)
        finally:
            await server.close()
            prefork._server = None

    process, handle = asyncio.run(scenario())
    assert isinstance(process, anyio.abc.Process)  # a `python -m prefect.engine` subprocess
    assert process.returncode == 1 and handle[2] == os.getpid()
    assert "imported-sleeper" in caplog.text  # the worker's log says why
    assert asked == [f"/api/flow_runs/{run_id}"]


def test_new_code_on_disk_gets_a_fresh_template_and_no_run_mixes_old_and_new(
    tmp_path: Path, api: tuple[str, list[str]]
) -> None:
    """A template forked after the code changed would give its child the old modules it
    holds beside the new flow Prefect loads from its file (seen: runs FAILED with
    'not enough values to unpack' after an edit under a running worker)."""
    api_url, asked = api
    probe = Path(__file__).with_name("prefork_probe.py")

    async def scenario() -> tuple[int, int, int, int | None]:
        prefork._server = server = prefork.ForkServer((*LIGHT, "tests.integration.prefork_probe"))
        try:
            assert await server.ensure_started()
            old = server._process
            assert old is not None
            _, before = await start_engine(run_env(api_url, uuid.uuid4()), tmp_path)
            os.utime(probe)  # new code deployed
            process, after = await start_engine(run_env(api_url, uuid.uuid4()), tmp_path)
            new = server._process
            assert new is not None and new is not old
            old_exit = await asyncio.wait_for(old.wait(), 30)  # it saw its child out and left
            return before[2], after[2], new.pid, old_exit if process.returncode == 1 else None
        finally:
            await server.close()
            prefork._server = None

    first_parent, second_parent, new_template, old_exit = asyncio.run(scenario())
    assert first_parent != second_parent == new_template  # forked by the fresh template
    assert old_exit == 0
    assert len(asked) == 2
