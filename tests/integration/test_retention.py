"""Erasing the customers of closed cases once the retention period is over, on SQLite and
PostgreSQL: exactly the cases past the boundary lose their customer's data, wherever the
ledger kept it, and every figure of the analyses reads the same afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from complaints.cases import casework, retention
from complaints.reporting import analysis
from complaints.settings import Settings
from embedded.synthetic import APPROVERS, CALLBACK_AGENTS, GRADERS, HANDLERS, RECEIVERS
from models.db import alembic_config, engine_for, unit_of_work
from models.ledger import Base, Case, CaseReport, CustomerMessage, ProductSecret
from rules.enums import CaseStatus, Channel, Demand, Language, Severity
from rules.intake import ComplaintIn
from rules.periods import Kind, Period
from rules.retention import ERASED_NAME, KEY_SECRET, RETENTION_ACTOR, customer_key
from rules.steps import Step
from tests.integration.cli_support import COMPLAINT, UNREACHABLE_PREFECT
from tests.integration.ledger_builder import GENERATED, OCTOBER, Plan, build_ledger, drive, local
from tests.integration.ledger_reads import audit_of, the_case

BOUNDARY = local("2026-10-20 00:00")  # cases closed by then are past the retention period
PERIODS = [
    Period.parse(Kind.MONTHLY, "2026-09"),
    OCTOBER,
    Period.parse(Kind.MONTHLY, "2026-11"),
]
STAFF = {*RECEIVERS, *GRADERS, *APPROVERS, *CALLBACK_AGENTS, *sum(HANDLERS.values(), ())}

# Customers whose words are everywhere the product keeps words: the first complains once,
# in September; the second in September and again in November (a returning customer).
ONCE = ("欧阳娜娜", "13900001111", "ouyang.nana@example.cn")
TWICE = ("司马光明", "13700002222", "Sima.Guangming@example.com")


@pytest.fixture
def kept(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """The test's settings with evidence files of its own, and Prefect unreachable."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: UNREACHABLE_PREFECT}):
        yield settings.model_copy(update={"evidence_dir": tmp_path / "evidence"})


@pytest.fixture
def cases(kept: Settings) -> dict[str, str]:
    """The generated ledger plus three cases that quote their customers; the case numbers
    by role: "once" and "twice-earlier" closed before the boundary, "twice-later" after."""
    build_ledger(kept, count=24)
    return {
        "once": talkative_case(kept, local("2026-09-08 10:00"), ONCE),
        "twice-earlier": talkative_case(kept, local("2026-09-15 14:00"), TWICE),
        "twice-later": talkative_case(kept, local("2026-11-03 09:30"), TWICE),
    }


def talkative_case(settings: Settings, received: datetime, customer: tuple[str, ...]) -> str:
    """A closed case with its customer's name, phone and e-mail in every free text: the
    register, each decision, the survey, a reply, a message, the report and the evidence."""
    name, phone, email = customer
    complaint = ComplaintIn(
        channel="电子邮件",
        external_ref=f"TALK-{received:%m%d%H}",
        customer_name=name,
        customer_phone=phone,
        customer_email=email,
        description=f"我是{name}，收到的电热水壶漏水。请回电 {phone} 或回复 {email}。",
        demand="换货",
        demand_detail=f"给{name}换一台，到货前打 {phone}",
        product="电热水壶",
        severity="严重",
        category="产品质量",
        receiver="客服-王芳",
        answered_on_spot=True,
        on_spot_answer=f"已告知{name}先停用",
    )
    said = {
        "verify": {"findings": f"已致电{phone}与{name}确认，邮件{email.lower()}"},
        "plan": {"root_cause": f"质检漏检，{name}来电 {phone}", "improvement": f"回访{name}后加检"},
        "feedback": {"result": f"已电话告知{name}（{phone}）处理结果"},
        "callback": {"comment": f"{name}：满意，有事发 {email}"},
    }
    case_no = drive(settings, complaint, Plan(received, "close", 60), seed=7, said=said)
    casework.record_correspondence(
        settings,
        case_no,
        received + timedelta(hours=1),
        f"<{case_no}@mail.example.com>",
        "customer_wrote",
        {"note": f"{name}补充照片，电话{phone}", "evidence": [f"{name}-发票.jpg"]},
    )
    folder = settings.evidence_dir / case_no
    folder.mkdir(parents=True)
    (folder / f"{name}-发票.jpg").write_bytes(b"\xff\xd8 photo")
    (folder / "forwarded.eml").write_text(f"From: {email}\n\n{name}", encoding="utf-8")
    with unit_of_work(settings.database_url) as session:
        case = session.scalars(sa.select(Case).where(Case.case_no == case_no)).one()
        session.add(
            CustomerMessage(
                case_id=case.id,
                kind="acknowledgement",
                cycle=0,
                language="zh-CN",
                delivery="email",
                recipient=email,
                subject=f"{name}，您的投诉已受理",
                body=f"尊敬的{name}：您的投诉已受理，我们会致电 {phone}。",
                status="failed",
                attempts=1,
                error=f"550 no such user {email}",
                created_at=received,
            )
        )
        report = session.scalars(sa.select(CaseReport).where(CaseReport.case_id == case.id)).one()
        report.markdown = f"# {case_no}\n\n客户：{name}，{phone}，{email}"
    return case_no


# -- reading the whole ledger ------------------------------------------------------------
def every_row(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    with unit_of_work(settings.database_url) as session:
        return {
            table.name: [dict(row) for row in session.execute(sa.select(table)).mappings()]
            for table in Base.metadata.sorted_tables
        }


def strings_in(value: Any) -> Iterator[str]:
    """Every text in a row's value: a column's, or any string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def texts(settings: Settings) -> list[str]:
    """Every text of every table, with the names of staff taken out (a customer may share
    a name with a colleague; the colleague's stays)."""
    found = []
    for rows in every_row(settings).values():
        for row in rows:
            for value in row.values():
                for text in strings_in(value):
                    for colleague in STAFF:
                        text = text.replace(colleague, "")
                    found.append(text)
    return found


def of_case(settings: Settings, case_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row that belongs to one case."""
    rows = every_row(settings)
    return {
        table: [r for r in found if r["case_id"] == case_id]
        for table, found in rows.items()
        if found and "case_id" in found[0]
    } | {"cases": [r for r in rows["cases"] if r["id"] == case_id]}


def figures(settings: Settings) -> list[dict[str, Any]]:
    return [analysis.compute(settings, p, GENERATED).model_dump() for p in PERIODS]


def run_retention(settings: Settings) -> retention.RetentionRun:
    now = BOUNDARY + timedelta(days=settings.retention_days)
    return retention.erase_due(settings, now)


# -- the tests ---------------------------------------------------------------------------------
def test_exactly_the_cases_closed_before_the_retention_boundary_are_erased(
    kept: Settings, cases: dict[str, str]
) -> None:
    before = every_row(kept)["cases"]
    due = {c["case_no"] for c in before if c["closed_at"] and c["closed_at"] <= BOUNDARY}
    kept_cases = [c for c in before if c["case_no"] not in due]
    assert {cases["once"], cases["twice-earlier"]} <= due
    assert any(c["status"] is CaseStatus.CLOSED for c in kept_cases)  # closed after it
    assert any(c["status"] is not CaseStatus.CLOSED for c in kept_cases)  # still open
    untouched = {c["id"]: of_case(kept, c["id"]) for c in kept_cases}

    run = run_retention(kept)

    assert sorted(e.case_no for e in run.erased) == sorted(due)
    assert run.failed == []
    after = {c["case_no"]: c for c in every_row(kept)["cases"]}
    for case_no in due:
        case = after[case_no]
        assert (case["customer_name"], case["customer_phone"], case["customer_email"]) == (
            ERASED_NAME,
            None,
            None,
        )
        (erased,) = [e for e in audit_of(kept, case_no) if e.step == Step.ERASE.value]
        assert erased.actor == RETENTION_ACTOR
        assert erased.payload["why"] == "retention"
        assert {"customer_name", "description", "audit_entries.payload"} <= set(
            erased.payload["fields"]
        )
    for case_id, rows in untouched.items():
        assert of_case(kept, case_id) == rows
    assert retention.erase_due(kept, BOUNDARY + timedelta(days=kept.retention_days)).erased == []


def test_no_erased_customers_name_phone_or_e_mail_is_left_anywhere_in_the_ledger(
    kept: Settings, cases: dict[str, str]
) -> None:
    before = every_row(kept)["cases"]
    due = [c for c in before if c["closed_at"] and c["closed_at"] <= BOUNDARY]
    others = [c for c in before if c not in due]
    # What a case still kept says of its own customer stays (the same customer, or a
    # namesake): looked for are the values no kept case holds.
    still_held = {
        value.lower()
        for c in others
        for f in ("customer_name", "customer_phone", "customer_email")
        if (value := c[f])
    }
    wanted = {
        value
        for c in due
        for f in ("customer_name", "customer_phone", "customer_email")
        if (value := c[f]) and value.lower() not in still_held
    }
    assert {*ONCE} <= wanted and TWICE[0] not in wanted
    every_text = "\n".join(texts(kept))
    assert all(value in every_text for value in ONCE)  # the scan sees where they were

    run_retention(kept)

    every_text = "\n".join(texts(kept)).lower()
    left = sorted(value for value in wanted if value.lower() in every_text)
    assert left == []


def test_the_evidence_files_of_an_erased_case_are_deleted_and_the_others_kept(
    kept: Settings, cases: dict[str, str]
) -> None:
    run = run_retention(kept)

    assert not (kept.evidence_dir / cases["once"]).exists()
    assert not (kept.evidence_dir / cases["twice-earlier"]).exists()
    assert sorted(p.name for p in (kept.evidence_dir / cases["twice-later"]).iterdir()) == [
        "forwarded.eml",
        f"{TWICE[0]}-发票.jpg",
    ]
    (once,) = [e for e in run.erased if e.case_no == cases["once"]]
    assert once.files == "2 evidence file(s) deleted"
    assert once.prefect.startswith("Prefect's copy NOT removed")  # said, and nothing failed


def test_every_figure_of_the_analyses_is_the_same_after_erasure(
    kept: Settings, cases: dict[str, str]
) -> None:
    first = figures(kept)

    run_retention(kept)

    assert figures(kept) == first
    november = analysis.compute(kept, PERIODS[2], GENERATED).customers
    assert november is not None and november.returning >= 1  # 司马光明, erased in September


def test_the_returning_customer_is_found_by_the_key_of_the_erased_earlier_case(
    kept: Settings, cases: dict[str, str]
) -> None:
    earlier = the_case(kept, cases["twice-earlier"])

    run_retention(kept)

    erased, later = the_case(kept, cases["twice-earlier"]), the_case(kept, cases["twice-later"])
    assert erased.customer_phone is None and later.customer_phone == TWICE[1]
    assert erased.customer_key == earlier.customer_key == later.customer_key
    assert erased.customer_key is not None and TWICE[1] not in erased.customer_key


def test_an_open_case_is_never_erased(kept: Settings, cases: dict[str, str]) -> None:
    open_case = next(c for c in every_row(kept)["cases"] if c["status"] is not CaseStatus.CLOSED)

    with pytest.raises(retention.NotErasable, match="is not closed"):
        retention.erase(kept, open_case["case_no"], "张经理", retention.Reason.REQUEST, GENERATED)

    assert the_case(kept, open_case["case_no"]).customer_name == open_case["customer_name"]


# -- the migration that gave every case its key --------------------------------------------
OLD = local("2026-09-01 10:00")


def old_case(number: int, phone: str | None, email: str | None) -> dict[str, Any]:
    """A case as the ledger held it before customer keys (schema 0006)."""
    return {
        "case_no": f"TS-20260901-{number:04d}",
        "idempotency_key": f"old:{number}",
        "fingerprint": "0" * 16,
        "channel": Channel.HOTLINE,
        "received_at": OLD,
        "customer_name": "张三",
        "customer_phone": phone,
        "customer_email": email,
        "description": "旧案件：热水壶漏水。",
        "demand": Demand.EXCHANGE,
        "initial_severity": Severity.GENERAL,
        "severity": Severity.GENERAL,
        "receiver": "客服-王芳",
        "language": Language.ZH_CN,
        "answered_on_spot": False,
        "status": CaseStatus.CLOSED,
        "current_step": "close",
        "cycle": 0,
        "created_at": OLD,
        "updated_at": OLD,
        "closed_at": OLD,
    }


def migrate(url: str, to: str, down: bool = False) -> None:
    from alembic import command

    with engine_for(url).begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, to)


def installation_key(settings: Settings) -> str | None:
    with unit_of_work(settings.database_url) as session:
        row = session.get(ProductSecret, KEY_SECRET)
        return row.value if row else None


def test_upgrading_a_ledger_gives_its_cases_the_key_registration_gives_the_same_customer(
    settings: Settings,
) -> None:
    made_before = installation_key(settings)  # none on PostgreSQL: its tables were emptied
    migrate(settings.database_url, "0006", down=True)
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(
            sa.insert(Case.__table__),
            [
                old_case(1, "13812345678", None),
                old_case(2, None, "ZhangSan@Example.com"),
                old_case(3, "13812345678", "another@example.com"),
                old_case(4, None, None),
            ],
        )

    migrate(settings.database_url, "head")

    secret = installation_key(settings)
    assert secret is not None and secret == (made_before or secret)
    with unit_of_work(settings.database_url) as session:
        keys = {no: key for no, key in session.execute(sa.select(Case.case_no, Case.customer_key))}
    assert keys["TS-20260901-0001"] == customer_key(secret.encode(), "13812345678", None)
    assert keys["TS-20260901-0002"] == customer_key(secret.encode(), None, "zhangsan@example.com")
    assert keys["TS-20260901-0001"] == keys["TS-20260901-0003"]  # the phone comes first
    assert keys["TS-20260901-0004"] is None
    again = casework.register(
        ComplaintIn(**{**COMPLAINT, "customer_phone": "+86 138 1234 5678"}), settings, GENERATED
    )
    assert the_case(settings, again.case_no).customer_key == keys["TS-20260901-0001"]
