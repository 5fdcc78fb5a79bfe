"""Who is told that work is theirs, where, when and in what words (rules.notices)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from rules.enums import Category, Department, Role, Severity
from rules.notices import (
    CaseBrief,
    forwarding_notice,
    not_before,
    turn_addresses,
    turn_notice,
    who_is_told,
)
from rules.sla import SlaPolicy
from rules.staff import Person, eligible
from rules.steps import Step

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
PHONE = "13812345678"
BRIEF = CaseBrief(
    case_no="TS-20261123-0001",
    severity=Severity.SERIOUS,
    category=Category.LOGISTICS,
    description=f"快递延误五天，欧阳娜娜请回电 {PHONE}",
    customer_name="欧阳娜娜",
    customer_phone=PHONE,
    customer_email=None,
    run_url="http://127.0.0.1:4200/runs/flow-run/abc",
)


def person(name: str, department: Department, *roles: Role, **contacts: str) -> Person:
    return Person(name=name, department=department, roles=frozenset(roles), **contacts)


LOGISTICS, PRODUCT = Department.LOGISTICS, Department.PRODUCT
PEOPLE = {
    p.name: p
    for p in (
        person("李强", LOGISTICS, Role.HANDLER, slack_id="U0LI"),
        person("周敏", LOGISTICS, Role.HANDLER, email="zhou@example.com"),
        person("吴昊", LOGISTICS, Role.HANDLER),
        person("孙丽", PRODUCT, Role.HANDLER, slack_id="U0SUN"),
        person("赵敏", LOGISTICS, Role.DEPARTMENT_DIRECTOR, slack_id="U0ZHAO"),
        person("钱总", PRODUCT, Role.DEPARTMENT_DIRECTOR, Role.HANDLER),
    )
}


def told(step: Step, department: Department | None, **kw: str) -> list[str]:
    offered = eligible(PEOPLE, step, kw.pop("decided_by", None)) or []
    return [p.name for p in who_is_told(PEOPLE, offered, step, department, **kw)]


def test_a_wait_is_announced_to_those_of_the_responsible_department_who_may_take_it() -> None:
    assert told(Step.PLAN, LOGISTICS) == ["吴昊", "周敏", "李强"]
    assert told(Step.PLAN, PRODUCT) == ["孙丽", "钱总"]


def test_with_nobody_of_the_department_who_may_take_it_everyone_who_may_is_told() -> None:
    assert told(Step.APPROVE_GRADE, Department.OPERATIONS) == ["赵敏", "钱总"]
    assert told(Step.PLAN, None) == ["吴昊", "周敏", "孙丽", "李强", "钱总"]


def test_an_approval_is_never_announced_to_the_one_whose_decision_it_approves() -> None:
    # 钱总 is 产品部's only director: another department's director approves it
    assert told(Step.APPROVE_GRADE, PRODUCT, decided_by="钱总") == ["赵敏"]
    assert told(Step.APPROVE_GRADE, LOGISTICS, decided_by="赵敏") == ["钱总"]


def test_the_plan_owner_alone_is_told_of_the_steps_the_plan_hands_them() -> None:
    assert told(Step.EXECUTE, LOGISTICS, owner="周敏") == ["周敏"]
    assert told(Step.FEEDBACK, LOGISTICS, owner="没有这个人") == ["吴昊", "周敏", "李强"]


def test_each_person_is_told_by_dm_else_by_the_slack_member_of_their_email_else_by_email() -> None:
    people = [PEOPLE["李强"], PEOPLE["周敏"], PEOPLE["吴昊"]]
    addresses = turn_addresses(people, Step.PLAN, "#logistics", lambda _: None, True, True)
    assert [(a.medium, a.to, a.fallback, a.meant_for) for a in addresses] == [
        ("slack", "U0LI", "#logistics", ("李强",)),
        ("slack-email", "zhou@example.com", "#logistics", ("周敏",)),
        ("slack", "#logistics", None, ("吴昊",)),
    ]
    without_slack = turn_addresses(people, Step.PLAN, "#logistics", lambda _: None, False, True)
    assert [(a.medium, a.to, a.meant_for) for a in without_slack] == [
        ("email", "zhou@example.com", ("周敏",)),
        ("slack", "#logistics", ("李强", "吴昊")),  # no Slack: their channel, if ever
    ]


def test_those_who_can_only_be_told_in_a_channel_share_one_copy_in_their_roles_channel() -> None:
    people = [PEOPLE["吴昊"], PEOPLE["钱总"]]
    channels = {Role.HANDLER: "#handlers"}
    (address,) = turn_addresses(people, Step.PLAN, "#dept", channels.get, True, True)
    assert (address.to, address.meant_for) == ("#handlers", ("吴昊", "钱总"))


def test_with_nobody_to_tell_the_department_channel_hears_of_the_wait() -> None:
    (address,) = turn_addresses([], Step.VERIFY, "#logistics", lambda _: None, True, False)
    assert (address.medium, address.to, address.meant_for) == ("slack", "#logistics", ())


def test_notices_mask_the_customer_and_say_what_is_asked_by_when() -> None:
    due = datetime(2026, 11, 24, 18, 0, tzinfo=SHANGHAI)
    notice = forwarding_notice(BRIEF, "fwd:x:2", LOGISTICS, PRODUCT, "制定方案", due, SHANGHAI)
    shown = json.dumps(notice.blocks, ensure_ascii=False) + notice.body + notice.text
    assert PHONE not in shown and "欧阳娜娜" not in shown and "138****5678" in shown
    assert "2026-11-24 18:00" in notice.body and "由产品部转来" in notice.body
    assert BRIEF.run_url in shown and BRIEF.case_no in notice.text
    turn = turn_notice(BRIEF, "turn:x", Step.GRADE, due, "severity: 必填", SHANGHAI, ("李强",))
    assert "For: 李强" in turn.body and "asked again: severity" in turn.body


HOURS = SlaPolicy.model_validate({"business_hours": {"start": "09:00", "end": "18:00"}})


@pytest.mark.parametrize(
    ("at", "opening"),
    [
        (datetime(2026, 11, 23, 10, 0), None),  # Monday morning: now
        (datetime(2026, 11, 23, 22, 0), datetime(2026, 11, 24, 9, 0)),  # Monday night
        (datetime(2026, 11, 28, 12, 0), datetime(2026, 11, 30, 9, 0)),  # Saturday
        (datetime(2026, 9, 30, 19, 0), datetime(2026, 10, 8, 9, 0)),  # National Day week
    ],
)
def test_outside_business_hours_a_notice_waits_for_the_next_opening(
    at: datetime, opening: datetime | None
) -> None:
    clock = HOURS.clock(SHANGHAI)
    local = at.replace(tzinfo=SHANGHAI)
    expected = opening.replace(tzinfo=SHANGHAI) if opening else None
    assert not_before(local, clock, urgent=False) == expected
    assert not_before(local, clock, urgent=True) is None  # a major case: at night too
    assert not_before(local, SlaPolicy().clock(SHANGHAI), urgent=False) is None  # no hours


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("slack_id", "lixiang", "Slack member ID"),
        ("slack_id", "U12 34", "Slack member ID"),
        ("email", "li@", "email"),
        ("mobile", "1381234567", "mobile"),
        ("mobile", "23812345678", "mobile"),
    ],
)
def test_a_malformed_contact_is_refused_naming_the_field(field: str, value: str, said: str) -> None:
    with pytest.raises(ValidationError) as caught:
        person("李强", LOGISTICS, Role.HANDLER, **{field: value})
    (error,) = caught.value.errors()
    assert error["loc"] == (field,) and said in str(error["msg"])


def test_contacts_are_kept_as_written_the_mobile_in_plain_digits() -> None:
    li = person("李强", LOGISTICS, Role.HANDLER, slack_id="W0LI", mobile="+86 138-1234-5678")
    assert (li.slack_id, li.mobile, li.email) == ("W0LI", "13812345678", None)
    assert person("周敏", LOGISTICS, Role.HANDLER, slack_id=" ", email="").slack_id is None


def test_opening_time_is_the_policy_s_own() -> None:
    later = SlaPolicy.model_validate({"business_hours": {"start": "08:30", "end": "17:30"}})
    night = datetime(2026, 11, 23, 23, 0, tzinfo=SHANGHAI)
    at = not_before(night, later.clock(SHANGHAI), urgent=False)
    assert at is not None and at.astimezone(SHANGHAI).time() == time(8, 30)


def test_a_watch_gap_is_one_only_when_a_minute_was_missed() -> None:
    from rules.notices import WATCH_GAP, watch_gap

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert watch_gap(None, now) is None
    assert watch_gap(now - timedelta(seconds=65), now) is None  # one run to the next
    assert watch_gap(now - WATCH_GAP, now) is None
    assert watch_gap(now - timedelta(minutes=5), now) == timedelta(minutes=5)
