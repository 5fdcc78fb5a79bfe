"""What the customer is shown of their case, their signed links, and their survey form."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaints.channels import links
from complaints.channels.web import survey_answer_from_form
from rules.customer_view import Stage, milestones

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


PLAIN_PATH = [
    ("register", "registered", at(0)),
    ("acknowledge", "acknowledged", at(1)),
    ("verify", "substantiated", at(10)),
    ("grade", "submitted", at(20)),
    ("approve_grade", "rejected", at(25)),  # an internal round the customer never sees
    ("grade", "submitted", at(30)),
    ("approve_grade", "approved", at(35)),
    ("plan", "submitted", at(40)),
    ("approve_plan", "approved", at(45)),
]
FED_BACK = [*PLAIN_PATH, ("execute", "completed", at(50)), ("feedback", "fed_back", at(55))]


def shown(stages: list) -> list[tuple[Stage, datetime | None, bool]]:
    return [(m.stage, m.reached_at, m.current) for m in stages]


def test_a_case_being_carried_out_shows_the_stages_reached_and_the_ones_ahead() -> None:
    stages = milestones(PLAIN_PATH, "execute", closed=False)

    assert shown(stages) == [
        (Stage.RECEIVED, at(1), False),
        (Stage.INVESTIGATING, at(10), False),
        (Stage.SOLUTION, at(45), False),
        (Stage.CARRYING_OUT, None, True),
        (Stage.RESULT, None, False),
        (Stage.SURVEY, None, False),
        (Stage.CLOSED, None, False),
    ]


def test_a_case_not_substantiated_skips_the_solution_and_its_execution() -> None:
    entries = [*PLAIN_PATH[:2], ("verify", "not_substantiated", at(10))]
    entries.append(("explain", "explained", at(11)))

    stages = milestones(entries, "callback", closed=False)

    assert [m.stage for m in stages] == [
        Stage.RECEIVED,
        Stage.INVESTIGATING,
        Stage.RESULT,
        Stage.SURVEY,
        Stage.CLOSED,
    ]
    assert [m.stage for m in stages if m.current] == [Stage.SURVEY]


def test_a_reopened_case_goes_back_to_deciding_the_solution() -> None:
    entries = [*FED_BACK, ("callback", "not_satisfied", at(60)), ("reopen", "reopened", at(61))]

    stages = milestones(entries, "plan", closed=False)

    assert shown(stages)[2:5] == [
        (Stage.SOLUTION, None, True),
        (Stage.CARRYING_OUT, None, False),
        (Stage.RESULT, None, False),
    ]


def test_a_closed_case_shows_every_stage_it_went_through_and_closed_last() -> None:
    entries = [*FED_BACK, ("callback", "satisfied", at(60)), ("close", "closed", at(61))]

    stages = milestones(entries, "close", closed=True)

    assert all(m.reached_at for m in stages)
    assert [m.stage for m in stages if m.current] == [Stage.CLOSED]


KEY = b"k" * 32


def test_a_signed_link_is_read_back_until_it_expires() -> None:
    link = links.Link(links.Page.SURVEY, "TS-20261201-0001", 2, at(60))
    token = links.sign(KEY, link)

    assert links.verify(KEY, token, links.Page.SURVEY, at(59)).cycle == 2
    with pytest.raises(links.LinkRefused) as expired:
        links.verify(KEY, token, links.Page.SURVEY, at(60))
    assert expired.value.expired


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: links.sign(
            b"other", links.Link(links.Page.SURVEY, "TS-20261201-0001", 2, at(60))
        ),
        lambda t: links.sign(KEY, links.Link(links.Page.STATUS, "TS-20261201-0001", 2, at(60))),
        lambda t: t.replace(t.split(".")[0], t.split(".")[0][:-2] + "AA"),
        lambda t: t + "x",
        lambda t: "",
        lambda t: "...",
        lambda t: "not-base64!.x",
    ],
)
def test_a_forged_altered_or_wrong_page_link_is_not_valid(tamper) -> None:
    token = links.sign(KEY, links.Link(links.Page.SURVEY, "TS-20261201-0001", 2, at(60)))

    with pytest.raises(links.LinkRefused) as refused:
        links.verify(KEY, tamper(token), links.Page.SURVEY, at(0))
    assert not refused.value.expired


def test_the_survey_form_becomes_the_typed_answer() -> None:
    answer, problems = survey_answer_from_form(
        {
            "efficiency": "5",
            "resolution": "4",
            "attitude": "5",
            "fairness": "3",
            "accepts_result": "no",
            "comment": "  还是不满意  ",
        }
    )

    assert problems == []
    assert answer == {
        "efficiency": 5,
        "resolution": 4,
        "attitude": 5,
        "fairness": 3,
        "accepts_result": False,
        "comment": "还是不满意",
    }


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"resolution": "4", "attitude": "5", "fairness": "3"}, "efficiency"),
        ({"efficiency": "6"}, "efficiency"),
        ({"efficiency": "4.5"}, "efficiency"),
        ({"efficiency": "0"}, "efficiency"),
        ({"accepts_result": "true"}, "accepts_result"),
    ],
)
def test_a_survey_form_missing_or_out_of_range_names_each_field(form, field) -> None:
    _, problems = survey_answer_from_form(form)

    assert any(p.startswith(f"{field}:") for p in problems)


@given(
    page=st.sampled_from(list(links.Page)),
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2099, 12, 31)),
    sequence=st.integers(min_value=1, max_value=99_999),
    cycle=st.integers(min_value=0, max_value=20),
)
def test_a_short_link_stands_for_its_page_in_at_most_35_characters(
    page: links.Page, day: date, sequence: int, cycle: int
) -> None:
    case_no = f"TS-{day:%Y%m%d}-{sequence:04d}"
    expires = datetime(2100, 1, 1, 8, 0, tzinfo=UTC)
    token = links.short_token(KEY, links.Link(page, case_no, cycle, expires))
    assert len(token) <= 35 and token.replace("-", "").replace("_", "").isalnum()
    read = links.verify_short(KEY, token, datetime(2099, 12, 31, tzinfo=UTC))
    assert (read.page, read.case_no, read.cycle) == (page, case_no, cycle)


def test_a_short_link_expires_after_its_day_and_a_forged_one_is_refused() -> None:
    link = links.Link(
        links.Page.STATUS, "TS-20261201-0001", 0, datetime(2026, 12, 10, 9, tzinfo=UTC)
    )
    token = links.short_token(KEY, link)
    assert links.verify_short(KEY, token, datetime(2026, 12, 10, 23, 59, tzinfo=UTC))
    with pytest.raises(links.LinkRefused) as expired:
        links.verify_short(KEY, token, datetime(2026, 12, 11, tzinfo=UTC))
    assert expired.value.expired
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:10], "x" * 26, ""):
        with pytest.raises(links.LinkRefused):
            links.verify_short(KEY, forged, datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(links.LinkRefused):
        links.verify_short(b"other key", token, datetime(2026, 12, 1, tzinfo=UTC))


def test_a_survey_sent_twice_says_the_first_answer_was_taken_not_try_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A double click: the second answer loses the wait to the first, which the case has
    recorded by the time it looks again."""
    from complaints.cases import actions
    from complaints.channels import portal

    answered: list[str] = []

    def survey(settings: object, token: str, now: datetime) -> object:
        if answered:
            raise portal.Refused(410, "this survey has been answered already")
        return portal.SurveyForm("TS-20261123-0001", "张*", None, token, "zh-CN")

    def act(*_: object, **__: object) -> None:
        answered.append("the first click")  # the other request won the wait meanwhile
        raise actions.ActionRefused("TS-20261123-0001 was answered by 客户 / customer")

    monkeypatch.setattr(portal, "survey", survey)
    monkeypatch.setattr(actions, "validate_input", lambda *_: None)
    monkeypatch.setattr(actions, "act", act)

    with pytest.raises(portal.Refused) as refused:
        portal.answer_survey(object(), "token", {"efficiency": "5"}, datetime.now(UTC))  # type: ignore[arg-type]

    assert refused.value.status == 410 and "answered already" in str(refused.value)
