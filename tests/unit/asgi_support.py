"""A fake ASGI app that answers "busy" a given number of times, and a one-call client:
what the server's middlewares (busy retries, one decision per wait) are tested with."""

from __future__ import annotations

import asyncio
import json
from typing import Any

BUSY = json.dumps({"exception_message": "Service Unavailable"}).encode()


class FlakyApp:
    """An ASGI app that answers `answers` in turn, recording the bodies it was sent."""

    def __init__(self, *answers: tuple[int, bytes]) -> None:
        self.answers = list(answers)
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("root_path"):  # routing of an earlier attempt leaked into this one
            status, body = 404, b"route not found"
        else:
            scope["root_path"] = "/api"  # as Starlette's Mount does
            message = await receive()
            self.bodies.append(message["body"])
            status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})
        if status == 503:  # Starlette raises the handled error again, for the server log
            raise RuntimeError("database is locked")


def call(app: Any, path: str = "/api/flow_runs/1/resume", body: bytes = b'{"x": 1}') -> Any:
    sent: list[dict[str, Any]] = []
    chunks = [body[:3], body[3:]]

    async def receive() -> dict[str, Any]:
        if chunks:
            part = chunks.pop(0)
            return {"type": "http.request", "body": part, "more_body": bool(chunks)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, answer
