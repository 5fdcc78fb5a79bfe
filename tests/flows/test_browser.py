"""An operator resumes a case in the real Prefect UI, in Chromium, as a person would.

Debian's `chromium` and `chromium-driver` drive the UI the server serves: open the
suspended case's run, press Resume, fill the form, submit, and see the case move on —
once on an idle stack and once while a burst of complaints is being processed (the
moment when the server is busiest and the UI, which does not retry, used to fail).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from complaints.cases import casefile, casework, intake
from complaints.timesource import utc_now
from embedded.stack import Stack
from tests.flows.support import (
    chromium,
    new_complaint,
    submit,
    suspended_at_its_wait,
    wait_until,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("1400,1000") as driver:
        yield driver


def form_field(dialog: Any, label: str) -> Any:
    from selenium.webdriver.common.by import By

    return dialog.find_element(
        By.XPATH,
        ".//div[contains(concat(' ', normalize-space(@class), ' '), ' schema-form-property ')]"
        f"[.//span[@class='schema-form-property__label' and normalize-space()='{label}']]",
    )


def resume_verification_in_the_ui(
    browser: Any, stack: Stack, run_id: str, actor: str, findings: str
) -> None:
    """Open the run, press Resume, fill the verification form and submit it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 90)
    browser.get(f"{stack.ui_url}/runs/flow-run/{run_id}")
    wait.until(
        ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Resume']"))
    ).click()
    dialog = wait.until(
        ec.visibility_of_element_located(
            (By.XPATH, "//*[@role='dialog'][.//span[normalize-space()='处理人 / Acted by']]")
        )
    )
    form_field(dialog, "处理人 / Acted by").find_element(By.TAG_NAME, "textarea").send_keys(actor)
    form_field(dialog, "投诉属实 / Substantiated").find_element(
        By.CSS_SELECTOR, "[role=switch]"
    ).click()
    form_field(dialog, "核实情况 / Findings").find_element(By.TAG_NAME, "textarea").send_keys(
        findings
    )
    dialog.find_element(By.XPATH, ".//button[normalize-space()='Submit']").click()
    wait.until(ec.invisibility_of_element(dialog))
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Failed to resume" not in page, page[:500]


def sees_the_case_waiting_at_grading(browser: Any, stack: Stack, run_id: str) -> bool:
    """What the operator sees after a reload: the run tagged with its new step.

    The UI is a single-page app: the page has loaded long before it has fetched and drawn
    the run, so give it a while to draw before concluding the tag is not there.
    """
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{stack.ui_url}/runs/flow-run/{run_id}")
    tag = (By.XPATH, "//*[normalize-space()='步骤:grade']")
    try:
        WebDriverWait(browser, 15).until(ec.presence_of_element_located(tag))
    except TimeoutException:
        return False
    return True


def verified_by(settings: Any, case_no: str) -> list[str]:
    return [e.actor for e in casefile.read(settings, case_no).audit if e.step == "verify"]


def resume_and_follow(browser: Any, product: Stack, settings: Any, case_no: str) -> None:
    view = casework.load(settings, case_no)
    assert view.flow_run_id
    actor = f"核实-浏览器-{case_no[-4:]}"
    resume_verification_in_the_ui(browser, product, view.flow_run_id, actor, "网页上核实属实")
    wait_until(
        lambda: (
            casework.load(settings, case_no).current_step == "grade"
            and suspended_at_its_wait(settings, case_no)
        ),
        timeout=180,
        what=f"{case_no} to wait at grading after the UI resume",
    )
    assert verified_by(settings, case_no) == [actor]
    try:
        wait_until(
            lambda: sees_the_case_waiting_at_grading(browser, product, view.flow_run_id or ""),
            timeout=60,
            what="the UI to show the run at its new step",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {what_the_ui_shows(browser, view.flow_run_id)}") from None


def what_the_ui_shows(browser: Any, run_id: str) -> str:
    """The run's tags as the API has them and the start of the page, for a failure."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from selenium.webdriver.common.by import By

    with get_client(sync_client=True) as client:
        tags = client.read_flow_run(UUID(run_id)).tags
    page = browser.find_element(By.TAG_NAME, "body").text
    return f"the API has tags {tags}; the page shows {page[:600]!r}"


def test_an_operator_resumes_a_suspended_case_in_the_prefect_ui(
    browser: Any, product: Stack, settings: Any
) -> None:
    case_no, _ = submit(settings, new_complaint())
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the case to suspend")
    resume_and_follow(browser, product, settings, case_no)


def test_a_resume_in_the_ui_goes_through_while_a_burst_is_processed(
    browser: Any, product: Stack, settings: Any
) -> None:
    case_no, _ = submit(settings, new_complaint())
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the case to suspend")

    burst = [new_complaint() for _ in range(3 * product.worker_limit)]
    submitted: list[Any] = []

    def flood() -> None:
        with ThreadPoolExecutor(len(burst)) as pool:
            submitted.extend(pool.map(lambda c: intake.submit(c, settings, utc_now()), burst))

    flooding = threading.Thread(target=flood)
    flooding.start()
    try:
        resume_and_follow(browser, product, settings, case_no)
    finally:
        flooding.join()
    assert all(s.flow_run_id for s in submitted), [s.start_error for s in submitted]
    wait_until(
        lambda: all(suspended_at_its_wait(settings, s.case_no) for s in submitted),
        timeout=300,
        what="the burst to wait at verification",
    )
