"""The Prefect server as the product runs it: Prefect's own app, with busy retries.

`python -m complaints.orchestration.server --host 127.0.0.1 --port 4200` serves exactly what
`prefect server start` serves (API, UI and, unless `--no-services`, the background
services) with two additions: busy retries, below, and one decision per wait
(`complaints.orchestration.one_decision`). When the database is momentarily busy (SQLite's
"database is locked", a dropped PostgreSQL connection) Prefect answers 503 and expects
the client to try again. Prefect's Python client does; the UI does not, so an operator
pressing Resume at that moment saw "Failed to resume flow run" and lost what they typed.
Here the server itself tries the request again for a while before any answer leaves it,
which is the retry Prefect's own client would make, done where every caller gets it.

It listens beyond loopback only when Prefect's basic auth is configured
(`PREFECT_SERVER_API_AUTH_STRING`): a server anyone on the network could act through is
refused in one line instead (`exposure_refusal`).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("complaints.orchestration.server")

# The body Prefect's exception handler sends with a 503 for an error a client can retry.
RETRYABLE_BODY = b'"Service Unavailable"'
RETRY_FOR_SECONDS = 20.0  # well inside the client's own request timeout
# How long one SQLite statement waits for the write lock before the request is answered
# busy (and retried here). Prefect waits 60 s; see `wait_briefly_for_sqlite_locks`.
SQLITE_LOCK_WAIT_MS = 2000
# Prefect's API answers these POSTs by reading only (queries sent as a body).
READ_ONLY_POST_ENDINGS = (
    "/filter",
    "/count",
    "/count-deployments",
    "/count-task-runs",
    "/paginate",
    "/history",
    "/lateness",
    "/next-runs",
    "/validate",
    "/concurrency_status",
    "/get_runs",
)


# Prefect's basic auth: the credential the server demands, and the one its clients send.
SERVER_AUTH = "PREFECT_SERVER_API_AUTH_STRING"
CLIENT_AUTH = "PREFECT_API_AUTH_STRING"


def is_loopback(host: str) -> bool:
    """Whether a server bound to `host` can be reached from this machine only: `localhost`,
    127.0.0.0/8 or ::1. A wildcard (0.0.0.0, ::, empty), any other address and any other
    name (it may resolve to anything) is the network."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def exposure_refusal(host: str, auth_string: str | None) -> str | None:
    """Why a Prefect server must not listen on `host`, in one line; None when it may: on
    loopback, or anywhere once its basic auth is configured (a non-empty auth string)."""
    if is_loopback(host) or auth_string:
        return None
    return (
        f"refusing to listen on {host!r} without authentication: anyone who reaches it could "
        f"act on every case; set {SERVER_AUTH} (e.g. admin:a-long-random-password) or keep "
        "--host 127.0.0.1"
    )


def writes(method: str, path: str) -> bool:
    """Whether an API request may write to the database."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not (method == "POST" and path.rstrip("/").endswith(READ_ONLY_POST_ENDINGS))


class RetryBusy:
    """ASGI middleware: run an API request again while it ends in a retryable 503.

    The request body is read once and replayed to each attempt. An attempt's answer is
    held back only when it is a 503; anything else goes out as it comes. A 503 that is not
    Prefect's retryable one (readiness, say), or the last one, is passed on unchanged.

    With `one_writer` (the server's database is SQLite, which has one writer anyway), the
    requests that may write go through one at a time, in the order they came: instead of
    all of them fighting for SQLite's lock and retrying at random — where an unlucky one
    could lose for 20 s under a desk of operators — they queue here. Reads never wait.
    """

    def __init__(
        self,
        app: ASGIApp,
        retry_for: float = RETRY_FOR_SECONDS,
        prefix: str = "/api/",
        clock: Callable[[], float] = time.monotonic,
        one_writer: bool = False,
    ) -> None:
        self.app = app
        self.retry_for = retry_for
        self.prefix = prefix
        self.clock = clock
        self.retried = 0  # requests that needed at least one more attempt
        self.gave_up = 0
        self._writer = asyncio.Lock() if one_writer else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if self._writer is not None and writes(scope["method"], scope["path"]):
            async with self._writer:
                await self._retrying(scope, body, receive, send)
        else:
            await self._retrying(scope, body, receive, send)

    async def _retrying(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        deadline = self.clock() + self.retry_for
        delay = 0.05
        attempt = 0
        while True:
            attempt += 1
            held = await self._attempt(scope, body, receive, send)
            if held is None:
                if attempt > 1:
                    log.info(
                        "busy database: %s %s went through at attempt %d",
                        scope["method"],
                        scope["path"],
                        attempt,
                    )
                return
            if self.clock() + delay > deadline:
                self.gave_up += 1
                log.warning(
                    "%s %s still busy after %d attempts; answering 503",
                    scope["method"],
                    scope["path"],
                    attempt,
                )
                for message in held:
                    await send(message)
                return
            if attempt == 1:
                self.retried += 1
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)

    async def _attempt(
        self, scope: Scope, body: bytes, receive: Receive, send: Send
    ) -> list[Message] | None:
        """Run the app once. Returns the held messages of a retryable 503, else None."""
        held: list[Message] = []
        busy = answered = False

        replay = replaying(body, receive)

        async def hold_503(message: Message) -> None:
            nonlocal busy, answered
            if message["type"] == "http.response.start" and message["status"] == 503:
                busy = True
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            if busy:
                held.append(message)
            else:
                await send(message)

        try:
            await self.app(dict(scope), replay, hold_503)  # routing writes into the scope
        except Exception:
            # Starlette answers an unhandled error through the app's handler (Prefect's
            # sends the retryable 503), then raises it again for the server to log.
            if not answered:
                raise
            if not busy:
                log.exception("%s %s failed after answering", scope["method"], scope["path"])
        if not busy:
            return None
        answer = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        if RETRYABLE_BODY not in answer or b"exception_message" not in answer:
            for message in held:
                await send(message)
            return None
        return held


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body read before, once, then waits for the client
    to go away — so a middleware can read a request's body and still run the app with it."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def treat_pool_timeout_as_busy(app: Any) -> None:
    """A request that waited in vain for a database connection is busy, not broken.

    Under a burst on SQLite every pooled connection can be waiting on the write lock;
    the next request then times out waiting for the pool, which Prefect answers with a
    500. Nothing was done for it, so it is answered as retryable like the lock itself.
    """
    import sqlalchemy.exc
    from fastapi.responses import JSONResponse
    from starlette.routing import Mount

    async def busy(request: Any, exc: Exception) -> JSONResponse:
        return JSONResponse({"exception_message": "Service Unavailable"}, status_code=503)

    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/api":
            route.app.add_exception_handler(sqlalchemy.exc.TimeoutError, busy)  # type: ignore[attr-defined]
            return
    raise RuntimeError("Prefect's app has no /api mount; this Prefect version is not supported")


def wait_briefly_for_sqlite_locks(milliseconds: int = SQLITE_LOCK_WAIT_MS) -> None:
    """Let a statement wait `milliseconds` for SQLite's write lock, not Prefect's 60 s.

    Under load the embedded server stalled for exactly a minute at a time: every pooled
    connection sat in a statement waiting up to 60 s for the write lock, while the
    transaction holding the lock waited for a pooled connection or the event loop to move
    on. Giving up after a moment frees the connection; the request is answered busy and
    RetryBusy runs it again with jitter, so nobody sees the difference but the stall.
    """
    from prefect.server.database.configurations import AioSqliteConfiguration

    original = AioSqliteConfiguration.setup_sqlite
    if getattr(original, "__wrapped_by_complaints__", False):
        return

    def setup_sqlite(self: Any, conn: Any, record: Any) -> None:
        original(self, conn, record)
        cursor = conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)};")
        cursor.close()

    setup_sqlite.__wrapped_by_complaints__ = True  # type: ignore[attr-defined]
    AioSqliteConfiguration.setup_sqlite = setup_sqlite  # type: ignore[method-assign]


def _timezone() -> Any:
    """The product's time zone for times the server writes into answers; UTC without it."""
    try:
        from complaints.settings import get_settings

        return get_settings().tz
    except Exception:
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m complaints.orchestration.server", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4200)
    parser.add_argument(
        "--no-services",
        action="store_true",
        help="only the API and UI (an API replica; run `prefect server services start` once)",
    )
    args = parser.parse_args(argv)

    from prefect.settings import (
        PREFECT_SERVER_API_AUTH_STRING,
        PREFECT_SERVER_API_KEEPALIVE_TIMEOUT,
        get_current_settings,
    )

    # The credential as Prefect resolves it (environment, profile, prefect.toml): the one
    # its app will demand.
    if refusal := exposure_refusal(args.host, PREFECT_SERVER_API_AUTH_STRING.value()):
        parser.exit(2, f"{parser.prog}: {refusal}\n")

    import uvicorn
    from prefect.server.api.server import create_app

    log.setLevel(logging.INFO)
    wait_briefly_for_sqlite_locks()
    prefect_app = create_app(final=True, webserver_only=args.no_services)
    treat_pool_timeout_as_busy(prefect_app)
    url = get_current_settings().server.database.connection_url
    secret = getattr(url, "get_secret_value", None)
    sqlite = str(secret() if secret else url or "sqlite").startswith("sqlite")
    from complaints.orchestration.one_decision import OneDecision

    uvicorn.run(
        RetryBusy(OneDecision(prefect_app, tz=_timezone()), one_writer=sqlite),
        host=args.host,
        port=args.port,
        timeout_keep_alive=PREFECT_SERVER_API_KEEPALIVE_TIMEOUT.value(),
        log_level="info",
    )


if __name__ == "__main__":
    main()
