"""Worklists and the morning list from the waiting cases (rules.worklist)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules.enums import Department, Role
from rules.steps import Step
from rules.worklist import LISTED, Waiting, morning_list, sections, select, table_rows

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)  # a Tuesday's morning list
YESTERDAY = NOW - timedelta(days=1)
HOUR = timedelta(hours=1)


def waiting(n: int, due: timedelta | None, **kw: object) -> Waiting:
    fields: dict[str, object] = {
        "case_no": f"TS-20261123-{n:04d}",
        "severity": "严重",
        "category": "物流配送",
        "department": Department.LOGISTICS,
        "step": Step.PLAN,
        "waiting_since": NOW - 2 * HOUR,
        "due_at": NOW + due if due is not None else None,
        "run_url": f"http://127.0.0.1:4200/runs/flow-run/{n}",
        "told": ("孙七",),
    }
    fields.update(kw)
    return Waiting(**fields)  # type: ignore[arg-type]


ITEMS = [
    waiting(1, 3 * HOUR),  # due today
    waiting(2, -HOUR),  # overdue
    waiting(3, None, step=Step.EXECUTE),  # no deadline
    waiting(4, 30 * HOUR, department=Department.PRODUCT, told=("王五",)),  # tomorrow
    waiting(5, 2 * HOUR, on_hold=True),  # the customer has to answer first
    waiting(6, 50 * HOUR, forwarded_at=NOW - 2 * HOUR, step=Step.APPROVE_GRADE, told=()),
]


def numbers(items: list[Waiting]) -> list[int]:
    return [int(w.case_no[-4:]) for w in items]


def test_a_worklist_is_soonest_due_first_and_cases_without_a_deadline_last() -> None:
    assert numbers(select(ITEMS)) == [2, 5, 1, 4, 6, 3]
    assert numbers(select(ITEMS, person="孙七")) == [2, 5, 1, 3]
    assert numbers(select(ITEMS, department=Department.PRODUCT)) == [4]
    assert numbers(select(ITEMS, role=Role.DEPARTMENT_DIRECTOR)) == [6]


def test_the_morning_list_has_the_overdue_the_due_today_the_held_and_the_handed_over() -> None:
    parts = sections(select(ITEMS, department=Department.LOGISTICS), NOW, YESTERDAY, SHANGHAI)
    assert numbers(parts.overdue) == [2]
    assert numbers(parts.due_today) == [1]  # 5 is on hold: its clock stands still
    assert numbers(parts.on_hold) == [5]
    assert numbers(parts.handed_over) == [6]
    assert not sections([waiting(7, 30 * HOUR)], NOW, YESTERDAY, SHANGHAI)  # nothing to say


def test_the_morning_message_links_each_case_and_counts_what_it_does_not_list() -> None:
    many = [waiting(n, -HOUR * n) for n in range(1, LISTED + 6)]
    parts = sections(many, NOW, YESTERDAY, SHANGHAI)
    notice = morning_list("morning:x", "物流部", parts, NOW, SHANGHAI)
    blocks = json.dumps(notice.blocks, ensure_ascii=False)
    assert f"已逾期 / Overdue ({LISTED + 5})" in blocks and "另有 5 件 / 5 more" in blocks
    # the longest overdue first; the five least overdue are counted, not listed
    assert "<http://127.0.0.1:4200/runs/flow-run/35|TS-20261123-0035>" in blocks
    assert "TS-20261123-0005" not in blocks and "TS-20261123-0006" in blocks
    assert "2026-11-24" in notice.text and "物流部" in notice.text
    assert "TS-20261123-0035" in notice.body and "runs/flow-run/35" in notice.body


def test_a_department_s_table_shows_whose_turn_it_is_and_how_long_is_left() -> None:
    rows = table_rows(select(ITEMS, department=Department.LOGISTICS), NOW, SHANGHAI)
    assert [r["案件编号 case"] for r in rows][:2] == ["TS-20261123-0002", "TS-20261123-0005"]
    overdue, held = rows[0], rows[1]
    assert overdue["剩余 left"] == "逾期 overdue 60 min" and overdue["待办人 people"] == "孙七"
    assert held["等待客户 on hold"] == "是 yes" and rows[-1]["截止 due"] == "—"
