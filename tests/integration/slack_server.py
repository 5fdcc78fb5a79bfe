"""A local server that speaks enough of the Slack Web API for the real slack_sdk client.

It answers `chat.postMessage` (to a channel, or to a member's ID: a direct message),
`users.lookupByEmail`, `auth.test`, `conversations.list` and the three calls of a
file upload (`files.getUploadURLExternal`, the upload itself, `files.completeUploadExternal`)
on 127.0.0.1, keeps every accepted message and shared file in order, and can misbehave on request: rate limits (HTTP 429 with Retry-After), an outage
(HTTP 503), a rejected token, an unknown channel.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

HOST = "127.0.0.1"
TOKEN = "xoxb-1234567890-local-test-token"


@dataclass(frozen=True)
class Posted:
    """A message the server accepted."""

    channel: str
    text: str | None
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    ts: str
    unfurl_links: bool | None
    received: float = field(default_factory=time.time)  # wall clock, seconds since the epoch


@dataclass(frozen=True)
class Call:
    """One HTTP request, whatever the answer."""

    method: str
    status: int
    error: str | None
    at: float  # time.monotonic()


@dataclass
class Uploaded:
    """A file shared in a channel through the external upload calls."""

    file_id: str
    filename: str
    content: bytes = b""
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None


@dataclass
class FakeSlack:
    token: str = TOKEN
    base_url: str = ""
    messages: list[Posted] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    missing_channels: set[str] = field(default_factory=set)
    missing_scopes: set[str] = field(default_factory=set)  # e.g. {"channels:read"}
    channel_ids: dict[str, str] = field(
        default_factory=lambda: {
            "complaints": "C0WARN",
            "complaints-escalations": "C0LEVEL1",
            "complaints-operations": "C0LEVEL2",
            "complaints-leadership": "C0LEVEL3",
            "complaints-reports": "C0REPORTS",
        }
    )
    uploads: dict[str, Uploaded] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)  # e-mail -> member ID (U…)
    _rate_limited: int = 0
    _retry_after: int = 1
    _outage: bool = False
    _invalid_auth: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rate_limit(self, n: int, retry_after: int = 1) -> None:
        """The next `n` calls get HTTP 429 with a Retry-After header."""
        with self._lock:
            self._rate_limited, self._retry_after = n, retry_after

    def outage(self, on: bool) -> None:
        """While on, every call gets HTTP 503."""
        with self._lock:
            self._outage = on

    def invalid_auth(self, on: bool = True) -> None:
        """While on, every call is answered ``{"ok": false, "error": "invalid_auth"}``."""
        with self._lock:
            self._invalid_auth = on

    def answer(
        self, method: str, authorization: str | None, params: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Status, extra headers and JSON body for one call; records it."""
        with self._lock:
            status, headers, body = self._answer(method, authorization, params)
            self.calls.append(Call(method, status, body.get("error"), time.monotonic()))
            return status, headers, body

    def direct_messages(self, member: str) -> list[Posted]:
        return [m for m in self.messages if m.channel == member]

    def _answer(
        self, method: str, authorization: str | None, params: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if self._outage:
            return 503, {}, {"ok": False, "error": "service_unavailable"}
        if self._rate_limited:
            self._rate_limited -= 1
            return (
                429,
                {"Retry-After": str(self._retry_after)},
                {"ok": False, "error": "ratelimited"},
            )
        if not authorization or not authorization.startswith("Bearer "):
            return 200, {}, {"ok": False, "error": "not_authed"}
        if self._invalid_auth or authorization.removeprefix("Bearer ") != self.token:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return 200, {}, {"ok": True, "team": "Local", "user": "complaints", "bot_id": "B0LOCAL"}
        if method == "chat.postMessage":
            return 200, {}, self._post(params)
        if method == "users.lookupByEmail":
            member = self.members.get(str(params.get("email") or "").lower())
            if member is None:
                return 200, {}, {"ok": False, "error": "users_not_found"}
            return 200, {}, {"ok": True, "user": {"id": member, "is_bot": False}}
        if method == "conversations.list":
            # as Slack does: each kind of channel asked for needs its own scope
            kinds = str(params.get("types") or "public_channel").split(",")
            for kind, scope in (
                ("public_channel", "channels:read"),
                ("private_channel", "groups:read"),
            ):
                if kind in kinds and scope in self.missing_scopes:
                    return 200, {}, {"ok": False, "error": "missing_scope", "needed": scope}
            channels = [{"id": cid, "name": name} for name, cid in self.channel_ids.items()]
            return 200, {}, {"ok": True, "channels": channels, "response_metadata": {}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.uploads) + 1:06d}"
            self.uploads[file_id] = Uploaded(file_id, str(params.get("filename")))
            url = self.base_url.removesuffix("api/") + f"upload/{file_id}"
            return 200, {}, {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = _json_param(params.get("files")) or []
            channel = params.get("channel_id")
            if channel not in self.channel_ids.values():
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            for item in files:
                upload = self.uploads[item["id"]]
                upload.title = item.get("title")
                upload.channel = channel
                upload.initial_comment = params.get("initial_comment")
            return 200, {}, {"ok": True, "files": [{"id": f["id"]} for f in files]}
        return 200, {}, {"ok": False, "error": "unknown_method"}

    def receive_upload(self, file_id: str, content: bytes) -> int:
        with self._lock:
            if self._outage:
                return 503
            self.uploads[file_id].content = content
            return 200

    def shared_files(self) -> list[Uploaded]:
        return [u for u in self.uploads.values() if u.channel is not None]

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel[0] in "UW" and channel[1:].isalnum() and channel not in self.members.values():
            return {"ok": False, "error": "channel_not_found"}  # no such member to write to
        blocks = _json_param(params.get("blocks")) or []
        text = params.get("text")
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        ts = f"{1_790_000_000 + len(self.messages)}.{len(self.messages):06d}"
        metadata = _json_param(params.get("metadata"))
        unfurl = params.get("unfurl_links")
        self.messages.append(
            Posted(
                channel,
                text,
                blocks,
                metadata,
                ts,
                None if unfurl is None else unfurl in (True, "1"),
            )
        )
        message = {"type": "message", "text": text, "blocks": blocks, "ts": ts, "bot_id": "B0LOCAL"}
        if metadata:
            message["metadata"] = metadata
        return {"ok": True, "channel": channel, "ts": ts, "message": message}


def _json_param(value: Any) -> Any:
    """Form posts carry blocks and metadata as JSON strings; JSON posts as values."""
    return json.loads(value) if isinstance(value, str) else value


def _handler(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            method = path.removeprefix("/api/")
            status, headers, body = slack.answer(
                method, self.headers.get("Authorization"), dict(parse_qsl(query))
            )
            self._reply(status, headers, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body_bytes = self.rfile.read(length)
            if self.path.startswith("/upload/"):
                status_code = slack.receive_upload(self.path.removeprefix("/upload/"), body_bytes)
                reply = f"OK - {len(body_bytes)}".encode()
                self.send_response(status_code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                return
            raw = body_bytes.decode("utf-8")
            if self.headers.get_content_type() == "application/json":
                params = json.loads(raw) if raw else {}
            else:
                params = dict(parse_qsl(raw))
            method = self.path.split("?", 1)[0].removeprefix("/api/")
            status, headers, body = slack.answer(method, self.headers.get("Authorization"), params)
            self._reply(status, headers, body)

        def _reply(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


@contextmanager
def slack_server(token: str = TOKEN) -> Iterator[FakeSlack]:
    """A FakeSlack listening on a free loopback port; its `base_url` ends in ``/api/``."""
    slack = FakeSlack(token=token)
    server = ThreadingHTTPServer((HOST, 0), _handler(slack))
    server.daemon_threads = True
    slack.base_url = f"http://{HOST}:{server.server_address[1]}/api/"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
    )
    thread.start()
    try:
        yield slack
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
