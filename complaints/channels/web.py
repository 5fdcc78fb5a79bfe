"""The product's web service: the intake API for channels, and the customer's own pages.

    POST /api/v1/complaints            a channel's complaint (its API key says which channel)
    GET  /api/v1/complaints/{case_no}  that channel's case, as it stands
    POST /api/v1/complaints/{case_no}/chase   the customer asks for progress (催办)
    GET  /c/{token}, POST …/chase      the customer's status page (signed link), and chasing
    GET  /s/{token}, POST /s/{token}   the customer's satisfaction survey (signed, once)
    GET  /l/{token}                    a short link from an SMS: on to the page it stands for
    GET  /docs, /openapi.json          the API's documentation

Run by `complaints up` beside the Prefect UI, or alone with `complaints web` (several
replicas may run behind a load balancer: all they share is the ledger). Every answer to a
bad request is JSON (API) or a page (customer) that says what is wrong; a traceback never
leaves the server.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Body, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from complaints.channels import keys, portal
from complaints.channels.wire import (
    ERRORS,
    BodyLimit,
    ChasedOut,
    ChaseIn,
    SubmittedOut,
    error,
)
from complaints.settings import Settings
from complaints.templating import environment
from complaints.timesource import utc_now
from rules.intake import ComplaintIn

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Any:
    app = FastAPI(
        title="客户投诉处理 intake API",
        version="1",
        description="Complaints from every channel's own system, and the customer's pages. "
        "Each channel calls with its own key (`complaints key create NAME --channel CODE`) "
        "in `Authorization: Bearer <key>`.",
    )
    pages = environment(settings.templates_dir, autoescape=True)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p != "body") or "body",
                "reason": str(e["msg"]),
            }
            for e in exc.errors()
        ]
        return error(422, "invalid request", fields)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        if request.url.path.startswith("/api/"):
            return error(500, "the service could not answer this time; please try again")
        return _page(
            pages,
            "customer_notice",
            500,
            message="服务暂时不可用，请稍后再试 / "
            "the service could not answer this time; please try again",
        )

    async def caller_of(authorization: str | None, x_api_key: str | None) -> keys.Caller:
        presented = x_api_key
        if authorization and authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
        caller = await run_in_threadpool(keys.authenticate, settings, presented)
        if caller is None:
            raise portal.Refused(401, "a valid API key is required (Authorization: Bearer <key>)")
        return caller

    @app.exception_handler(portal.Refused)
    async def _refused(request: Request, exc: portal.Refused) -> Response:
        if request.url.path.startswith("/api/"):
            return error(exc.status, str(exc), exc.fields)
        return _page(pages, "customer_notice", exc.status, message=_customer_words(exc))

    @app.post(
        "/api/v1/complaints",
        status_code=201,
        response_model=SubmittedOut,
        responses={200: {"model": SubmittedOut, "description": "already registered"}, **ERRORS},
        summary="Register a complaint from this key's channel",
    )
    async def submit_complaint(
        complaint: dict[str, Any] = Body(
            openapi_examples={
                "app": {
                    "value": {
                        "external_ref": "APP-88231",
                        "customer_name": "张三",
                        "customer_phone": "13800138000",
                        "description": "收到的电饭煲内胆有裂纹",
                        "demand": "exchange",
                        "product": "电饭煲 X3",
                        "order_no": "SO-20261201-7",
                    }
                }
            },
            description="The register fields of `ComplaintIn` (see the schema below); "
            "`channel` is the key's and may be left out; `external_ref` is required.",
        ),
        authorization: str | None = Header(default=None),
        x_api_key: str | None = Header(default=None),
    ) -> Response:
        caller = await caller_of(authorization, x_api_key)
        result = await run_in_threadpool(portal.submit, settings, caller, complaint, utc_now())
        out = SubmittedOut(
            case_no=result.case_no,
            status="registered" if result.created else "already_registered",
            flow_run_started=result.flow_run_started,
            promised_response=result.promised_response,
            status_url=result.status_url,
        )
        return JSONResponse(status_code=201 if result.created else 200, content=out.model_dump())

    @app.get(
        "/api/v1/complaints/{case_no}",
        response_model=portal.CaseStatusView,
        responses=ERRORS,
        summary="A case of this key's channel, as it stands",
    )
    async def case_status(
        case_no: str,
        authorization: str | None = Header(default=None),
        x_api_key: str | None = Header(default=None),
    ) -> portal.CaseStatusView:
        caller = await caller_of(authorization, x_api_key)
        number = _case_number(case_no)
        view = await run_in_threadpool(portal.channel_status, settings, caller, number)
        return view

    @app.post(
        "/api/v1/complaints/{case_no}/chase",
        status_code=202,
        response_model=ChasedOut,
        responses=ERRORS,
        summary="The customer asks for progress (催办) through this channel",
    )
    async def chase_case(
        case_no: str,
        body: ChaseIn | None = None,
        authorization: str | None = Header(default=None),
        x_api_key: str | None = Header(default=None),
    ) -> ChasedOut:
        caller = await caller_of(authorization, x_api_key)
        number = _case_number(case_no)
        note = body.note if body else None
        done = await run_in_threadpool(
            portal.channel_chase, settings, caller, number, note, utc_now()
        )
        return ChasedOut(case_no=done.case_no, escalated=done.escalated)

    @app.get("/l/{token}", include_in_schema=False)
    async def short_link(token: str) -> Response:
        """A link from an SMS: the page it stands for, signed in full."""
        target = await run_in_threadpool(portal.unfold, settings, token, utc_now())
        return RedirectResponse(target, status_code=303)

    @app.post("/c/{token}/chase", response_class=HTMLResponse, include_in_schema=False)
    async def chase_page(token: str, request: Request) -> Response:
        note = _form_fields(await request.body()).get("note")
        done = await run_in_threadpool(portal.customer_chase, settings, token, note, utc_now())
        return _page(
            pages,
            "customer_notice",
            202,
            message="已为您催办，我们会尽快处理并与您联系 / we have passed on your request "
            "and will be in touch soon"
            + ("（已上报负责人 / raised with the manager in charge）" if done.escalated else ""),
        )

    @app.get("/c/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def status_page(token: str) -> Response:
        view = await run_in_threadpool(portal.customer_status, settings, token, utc_now())
        return _page(
            pages, "customer_status", 200, case=view, token=token, company=settings.company_name
        )

    async def survey_form(
        token: str, status: int, errors: list[str], given: dict[str, str]
    ) -> Response:
        form = await run_in_threadpool(portal.survey, settings, token, utc_now())
        return _page(
            pages,
            "customer_survey",
            status,
            form=form,
            errors=errors,
            given=given,
            company=settings.company_name,
        )

    @app.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def survey_page(token: str) -> Response:
        return await survey_form(token, 200, [], {})

    @app.post("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def survey_answer(token: str, request: Request) -> Response:
        given = _form_fields(await request.body())
        answer, problems = survey_answer_from_form(given)
        if problems:
            return await survey_form(token, 400, problems, given)
        try:
            await run_in_threadpool(portal.answer_survey, settings, token, answer, utc_now())
        except portal.Refused as exc:
            if exc.status != 400:
                raise
            return await survey_form(token, 400, [str(exc)], given)
        return _page(
            pages,
            "customer_notice",
            200,
            message="感谢您的评价，我们已收到 / thank you, we have your answer",
        )

    _document_complaint_schema(app)
    return BodyLimit(app, settings.api_max_body_bytes)


SURVEY_SCORES = ("efficiency", "resolution", "attitude", "fairness")


def survey_answer_from_form(given: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """A browser form's strings as the survey's typed input, or what is missing or wrong."""
    answer: dict[str, Any] = {}
    problems = []
    for name in SURVEY_SCORES:
        value = given.get(name, "").strip()
        if value not in ("1", "2", "3", "4", "5"):
            problems.append(f"{name}: 请选择 1–5 分 / choose 1 to 5")
        else:
            answer[name] = int(value)
    accepts = given.get("accepts_result", "").strip()
    if accepts not in ("yes", "no"):
        problems.append(
            "accepts_result: 请选择是否接受处理结果 / say whether you accept the result"
        )
    else:
        answer["accepts_result"] = accepts == "yes"
    comment = given.get("comment", "").strip()
    if comment:
        answer["comment"] = comment
    return answer, problems


def _case_number(text: str) -> str:
    from rules.case_number import is_case_number, normalize

    number = str(normalize(text))
    if not is_case_number(number):
        raise portal.Refused(
            422, "invalid case number", [{"field": "case_no", "reason": "TS-YYYYMMDD-NNNN"}]
        )
    return number


def _form_fields(body: bytes) -> dict[str, str]:
    """An HTML form's fields (application/x-www-form-urlencoded; the first of a repeated
    name). Bytes that are not UTF-8 are replaced: the survey's checks then refuse them."""
    from urllib.parse import parse_qsl

    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), max_num_fields=20):
        fields.setdefault(name, value)
    return fields


def _customer_words(exc: portal.Refused) -> str:
    if exc.status == 410:
        return f"此链接已失效 / this link no longer works: {exc}"
    if exc.status == 404:
        return "链接无效 / this link is not valid"
    return str(exc)


def _page(pages: Any, name: str, status: int, **context: Any) -> HTMLResponse:
    html = pages.get_template(f"zh-CN/{name}.html.j2").render(**context)
    return HTMLResponse(html, status_code=status)


def _document_complaint_schema(app: FastAPI) -> None:
    """The body is read as a plain object (so every error is the product's own, naming the
    field); the docs still show the register's schema."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        complaint = ComplaintIn.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in complaint.pop("$defs", {}).items():
            schema.setdefault("components", {}).setdefault("schemas", {})[name] = definition
        schema["components"]["schemas"]["ComplaintIn"] = complaint
        body = schema["paths"]["/api/v1/complaints"]["post"]["requestBody"]["content"]
        body["application/json"]["schema"] = {"$ref": "#/components/schemas/ComplaintIn"}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level="info",
        proxy_headers=False,
    )


def main() -> None:
    import argparse

    from complaints.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m complaints.channels.web")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    serve(get_settings(), args.host, args.port)


if __name__ == "__main__":
    main()
