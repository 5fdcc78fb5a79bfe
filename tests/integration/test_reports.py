"""`complaints report`: the files saved, the Slack post, a failed delivery, an empty period.

The command runs in-process against the test ledger; Slack is the local Web API server
(`files_upload_v2` of the real slack_sdk client: get an upload URL, upload, complete).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from complaints.cli import main
from complaints.settings import Settings, get_settings
from complaints.timesource import utc_now
from models.db import unit_of_work
from models.ledger import AuditEntry, Case
from tests.integration.ledger_builder import build_ledger
from tests.integration.slack_server import FakeSlack
from tests.integration.smtp_server import Inbox


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack_api: FakeSlack
) -> Iterator[Settings]:
    """The command's own settings: the test ledger, a reports folder, the local Slack."""
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_") and not name.upper().startswith(
            "COMPLAINTS_TEST_"
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", database_url)
    monkeypatch.setenv("COMPLAINTS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("COMPLAINTS_SLACK__TOKEN", slack_api.token)
    monkeypatch.setenv("COMPLAINTS_SLACK__BASE_URL", slack_api.base_url)
    monkeypatch.setenv("COMPLAINTS_SLACK__RETRY_LIMIT", "0")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def report(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> dict[str, str]:
    """`complaints report … --json`; `code`: the exit status it must end with (1: saved, but
    a delivery failed)."""
    capsys.readouterr()
    assert main(["report", *argv, "--json"]) == code
    return json.loads(capsys.readouterr().out)


def test_a_monthly_report_is_saved_and_posted_to_the_reports_channel(
    settings: Settings, slack_api: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    build_ledger(settings)

    done = report(capsys, "monthly", "--period", "2026-10")

    assert done["delivery"] == "posted to #complaints-reports"
    html = Path(done["html"]).read_text(encoding="utf-8")
    assert "2026-10" in html and "<svg" in html
    figures = list(csv.reader(io.StringIO(Path(done["csv"]).read_text(encoding="utf-8-sig"))))
    assert len(figures) > 10
    shared = slack_api.shared_files()
    assert sorted(f.filename for f in shared) == ["monthly-2026-10.csv", "monthly-2026-10.html"]
    assert {f.channel for f in shared} == {"C0REPORTS"}
    assert shared[0].content and shared[0].content.decode("utf-8", "ignore")
    comment = shared[0].initial_comment or ""
    assert f"投诉 {done['volume']} 件" in comment
    assert "13812345678" not in html + comment  # a customer's quote carries a phone: masked


def test_a_failed_delivery_keeps_the_report_and_a_second_run_sends_it(
    settings: Settings, slack_api: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    build_ledger(settings)
    slack_api.outage(True)

    failed = report(capsys, "monthly", "--period", "2026-10", code=1)

    assert failed["delivery"].startswith("NOT delivered")
    assert Path(failed["html"]).exists() and Path(failed["csv"]).exists()
    assert slack_api.shared_files() == []

    slack_api.outage(False)
    again = report(capsys, "monthly", "--period", "2026-10")
    assert again["delivery"] == "posted to #complaints-reports"
    assert again["html"] == failed["html"]
    assert len(slack_api.shared_files()) == 2


def test_an_empty_period_gives_a_clear_report_not_an_error(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    done = report(capsys, "annual", "--period", "2020", "--no-deliver")
    assert done["volume"] == 0
    assert "本期无投诉" in Path(done["html"]).read_text(encoding="utf-8")
    assert done["delivery"] == "not delivered (--no-deliver)"


def test_a_malformed_period_is_refused_in_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "half_year", "--period", "2026-H3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2026-H1" in err


def test_the_report_can_also_be_e_mailed_with_its_files_attached(
    settings: Settings,
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = smtp
    monkeypatch.setenv("COMPLAINTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COMPLAINTS_SMTP_PORT", str(port))
    monkeypatch.setenv("COMPLAINTS_REPORT_EMAIL_TO", '["ops-director@example.com"]')
    get_settings.cache_clear()
    build_ledger(get_settings())

    done = report(capsys, "monthly", "--period", "2026-10")

    assert done["delivery"] == (
        "posted to #complaints-reports; e-mailed to ops-director@example.com"
    )
    message = inbox.received()
    assert message["To"] == "ops-director@example.com"
    assert "2026-10" in str(message["Subject"])
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert names == ["analysis.html", "figures.csv"]


@pytest.mark.parametrize(
    ("channel", "scopes_missing", "told"),
    [
        ("#no-such-channel", set(), "no Slack channel named #no-such-channel"),
        ("#complaints-reports", {"channels:read"}, "needs the channels:read scope"),
        ("#private-reports", {"groups:read"}, "needs the groups:read scope"),
    ],
    ids=["unknown-name", "missing-scope", "private-without-groups-read"],
)
def test_a_reports_channel_slack_cannot_resolve_says_how_to_fix_it(
    settings: Settings,
    slack_api: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    channel: str,
    scopes_missing: set[str],
    told: str,
) -> None:
    build_ledger(settings)
    monkeypatch.setenv("COMPLAINTS_SLACK__REPORTS_CHANNEL", channel)
    get_settings.cache_clear()
    slack_api.missing_scopes = scopes_missing
    failed = report(capsys, "monthly", "--period", "2026-10", code=1)
    delivery = failed["delivery"]
    assert delivery.startswith("NOT delivered") and told in delivery, delivery
    assert "channel's ID" in delivery and "NoneType" not in delivery
    assert slack_api.shared_files() == []

    monkeypatch.setenv("COMPLAINTS_SLACK__REPORTS_CHANNEL", "C0REPORTS")  # an ID: no lookup
    slack_api.missing_scopes = {"channels:read"}
    get_settings.cache_clear()
    assert report(capsys, "monthly", "--period", "2026-10")["delivery"] == "posted to C0REPORTS"


def test_a_period_not_over_yet_is_refused_in_one_line_and_nothing_is_saved(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    this_month = f"{utc_now().astimezone(settings.tz):%Y-%m}"
    next_year = str(utc_now().astimezone(settings.tz).year + 1)

    assert main(["report", "monthly", "--period", this_month, "--no-deliver"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has not ended yet" in err and "--partial" in err
    assert main(["report", "annual", "--period", next_year, "--partial", "--no-deliver"]) == 2
    assert "has not begun" in capsys.readouterr().err
    assert not (settings.reports_dir / "monthly" / this_month).exists()


def test_a_period_not_over_yet_is_reported_as_partial_when_asked(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    this_month = f"{utc_now().astimezone(settings.tz):%Y-%m}"

    done = report(capsys, "monthly", "--period", this_month, "--partial", "--no-deliver")

    markdown = Path(done["markdown"]).read_text(encoding="utf-8")
    html = Path(done["html"]).read_text(encoding="utf-8")
    assert "本期尚未结束" in markdown and "本期尚未结束" in html
    assert done["corrective_actions"] == []


def test_the_last_complete_period_is_reported_without_a_word_of_partial(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    done = report(capsys, "monthly", "--no-deliver")  # what a scheduled run reports
    assert "本期尚未结束" not in Path(done["markdown"]).read_text(encoding="utf-8")


@pytest.fixture
def logistics_posts(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test ledger, with 物流部 receiving its own summary in the reports channel."""
    build_ledger(settings)
    monkeypatch.setenv(
        "COMPLAINTS_DEPARTMENTS", '{"物流部": {"slack_channel": "#complaints-reports"}}'
    )
    get_settings.cache_clear()
    return settings


def test_a_department_gets_its_own_summary_of_its_cases_in_its_own_channel(
    logistics_posts: Settings, slack_api: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:

    done = report(capsys, "monthly", "--period", "2026-10", "--department", "物流部")

    assert Path(done["html"]).parent.name == "物流部"
    markdown = Path(done["markdown"]).read_text(encoding="utf-8")
    assert markdown.startswith("# 物流部 · 月度投诉分析报告")
    every = report(capsys, "monthly", "--period", "2026-10", "--no-deliver")
    assert 0 < done["volume"] < every["volume"]
    assert done["delivery"] == "posted to #complaints-reports"
    assert done["corrective_actions"] == []
    (shared,) = {f.filename for f in slack_api.shared_files() if f.filename.endswith(".html")}
    assert shared == "monthly-2026-10-物流部.html"


def test_a_department_that_does_not_exist_is_refused_in_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "monthly", "--period", "2026-10", "--department", "物流"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no department '物流'" in err and "物流部" in err


def test_the_consolidated_month_shows_which_departments_sent_their_own_summary_and_its_key_lines(
    logistics_posts: Settings, slack_api: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    from complaints.reporting import analysis, reports
    from rules.periods import Kind, Period

    october = Period.parse(Kind.MONTHLY, "2026-10")
    departments = reports.departments_with_cases(get_settings(), october)
    assert "物流部" in departments and len(departments) > 1
    quiet = next(d for d in departments if d != "物流部")
    sent = report(capsys, "monthly", "--period", "2026-10", "--department", "物流部")
    report(capsys, "monthly", "--period", "2026-10", "--department", quiet, "--no-deliver")

    done = report(capsys, "monthly", "--period", "2026-10", "--no-deliver")

    figures = analysis.compute(
        get_settings(),
        october,
        utc_now(),
        summaries=reports.summaries_sent(get_settings(), october),
    )
    inputs = {d.department: d for d in figures.department_inputs}
    assert set(inputs) == set(departments)
    logistics = inputs["物流部"]
    assert logistics.where == "posted to #complaints-reports" and logistics.sent_at is not None
    # sent today, a month after the 5 November it was due by
    assert (str(logistics.due), logistics.on_time) == ("2026-11-05", False)
    assert inputs[quiet].saved and inputs[quiet].sent_at is None
    others = [d for d in departments if d not in ("物流部", quiet)]
    assert all(not inputs[d].saved for d in others)
    # its key lines, counted here from the rows: its cases and the causes of their plans
    start, end = october.bounds(logistics_posts.tz)
    with unit_of_work(logistics_posts.database_url) as session:
        mine = [
            c
            for c in session.scalars(sa.select(Case))
            if c.department is not None
            and c.department.value == "物流部"
            and start <= c.received_at < end
        ]
        planned = {
            e.case_id
            for e in session.scalars(sa.select(AuditEntry).where(AuditEntry.step == "plan"))
            if e.at < end
        }
    causes = Counter(c.root_cause.strip() for c in mine if c.id in planned and c.root_cause)
    assert logistics.volume == sent["volume"] == len(mine)
    top = max(causes.values(), default=0)
    assert logistics.main_cause_cases == top
    assert (logistics.main_cause is None) if not causes else causes[logistics.main_cause] == top
    assert (logistics.actions_open, logistics.actions_overdue) == (0, 0)  # none issued yet

    markdown = Path(done["markdown"]).read_text(encoding="utf-8")
    assert "部门小结 / The departments' own summaries" in markdown
    assert "| 物流部 | **逾期 late** |" in markdown
    assert f"| {quiet} | **已生成未发送 saved, not sent** |" in markdown
    assert "未报送 not sent" in markdown or not others
    summary = markdown.split("**摘要 / Summary**：", 1)[1].split("\n", 1)[0]
    assert f"部门小结：{len(departments)} 个部门中 0 个于 2026-11-05 前报送" in summary
    html = Path(done["html"]).read_text(encoding="utf-8")
    assert 'id="department-summaries"' in html and "posted to #complaints-reports" in html
    rows = list(csv.reader(io.StringIO(Path(done["csv"]).read_text(encoding="utf-8-sig"))))
    (state,) = [
        r for r in rows if r[:2] == ["部门小结 / department summary 物流部", "小结 / summary"]
    ]
    assert state[2].startswith("逾期 / late") and state[6] == "posted to #complaints-reports"
