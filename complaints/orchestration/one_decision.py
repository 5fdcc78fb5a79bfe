"""One decision per wait: of two people answering the same waiting step, one is recorded
and the other is told who answered first.

Every answer to a waiting case — the Prefect UI's Resume form, `complaints act`, a script —
ends in the same REST call, ``POST /api/flow_runs/{id}/resume``. Prefect accepts the first;
to the second it answers "ABORT: Cannot resume a flow run that is not paused", which
Prefect's own Python helper (`resume_flow_run`) treats as success, so a colleague who
lost the race was told "recorded". And two calls arriving together could both read the
run as paused before either changed it.

This middleware of the product's server takes the resumes of one flow run one at a
time, so the second always sees the first's result, and turns Prefect's refusal into
one line saying who took the step and when, e.g. "这一步已由 张三 于 2026-12-01 10:02:11
处理 / this step was already taken by 张三 at …". The UI shows that line in its error
toast; the command line prints it and exits 2.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from complaints.orchestration.server import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    _read_body,
    replaying,
)
from rules.presentation import taken_message

log = logging.getLogger("complaints.orchestration.server")

RESUME = re.compile(r"^/api/flow_runs/(?P<id>[0-9a-fA-F-]{36})/resume/?$")
NOT_PAUSED = "not paused"

# (actor, when) of the answer Prefect stored last for a run, or None.
TakenBy = Callable[[UUID], Awaitable[tuple[str, datetime] | None]]


class OneDecision:
    """ASGI middleware: resumes of one flow run go one at a time; a refused one says who won."""

    def __init__(self, app: ASGIApp, taken_by: TakenBy | None = None, tz: Any = None) -> None:
        self.app = app
        self.taken_by = taken_by or stored_answer
        self.tz = tz
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = RESUME.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        run_id = match["id"].lower()
        body = await _read_body(receive)
        lock = self._locks.setdefault(run_id, asyncio.Lock())
        try:
            async with lock:
                messages, error = await self._answer(scope, body, receive)
        finally:
            if not lock.locked() and self._locks.get(run_id) is lock:
                del self._locks[run_id]
        if error is None:
            messages = await self._explained(UUID(run_id), messages)
        for message in messages:
            await send(message)
        if error is not None:
            # Starlette answers an unhandled error (Prefect's retryable 503 for a busy
            # database) and raises it again: pass both on, so RetryBusy can try again.
            raise error

    async def _answer(
        self, scope: Scope, body: bytes, receive: Receive
    ) -> tuple[list[Message], Exception | None]:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(dict(scope), replaying(body, receive), hold)
        except Exception as exc:
            return held, exc
        return held, None

    async def _explained(self, run_id: UUID, messages: list[Message]) -> list[Message]:
        """Prefect's "not paused" refusal, with who took the step instead."""
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        if start is None or start["status"] != 200:
            return messages
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        try:
            answer = json.loads(body)
            refused = answer["status"] != "ACCEPT" and NOT_PAUSED in answer["details"]["reason"]
        except (ValueError, KeyError, TypeError):
            return messages
        if not refused:
            return messages
        try:
            taken = await self.taken_by(run_id)
        except Exception:  # the explanation is a courtesy; the refusal stands without it
            log.exception("could not read who answered flow run %s", run_id)
            return messages
        answer["details"]["reason"] = taken_message(taken, self.tz)
        data = json.dumps(answer, ensure_ascii=False).encode()
        headers = [
            (k, str(len(data)).encode() if k.lower() == b"content-length" else v)
            for k, v in start.get("headers", [])
        ]
        return [
            {**start, "headers": headers},
            {"type": "http.response.body", "body": data, "more_body": False},
        ]


async def stored_answer(run_id: UUID) -> tuple[str, datetime] | None:
    """The actor and time of the last answer Prefect stored for the run's waits."""
    import sqlalchemy as sa
    from prefect.server.database import provide_database_interface

    db = provide_database_interface()
    async with db.session_context() as session:
        row = (
            await session.execute(
                sa.select(db.FlowRunInput.value, db.FlowRunInput.created)
                .where(
                    db.FlowRunInput.flow_run_id == run_id,
                    db.FlowRunInput.key.like("%-response"),
                )
                .order_by(db.FlowRunInput.created.desc())
                .limit(1)
            )
        ).first()
    if row is None:
        return None
    try:
        actor = str(json.loads(row.value).get("actor") or "另一位同事 / a colleague")
    except (ValueError, AttributeError):
        actor = "另一位同事 / a colleague"
    return actor, row.created
