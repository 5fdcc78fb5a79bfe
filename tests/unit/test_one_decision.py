"""Of two answers to the same wait, the server records one and tells the other who won."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from complaints.orchestration.one_decision import OneDecision
from rules.presentation import taken_message

RUN = "0b6c4a1e-2f3d-4c5b-9a8e-7d6f5e4d3c2b"
TAKEN_AT = datetime(2026, 12, 1, 2, 2, 11, tzinfo=UTC)


class PausedRun:
    """Prefect's resume endpoint in miniature: the first answer is accepted and the run is
    no longer paused; it yields while "writing", so a second request can slip in."""

    def __init__(self) -> None:
        self.paused = True
        self.inside = 0
        self.most_inside = 0
        self.accepted: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = json.loads((await receive())["body"])
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        was_paused = self.paused
        await asyncio.sleep(0.05)  # reading the run, validating, writing the state
        if was_paused:
            self.paused = False
            self.accepted.append(body["run_input"])
            answer = {"status": "ACCEPT", "details": {"type": "accept_details"}}
        else:
            reason = "Cannot resume a flow run that is not paused."
            answer = {"status": "ABORT", "details": {"type": "abort_details", "reason": reason}}
        self.inside -= 1
        data = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})


async def resume(app: Any, actor: str, run: str = RUN) -> tuple[int, dict[str, Any], dict]:
    sent: list[dict[str, Any]] = []
    body = json.dumps({"run_input": {"actor": actor}}).encode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": f"/api/flow_runs/{run}/resume"}
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(data), dict(start["headers"])


def guarded(app: PausedRun) -> OneDecision:
    async def taken_by(run_id: UUID) -> tuple[str, datetime] | None:
        assert str(run_id) == RUN
        return (app.accepted[-1]["actor"], TAKEN_AT) if app.accepted else None

    return OneDecision(app, taken_by=taken_by, tz=ZoneInfo("Asia/Shanghai"))


def test_two_answers_at_once_one_is_accepted_and_the_other_told_who_took_the_step() -> None:
    app_shared = PausedRun()
    guard = guarded(app_shared)

    async def both() -> list[tuple[int, dict[str, Any], dict]]:
        return await asyncio.gather(resume(guard, "张三"), resume(guard, "李四"))

    answers = asyncio.run(both())
    assert app_shared.most_inside == 1  # the second waited for the first
    statuses = sorted(a[1]["status"] for a in answers)
    assert statuses == ["ABORT", "ACCEPT"]
    assert [a["actor"] for a in app_shared.accepted] == ["张三"]
    refused = next(a for a in answers if a[1]["status"] == "ABORT")
    assert refused[1]["details"]["reason"] == (
        "这一步已由 张三 于 2026-12-01 10:02:11 处理 / this step was already taken by 张三 at "
        "2026-12-01 10:02:11"
    )
    assert int(refused[2][b"content-length"]) == len(
        json.dumps(refused[1], ensure_ascii=False).encode()
    )


def test_without_the_guard_both_answers_slip_in() -> None:
    """What the guard prevents, shown on the same miniature: two accepted answers."""
    app = PausedRun()

    async def both() -> Any:
        return await asyncio.gather(resume(app, "张三"), resume(app, "李四"))

    asyncio.run(both())
    assert app.most_inside == 2 and len(app.accepted) == 2


def test_resumes_of_different_runs_do_not_wait_for_each_other() -> None:
    app = PausedRun()
    guard = guarded(app)
    other = "1c7d5b2f-3e4a-4d6c-8b9f-8e7a6f5e4d3c"

    async def two_runs() -> Any:
        return await asyncio.gather(resume(guard, "张三"), resume(guard, "李四", run=other))

    asyncio.run(two_runs())
    assert app.most_inside == 2
    assert guard._locks == {}  # nothing kept once the answers are out


def test_other_requests_pass_through_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[]"})

    async def call() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await OneDecision(app)(
            {"type": "http", "method": "POST", "path": "/api/flow_runs/filter"}, receive, send
        )

    asyncio.run(call())
    assert seen == ["/api/flow_runs/filter"]


def test_a_refusal_with_no_stored_answer_says_the_case_no_longer_waits_there() -> None:
    assert "no longer waiting" in taken_message(None)


def test_a_resume_refused_as_busy_is_still_retried_by_the_server() -> None:
    """The guard sits inside RetryBusy: a busy answer (sent, then raised, as Starlette does)
    must reach it as such, or the UI's Resume fails with a 500 instead of being retried."""
    from complaints.orchestration.server import RetryBusy
    from tests.unit.asgi_support import BUSY, FlakyApp, call

    app = FlakyApp((503, BUSY), (200, b'{"status": "ACCEPT", "details": {}}'))
    server = RetryBusy(OneDecision(app, taken_by=lambda _: None), retry_for=5)  # type: ignore[arg-type]
    status, answer = call(server, path=f"/api/flow_runs/{RUN}/resume")
    assert status == 200 and json.loads(answer)["status"] == "ACCEPT"
    assert len(app.bodies) == 2
