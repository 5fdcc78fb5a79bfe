"""End to end: two people answering the same wait at once, and a deadline no calendar can
count, on the real server and worker."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from complaints.cases import casefile, casework
from complaints.cases.actions import ActionRefused, act
from complaints.timesource import utc_now
from tests.flows.support import (
    act_when_waiting,
    flow_run_state,
    new_complaint,
    submit,
    suspended_at_its_wait,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_of_two_answers_to_one_wait_exactly_one_is_recorded_and_the_other_told_who_won(
    settings: Any,
) -> None:
    case_no, steps = submit(settings, new_complaint())
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="verification to wait")
    answers = {
        "核实员-甲": {**steps["verify"], "actor": "核实员-甲", "substantiated": True},
        "核实员-乙": {
            **steps["verify"],
            "actor": "核实员-乙",
            "substantiated": False,
            "explanation_to_customer": "经核实，订单按约定履行。",
        },
    }
    start = threading.Barrier(len(answers))
    outcome: dict[str, str] = {}

    def answer(actor: str) -> None:
        start.wait()
        try:
            act(settings, case_no, "verify", answers[actor])
            outcome[actor] = "recorded"
        except ActionRefused as exc:
            outcome[actor] = str(exc)

    threads = [threading.Thread(target=answer, args=(actor,)) for actor in answers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    winners = [actor for actor, said in outcome.items() if said == "recorded"]
    assert len(winners) == 1, outcome
    (winner,) = winners
    (loser,) = set(answers) - {winner}
    # the loser is told in one line who took the step: by the server, by Prefect's stored
    # answer, or by the ledger, whichever the loser's command met first
    told = outcome[loser]
    assert "\n" not in told
    assert f"already taken by {winner}" in told, told
    # and so is a third colleague, a moment later, whatever the case is doing by then
    with pytest.raises(ActionRefused, match=f"already taken by {winner}"):
        act(settings, case_no, "verify", answers[loser])

    wait_until(
        lambda: casework.load(settings, case_no).current_step != "verify",
        what="the case to move on from verification",
    )
    verified = [e for e in casefile.read(settings, case_no).audit if e.step == "verify"]
    assert [(e.actor, e.payload["substantiated"]) for e in verified] == [
        (winner, answers[winner]["substantiated"])
    ]

    # The UI's Resume form, sent again for the answered wait: never accepted. Between two
    # waits the reason the UI shows names who took the step; once the case waits at the
    # next step, its form's schema turns the verification input away.
    run_id = casework.load(settings, case_no).flow_run_id
    answer = httpx.post(
        f"{settings_api()}/flow_runs/{run_id}/resume",
        json={"run_input": answers[loser]},
        timeout=30,
    ).json()
    assert answer["status"] in ("ABORT", "REJECT"), answer
    if answer["status"] == "ABORT":
        assert f"already taken by {winner}" in answer["details"]["reason"]


def settings_api() -> str:
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url)


@pytest.mark.parametrize(
    "deadline",
    [
        "9999-12-31T23:59:59+08:00",  # refused by the form's model: no such year here
        (utc_now() + timedelta(days=3653)).isoformat(),  # ten years out: beyond the horizon
    ],
    ids=["year-9999", "ten-years"],
)
def test_a_deadline_no_calendar_can_count_is_refused_and_the_case_lives_on(
    settings: Any, deadline: str
) -> None:
    """What the UI form sends (the schema only checks the format): the case shows the form
    again with the reason instead of its run failing for good."""
    from complaints.cases.actions import resume

    case_no, steps = submit(settings, new_complaint())
    for step in ("verify", "grade", "approve_grade"):
        act_when_waiting(settings, case_no, step, steps[step])
    wait_until(lambda: casework.load(settings, case_no).current_step == "plan", what="planning")
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the plan form")
    view = casework.load(settings, case_no)
    plan = {k: v for k, v in steps["plan"].items() if k != "deadline_working_days"}
    resume(UUID(view.flow_run_id or ""), {**plan, "deadline": deadline})

    wait_until(
        lambda: (
            casework.load(settings, case_no).waiting_key not in (None, view.waiting_key)
            and suspended_at_its_wait(settings, case_no)
        ),
        what="the plan form to be shown again",
    )
    rejected = [e for e in casefile.read(settings, case_no).audit if e.decision == "invalid_input"]
    assert len(rejected) == 1 and "deadline" in rejected[0].payload["errors"]
    assert flow_run_state(view.flow_run_id or "") == "PAUSED"

    act_when_waiting(settings, case_no, "plan", steps["plan"])
    wait_until(
        lambda: casework.load(settings, case_no).current_step == "approve_plan",
        what="the corrected plan to go to approval",
    )


def test_a_failed_case_run_is_alerted_listed_and_retried_without_losing_what_was_recorded(
    settings: Any, slack: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """However a case run fails, the case is not silently dead: the reconcile alerts the
    department head (Slack, audit trail), tags the run, `list` flags it, and
    `complaints retry` starts it again from the ledger."""
    import json

    from prefect.client.orchestration import get_client
    from prefect.states import Failed

    from complaints.cli import main

    case_no, steps = submit(settings, new_complaint())
    act_when_waiting(settings, case_no, "verify", steps["verify"])
    wait_until(lambda: casework.load(settings, case_no).current_step == "grade", what="grading")
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the grading form")
    run_id = UUID(casework.load(settings, case_no).flow_run_id or "")
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Failed(message="simulated: a bug in a step"), force=True)

    def cli(*argv: str) -> Any:
        capsys.readouterr()
        code = main([*argv, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out)

    cli("reconcile")  # or the scheduled reconcile, whichever comes first
    alerts = [e for e in cli("escalations", "--limit", "1000") if case_no in e["cases"]]
    assert [e["trigger"] for e in alerts] == ["run_failed"], alerts
    wait_until(
        lambda: any(
            case_no in json.dumps(m.blocks, ensure_ascii=False) and "case run failed" in m.text
            for m in slack.messages
        ),
        what="the Slack alert",
    )
    listed = {row["case_no"]: row for row in cli("list", "--limit", "1000")}
    assert listed[case_no]["run"] == "FAILED"
    with get_client(sync_client=True) as client:
        assert "运行失败" in client.read_flow_run(run_id).tags

    assert cli("retry", case_no)["flow_run_id"] == str(run_id)
    wait_until(lambda: suspended_at_its_wait(settings, case_no), what="the run to wait again")
    for step in ("grade", "approve_grade"):
        act_when_waiting(settings, case_no, step, steps[step])
    wait_until(lambda: casework.load(settings, case_no).current_step == "plan", what="planning")
    verified = [e for e in casefile.read(settings, case_no).audit if e.step == "verify"]
    assert len(verified) == 1  # what was recorded before the failure stands, once
