"""The server retries a request the database refused as busy before anyone sees a 503."""

from __future__ import annotations

import asyncio
from typing import Any

from complaints.orchestration.server import RetryBusy
from tests.unit.asgi_support import BUSY, FlakyApp, call


def test_a_resume_refused_as_busy_twice_goes_through_with_the_same_body() -> None:
    app = FlakyApp((503, BUSY), (503, BUSY), (200, b"{}"))
    retry = RetryBusy(app, retry_for=5)
    assert call(retry) == (200, b"{}")
    assert app.bodies == [b'{"x": 1}'] * 3
    assert retry.retried == 1 and retry.gave_up == 0


def test_a_503_that_is_not_a_busy_database_is_passed_on_at_once() -> None:
    app = FlakyApp((503, b'{"detail": "not ready"}'), (200, b"{}"))
    assert call(RetryBusy(app, retry_for=5)) == (503, b'{"detail": "not ready"}')
    assert len(app.bodies) == 1


def test_a_database_busy_for_longer_than_the_budget_answers_503() -> None:
    app = FlakyApp((503, BUSY))
    retry = RetryBusy(app, retry_for=0.3)
    assert call(retry) == (503, BUSY)
    assert 2 <= len(app.bodies) <= 10
    assert retry.gave_up == 1


def test_other_answers_and_paths_outside_the_api_are_untouched() -> None:
    app = FlakyApp((404, b"missing"))
    assert call(RetryBusy(app), body=b"") == (404, b"missing")
    ui = FlakyApp((500, b"oops"), (200, b"page"))
    assert call(RetryBusy(ui), path="/runs", body=b"") == (500, b"oops")
    assert len(ui.bodies) == 1


def test_the_embedded_server_waits_briefly_for_the_sqlite_write_lock(tmp_path: Any) -> None:
    """Prefect's own SQLite engine, as the server creates it, waits 2 s, not 60 s."""
    from prefect.server.database.configurations import AioSqliteConfiguration
    from sqlalchemy import text

    from complaints.orchestration.server import SQLITE_LOCK_WAIT_MS, wait_briefly_for_sqlite_locks

    async def busy_timeout(config: AioSqliteConfiguration) -> int:
        engine = await config.engine()
        try:
            async with engine.connect() as connection:
                return int((await connection.execute(text("PRAGMA busy_timeout"))).scalar_one())
        finally:
            await engine.dispose()

    url = f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}"
    assert asyncio.run(busy_timeout(AioSqliteConfiguration(url))) == 60000  # Prefect's
    original = AioSqliteConfiguration.setup_sqlite
    try:
        wait_briefly_for_sqlite_locks()
        wait_briefly_for_sqlite_locks()  # idempotent
        other = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
        assert asyncio.run(busy_timeout(AioSqliteConfiguration(other))) == SQLITE_LOCK_WAIT_MS
    finally:
        AioSqliteConfiguration.setup_sqlite = original  # type: ignore[method-assign]


def test_with_one_writer_writes_go_one_at_a_time_in_order_and_reads_never_wait() -> None:
    """On SQLite the writes queue in the server instead of fighting for the lock."""
    from complaints.orchestration.server import writes

    inside: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    finished: list[str] = []

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        inside.append(scope["path"])
        overlaps.append(tuple(inside))
        await asyncio.sleep(0.05)
        inside.remove(scope["path"])
        finished.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def request(app: Any, method: str, path: str) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await app({"type": "http", "method": method, "path": path}, receive, send)

    async def desk(app: Any) -> None:
        await asyncio.gather(
            request(app, "POST", "/api/flow_runs/a/resume"),
            request(app, "POST", "/api/flow_runs/b/set_state"),
            request(app, "POST", "/api/flow_runs/filter"),
            request(app, "GET", "/api/flow_runs/c"),
            request(app, "PATCH", "/api/flow_runs/d"),
        )

    asyncio.run(desk(RetryBusy(slow, one_writer=True)))
    written = [p for p in finished if p.endswith(("resume", "set_state", "/d"))]
    assert written == ["/api/flow_runs/a/resume", "/api/flow_runs/b/set_state", "/api/flow_runs/d"]
    assert all(
        sum(writes("POST", p) for p in seen if p != "/api/flow_runs/c") <= 1 for seen in overlaps
    )
    assert max(len(seen) for seen in overlaps) == 3  # a write and both reads at once

    overlaps.clear()
    asyncio.run(desk(RetryBusy(slow)))  # PostgreSQL: no queue
    assert max(len(seen) for seen in overlaps) == 5

    assert not writes("POST", "/api/flow_runs/filter") and not writes("GET", "/api/x")
    assert not writes("POST", "/api/deployments/count/") and writes("POST", "/api/logs/")
    assert writes("POST", "/api/work_pools/p/get_scheduled_flow_runs")  # it marks polls
