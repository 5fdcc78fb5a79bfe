"""The form a waiting case shows: once a staff directory is in force, its actor is chosen
from the people who may take the step (rules.staff.eligible, complaints.orchestration.forms)."""

from __future__ import annotations

import copy

import pytest
from prefect._internal.pydantic.v2_schema import create_v2_schema

from complaints.orchestration.forms import CHOOSE, offered, person_form, with_actor_choice
from rules.enums import Department, Role
from rules.human_steps import STEP_INPUTS
from rules.inputs import ApprovalInput, SurveyInput, VerifyInput
from rules.staff import CUSTOMER, Person, eligible
from rules.steps import Step


def person(name: str, department: Department, *roles: Role, active: bool = True) -> Person:
    return Person(name=name, department=department, roles=set(roles), active=active)


DIRECTORY = {
    p.name: p
    for p in (
        person("王五", Department.CUSTOMER_SERVICE, Role.HANDLER),
        person("李四", Department.LOGISTICS, Role.HANDLER, Role.RECEIVER),
        person("赵六", Department.OPERATIONS, Role.DEPARTMENT_DIRECTOR, Role.HANDLER),
        person("钱七", Department.OPERATIONS, Role.DEPARTMENT_DIRECTOR),
        person("老马", Department.LOGISTICS, Role.HANDLER, active=False),
    )
}


def schema_of(form: type) -> dict:
    """The schema Prefect stores for a form and the UI draws it from."""
    return create_v2_schema(form.__name__, model_base=form)


def test_the_eligible_are_the_active_holders_of_the_steps_role_in_name_order() -> None:
    assert eligible(DIRECTORY, Step.GRADE) == sorted(["王五", "李四", "赵六"])
    assert eligible(DIRECTORY, Step.VERIFY) == sorted(["王五", "李四", "赵六"])  # receiver too
    assert eligible(DIRECTORY, Step.CALLBACK) == ["李四"]  # receiver; nobody holds callback


def test_an_approval_does_not_offer_who_made_the_decision() -> None:
    assert eligible(DIRECTORY, Step.APPROVE_GRADE) == sorted(["赵六", "钱七"])
    assert eligible(DIRECTORY, Step.APPROVE_GRADE, decided_by="赵六") == ["钱七"]


def test_without_a_directory_in_force_any_name_is_typed() -> None:
    assert eligible({}, Step.GRADE) is None
    assert eligible({"老马": DIRECTORY["老马"]}, Step.GRADE) is None
    assert offered(Step.GRADE, None) is None


def test_a_directory_with_nobody_eligible_offers_nobody_rather_than_anyone() -> None:
    assert eligible({"钱七": DIRECTORY["钱七"]}, Step.GRADE) == []


def test_the_callback_also_offers_the_customers_own_survey_page() -> None:
    assert offered(Step.CALLBACK, ["李四"]) == ["李四", CUSTOMER]
    assert offered(Step.VERIFY, ["李四"]) == ["李四"]


@pytest.mark.parametrize("step", sorted(STEP_INPUTS))
def test_every_steps_form_offers_a_choice_of_actor(step: Step) -> None:
    form = person_form(STEP_INPUTS[step], "说明", ["王五", "李四"])

    actor = schema_of(form)["properties"]["actor"]

    assert actor["enum"] == ["王五", "李四"]
    assert actor["title"] == "处理人 / Acted by"


def test_without_a_directory_the_form_is_the_steps_own() -> None:
    free = schema_of(person_form(VerifyInput, "说明", None))
    plain = schema_of(person_form(VerifyInput, "说明", ["王五"]))

    assert "enum" not in free["properties"]["actor"]
    assert with_actor_choice(copy.deepcopy(plain), None) == free


def test_the_choice_shapes_the_schema_only_and_the_form_still_loads_any_name() -> None:
    """The run checks the directory when it records (rules.staff.refusal): a form shown
    before a change must still load what Prefect took, and say why it is refused."""
    form = person_form(ApprovalInput, "说明", ["钱七"])

    loaded = form.model_validate({"actor": "王五", "approved": True})

    assert loaded.actor == "王五"


def test_showing_the_form_again_replaces_the_choice() -> None:
    schema = schema_of(person_form(SurveyInput, "说明", ["李四", CUSTOMER]))

    again = with_actor_choice(copy.deepcopy(schema), ["王五", CUSTOMER])

    assert again["properties"]["actor"]["enum"] == ["王五", CUSTOMER]
    assert again["properties"]["actor"]["description"] == CHOOSE
    assert {k: v for k, v in again.items() if k != "properties"} == {
        k: v for k, v in schema.items() if k != "properties"
    }
