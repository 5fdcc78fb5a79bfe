"""How fast the analysis reports are on a ledger of 1,000,000 cases, and what memory they take.

Goal (the issue): with 1,000,000 generated cases in the ledger, the monthly plus the
half-year figures in ≤ 10 s on SQLite and in no more than 2 × the time of the bare SQL
aggregate queries measured in the same run; memory stays flat (no rows loaded into
Python).

The ledger is generated directly (SQLAlchemy Core `insert()` executemany in chunks, not
through the casework service, which works case by case) in a child process, so this process
measures the report alone: cases spread over three years ending at the end of the report
month, with the audit entries, deadlines, surveys and escalations the figures read.
Then, each `--repeats` times with the order alternating so noise hits both:

(a) the product: `analysis.compute` of the monthly (2026-10) and the half-year (2026-H1)
    report;
(b) the bare SQL: the very statements (a) issued, captured with a `before_cursor_execute`
    listener during one compute, re-executed and fetched on a raw DBAPI connection
    (`sqlite3`): the cost of the aggregates without the product around them.

Memory: the peak of the Python heap (tracemalloc) during (a), and the process RSS before,
after and at its peak (VmHWM, reset through /proc/self/clear_refs), on the big ledger and
on a second one of `--small` cases: flat means the peak does not grow with the rows.

    .venv/bin/python -m benchmarks.analysis_speed [--cases 1000000] [--small 100000]
        [--repeats 3] [--postgres]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.common import PROJECT_ROOT, Timer, log, mb, median, write_result

NAME = "analysis_speed"
SECONDS_GOAL = 10.0
RATIO_GOAL = 2.0
MONTH = "2026-10"
HALF_YEAR = "2026-H1"
END_LOCAL = date(2026, 11, 1)  # the end of the report month: the ledger stops there
NOW = datetime(2026, 11, 7, 1, 0, tzinfo=UTC)  # when the reports are made
TIMEZONE = "Asia/Shanghai"
CHUNK = 50_000
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Limits in hours, after the defaults of rules.sla (verify: the response limit by severity).
STEP_LIMIT_HOURS = {"grade": 8, "plan": 24}
RESPONSE_HOURS = {"一般": 24, "严重": 12, "重大": 2}
HANDLING_HOURS = {"部门内": 24, "市级/跨县": 48, "跨地市": 6 * 24}


# -- the generated ledger ----------------------------------------------------------------
def _table(values: list[Any], weights: list[float]) -> tuple[list[Any], list[float]]:
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return values, [c / total for c in cumulative]


class Generator:
    """Realistic cases, day by day in receipt order, with their rows in the other tables."""

    def __init__(self, seed: int) -> None:
        from rules.enums import Category, Channel, Demand, Department, Scope, Severity
        from rules.routing import DEFAULT_ROUTING

        self.rng = random.Random(seed)
        self.channels = _table(list(Channel), [30, 22, 8, 18, 6, 1, 3, 1, 2, 3, 2, 2, 2])
        self.demands = _table(list(Demand), [25, 12, 15, 10, 15, 10, 13])
        self.severities = _table(list(Severity), [82, 15, 3])
        self.categories = _table(list(Category), [30, 15, 25, 18, 7, 5])
        self.scopes = _table(list(Scope), [80, 15, 5])
        self.routing = DEFAULT_ROUTING
        self.departments = list(Department)
        self.products = [f"产品{chr(0x41 + i)}-{100 + 7 * i}" for i in range(20)]
        self.product_table = _table(self.products, [1 / (i + 1) for i in range(20)])
        self.hours = _table(
            list(range(24)),
            [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 3, 6, 9, 10, 10, 8, 9, 10, 10, 9, 8, 7, 7, 6, 5, 3, 2],
        )
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
        given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
        self.names = [s + g for s in surnames for g in given]
        self.receivers = [f"客服{i:02d}" for i in range(1, 41)]
        self.employees = [f"员工{i:03d}" for i in range(1, 241)]
        self.issues = [
            "收到的商品有明显破损，外包装也被压坏了",
            "客服在电话中态度很差，多次打断我说话",
            "快递超过承诺时间五天仍未送达，物流信息一直不更新",
            "申请退款两周了还没有到账，也没有人联系我",
            "说明书与实际功能不符，宣传有误导",
            "维修后同样的问题又出现了，已经是第三次",
            "门店工作人员拒绝按政策办理换货",
            "App 下单后被重复扣款，要求退回多扣的钱",
            "配送员未经同意把包裹放在门口，导致丢失",
            "售后电话一直打不通，在线客服也无人回复",
        ]
        self.comments = [
            "处理很及时，谢谢",
            "结果可以接受，但过程太慢",
            "客服态度很好",
            "补偿太少，不满意",
            "问题没有真正解决",
            "希望以后不要再发生",
            "还是不满意，要求进一步处理",
        ]
        self.triggers = _table(
            ["sla", "major", "rejected", "plan_rejected", "cluster", "repeat"],
            [60, 8, 10, 3, 9, 10],
        )
        self.audiences = ["预警", "部门负责人", "运营总监", "公司领导"]
        self.recent: deque[str] = deque(maxlen=5000)  # case numbers a repeat may point at

    def pick(self, table: tuple[list[Any], list[float]]) -> Any:
        values, cumulative = table
        return values[min(bisect.bisect(cumulative, self.rng.random()), len(values) - 1)]

    def day_counts(self, cases: int, start: date, end: date) -> list[tuple[date, int]]:
        """Cases per local day: weekends quieter, a slow growth, some day-to-day noise."""
        days = [start + timedelta(days=i) for i in range((end - start).days)]
        weights = [
            (0.7 if day.weekday() >= 5 else 1.0)
            * (0.85 + 0.3 * index / len(days))
            * self.rng.uniform(0.85, 1.15)
            for index, day in enumerate(days)
        ]
        total = sum(weights)
        counts = [int(cases * w / total) for w in weights]
        for index in range(cases - sum(counts)):
            counts[index % len(counts)] += 1
        return list(zip(days, counts, strict=True))

    def minutes(self, median_minutes: float, sigma: float) -> timedelta:
        return timedelta(minutes=median_minutes * self.rng.lognormvariate(0, sigma))

    def case(self, case_id: int, case_no: str, received: datetime) -> dict[str, list[Any]]:
        """The rows of one case: {table name: rows}."""
        from rules.enums import CaseStatus, Language

        rng = self.rng
        rows: dict[str, list[Any]] = {
            "audit_entries": [],
            "step_deadlines": [],
            "survey_answers": [],
        }
        severity = self.pick(self.severities)
        initial = severity if rng.random() < 0.95 else self.pick(self.severities)
        category = self.pick(self.categories)
        scope = self.pick(self.scopes)
        product = self.pick(self.product_table)
        # the category's department, or the grader's own choice now and then
        department = self.routing[category] if rng.random() < 0.85 else rng.choice(self.departments)
        ack = received + timedelta(minutes=rng.uniform(1, 120))
        rows["audit_entries"].append(
            _audit(case_id, "acknowledge@c0", "acknowledge", 0, "system", ack, "acknowledged")
        )

        # The steps with a clock: verify, grade, plan (1–3 of them) and the handling clock.
        steps = ["verify", "grade", "plan"][: rng.choice((1, 2, 2, 3, 3, 3))]
        limits = {
            "verify": RESPONSE_HOURS[severity.value],
            **STEP_LIMIT_HOURS,
        }
        timeline: list[tuple[str, datetime, datetime]] = []  # step, started, done
        clock = ack
        for step in steps:
            done = clock + self.minutes(limits[step] * 60 * 0.2, 1.1)  # ~7 % late
            timeline.append((step, clock, done))
            clock = done + timedelta(minutes=rng.uniform(1, 60))
        reopened = rng.random() < 0.05
        handling_hours = HANDLING_HOURS[scope.value]
        # execution, then the result fed back (the handling clock stops; ~20 % late), callback
        feedback = max(
            clock + timedelta(minutes=30),
            received + self.minutes(handling_hours * 60 * 0.55, 0.4),
        )
        survey_at = feedback + self.minutes(120, 1.0)
        closed_at: datetime | None = survey_at + timedelta(minutes=rng.uniform(1, 30))
        reopen_at = again_fed = survey_again = survey_at
        if reopened:
            reopen_at = survey_at + timedelta(minutes=rng.uniform(1, 10))
            again_fed = reopen_at + self.minutes(handling_hours * 60 * 0.5, 0.4)
            survey_again = again_fed + self.minutes(120, 1.0)
            closed_at = survey_again + timedelta(minutes=rng.uniform(1, 30))

        # About a quarter is still open: stopped at one of its steps or before closing
        # (and whatever would have closed after the reports are made is open too).
        open_case = rng.random() < 0.25 or closed_at is None or closed_at > NOW
        stuck = len(steps) + 1
        if open_case:
            reopened = False
            closed_at = None
            stuck = rng.randrange(len(steps) + 1)
            stuck = next((i for i, t in enumerate(timeline) if t[2] > NOW and i < stuck), stuck)
        current = "close" if not open_case else (steps[stuck] if stuck < len(steps) else "execute")
        graded = not open_case or current in ("plan", "execute")

        for index, (step, started, done) in enumerate(timeline):
            if open_case and index > stuck:
                break
            is_done = not (open_case and index == stuck)
            rows["step_deadlines"].append(
                _deadline(case_id, step, 0, started, limits[step], done if is_done else None)
            )
        handling_done = feedback if closed_at is not None else None
        rows["step_deadlines"].append(
            _deadline(case_id, "handling", 0, received, handling_hours, handling_done)
        )
        cycle = 0
        if reopened and closed_at is not None:
            cycle = 1
            rows["audit_entries"].append(
                _audit(case_id, "reopen@c0", "reopen", 0, "system", reopen_at, "reopened")
            )
            rows["survey_answers"].append(self.survey(case_id, 0, survey_at, accepts=False))
            if len(rows["step_deadlines"]) < 4:
                rows["step_deadlines"].append(
                    _deadline(case_id, "handling", 1, reopen_at, handling_hours, again_fed)
                )
            survey_at = survey_again
        if closed_at is not None:
            if rng.random() < 0.9:
                accepts = rng.random() < 0.85
                rows["survey_answers"].append(self.survey(case_id, cycle, survey_at, accepts))
            rows["audit_entries"].append(
                _audit(case_id, "close@c0", "close", cycle, "system", closed_at, "closed")
            )

        last_activity = closed_at or (timeline[min(stuck, len(timeline) - 1)][1])
        repeat_of = self.rng.choice(self.recent) if self.recent and rng.random() < 0.03 else None
        self.recent.append(case_no)
        name = rng.choice(self.names)
        closed = closed_at is not None
        rows["cases"] = [
            {
                "id": case_id,
                "case_no": case_no,
                "idempotency_key": f"ref:BENCH-{case_id:08d}",
                "fingerprint": f"{rng.getrandbits(128):032x}",
                "channel": self.pick(self.channels),
                "external_ref": f"BENCH-{case_id:08d}",
                "occurred_at": received - timedelta(hours=rng.uniform(0, 72)),
                "received_at": received,
                "customer_name": name,
                "customer_phone": f"13{rng.randrange(10**9):09d}",
                "customer_email": None if rng.random() < 0.7 else f"c{case_id}@example.com",
                "description": f"{product}：{rng.choice(self.issues)}。订单号 {case_id * 7919}。",
                "demand": self.pick(self.demands),
                "demand_detail": None,
                "product": product,
                "order_no": f"SO{case_id * 7919:012d}",
                "initial_severity": initial,
                "severity": severity,
                "category": category if graded else None,
                "department": department if graded else None,
                "scope": scope if graded else None,
                "receiver": rng.choice(self.receivers),
                "language": Language.ZH_CN if rng.random() < 0.95 else Language.EN,
                "answered_on_spot": False,
                "on_spot_answer": None,
                "status": CaseStatus.CLOSED if closed else CaseStatus.IN_PROGRESS,
                "current_step": current,
                "waiting_key": None if closed else f"{current}-c{cycle}",
                "cycle": cycle,
                "substantiated": (rng.random() < 0.8) if closed else None,
                "root_cause": "流程执行不到位" if closed else None,
                "attributed_department": rng.choice(self.departments) if closed else None,
                "attributed_employee": rng.choice(self.employees) if closed else None,
                "improvement": "加强培训与复核" if closed else None,
                "result_summary": "已按客户诉求处理完毕" if closed else None,
                "repeat_of": repeat_of,
                "flow_run_id": f"{rng.getrandbits(128):032x}",
                "created_at": received,
                "updated_at": last_activity,
                "closed_at": closed_at,
            }
        ]
        return rows

    def survey(self, case_id: int, cycle: int, at: datetime, accepts: bool) -> dict[str, Any]:
        rng = self.rng
        high = (3, 4, 4, 5, 5, 5) if accepts else (1, 2, 2, 3, 3, 4)
        return {
            "case_id": case_id,
            "cycle": cycle,
            "efficiency": rng.choice(high),
            "resolution": rng.choice(high),
            "attitude": rng.choice(high),
            "fairness": rng.choice(high),
            "accepts_result": accepts,
            "comment": rng.choice(self.comments)
            if rng.random() < (0.2 if accepts else 0.7)
            else None,
            "actor": "回访员",
            "at": at,
        }

    def escalations(
        self, first_id: int, day_start: datetime, day: list[tuple[int, str, Any, str]]
    ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """A few escalations fired on a day, keyed like the product's, linked to its cases.

        `day`: (id, case number, category, product) of the day's cases.
        """
        rng = self.rng
        used: set[str] = set()
        eid = first_id
        for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 4, 5, 6))):
            trigger = self.pick(self.triggers)
            level = rng.randrange(4) if trigger == "sla" else 3 if trigger == "major" else 1
            fired = day_start + timedelta(seconds=rng.uniform(0, 86_400))
            first = rng.choice(day)
            members = [first]
            detail: dict[str, Any] = {"reason": f"bench {trigger}", "category": None}
            if trigger == "cluster":  # cluster:<category code>:<product>:<first case>
                members += [c for c in day if c[2] == first[2] and c[3] == first[3]][:4]
                members = sorted(set(members))
                key = f"cluster:{first[2].code}:{first[3]}:{members[0][1]}"
                detail = {
                    "reason": f"{len(members)} 件同类投诉 / similar complaints",
                    "category": first[2].value,
                    "members": [{"case_no": c[1], "run_url": None} for c in members],
                }
            elif trigger == "sla":
                key = f"sla:{first[1]}:verify:c0:L{level}"
            else:
                key = f"{trigger}:{first[1]}"
            if key in used:
                continue
            used.add(key)
            yield (
                {
                    "id": eid,
                    "key": key,
                    "trigger": trigger,
                    "level": level,
                    "audience": self.audiences[level],
                    "step": "verify" if trigger == "sla" else None,
                    "cycle": 0 if trigger == "sla" else None,
                    "due_at": fired - timedelta(hours=1) if trigger == "sla" else None,
                    "fired_at": fired,
                    "summary": f"升级 {trigger} L{level} {first[1]}",
                    "detail": detail,
                },
                [{"escalation_id": eid, "case_id": c[0]} for c in members],
            )
            eid += 1

    def corrective_actions(self, start: date, tz: ZoneInfo) -> list[dict[str, Any]]:
        """One action per department from each half-year and annual report the ledger saw."""
        from rules.periods import Kind, Period

        reports: list[Any] = []
        for kind in (Kind.HALF_YEAR, Kind.ANNUAL):
            period = Period.containing(kind, datetime.combine(start, datetime.min.time(), tz), tz)
            while period.bounds(tz)[1] <= NOW:
                if period.bounds(tz)[0] >= datetime.combine(start, datetime.min.time(), tz):
                    reports.append(period)
                period = period.next()
        rows = []
        for period in reports:
            issued = period.bounds(tz)[1] + timedelta(days=6, hours=1)
            for department in self.departments:
                due = issued + timedelta(days=30)
                done = issued + timedelta(days=self.rng.uniform(10, 40))
                finished = done <= NOW
                rows.append(
                    {
                        "key": f"{period.kind.value}:{period}:{department.value}",
                        "report_kind": period.kind.value,
                        "period": str(period),
                        "department": department.value,
                        "requirement": "；".join(self.rng.sample(self.issues, 2)),
                        "started_at": issued,
                        "due_at": due,
                        "next_alert_at": None if finished else due,
                        "alert_level": -1 if finished or due > NOW else 1,
                        "status": "done" if finished else "open",
                        "done_at": done if finished else None,
                        "done_by": "部门负责人" if finished else None,
                        "note": "已整改" if finished else None,
                        "created_at": issued,
                    }
                )
        return rows


def _audit(
    case_id: int, key: str, step: str, cycle: int, actor: str, at: datetime, decision: str
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "key": key,
        "step": step,
        "cycle": cycle,
        "actor": actor,
        "at": at,
        "decision": decision,
        "payload": {},
    }


def _deadline(
    case_id: int, step: str, cycle: int, started: datetime, hours: float, done: datetime | None
) -> dict[str, Any]:
    due = started + timedelta(hours=hours)
    late = (done or NOW) > due
    return {
        "case_id": case_id,
        "step": step,
        "cycle": cycle,
        "started_at": started,
        "due_at": due,
        "done_at": done,
        "warn_at": started + timedelta(hours=hours * 0.8),
        "next_alert_at": None if done is not None else due + timedelta(hours=hours),
        "alert_level": (1 if late else 0) if done is None or late else -1,
    }


def generate(url: str, cases: int, years: int, seed: int) -> dict[str, Any]:
    """A fresh ledger at `url` (schema by the migrations) filled with `cases` cases."""
    import sqlalchemy as sa

    from models.db import engine_for, upgrade
    from models.ledger import Base
    from rules.case_number import format_case_number
    from rules.enums import Category

    timer = Timer()
    upgrade(url)
    engine_for(url).dispose()
    sqlite = url.startswith("sqlite")
    engine = sa.create_engine(url)
    if sqlite:

        def fast_load(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MB for the index inserts
            cursor.close()

        sa.event.listen(engine, "connect", fast_load)

    names = (  # parents first
        "cases",
        "audit_entries",
        "step_deadlines",
        "survey_answers",
        "escalations",
        "escalation_cases",
        "case_counters",
        "corrective_actions",
    )
    tables = {name: Base.metadata.tables[name] for name in names}
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    counts = dict.fromkeys(tables, 0)

    def flush() -> None:
        with engine.begin() as connection:
            for name, table in tables.items():  # parents first
                if pending[name]:
                    connection.execute(sa.insert(table), pending[name])
                    counts[name] += len(pending[name])
                    pending[name] = []

    tz = ZoneInfo(TIMEZONE)
    gen = Generator(seed)
    start = END_LOCAL.replace(year=END_LOCAL.year - years)
    case_id = escalation_id = 0
    pending["corrective_actions"] = gen.corrective_actions(start, tz)
    last_log = time.monotonic()
    for day, count in gen.day_counts(cases, start, END_LOCAL):
        day_start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        moments = sorted(
            day_start + timedelta(hours=gen.pick(gen.hours), seconds=gen.rng.uniform(0, 3600))
            for _ in range(count)
        )
        day_cases: list[tuple[int, str, Any, str]] = []
        for sequence, moment in enumerate(moments, start=1):
            case_id += 1
            received = moment.astimezone(UTC)
            case_no = format_case_number(day, sequence)
            rows = gen.case(case_id, case_no, received)
            row = rows["cases"][0]
            day_cases.append((case_id, case_no, row["category"] or Category.OTHER, row["product"]))
            for name, new in rows.items():
                pending[name].extend(new)
        if count:
            pending["case_counters"].append({"day": f"{day:%Y%m%d}", "last": count})
            for escalation, links in gen.escalations(escalation_id + 1, day_start, day_cases):
                escalation_id += 1
                pending["escalations"].append(escalation)
                pending["escalation_cases"].extend(links)
        if any(len(rows) >= CHUNK for rows in pending.values()):
            flush()
            if time.monotonic() - last_log > 30:
                last_log = time.monotonic()
                log(f"  {case_id:,} of {cases:,} cases written ({timer.elapsed:.0f}s)")
    flush()
    insert_seconds = timer.elapsed
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"  # what autovacuum does to a live database after such a load
            )
    engine.dispose()
    size = None
    if sqlite:
        size = Path(url.split(":///", 1)[1]).stat().st_size
    else:
        with sa.create_engine(url).connect() as connection:
            size = connection.exec_driver_sql(
                "SELECT pg_database_size(current_database())"
            ).scalar()
    return {
        "cases": cases,
        "years": years,
        "first_day": start.isoformat(),
        "end_day": END_LOCAL.isoformat(),
        "rows": counts,
        "seconds": round(timer.elapsed, 1),
        "insert_seconds": round(insert_seconds, 1),
        "database_bytes": size,
    }


def generate_in_child(url: str, cases: int, years: int, seed: int, workdir: Path) -> dict[str, Any]:
    """Generate in a child process, so this one's memory is the report's alone."""
    out = workdir / f"generated-{cases}.json"
    command = [
        sys.executable,
        "-m",
        f"benchmarks.{NAME}",
        "--generate-into",
        url,
        "--cases",
        str(cases),
        "--years",
        str(years),
        "--seed",
        str(seed),
        "--generate-result",
        str(out),
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


# -- measuring ---------------------------------------------------------------------------
@dataclass
class Captured:
    """The statements one unit of work issued, with their DBAPI parameters."""

    statements: list[tuple[str, Any]]


def settings_for(url: str) -> Any:
    from complaints.settings import Settings

    return Settings(database_url=url, timezone=TIMEZONE)


def periods() -> list[Any]:
    from rules.periods import Period

    return [Period.parse("monthly", MONTH), Period.parse("half_year", HALF_YEAR)]


def product_run(settings: Any) -> list[Any]:
    """(a): the figures of both reports, as the product computes them."""
    from complaints.reporting import analysis

    return [analysis.compute(settings, period, NOW) for period in periods()]


def capture(settings: Any) -> tuple[list[Captured], list[Any]]:
    """One product run, recording every statement sent to the database, per report."""
    import sqlalchemy as sa

    from complaints.reporting import analysis
    from models.db import engine_for

    engine = engine_for(settings.database_url)
    current: list[tuple[str, Any]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        current.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    captured: list[Captured] = []
    figures = []
    try:
        for period in periods():
            current = []
            figures.append(analysis.compute(settings, period, NOW))
            captured.append(Captured(current))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return captured, figures


def _selects(captured: Captured) -> list[tuple[str, Any]]:
    return [(s, p) for s, p in captured.statements if s.lstrip().upper().startswith("SELECT")]


class Bare:
    """(b): the captured SELECTs on a raw DBAPI connection, one transaction per report."""

    def __init__(self, url: str, captured: list[Captured]) -> None:
        self.url = url
        self.reports = [_selects(c) for c in captured]
        if url.startswith("sqlite"):
            self.connection: Any = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
        else:
            import psycopg

            self.connection = psycopg.connect(_libpq(url), autocommit=True)
        self.rows = 0

    def run(self) -> None:
        cursor = self.connection.cursor()
        for statements in self.reports:
            cursor.execute("BEGIN")
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                self.rows += len(cursor.fetchall())
            cursor.execute("COMMIT")
        cursor.close()

    def per_statement(self) -> list[dict[str, Any]]:
        """Each statement timed alone (best of 3), slowest first: where the time goes."""
        cursor = self.connection.cursor()
        timings: list[dict[str, Any]] = []
        for report, statements in zip(periods(), self.reports, strict=True):
            for index, (statement, parameters) in enumerate(statements):
                best = float("inf")
                for _ in range(3):
                    started = time.perf_counter()
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
                    best = min(best, time.perf_counter() - started)
                timings.append(
                    {
                        "report": str(report),
                        "index": index,
                        "seconds": round(best, 4),
                        "statement": " ".join(statement.split()),
                        "parameters": [str(p) for p in _values(parameters)],
                    }
                )
        cursor.close()
        return sorted(timings, key=lambda t: -t["seconds"])

    def plan(self, statement: str, parameters: Any) -> list[str]:
        cursor = self.connection.cursor()
        if self.url.startswith("sqlite"):
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            lines = [str(row[-1]) for row in cursor.fetchall()]
        else:
            cursor.execute("EXPLAIN " + statement, parameters)
            lines = [str(row[0]) for row in cursor.fetchall()]
        cursor.close()
        return lines

    def close(self) -> None:
        self.connection.close()


def _values(parameters: Any) -> list[Any]:
    if isinstance(parameters, dict):
        return list(parameters.values())
    return list(parameters or ())


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def interleaved(kinds: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Each kind `repeats` times, the order reversed every round so drift hits all alike."""
    seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
    order = list(kinds)
    for round_no in range(repeats):
        for kind in order if round_no % 2 == 0 else reversed(order):
            started = time.perf_counter()
            kinds[kind]()
            seconds[kind].append(time.perf_counter() - started)
    return seconds


def _status_kb(name: str) -> int | None:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    return None


def _reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux: 5 > /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def memory_of(settings: Any) -> dict[str, Any]:
    """Peak Python heap and RSS while the product computes both reports (after a warm-up)."""
    import gc

    product_run(settings)  # imports, statement caches, the pool's connection
    gc.collect()
    hwm_reset = _reset_hwm()
    rss_before = _status_kb("VmRSS")
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    product_run(settings)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = _status_kb("VmRSS")
    hwm = _status_kb("VmHWM")
    return {
        "python_peak_bytes": peak - base,
        "python_retained_bytes": current - base,
        "rss_before_bytes": rss_before,
        "rss_after_bytes": rss_after,
        "rss_peak_bytes": hwm,
        "rss_peak_over_before_bytes": (hwm - rss_before) if hwm and rss_before else None,
        "hwm_reset": hwm_reset,
    }


def measure(url: str, repeats: int, diagnose: bool) -> dict[str, Any]:
    """(a) and (b) interleaved on the ledger at `url`, the slowest statements, memory."""
    settings = settings_for(url)
    first = Timer()
    captured, figures = capture(settings)  # also the warm-up of (a)
    first_seconds = first.elapsed
    bare = Bare(url, captured)
    try:
        bare.run()  # warm-up of (b)
        seconds = interleaved({"product": lambda: product_run(settings), "bare": bare.run}, repeats)
        product_s, bare_s = median(seconds["product"]), median(seconds["bare"])
        result: dict[str, Any] = {
            "product_seconds": round(product_s, 3),
            "bare_seconds": round(bare_s, 3),
            "ratio_product_to_bare": round(product_s / bare_s, 2),
            "product_runs_seconds": [round(s, 3) for s in seconds["product"]],
            "bare_runs_seconds": [round(s, 3) for s in seconds["bare"]],
            "first_product_seconds": round(first_seconds, 3),
            "statements": {
                str(p): len(_selects(c)) for p, c in zip(periods(), captured, strict=True)
            },
            "volumes": {str(f.period): f.volume for f in figures},
            "sample_figures": _sample(figures),
        }
        if diagnose:
            timings = bare.per_statement()
            total = sum(t["seconds"] for t in timings)
            slowest = timings[:8]
            for timing in slowest:
                timing["share"] = round(timing["seconds"] / total, 3) if total else None
                statements = bare.reports[0 if timing["report"] == MONTH else 1]
                statement, parameters = statements[timing["index"]]
                timing["plan"] = bare.plan(statement, parameters)
            result["sum_of_statements_seconds"] = round(total, 3)
            result["slowest_statements"] = slowest
    finally:
        bare.close()
    result["memory"] = memory_of(settings)
    return result


def _sample(figures: list[Any]) -> dict[str, Any]:
    """A few figures, to see the generated ledger looks like a real one."""
    sample = {}
    for f in figures:
        sample[str(f.period)] = {
            "volume": f.volume,
            "resolution": round(f.resolution.value or 0, 3),
            "timely_steps": round(f.timely_steps.value or 0, 3),
            "timely_cases": round(f.timely_cases.value or 0, 3),
            "satisfaction": round(f.satisfaction.value or 0, 3),
            "reopened": f.reopened.numerator,
            "repeats": f.repeats.numerator,
            "first_response_median_minutes": f.first_response.median_minutes,
            "handling_median_minutes": f.handling.median_minutes,
            "escalations": sum(e.count for e in f.escalations),
            "trend_points": len(f.trend),
        }
    return sample


# -- PostgreSQL --------------------------------------------------------------------------
def postgres_database() -> tuple[str, Callable[[], None]]:
    """A database of our own on the local server, and how to drop it."""
    import sqlalchemy as sa

    name = f"complaints_bench_analysis_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        from models.db import engine_for

        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


# -- the benchmark -----------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog=f"benchmarks.{NAME}", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument(
        "--small", type=int, default=100_000, help="cases of the second ledger (0: none)"
    )
    parser.add_argument("--years", type=int, default=3, help="the ledger spans this many years")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", action="store_true", help="also on the local PostgreSQL")
    parser.add_argument("--generate-into", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--generate-result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.generate_into:
        generated = generate(args.generate_into, args.cases, args.years, args.seed)
        Path(args.generate_result).write_text(json.dumps(generated))
        return generated

    total = Timer()
    root = Path(tempfile.mkdtemp(prefix=f"complaints-bench-{NAME}-"))
    result: dict[str, Any] = {
        "cases": args.cases,
        "small_cases": args.small,
        "repeats": args.repeats,
        "periods": [MONTH, HALF_YEAR],
        "now": NOW.isoformat(),
        "timezone": TIMEZONE,
    }
    try:
        big_url = f"sqlite:///{root / 'big.db'}"
        log(f"generating {args.cases:,} cases over {args.years} years into {big_url}")
        result["generation"] = generate_in_child(big_url, args.cases, args.years, args.seed, root)
        log(_generated(result["generation"]))
        log(f"measuring: (a) product, (b) bare SQL, {args.repeats} times each, interleaved")
        big = measure(big_url, args.repeats, diagnose=True)
        result["sqlite"] = big

        if args.small:
            small_url = f"sqlite:///{root / 'small.db'}"
            log(f"generating {args.small:,} cases for the memory comparison")
            result["small_generation"] = generate_in_child(
                small_url, args.small, args.years, args.seed + 1, root
            )
            log(_generated(result["small_generation"]))
            result["sqlite_small"] = measure(small_url, args.repeats, diagnose=False)

        if args.postgres:
            url, drop = postgres_database()
            try:
                log(f"PostgreSQL: generating {args.cases:,} cases")
                result["postgres_generation"] = generate_in_child(
                    url, args.cases, args.years, args.seed, root
                )
                log(_generated(result["postgres_generation"]))
                result["postgres"] = measure(url, args.repeats, diagnose=True)
            finally:
                drop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    result.update(headline(result))
    result["total_seconds"] = round(total.elapsed, 1)
    write_result(NAME, result)
    report(result)
    return result


def _generated(g: dict[str, Any]) -> str:
    rows = ", ".join(f"{n} {c:,}" for n, c in g["rows"].items())
    return f"generated in {g['seconds']:.0f}s, {mb(g['database_bytes'])}: {rows}"


def headline(result: dict[str, Any]) -> dict[str, Any]:
    big = result["sqlite"]
    out: dict[str, Any] = {
        "generation_seconds": result["generation"]["seconds"],
        "database_mb": round(result["generation"]["database_bytes"] / 2**20),
        "product_seconds": big["product_seconds"],
        "bare_seconds": big["bare_seconds"],
        "ratio_product_to_bare": big["ratio_product_to_bare"],
        "seconds_goal_met": big["product_seconds"] <= SECONDS_GOAL,
        "ratio_goal_met": big["ratio_product_to_bare"] <= RATIO_GOAL,
        "python_peak_mb": round(big["memory"]["python_peak_bytes"] / 2**20, 2),
    }
    small = result.get("sqlite_small")
    if small:
        out["python_peak_mb_small"] = round(small["memory"]["python_peak_bytes"] / 2**20, 2)
        out["peak_ratio_big_to_small"] = round(
            big["memory"]["python_peak_bytes"] / small["memory"]["python_peak_bytes"], 2
        )
    pg = result.get("postgres")
    if pg:
        out["postgres_product_seconds"] = pg["product_seconds"]
        out["postgres_bare_seconds"] = pg["bare_seconds"]
        out["postgres_ratio_product_to_bare"] = pg["ratio_product_to_bare"]
    return out


def report(result: dict[str, Any]) -> None:
    big = result["sqlite"]
    log(
        f"{result['cases']:,} cases, SQLite: (a) product {big['product_seconds']:.2f} s "
        f"(goal ≤ {SECONDS_GOAL:.0f} s: {'met' if result['seconds_goal_met'] else 'NOT met'}), "
        f"(b) bare SQL {big['bare_seconds']:.2f} s, ratio {big['ratio_product_to_bare']} "
        f"(goal ≤ {RATIO_GOAL:.0f}: {'met' if result['ratio_goal_met'] else 'NOT met'})"
    )
    for timing in big.get("slowest_statements", [])[:3]:
        log(f"  {timing['seconds']:.3f}s {timing['report']}: {timing['statement'][:110]}")
    memory = big["memory"]
    log(
        f"memory: Python peak {mb(memory['python_peak_bytes'])} "
        f"({memory['python_peak_bytes'] / 1024:.0f} KiB), RSS {mb(memory['rss_before_bytes'])} "
        f"→ {mb(memory['rss_after_bytes'])}, peak {mb(memory['rss_peak_bytes'])}"
    )
    if "peak_ratio_big_to_small" in result:
        small = result["sqlite_small"]["memory"]
        log(
            f"memory at {result['small_cases']:,} cases: Python peak "
            f"{small['python_peak_bytes'] / 1024:.0f} KiB; ratio {result['cases']:,}/"
            f"{result['small_cases']:,} = {result['peak_ratio_big_to_small']}"
        )
    if "postgres" in result:
        pg = result["postgres"]
        log(
            f"PostgreSQL: (a) {pg['product_seconds']:.2f} s, (b) {pg['bare_seconds']:.2f} s, "
            f"ratio {pg['ratio_product_to_bare']}"
        )


if __name__ == "__main__":
    main()
