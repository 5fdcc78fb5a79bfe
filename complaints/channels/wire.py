"""What the intake API says on the wire: its answers, its errors, and the body limit.

Every refusal is an `ErrorOut`: one line saying what is wrong and, where fields are at
fault, each with its reason. `BodyLimit` refuses an oversized request before the
application reads it.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from complaints.orchestration.server import ASGIApp, Message, Receive, Scope, Send


class SubmittedOut(BaseModel):
    case_no: str = Field(examples=["TS-20261203-0001"])
    status: str = Field(
        description="registered: a new case; already_registered: this channel reference was "
        "registered before, and this is its case"
    )
    flow_run_started: bool = Field(
        description="false while the process engine is unreachable; the case is registered "
        "and its handling starts at the next reconcile"
    )
    promised_response: str
    status_url: str


class ChaseIn(BaseModel):
    model_config = {"extra": "forbid"}

    note: str | None = Field(default=None, description="what the customer said, if anything")


class ChasedOut(BaseModel):
    case_no: str
    escalated: bool = Field(
        description="the time promised for the case's current step had passed: the "
        "department head was alerted, as for an overdue step"
    )


class FieldError(BaseModel):
    field: str
    reason: str


class ErrorOut(BaseModel):
    error: str
    fields: list[FieldError] = []


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422)
}


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413, whether it says its length or
    streams it, before the application reads any of it into memory."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(self.limit, scope, send)
            return
        seen = 0
        chunks: list[Message] = []
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await _too_large(self.limit, scope, send)
                return
            if not message.get("more_body"):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)


async def _too_large(limit: int, scope: Scope, send: Send) -> None:
    body = ErrorOut(error=f"the request body is larger than {limit} bytes").model_dump_json()
    response = Response(body, status_code=413, media_type="application/json")

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)


def error(status: int, message: str, fields: list[dict[str, str]] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, "fields": fields or []})
