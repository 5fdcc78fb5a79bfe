"""The JSON files in examples/ that a newcomer feeds to the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from complaints.timesource import utc_now
from rules.human_steps import HUMAN, HUMAN_STEPS, STEP_INPUTS
from rules.inputs import CaseContext, timing_problems
from rules.intake import ComplaintIn
from rules.steps import Step

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

COMPLAINT_FILES = ("complaint.json", "complaint-on-the-spot.json", "complaint-minimal.json")

STEP_FILES: dict[str, tuple[Step, ...]] = {
    "verify.json": (Step.VERIFY,),
    "verify-not-substantiated.json": (Step.VERIFY,),
    "grade.json": (Step.GRADE,),
    "approve.json": (Step.APPROVE_GRADE, Step.APPROVE_PLAN),
    "reject.json": (Step.APPROVE_GRADE, Step.APPROVE_PLAN),
    "plan.json": (Step.PLAN,),
    "progress.json": (Step.EXECUTE,),
    "delay.json": (Step.EXECUTE,),
    "done.json": (Step.EXECUTE,),
    "feedback.json": (Step.FEEDBACK,),
    "callback.json": (Step.CALLBACK,),
    "callback-not-satisfied.json": (Step.CALLBACK,),
}

STEP_CASES = [(name, step) for name, steps in STEP_FILES.items() for step in steps]


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def test_every_json_file_in_examples_is_either_a_complaint_or_a_step_input() -> None:
    on_disk = {path.name for path in EXAMPLES.glob("*.json")}
    assert on_disk == set(COMPLAINT_FILES) | set(STEP_FILES)


def test_no_example_is_invalid_on_purpose() -> None:
    assert not [path.name for path in EXAMPLES.iterdir() if "invalid" in path.name.lower()]


def test_every_step_that_waits_for_a_person_has_an_example() -> None:
    covered = {step for steps in STEP_FILES.values() for step in steps}
    assert covered == set(HUMAN_STEPS)


@pytest.mark.parametrize("name", COMPLAINT_FILES)
def test_complaint_example_validates_as_a_complaint(name: str) -> None:
    raw = load(name)
    assert isinstance(raw, dict)
    ComplaintIn.model_validate(raw)


def test_the_main_complaint_is_a_logistics_hotline_complaint_with_full_contact_details() -> None:
    complaint = ComplaintIn.model_validate(load("complaint.json"))
    assert complaint.channel.code == "hotline"
    assert complaint.category is not None and complaint.category.code == "logistics"
    assert complaint.customer_phone and complaint.customer_email
    assert complaint.customer_email.endswith("@example.com")
    assert complaint.external_ref
    # No fixed dates: received now, so the README's first command escalates nothing.
    assert complaint.received_at is None and complaint.occurred_at is None
    assert not complaint.answered_on_spot


def test_the_on_the_spot_complaint_carries_the_answer_given() -> None:
    complaint = ComplaintIn.model_validate(load("complaint-on-the-spot.json"))
    assert complaint.answered_on_spot
    assert complaint.on_spot_answer


def test_the_minimal_complaint_has_only_required_fields_and_one_contact() -> None:
    required = {name for name, field in ComplaintIn.model_fields.items() if field.is_required()}
    assert set(load("complaint-minimal.json")) == required | {"customer_phone"}


@pytest.mark.parametrize(("name", "step"), STEP_CASES)
def test_step_example_validates_against_the_model_of_its_step(name: str, step: Step) -> None:
    raw = load(name)
    assert isinstance(raw, dict)
    assert raw.get("actor")
    data = STEP_INPUTS[step].model_validate(raw)
    assert timing_problems(data, utc_now()) == []


@pytest.mark.parametrize(
    ("name", "step", "expected"),
    [
        ("verify.json", Step.VERIFY, {"substantiated": True}),
        ("verify-not-substantiated.json", Step.VERIFY, {"substantiated": False}),
        ("approve.json", Step.APPROVE_PLAN, {"approved": True}),
        ("reject.json", Step.APPROVE_PLAN, {"approved": False}),
        ("progress.json", Step.EXECUTE, {"kind": "进展"}),
        ("delay.json", Step.EXECUTE, {"kind": "延期"}),
        ("done.json", Step.EXECUTE, {"kind": "完成"}),
        ("callback.json", Step.CALLBACK, {"satisfied": True}),
        ("callback-not-satisfied.json", Step.CALLBACK, {"satisfied": False}),
    ],
)
def test_step_example_means_what_its_file_name_says(
    name: str, step: Step, expected: dict[str, Any]
) -> None:
    data = STEP_INPUTS[step].model_validate(load(name))
    for attribute, value in expected.items():
        assert getattr(data, attribute) == value


def test_the_readme_names_every_example_file() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in (*COMPLAINT_FILES, *STEP_FILES):
        assert name in readme, name


@pytest.mark.parametrize("declared", HUMAN, ids=lambda h: h.step.value)
def test_each_human_step_declares_an_example_that_its_own_model_accepts(declared: Any) -> None:
    raw = load(declared.example)
    declared.model.model_validate(raw)
    assert declared.step in STEP_FILES[declared.example]


def test_the_example_staff_directory_lets_every_example_act_where_it_is_used() -> None:
    import tomllib

    from rules.inputs import GradeInput, PlanInput
    from rules.routing import DEFAULT_ROUTING
    from rules.staff import Person, owner_refusal, receiver_refusal, refusal

    rows = tomllib.loads((EXAMPLES / "staff.toml").read_text(encoding="utf-8"))["person"]
    people = {p.name: p for p in (Person.model_validate(row) for row in rows)}
    deciders = {
        Step.APPROVE_GRADE: load("grade.json")["actor"],
        Step.APPROVE_PLAN: load("plan.json")["actor"],
    }
    refused = {
        (name, step.value): reason
        for name, step in STEP_CASES
        if (reason := refusal(people, step, load(name)["actor"], deciders.get(step)))
    }
    refused |= {
        (name, "register"): reason
        for name in COMPLAINT_FILES
        if (reason := receiver_refusal(people, load(name)["receiver"]))
    }
    grading = GradeInput.model_validate(load("grade.json"))  # the case plan.json is made for
    responsible = grading.case_changes(CaseContext(None, DEFAULT_ROUTING))["department"]
    owner = owner_refusal(people, PlanInput.model_validate(load("plan.json")), responsible)
    assert (refused, owner) == ({}, None)
