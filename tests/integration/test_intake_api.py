"""The intake API and the customer's pages as a real server, called with a real HTTP client.

The service runs as `complaints web` would run it, in a process of its own, on a fresh
SQLite ledger, with Prefect unreachable: a complaint is still registered and answered
(its run starts at the next reconcile), which is the outage case. The survey's happy
path, which resumes a real run, is in tests/flows/test_customer_pages.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints.channels import keys, links
from complaints.settings import Settings, get_settings
from complaints.timesource import utc_now
from embedded.stack import free_port, wait_answering
from models.db import engine_for, unit_of_work, upgrade
from models.ledger import AuditEntry
from models.repositories import CaseRepository
from rules.enums import Channel
from tests.hostile import HOSTILE, HOSTILE_TEXT
from tests.integration.cli_support import UNREACHABLE_PREFECT

COMPLAINT: dict[str, Any] = {
    "external_ref": "APP-88231",
    "customer_name": "张三丰",
    "customer_phone": "13812345678",
    "description": "收到的电饭煲内胆有裂纹，无法使用。",
    "demand": "exchange",
    "product": "电饭煲 X3",
    "order_no": "SO-20261201-7",
}


@dataclass
class Service:
    url: str
    settings: Settings
    app_key: str
    hotline_key: str
    process: subprocess.Popen[bytes]

    def post(self, body: Any, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.app_key}"}
        kwargs.setdefault("timeout", 30)  # the first call imports Prefect's client
        return httpx.post(f"{self.url}/api/v1/complaints", json=body, headers=headers, **kwargs)

    def get(self, case_no: str, key: str | None = None) -> httpx.Response:
        headers = {"X-API-Key": key or self.app_key}
        return httpx.get(f"{self.url}/api/v1/complaints/{case_no}", headers=headers)

    def cases(self) -> int:
        with unit_of_work(self.settings.database_url) as session:
            return len(CaseRepository(session).list(limit=1000))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{root / 'ledger.db'}"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")},
        "COMPLAINTS_DATABASE_URL": url,
        "COMPLAINTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PREFECT_API_URL": UNREACHABLE_PREFECT,
    }
    upgrade(url)
    # as the service has them: no link key of the end-to-end stack this process may hold
    settings = Settings(
        _env_file=None, database_url=url, public_url=env["COMPLAINTS_PUBLIC_URL"], link_secret=None
    )
    app_key = keys.create(settings, "app-backend", Channel.APP, utc_now())
    hotline_key = keys.create(settings, "call-centre", Channel.HOTLINE, utc_now())
    log = root / "web.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "complaints.channels.web", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    try:
        wait_answering(f"http://127.0.0.1:{port}/health", process, log, 60)
        yield Service(f"http://127.0.0.1:{port}", settings, app_key, hotline_key, process)
    finally:
        process.terminate()
        process.wait(timeout=20)
        engine_for(url).dispose()
        get_settings.cache_clear()
    assert "Traceback" not in log.read_text(), "a request ended in a traceback in the server"


def complaint(**changes: Any) -> dict[str, Any]:
    body = {**COMPLAINT, **changes}
    return {k: v for k, v in body.items() if v is not None}


def test_a_complaint_from_the_app_is_registered_and_answered_with_its_number_and_promise(
    service: Service,
) -> None:
    response = service.post(complaint(external_ref="APP-1"))

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["case_no"].startswith("TS-")
    assert answer["status"] == "registered"
    assert answer["promised_response"].startswith("24 小时内答复")
    assert answer["status_url"].startswith(f"{service.url}/c/")
    # Prefect is down: the complaint is in the ledger all the same, for reconcile to start
    assert answer["flow_run_started"] is False
    with unit_of_work(service.settings.database_url) as session:
        case = CaseRepository(session).get(answer["case_no"])
        assert case is not None and case.flow_run_id is None
        assert case.channel is Channel.APP and case.receiver == "app-backend (API)"
        assert [c.case_no for c in CaseRepository(session).unstarted()] == [answer["case_no"]]


def test_the_same_reference_again_returns_the_same_case_and_says_so(service: Service) -> None:
    first = service.post(complaint(external_ref="APP-2")).json()

    again = service.post(complaint(external_ref="APP-2"))

    assert again.status_code == 200
    assert again.json()["case_no"] == first["case_no"]
    assert again.json()["status"] == "already_registered"


def test_a_reference_reused_for_a_different_complaint_is_a_conflict(service: Service) -> None:
    service.post(complaint(external_ref="APP-3"))
    before = service.cases()

    clash = service.post(complaint(external_ref="APP-3", description="完全不同的另一件事情。"))

    assert clash.status_code == 409
    assert clash.json()["fields"] == [{"field": "external_ref", "reason": "already used"}]
    assert service.cases() == before


def test_a_channel_reads_its_own_case_and_never_another_channels(service: Service) -> None:
    case_no = service.post(complaint(external_ref="APP-4")).json()["case_no"]

    own = service.get(case_no)
    other = service.get(case_no, key=service.hotline_key)
    lower = service.get(case_no.lower())

    assert own.status_code == 200
    assert own.json()["stage"] == "已受理 / Received"
    assert "张三丰" not in own.text and "13812345678" not in own.text
    assert lower.status_code == 200
    assert other.status_code == 404
    assert other.json()["error"] == f"no case {case_no} for the channel hotline"


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no key"),
        ({"Authorization": "Bearer ck_not-a-key"}, "an unknown key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "another scheme"),
        ({"X-API-Key": "x" * 5000}, "an oversized key"),
    ],
)
def test_a_request_without_a_valid_key_is_refused_and_writes_nothing(
    service: Service, headers: dict[str, str], why: str
) -> None:
    before = service.cases()

    response = httpx.post(
        f"{service.url}/api/v1/complaints", json=complaint(external_ref="APP-K"), headers=headers
    )

    assert response.status_code == 401, why
    assert "API key" in response.json()["error"]
    assert service.cases() == before


def test_a_revoked_key_stops_working_at_once(service: Service) -> None:
    key = keys.create(service.settings, "old-form", Channel.APP, utc_now())
    assert service.post(complaint(external_ref="APP-R1"), key=key).status_code == 201

    keys.revoke(service.settings, "old-form", utc_now())

    assert service.post(complaint(external_ref="APP-R2"), key=key).status_code == 401
    assert service.get("TS-20261203-0001", key=key).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (complaint(customer_name=None), "customer_name"),
        (complaint(demand="a pony"), "demand"),
        (complaint(customer_phone="12345"), "customer_phone"),
        (complaint(external_ref=None), "external_ref"),
        (complaint(received_at="2099-01-01T00:00:00+08:00"), "received_at"),
        (complaint(answered_on_spot="yes"), "answered_on_spot"),
        (complaint(description="坏\x00了了了了"), "description"),
        (complaint(extra_field=1), "extra_field"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    service: Service, body: dict[str, Any], field: str
) -> None:
    before = service.cases()

    response = service.post(body)

    assert response.status_code == 422, response.text
    assert field in {f["field"] for f in response.json()["fields"]}
    assert service.cases() == before


HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
REGISTER_FIELDS = sorted({*COMPLAINT, "customer_email", "received_at", "occurred_at", "severity"})


@HYPOTHESIS
@given(field=st.sampled_from(REGISTER_FIELDS), value=HOSTILE)
def test_any_hostile_value_in_any_field_is_refused_in_json_naming_it_and_writes_nothing(
    service: Service, field: str, value: Any
) -> None:
    # a reference of its own each time, also when an example is replayed
    body = {**complaint(external_ref=f"APP-H-{uuid.uuid4()}"), field: value}
    if field == "external_ref":
        body["external_ref"] = value
    before = service.cases()

    response = httpx.post(  # as a careless client writes it: NaN and Infinity as JSON allows
        f"{service.url}/api/v1/complaints",
        content=json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        headers={"Authorization": f"Bearer {service.app_key}", "Content-Type": "application/json"},
        timeout=30,
    )

    if response.status_code == 201:  # a value that makes sense (the models' tests say how)
        assert service.cases() == before + 1
        return
    assert response.status_code in (409, 413, 422), (response.status_code, response.text[:300])
    answer = response.json()  # JSON, never a traceback (the module checks the server log)
    if response.status_code == 413:  # larger than any complaint: refused before it is read
        assert "larger than" in answer["error"]
    else:
        assert field in {f["field"] for f in answer["fields"]}, answer
    assert service.cases() == before


@pytest.fixture(scope="module")
def survey_case(service: Service) -> str:
    """One case for every drawn survey form: none of them may be taken, so each finds it as
    the last left it (a case per form would spend its time failing to start a run)."""
    return service.post(complaint(external_ref="APP-SV")).json()["case_no"]


@HYPOTHESIS
@given(
    form=st.dictionaries(
        st.sampled_from(["efficiency", "accepts_result", "comment", "x"]),
        HOSTILE_TEXT.filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)),
        max_size=4,
    )
)
def test_any_hostile_survey_form_is_answered_with_a_page_never_a_traceback(
    service: Service, survey_case: str, form: dict[str, str]
) -> None:
    case_no = survey_case
    url = links.survey_url(
        service.settings, links.secret(service.settings, utc_now()), case_no, 0, utc_now()
    )

    answer = httpx.post(url, data=form, timeout=30)

    # not at its callback yet, the form incomplete, or larger than any form: said, nothing taken
    assert answer.status_code in (400, 409, 413), answer.status_code
    if answer.status_code != 413:
        assert "<html" in answer.text.lower()
    with unit_of_work(service.settings.database_url) as session:
        case = CaseRepository(session).get(case_no)
        assert case is not None
        assert not list(CaseRepository(session).surveys(case.id))


@pytest.mark.parametrize(
    "content", [b"not json", b"[1, 2]", b'"a string"', '{"a": 1}'.encode("utf-16")]
)
def test_a_body_that_is_no_json_object_is_refused_in_json(service: Service, content: bytes) -> None:
    response = httpx.post(
        f"{service.url}/api/v1/complaints",
        content=content,
        headers={"Authorization": f"Bearer {service.app_key}", "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["error"]


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_blank_reference_is_refused_naming_it_and_writes_nothing(
    service: Service, blank: str
) -> None:
    before = service.cases()

    response = service.post(complaint(external_ref=blank))

    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["external_ref"]
    assert service.cases() == before


def test_a_key_with_a_long_name_registers_complaints_without_a_receiver(service: Service) -> None:
    long_key = keys.create(service.settings, "渠道" * 24, Channel.APP, utc_now())  # 48 characters

    response = service.post(complaint(external_ref="APP-LONG-KEY-1"), key=long_key)

    assert response.status_code == 201, response.text
    with unit_of_work(service.settings.database_url) as session:
        case = CaseRepository(session).get(response.json()["case_no"])
        assert case is not None and case.receiver == "渠道" * 22 + " (API)"


def test_a_complaint_for_another_channel_is_refused(service: Service) -> None:
    response = service.post(complaint(external_ref="APP-C", channel="hotline"))

    assert response.status_code == 403
    assert response.json()["fields"][0]["field"] == "channel"


def test_an_oversized_body_is_refused_before_it_is_read(service: Service) -> None:
    huge = complaint(external_ref="APP-BIG", description="很" * 100_000)
    before = service.cases()

    declared = service.post(huge)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body streams in
        yield b'{"external_ref": "APP-BIG2", "description": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    streamed = httpx.post(
        f"{service.url}/api/v1/complaints",
        content=chunks(),
        headers={"Authorization": f"Bearer {service.app_key}"},
    )

    assert declared.status_code == 413 and streamed.status_code == 413
    assert "larger than 65536 bytes" in declared.json()["error"]
    assert service.cases() == before


def test_the_status_page_shows_the_stage_masked_and_nothing_of_the_handlers(
    service: Service,
) -> None:
    status_url = service.post(complaint(external_ref="APP-P")).json()["status_url"]

    page = httpx.get(status_url)

    assert page.status_code == 200
    assert "已受理 / Received" in page.text and "24 小时内答复" in page.text
    assert "张三丰" not in page.text and "13812345678" not in page.text
    assert "app-backend" not in page.text  # who registered it is the desk's business
    assert 'name="viewport"' in page.text  # readable on a phone


def test_a_forged_or_expired_link_is_refused_with_a_page_that_says_so(service: Service) -> None:
    case_no = service.post(complaint(external_ref="APP-F")).json()["case_no"]
    key = links.secret(service.settings, utc_now())
    past = links.Link(links.Page.STATUS, case_no, 0, utc_now() - timedelta(minutes=1))
    survey_as_status = links.sign(
        key, links.Link(links.Page.SURVEY, case_no, 0, utc_now() + timedelta(days=1))
    )
    valid = links.sign(
        key, links.Link(links.Page.STATUS, case_no, 0, utc_now() + timedelta(days=1))
    )
    body, mac = valid.split(".")
    forged = links.sign(b"another key", links.Link(links.Page.STATUS, case_no, 0, utc_now()))

    assert httpx.get(f"{service.url}/c/{links.sign(key, past)}").status_code == 410
    for token in (forged, survey_as_status, f"{body}x.{mac}", "garbage", "a.b.c"):
        page = httpx.get(f"{service.url}/c/{token}")
        assert page.status_code == 404, token
        assert "链接无效" in page.text
    # a status link is no survey link, and a forged survey is not answered either
    assert httpx.get(f"{service.url}/s/{valid}").status_code == 404
    assert httpx.post(f"{service.url}/s/{forged}", data={"efficiency": "5"}).status_code == 404
    survey_past = links.sign(key, links.Link(links.Page.SURVEY, case_no, 0, utc_now()))
    assert httpx.get(f"{service.url}/s/{survey_past}").status_code == 410


def test_a_survey_link_before_the_case_reaches_its_callback_says_it_is_not_time_yet(
    service: Service,
) -> None:
    case_no = service.post(complaint(external_ref="APP-S")).json()["case_no"]
    url = links.survey_url(
        service.settings, links.secret(service.settings, utc_now()), case_no, 0, utc_now()
    )

    page = httpx.get(url)
    answer = httpx.post(url, data={"efficiency": "5"})

    assert page.status_code == 409 and answer.status_code == 409
    assert "not ready for your opinion yet" in page.text
    with unit_of_work(service.settings.database_url) as session:
        case = CaseRepository(session).get(case_no)
        assert case is not None
        entries: list[AuditEntry] = list(CaseRepository(session).audit(case.id))
    assert [e.step for e in entries if e.step not in ("register", "escalate")] == []


def test_the_api_is_documented_with_the_register_fields(service: Service) -> None:
    schema = httpx.get(f"{service.url}/openapi.json").json()

    post = schema["paths"]["/api/v1/complaints"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ComplaintIn"
    }
    assert "customer_name" in schema["components"]["schemas"]["ComplaintIn"]["properties"]
    assert "/c/{token}" not in schema["paths"]
    assert httpx.get(f"{service.url}/docs").status_code == 200


def chases_of(service: Service, case_no: str) -> list[AuditEntry]:
    with unit_of_work(service.settings.database_url) as session:
        repo = CaseRepository(session)
        case = repo.get(case_no)
        assert case is not None
        return [e for e in repo.audit(case.id) if e.decision == "chased"]


def escalations_of(service: Service, case_no: str) -> list[str]:
    from models.repositories import EscalationRepository

    with unit_of_work(service.settings.database_url) as session:
        case = CaseRepository(session).get(case_no)
        assert case is not None
        return [e.trigger for e in EscalationRepository(session).of_case(case.id)]


def test_a_chase_in_time_is_recorded_for_the_handler_once_and_alerts_nobody(
    service: Service,
) -> None:
    answer = service.post(complaint(external_ref="APP-CH1")).json()
    case_no = answer["case_no"]
    assert 'id="chase"' in httpx.get(answer["status_url"]).text

    pressed = [
        httpx.post(f"{answer['status_url']}/chase", data={"note": "请尽快处理"}) for _ in "12"
    ]
    by_api = httpx.post(
        f"{service.url}/api/v1/complaints/{case_no}/chase",
        json={"note": "客户来电催办"},
        headers={"Authorization": f"Bearer {service.app_key}"},
    )

    assert [p.status_code for p in pressed] == [202, 202] and "已为您催办" in pressed[0].text
    assert by_api.status_code == 202 and by_api.json() == {"case_no": case_no, "escalated": False}
    chased = chases_of(service, case_no)
    assert [(e.step, e.payload["via"]) for e in chased] == [
        ("correspondence", "status-page"),  # pressing twice within the hour is one chase
        ("correspondence", "api:app-backend"),
    ]
    assert "chased" not in escalations_of(service, case_no)


def test_a_chase_after_the_promised_time_escalates_to_the_department_head(
    service: Service,
) -> None:
    two_days_ago = (utc_now() - timedelta(days=2)).isoformat()
    answer = service.post(complaint(external_ref="APP-CH2", received_at=two_days_ago)).json()

    chased = httpx.post(
        f"{service.url}/api/v1/complaints/{answer['case_no']}/chase",
        headers={"Authorization": f"Bearer {service.app_key}"},
    )

    assert chased.status_code == 202 and chased.json()["escalated"] is True
    assert "chased" in escalations_of(service, answer["case_no"])


def test_a_chase_for_another_channels_case_or_with_bad_words_is_refused(
    service: Service,
) -> None:
    case_no = service.post(complaint(external_ref="APP-CH3")).json()["case_no"]
    url = f"{service.url}/api/v1/complaints/{case_no}/chase"

    other = httpx.post(url, headers={"Authorization": f"Bearer {service.hotline_key}"})
    control = httpx.post(
        url, json={"note": "快\x1b[2J点"}, headers={"Authorization": f"Bearer {service.app_key}"}
    )
    unknown = httpx.post(
        url, json={"nope": 1}, headers={"Authorization": f"Bearer {service.app_key}"}
    )

    assert other.status_code == 404
    assert control.status_code == 422 and control.json()["fields"][0]["field"] == "note"
    assert unknown.status_code == 422
    assert chases_of(service, case_no) == []


def test_with_a_directory_a_receiver_the_caller_types_must_be_a_receiver_in_it(
    service: Service,
) -> None:
    from complaints.cases import staff
    from rules.enums import Department, Role
    from rules.staff import Person

    desk = Person(name="热线-陈静", department=Department.CUSTOMER_SERVICE, roles={Role.RECEIVER})
    handler = Person(name="物流-吴磊", department=Department.LOGISTICS, roles={Role.HANDLER})
    staff.save(service.settings, [desk, handler], utc_now())  # in force from here
    try:
        before = service.cases()
        stranger = service.post(complaint(external_ref="APP-S1", receiver="路人甲"))
        no_role = service.post(complaint(external_ref="APP-S2", receiver="物流-吴磊"))
        refused_nothing = service.cases() == before
        typed = service.post(complaint(external_ref="APP-S3", receiver="热线-陈静"))
        by_key = service.post(complaint(external_ref="APP-S4"))  # the key's name, not a person
    finally:  # out of force again for the module's other tests
        for person in (desk, handler):
            staff.deactivate(service.settings, person.name, utc_now())

    for refused, said in ((stranger, "is not in the staff directory"), (no_role, "受理人")):
        assert refused.status_code == 422, refused.text
        (field,) = refused.json()["fields"]
        assert field["field"] == "receiver" and said in field["reason"], field
    assert refused_nothing
    assert (typed.status_code, by_key.status_code) == (201, 201), (typed.text, by_key.text)
    assert service.cases() == before + 2
