"""The paths of the process chart, end to end, as a class of tests to run on each stack.

Each test registers a complaint, acts on it as people would (`complaints act`), and checks
what a user would see: the case's status, its audit trail, the messages sent to the
customer, the report and the run's state in Prefect. `tests/flows/test_case_lifecycle.py`
runs them on the embedded stack, `test_production_topology.py` on PostgreSQL with two
workers: the stack is the `product` fixture of the module that collects the class.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import pytest

from complaints.cases import casefile, casework
from tests.flows.support import (
    HAPPY_PATH,
    act_through,
    act_when_waiting,
    flow_run_state,
    new_complaint,
    submit,
    wait_closed,
    wait_until,
)


def messages_of(settings: Any, case_no: str) -> Counter[tuple[str, int]]:
    file = casefile.read(settings, case_no)
    return Counter((m.kind, m.cycle) for m in file.messages)


def decisions_of(settings: Any, case_no: str) -> list[tuple[str, str]]:
    """The process's steps and decisions (the notices to staff beside them: forwarded)."""
    return [
        (e.step, e.decision) for e in casefile.read(settings, case_no).audit if e.step != "notify"
    ]


def forwarded_to(settings: Any, case_no: str) -> list[str]:
    audit = casefile.read(settings, case_no).audit
    return [e.payload["department"] for e in audit if e.decision == "forwarded"]


def _report(settings: Any, case_no: str) -> str:
    from models.db import unit_of_work
    from models.repositories import CaseRepository

    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        case = repo.get(case_no)
        assert case is not None
        report = repo.report(case.id)
        assert report is not None
        return report.markdown


class CaseLifecycle:
    """Every path of the process chart (not collected by itself: no Test prefix)."""

    def test_a_complaint_goes_from_registration_to_closing_with_one_message_of_each_kind(
        self,
        settings: Any,
    ) -> None:
        case_no, steps = submit(settings, new_complaint())
        act_through(settings, case_no, steps)
        view = wait_closed(settings, case_no)

        assert messages_of(settings, case_no) == Counter(
            {("acknowledgement", 0): 1, ("result", 0): 1, ("survey_invitation", 0): 1}
        )
        assert decisions_of(settings, case_no) == [
            ("register", "registered"),
            ("acknowledge", "acknowledged"),
            ("verify", "substantiated"),
            ("grade", "submitted"),
            ("approve_grade", "approved"),
            ("plan", "submitted"),
            ("approve_plan", "approved"),
            ("execute", "completed"),
            ("feedback", "submitted"),
            ("feedback", "fed_back"),
            ("callback", "satisfied"),
            ("close", "closed"),
        ]
        responsible = casework.load(settings, case_no).department
        assert responsible is not None
        assert forwarded_to(settings, case_no)[-1] == responsible.value
        file = casefile.read(settings, case_no)
        stored = _report(settings, case_no)
        assert stored.count("\n## ") == 6 and case_no in stored
        assert all(d.done_at is not None for d in file.deadlines)
        assert wait_until(
            lambda: flow_run_state(view.flow_run_id or "") == "COMPLETED",
            what="the run to complete",
        )

    def test_a_complaint_answered_on_the_spot_goes_straight_to_callback_and_close(
        self,
        settings: Any,
    ) -> None:
        complaint = new_complaint(
            answered_on_spot=True, on_spot_answer="已告知退货流程，七天内可办理"
        )
        case_no, steps = submit(settings, complaint)
        act_when_waiting(settings, case_no, "callback", steps["callback"])
        wait_closed(settings, case_no)

        steps_taken = [step for step, _ in decisions_of(settings, case_no)]
        assert "answer_on_spot" in steps_taken and "verify" not in steps_taken
        assert messages_of(settings, case_no) == Counter(
            {("acknowledgement", 0): 1, ("survey_invitation", 0): 1}
        )
        assert "已告知退货流程" in _report(settings, case_no)

    def test_a_complaint_not_substantiated_is_explained_to_the_customer_and_closed(
        self,
        settings: Any,
    ) -> None:
        case_no, steps = submit(settings, new_complaint())
        act_when_waiting(
            settings,
            case_no,
            "verify",
            {
                "actor": "核实-李强",
                "substantiated": False,
                "findings": "物流记录显示已按时签收",
                "explanation_to_customer": "经核实，快递已于11月20日由您本人签收。",
            },
        )
        act_when_waiting(settings, case_no, "callback", steps["callback"])
        wait_closed(settings, case_no)

        assert messages_of(settings, case_no) == Counter(
            {("acknowledgement", 0): 1, ("not_substantiated", 0): 1, ("survey_invitation", 0): 1}
        )
        file = casefile.read(settings, case_no)
        explanation = next(m for m in file.messages if m.kind == "not_substantiated")
        assert "11月20日由您本人签收" in explanation.body
        assert "grade" not in [step for step, _ in decisions_of(settings, case_no)]

    def test_rejected_grading_and_plan_go_back_for_a_new_decision_before_approval(
        self,
        settings: Any,
    ) -> None:
        case_no, steps = submit(settings, new_complaint())
        reject = {"actor": "总监-赵敏", "approved": False, "reason": "等级偏低，客户已投诉两次"}
        act_when_waiting(settings, case_no, "verify", steps["verify"])
        act_when_waiting(settings, case_no, "grade", steps["grade"])
        act_when_waiting(settings, case_no, "approve_grade", reject)
        act_when_waiting(settings, case_no, "grade", {**steps["grade"], "severity": "严重"})
        act_when_waiting(settings, case_no, "approve_grade", steps["approve_grade"])
        act_when_waiting(settings, case_no, "plan", steps["plan"])
        act_when_waiting(settings, case_no, "approve_plan", {**reject, "reason": "补偿不足"})
        act_when_waiting(
            settings, case_no, "plan", {**steps["plan"], "compensation": "100元优惠券"}
        )

        wait_until(
            lambda: casework.load(settings, case_no).current_step == "approve_plan",
            what="the second plan to wait for approval",
        )
        view = casework.load(settings, case_no)
        assert view.severity.value == "严重"
        assert [d for s, d in decisions_of(settings, case_no) if s.startswith("approve")] == [
            "rejected",
            "approved",
            "rejected",
        ]
        assert [s for s, _ in decisions_of(settings, case_no)].count("grade") == 2

    def test_a_dissatisfied_customer_reopens_the_case_and_a_new_plan_closes_it(
        self,
        settings: Any,
    ) -> None:
        case_no, steps = submit(settings, new_complaint())
        act_through(settings, case_no, steps, HAPPY_PATH[:-1])  # all but the callback
        unhappy = {
            **steps["callback"],
            "accepts_result": False,
            "resolution": 2,
            "comment": "换货后还是漏水",
        }
        act_when_waiting(settings, case_no, "callback", unhappy)
        wait_until(lambda: casework.load(settings, case_no).cycle == 1, what="the reopen")
        for step in ("plan", "approve_plan", "execute", "feedback", "callback"):
            act_when_waiting(settings, case_no, step, steps[step])
        wait_closed(settings, case_no)

        assert messages_of(settings, case_no) == Counter(
            {
                ("acknowledgement", 0): 1,
                ("result", 0): 1,
                ("survey_invitation", 0): 1,
                ("result", 1): 1,
                ("survey_invitation", 1): 1,
            }
        )
        decisions = decisions_of(settings, case_no)
        assert ("callback", "not_satisfied") in decisions and ("reopen", "reopened") in decisions
        assert decisions[-2:] == [("callback", "satisfied"), ("close", "closed")]

    def test_input_breaking_a_rule_in_the_ui_form_is_refused_and_the_case_waits_again(
        self,
        settings: Any,
    ) -> None:
        from prefect.client.orchestration import get_client

        from complaints.cases.actions import ActionRefused, resume

        case_no, steps = submit(settings, new_complaint())
        act_when_waiting(settings, case_no, "verify", steps["verify"])
        act_when_waiting(settings, case_no, "grade", steps["grade"])
        run_id = UUID(casework.load(settings, case_no).flow_run_id or "")

        def paused_at(key: str) -> bool:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run_id).state
            return bool(state and state.is_paused() and state.state_details.pause_key == key)

        wait_until(lambda: paused_at("approve-grade-c0"), what="the approval form")
        # What the UI form sends: valid for the schema, but a rejection needs a reason.
        resume(run_id, {"actor": "总监-赵敏", "approved": False})
        wait_until(lambda: paused_at("approve-grade-c0-a1"), what="the form to be shown again")
        rejected = [
            e for e in casefile.read(settings, case_no).audit if e.decision == "invalid_input"
        ]
        assert len(rejected) == 1 and "reason" in rejected[0].payload["errors"]

        # Input the schema itself refuses is turned away by the server; nothing changes.
        with pytest.raises(ActionRefused, match="Prefect refused the input"):
            resume(run_id, {"actor": "总监-赵敏", "approved": "也许"})
        assert paused_at("approve-grade-c0-a1")

        act_when_waiting(settings, case_no, "approve_grade", steps["approve_grade"])
        wait_until(
            lambda: casework.load(settings, case_no).current_step == "plan",
            what="the case to move on to planning",
        )
        assert [d for s, d in decisions_of(settings, case_no) if s == "approve_grade"] == [
            "invalid_input",
            "approved",
        ]
