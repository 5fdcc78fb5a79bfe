"""End to end: work finds its people. On the embedded stack with the local Slack, a case's
department gets the forwarding notice when the case starts; the person who may verify it,
then its grader, then an approver other than the grader each get a direct message when the
case waits for them, once each; and `complaints todo` lists what waits for each of them."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from typing import Any

import pytest
from prefect.deployments import run_deployment

from complaints.cases import casework, staff, worklist
from complaints.settings import DEFAULT_CHANNELS
from complaints.timesource import utc_now
from rules.enums import Category, Department, Role, Severity
from rules.staff import Person
from tests.flows.support import STEP_TIMEOUT, act_when_waiting, new_complaint, submit, wait_until
from tests.integration.slack_server import FakeSlack

pytestmark = pytest.mark.e2e

NOTICE = "complaint_notice"


def notices_to(slack: FakeSlack, channel: str, case_no: str) -> list[str]:
    return [
        json.dumps(m.blocks, ensure_ascii=False)
        for m in slack.messages
        if m.channel == channel
        and (m.metadata or {}).get("event_type") == NOTICE
        and case_no in json.dumps(m.blocks, ensure_ascii=False)
    ]


def todo(settings: Any, person: str) -> list[str]:
    return [w.case_no for w in worklist.todo(settings, person=person)]


def working_today(settings: Any) -> bool:
    today = utc_now().astimezone(settings.tz).date()
    return settings.sla.clock(settings.tz).calendar.is_working_day(today)


def worklist_table(key: str) -> str:
    """The newest version of a table artifact, as the UI shows it ("" when none)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    if not found:
        return ""
    data = found[0].data  # a table is kept as JSON text, its Chinese escaped
    return json.dumps(json.loads(data) if isinstance(data, str) else data, ensure_ascii=False)


def test_the_department_and_then_each_person_whose_turn_it_is_are_told_once(
    settings: Any, slack: FakeSlack
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    grader = Person(
        name=f"物流-李强-{tag}",
        department=Department.LOGISTICS,
        roles={Role.HANDLER, Role.DEPARTMENT_DIRECTOR},
        slack_id=f"U0G{tag}",
    )
    approver = Person(
        name=f"物流-赵敏-{tag}",
        department=Department.LOGISTICS,
        roles={Role.DEPARTMENT_DIRECTOR},
        slack_id=f"U0A{tag}",
    )
    people = (grader, approver)
    slack.members.update({f"{p.slack_id.lower()}@example.com": p.slack_id for p in people})  # type: ignore[union-attr]
    staff.save(settings, list(people), utc_now())
    try:
        complaint = new_complaint(severity=Severity.SERIOUS, category=Category.LOGISTICS)
        case_no, steps = submit(settings, complaint)

        forwarded = wait_until(
            lambda: notices_to(slack, DEFAULT_CHANNELS["W"], case_no),
            what="the forwarding notice in the department's channel",
        )
        assert "转交物流部" in forwarded[0] and "/runs/flow-run/" in forwarded[0]
        assert complaint.customer_phone not in forwarded[0]
        assert complaint.customer_name not in forwarded[0]
        wait_until(
            lambda: notices_to(slack, grader.slack_id or "", case_no),
            what="the verifier's turn",
        )
        # (other tests' cases of 物流部 may wait on the same stack: theirs are his too)
        assert case_no in todo(settings, grader.name)
        wait_until(  # the department's table in the UI names the case and whose turn it is
            lambda: case_no in (t := worklist_table("worklist-logistics")) and grader.name in t,
            what="物流部's worklist table in the UI",
        )

        act_when_waiting(settings, case_no, "verify", {**steps["verify"], "actor": grader.name})
        act_when_waiting(settings, case_no, "grade", {**steps["grade"], "actor": grader.name})
        told_approver = wait_until(
            lambda: notices_to(slack, approver.slack_id or "", case_no),
            what="the approver's turn",
        )

        assert "审批定级" in told_approver[0]
        to_grader = notices_to(slack, grader.slack_id or "", case_no)
        assert len(to_grader) == 2  # verify, grade; never the approval of their own grading
        assert not any("审批定级" in m for m in to_grader)
        assert case_no in todo(settings, approver.name)
        assert case_no not in todo(settings, grader.name)
        assert casework.load(settings, case_no).current_step == "approve_grade"
        assert len(notices_to(slack, DEFAULT_CHANNELS["W"], case_no)) == 1  # told once

        # The morning list, as its schedule runs it: the approver's lists exactly what waits
        # for them. A day off sends nobody anything.
        open_work = set(todo(settings, approver.name))
        before = len(slack.messages)
        run = run_deployment("morning-list/morning-list", timeout=STEP_TIMEOUT)
        assert run.state is not None and run.state.is_completed(), run.state
        mornings = wait_until(
            lambda: (
                [
                    json.dumps(m.blocks, ensure_ascii=False)
                    for m in slack.messages[before:]
                    if "今日待办" in json.dumps(m.blocks, ensure_ascii=False)
                    and m.channel == approver.slack_id
                ]
                or not working_today(settings)
            ),
            what="the approver's morning list",
        )
        if working_today(settings):
            (listed,) = mornings
            assert set(re.findall(r"TS-\d{8}-\d{4,}", listed)) == open_work
            assert case_no in open_work
    finally:  # out of force again for the other tests of the stack
        for person in people:
            with contextlib.suppress(staff.StaffRefused):
                staff.deactivate(settings, person.name, utc_now())
