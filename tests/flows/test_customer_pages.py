"""The customer follows their case and answers the survey themselves, in a phone's browser.

A real case runs on the embedded stack to its callback; the links come from the messages
the customer was sent (as recorded in the ledger); the pages are served by the product's
web service and driven in Debian's Chromium at a phone's window size. Answering resumes
the callback step as the callback staff's form would: accepted, the case closes; the
link then works no more.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from complaints.cases import casefile, casework
from complaints.settings import DEFAULT_CHANNELS
from embedded.stack import Stack
from rules.enums import Channel, Severity
from tests.flows.conftest import SMS_TEMPLATES
from tests.flows.support import (
    HAPPY_PATH,
    act_through,
    act_when_waiting,
    chromium,
    new_complaint,
    submit,
    suspended_at_its_wait,
    wait_closed,
    wait_until,
)
from tests.integration.slack_server import FakeSlack
from tests.integration.sms_server import FakeSms

pytestmark = pytest.mark.e2e


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the phone's screenshots go: the README's folder when
    COMPLAINTS_UPDATE_SCREENSHOTS is set, else a temporary one, so a test run leaves the
    checkout as it was."""
    if os.environ.get("COMPLAINTS_UPDATE_SCREENSHOTS"):
        return Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    return tmp_path


@pytest.fixture(scope="module")
def web(product: Stack) -> Iterator[Stack]:
    product.start_web()
    try:
        yield product
    finally:
        if product.web is not None:
            product.web.terminate()
            product.web.wait(timeout=20)
            product.web = None


@pytest.fixture(scope="module")
def phone() -> Iterator[Any]:
    with chromium("390,844", phone=True) as driver:
        yield driver


def link_in(settings: Any, case_no: str, kind: str, page: str) -> str:
    file = casefile.read(settings, case_no)
    body = next(m.body for m in file.messages if m.kind == kind)
    found = re.search(rf"{re.escape(settings.public_url)}/{page}/\S+", body)
    assert found, f"no /{page}/ link in the {kind} message: {body}"
    return found.group(0)


def test_the_customer_follows_the_case_and_answers_the_survey_on_a_phone(
    web: Stack, settings: Any, phone: Any, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    case_no, steps = submit(settings, new_complaint())
    act_through(settings, case_no, steps, HAPPY_PATH[:-1])  # all but the callback
    wait_until(  # the ledger is written a moment before the run suspends: a survey
        lambda: (  # answered in that moment is asked to try again (409), not lost
            casework.load(settings, case_no).current_step == "callback"
            and suspended_at_its_wait(settings, case_no)
        ),
        what=f"{case_no} to wait for its callback",
    )
    assert settings.public_url == web.web_url

    phone.get(link_in(settings, case_no, "acknowledgement", "c"))
    assert phone.find_element(By.ID, "case-no").text == case_no
    assert "满意度回访" in phone.find_element(By.ID, "stage").text
    assert phone.find_element(By.ID, "result").is_displayed()
    width = phone.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the status page is {width}px wide on a 390px phone"
    phone.save_screenshot(str(screenshots / "customer-status-phone.png"))

    survey = link_in(settings, case_no, "survey_invitation", "s")
    phone.get(survey)
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # nothing chosen
    errors = WebDriverWait(phone, 30).until(lambda d: d.find_elements(By.ID, "errors"))[0].text
    assert "efficiency" in errors and "accepts_result" in errors
    for name, score in (("efficiency", 5), ("resolution", 4), ("attitude", 5), ("fairness", 4)):
        phone.find_element(By.CSS_SELECTOR, f"input[name={name}][value='{score}']").click()
    phone.find_element(By.CSS_SELECTOR, "input[name=accepts_result][value=yes]").click()
    phone.find_element(By.NAME, "comment").send_keys("处理很及时，谢谢")
    phone.save_screenshot(str(screenshots / "customer-survey-phone.png"))
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    notice = WebDriverWait(phone, 30).until(lambda d: d.find_elements(By.ID, "notice"))[0]
    assert "已收到" in notice.text, phone.page_source

    wait_closed(settings, case_no)
    file = casefile.read(settings, case_no)
    (answer,) = file.surveys
    assert (answer.efficiency, answer.resolution, answer.accepts_result) == (5, 4, True)
    callback = next(e for e in file.audit if e.step == "callback")
    assert callback.actor == "客户本人（在线问卷）" and callback.decision == "satisfied"

    again = httpx.post(survey, data={"efficiency": "1"})
    assert again.status_code == 410  # it works once
    phone.get(link_in(settings, case_no, "acknowledgement", "c"))
    assert "已办结" in phone.find_element(By.ID, "stage").text


def test_each_delay_tells_the_customer_why_and_when_once(settings: Any) -> None:
    from datetime import timedelta

    from complaints.timesource import utc_now

    case_no, steps = submit(settings, new_complaint())
    act_through(settings, case_no, steps, HAPPY_PATH[:5])  # up to the approved plan
    first = utc_now() + timedelta(days=5)
    second = utc_now() + timedelta(days=9)
    for reason, new_deadline in (("厂家补货需要时间", first), ("物流停运两天", second)):
        act_when_waiting(
            settings,
            case_no,
            "execute",
            {
                "actor": "物流部-赵工",
                "kind": "延期",
                "note": "已联系厂家",
                "delay_reason": reason,
                "new_deadline": new_deadline.isoformat(),
            },
        )
    act_when_waiting(settings, case_no, "execute", steps["execute"])  # done
    wait_until(
        lambda: casework.load(settings, case_no).current_step == "feedback",
        what=f"{case_no} to wait for its feedback",
    )

    notices = [m for m in casefile.read(settings, case_no).messages if m.kind.startswith("delay")]
    assert [m.kind for m in notices] == ["delay_notice#0", "delay_notice#1"]
    assert "厂家补货需要时间" in notices[0].body and "物流停运两天" in notices[1].body
    local = settings.tz
    assert f"{first.astimezone(local):%Y-%m-%d %H:%M} 前完成" in notices[0].body
    assert f"{second.astimezone(local):%Y-%m-%d %H:%M} 前完成" in notices[1].body


def test_a_customer_who_rejects_the_result_on_the_survey_page_reopens_the_case_and_alerts_leadership(
    web: Stack, settings: Any, slack: FakeSlack
) -> None:
    complaint = new_complaint(severity=Severity.SERIOUS)
    case_no, steps = submit(settings, complaint)
    steps["grade"] = {**steps["grade"], "severity": "严重"}  # nothing else to escalate
    act_through(settings, case_no, steps, HAPPY_PATH[:-1])  # all but the callback
    wait_until(  # the ledger is written a moment before the run suspends: a survey
        lambda: (  # answered in that moment is asked to try again (409), not lost
            casework.load(settings, case_no).current_step == "callback"
            and suspended_at_its_wait(settings, case_no)
        ),
        what=f"{case_no} to wait for its callback",
    )
    survey = link_in(settings, case_no, "survey_invitation", "s")

    answer = httpx.post(  # what the page's form sends
        survey,
        data={
            "efficiency": "2",
            "resolution": "1",
            "attitude": "3",
            "fairness": "2",
            "accepts_result": "no",
            "comment": "换的货还是坏的",
        },
        timeout=60,
    )

    assert answer.status_code == 200, answer.text
    wait_until(
        lambda: (v := casework.load(settings, case_no)).cycle == 1 and v.waiting_key == "plan-c1",
        what="the case to reopen and wait for a new plan",
    )
    file = casefile.read(settings, case_no)
    assert [e.trigger for e in file.escalations] == ["rejected"]
    callback = next(e for e in file.audit if e.step == "callback")
    assert callback.actor == "客户本人（在线问卷）" and callback.decision == "not_satisfied"
    wait_until(
        lambda: [
            m
            for m in slack.messages
            if m.channel == DEFAULT_CHANNELS["L3"]
            and case_no in json.dumps(m.blocks, ensure_ascii=False)
        ],
        timeout=60,
        what="the leadership message",
    )
    assert httpx.post(survey, data={"efficiency": "5"}).status_code == 410  # answered once


SATISFIED = {
    "efficiency": "5",
    "resolution": "5",
    "attitude": "5",
    "fairness": "4",
    "accepts_result": "yes",
}


@pytest.mark.parametrize("path", ["answered on the spot", "not substantiated"])
def test_a_case_that_skips_the_plan_still_invites_the_customer_whose_answer_closes_it(
    web: Stack, settings: Any, path: str
) -> None:
    if path == "answered on the spot":
        complaint = new_complaint(answered_on_spot=True, on_spot_answer="已告知退货流程")
        case_no, _ = submit(settings, complaint)
    else:
        case_no, _ = submit(settings, new_complaint())
        verdict = {
            "actor": "核实-李强",
            "substantiated": False,
            "findings": "物流记录显示已按时签收",
            "explanation_to_customer": "经核实，快递已于11月20日由您本人签收。",
        }
        act_when_waiting(settings, case_no, "verify", verdict)
    wait_until(
        lambda: (
            casework.load(settings, case_no).current_step == "callback"
            and suspended_at_its_wait(settings, case_no)
        ),
        what=f"{case_no} to wait for its callback",
    )

    answer = httpx.post(link_in(settings, case_no, "survey_invitation", "s"), data=SATISFIED)

    assert answer.status_code == 200, answer.text
    wait_closed(settings, case_no)
    (survey,) = casefile.read(settings, case_no).surveys
    assert survey.actor == "客户本人（在线问卷）" and survey.accepts_result


def test_a_hotline_customer_with_only_a_mobile_is_texted_a_link_to_their_case(
    web: Stack, settings: Any, sms: FakeSms
) -> None:
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    complaint = new_complaint(channel=Channel.HOTLINE, customer_email=None, customer_phone=phone)
    case_no, _ = submit(settings, complaint)

    (text,) = wait_until(
        lambda: [t for t in sms.texts if t.phone == phone],
        what="the acknowledgement SMS at the provider",
    )
    assert text.template == SMS_TEMPLATES["acknowledgement"] and text.params["case"] == case_no

    page = httpx.get(f"{settings.public_url}/l/{text.params['code']}", follow_redirects=True)
    assert page.status_code == 200 and case_no in page.text
    message = next(
        m for m in casefile.read(settings, case_no).messages if m.kind == "acknowledgement"
    )
    assert (message.delivery, message.recipient) == ("sms", phone)
