"""The synthetic complaints are valid, varied, reproducible and cheap enough to stream."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from embedded.synthetic import decisions_for, generate_complaints, iter_complaints
from rules.enums import Category, Channel, Demand, Department, ProgressKind, Role, Severity
from rules.human_steps import HUMAN_STEPS, STEP_INPUTS
from rules.inputs import CaseContext, GradeInput, PlanInput, ProgressInput, SurveyInput
from rules.intake import MOBILE, ComplaintIn
from rules.staff import Person, owner_refusal, receiver_refusal, refusal
from rules.steps import Step

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
SEED = 20261123


@pytest.fixture(scope="module")
def batch() -> list[ComplaintIn]:
    return generate_complaints(500, seed=SEED, now=NOW)


def test_the_same_seed_and_now_give_identical_complaints() -> None:
    first = generate_complaints(200, seed=SEED, now=NOW)
    second = generate_complaints(200, seed=SEED, now=NOW)
    assert [c.model_dump() for c in first] == [c.model_dump() for c in second]


def test_a_different_seed_gives_different_complaints() -> None:
    first = generate_complaints(50, seed=1, now=NOW)
    second = generate_complaints(50, seed=2, now=NOW)
    assert [c.description for c in first] != [c.description for c in second]


def test_the_lazy_iterator_yields_the_same_complaints_as_the_list() -> None:
    assert list(iter_complaints(10, seed=SEED, now=NOW)) == generate_complaints(
        10, seed=SEED, now=NOW
    )


def test_every_channel_category_severity_and_demand_appears_in_500(
    batch: list[ComplaintIn],
) -> None:
    assert {c.channel for c in batch} == set(Channel)
    assert {c.category for c in batch} == set(Category)
    assert {c.severity for c in batch} == set(Severity)
    assert {c.demand for c in batch} == set(Demand)


def test_most_complaints_are_general_and_few_are_major(batch: list[ComplaintIn]) -> None:
    severities = Counter(c.severity for c in batch)
    assert severities[Severity.GENERAL] > severities[Severity.SERIOUS] > severities[Severity.MAJOR]
    assert severities[Severity.GENERAL] / len(batch) > 0.6


def test_every_complaint_passes_intake_validation(batch: list[ComplaintIn]) -> None:
    for complaint in batch:
        assert ComplaintIn.model_validate(complaint.model_dump()) == complaint


def test_received_at_is_aware_and_inside_the_window(batch: list[ComplaintIn]) -> None:
    for complaint in batch:
        assert complaint.received_at is not None
        assert complaint.received_at.tzinfo is not None
        assert NOW - timedelta(days=30) <= complaint.received_at <= NOW
        if complaint.occurred_at is not None:
            assert complaint.occurred_at < complaint.received_at


def test_a_shorter_spread_keeps_complaints_inside_it() -> None:
    now = datetime(2026, 11, 23, 2, 0, 0, 123456, tzinfo=UTC)
    for complaint in generate_complaints(100, seed=SEED, now=now, spread=timedelta(hours=1)):
        assert complaint.received_at is not None
        assert now - timedelta(hours=1) <= complaint.received_at <= now


def test_descriptions_are_varied() -> None:
    descriptions = {c.description for c in generate_complaints(200, seed=SEED, now=NOW)}
    assert len(descriptions) >= 50


def test_descriptions_fit_their_category(batch: list[ComplaintIn]) -> None:
    logistics = [c.description for c in batch if c.category is Category.LOGISTICS]
    assert any("快递" in text or "配送" in text or "送" in text for text in logistics)
    assert all(
        c.product and c.product in c.description
        for c in batch
        if c.category is Category.PRODUCT_QUALITY
    )


def test_contacts_are_mainland_mobiles_and_reserved_email_domains(
    batch: list[ComplaintIn],
) -> None:
    phones = [c.customer_phone for c in batch if c.customer_phone]
    emails = [c.customer_email for c in batch if c.customer_email]
    assert all(MOBILE.match(phone) for phone in phones)
    assert all(email.rsplit("@", 1)[1] in {"example.com", "example.cn"} for email in emails)
    assert any(c.customer_email is None for c in batch), "some give a phone only"
    assert emails, "some give an e-mail address"


def test_external_refs_are_unique_per_channel(batch: list[ComplaintIn]) -> None:
    keys = [c.idempotency_key() for c in batch]
    assert None not in keys
    assert len(set(keys)) == len(keys)


def test_some_are_answered_on_the_spot_with_an_answer(batch: list[ComplaintIn]) -> None:
    answered = [c for c in batch if c.answered_on_spot]
    assert 0 < len(answered) < len(batch) * 0.15
    assert all(c.on_spot_answer for c in answered)


def test_some_customers_complain_again_about_the_same_product(batch: list[ComplaintIn]) -> None:
    seen = Counter((c.customer_name, c.customer_phone, c.product) for c in batch)
    assert any(times > 1 for times in seen.values())


def test_most_complaints_carry_an_order_number(batch: list[ComplaintIn]) -> None:
    order_numbers = [c.order_no for c in batch if c.order_no]
    assert len(order_numbers) > len(batch) * 0.7
    assert all(no.startswith("DD") and len(no) == 15 and no[2:].isdigit() for no in order_numbers)


def test_decisions_validate_against_every_human_step_input(batch: list[ComplaintIn]) -> None:
    for complaint in batch[:100]:
        decisions = decisions_for(complaint, seed=SEED, now=NOW)
        assert set(decisions) == {step.value for step in HUMAN_STEPS}
        for name, payload in decisions.items():
            STEP_INPUTS[Step(name)].model_validate_json(json.dumps(payload))


def test_decisions_follow_the_happy_path(batch: list[ComplaintIn]) -> None:
    decisions = decisions_for(batch[0], seed=SEED, now=NOW)
    plan = PlanInput.model_validate(decisions["plan"])
    assert NOW + timedelta(days=1) < plan.deadline < NOW + timedelta(days=10)
    assert ProgressInput.model_validate(decisions["execute"]).kind is ProgressKind.DONE
    survey = SurveyInput.model_validate(decisions["callback"])
    assert survey.accepts_result
    assert all(
        4 <= score <= 5
        for score in (survey.efficiency, survey.resolution, survey.attitude, survey.fairness)
    )


def roster() -> dict[str, Person]:
    """The demo's own people as a staff directory would hold them (by what they do in it)."""
    from embedded import synthetic

    held: dict[str, tuple[Department, set[Role]]] = {}

    def add(names: Iterable[str], department: Department, role: Role) -> None:
        for name in names:
            held.setdefault(name, (department, set()))[1].add(role)

    add(synthetic.RECEIVERS, Department.CUSTOMER_SERVICE, Role.RECEIVER)
    for department, handlers in synthetic.HANDLERS.items():
        add(handlers, department, Role.HANDLER)
    add(synthetic.GRADERS, Department.CUSTOMER_SERVICE, Role.HANDLER)
    add(synthetic.APPROVERS, Department.OPERATIONS, Role.DEPARTMENT_DIRECTOR)
    add(synthetic.APPROVERS, Department.OPERATIONS, Role.OPERATIONS_DIRECTOR)
    add(synthetic.CALLBACK_AGENTS, Department.CUSTOMER_SERVICE, Role.CALLBACK)
    return {
        name: Person(name=name, department=department, roles=frozenset(roles))
        for name, (department, roles) in held.items()
    }


def test_with_a_directory_of_its_own_people_the_demo_is_refused_nothing(
    batch: list[ComplaintIn],
) -> None:
    people = roster()
    for complaint in batch[:100]:
        decisions = decisions_for(complaint, seed=SEED, now=NOW)
        grading = GradeInput.model_validate(decisions["grade"])
        plan = PlanInput.model_validate(decisions["plan"])
        responsible = grading.case_changes(CaseContext(None))["department"]
        decided_by = {Step.APPROVE_GRADE: grading.actor, Step.APPROVE_PLAN: plan.actor}
        actors = {step: decisions[step.value]["actor"] for step in HUMAN_STEPS}
        refused = [
            refusal(people, step, actor, decided_by.get(step)) for step, actor in actors.items()
        ]
        refused += [receiver_refusal(people, complaint.receiver)]
        refused += [owner_refusal(people, plan, responsible)]
        assert [reason for reason in refused if reason] == [], complaint.external_ref


def test_decisions_are_reproducible(batch: list[ComplaintIn]) -> None:
    assert decisions_for(batch[3], seed=SEED, now=NOW) == decisions_for(
        batch[3], seed=SEED, now=NOW
    )


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        iter_complaints(1, seed=SEED, now=datetime(2026, 11, 23))


def test_a_stream_of_any_length_yields_its_first_complaints_without_building_the_rest() -> None:
    # A trillion complaints could never be built: the first three come only from a stream.
    # (How fast it streams is measured by benchmarks/synthetic_stream.py.)
    first = list(itertools.islice(iter_complaints(10**12, seed=SEED, now=NOW), 3))
    assert len(first) == 3
