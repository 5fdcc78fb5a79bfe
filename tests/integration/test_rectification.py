"""Corrective actions: opened by half-year notices, escalated when overdue, reported done."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from complaints.cli import main
from complaints.deadlines import watch
from complaints.reporting import analysis, rectification
from complaints.settings import Settings, get_settings
from models.ledger import CorrectiveAction, Escalation, SlackOutbox
from rules.escalation import RECTIFICATION_DUE_TIME
from rules.periods import Kind, Period
from tests.integration.ledger_builder import GENERATED, SHANGHAI, build_ledger
from tests.integration.ledger_reads import all_of, escalation_messages

HALF = Period.parse(Kind.HALF_YEAR, "2026-H2")


def actions(settings: Settings) -> list[CorrectiveAction]:
    return all_of(settings, CorrectiveAction)


def escalations(settings: Settings) -> list[tuple[str, int, str]]:
    """(key, level, channel) of each rectification escalation's Slack message."""
    columns = (Escalation.key, Escalation.level, SlackOutbox.channel)
    return escalation_messages(settings, *columns, trigger="rectification", order_by=Escalation.id)


@pytest.fixture
def issued(settings: Settings) -> tuple[Settings, list[str]]:
    build_ledger(settings)
    figures = analysis.compute(settings, HALF, GENERATED)
    return settings, rectification.issue(settings, figures, GENERATED).refs


def test_each_rectification_notice_opens_one_action_due_on_its_date(
    issued: tuple[Settings, list[str]],
) -> None:
    settings, refs = issued
    figures = analysis.compute(settings, HALF, GENERATED)
    assert figures.review is not None
    opened = actions(settings)
    assert [a.department for a in opened] == [n.department for n in figures.review.notices]
    assert refs == [f"CA-{a.id:05d}" for a in opened]
    due = datetime.combine(figures.review.notices[0].due, RECTIFICATION_DUE_TIME, tzinfo=SHANGHAI)
    assert opened[0].due_at == due and opened[0].status == "open"
    # Compiling the same report again opens nothing new.
    again = rectification.issue(settings, figures, GENERATED + timedelta(hours=1))
    assert (again.refs, again.created) == (refs, 0)


def test_an_overdue_action_climbs_the_ladder_and_a_done_one_stops(
    issued: tuple[Settings, list[str]],
) -> None:
    settings, refs = issued
    first, second = actions(settings)[:2]
    assert rectification.fire_due(settings, first.started_at + timedelta(days=1)) == []
    done = rectification.RectifiedInput(
        actor="产品部-李经理", note="来料检验已加严，库存全检完毕。"
    )
    rectification.report_done(settings, refs[1], done, first.due_at - timedelta(days=1))

    fired = rectification.fire_due(settings, first.due_at + timedelta(days=2))

    ladder = ("W", "L1", "L2", "L3")
    open_refs = [r for r in refs if r != refs[1]]
    assert fired == [f"action:{r}:{tag}" for r in open_refs for tag in ladder]
    mine = [(level, channel) for key, level, channel in escalations(settings) if refs[0] in key]
    assert mine == [(n, settings.slack.channels[tag]) for n, tag in enumerate(ladder)]
    assert rectification.fire_due(settings, first.due_at + timedelta(days=9)) == []
    assert all(not key.startswith(f"action:{refs[1]}") for key, _, _ in escalations(settings))
    with pytest.raises(rectification.ActionClosed):
        rectification.report_done(settings, refs[1], done, first.due_at)
    assert second.department != first.department


def test_the_watch_fires_overdue_actions_with_the_case_clocks(
    issued: tuple[Settings, list[str]],
) -> None:
    settings, refs = issued
    (first, *_) = actions(settings)
    fired = watch.Watcher(settings).watch_once(first.due_at + timedelta(minutes=1))
    assert f"action:{refs[0]}:L1" in fired.keys


def test_the_next_report_lists_every_action_with_its_status(
    issued: tuple[Settings, list[str]],
) -> None:
    settings, refs = issued
    opened = actions(settings)
    done = rectification.RectifiedInput(actor="物流部-王主管", note="已更换承运商。")
    rectification.report_done(settings, refs[0], done, opened[0].due_at - timedelta(days=3))
    later = Period.containing(Kind.MONTHLY, opened[0].due_at + timedelta(days=40), SHANGHAI)

    figures = analysis.compute(settings, later, GENERATED + timedelta(days=60))

    status = {a.ref: a for a in figures.actions}
    assert set(status) == set(refs)
    assert status[refs[0]].done_at is not None and not status[refs[0]].overdue
    assert all(status[r].overdue for r in refs[1:])
    from complaints.reporting.render import render_markdown

    text = render_markdown(figures, settings.templates_dir)
    assert refs[0] in text and "逾期" in text


@pytest.fixture
def cli_settings(
    issued: tuple[Settings, list[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[Settings, list[str]]]:
    settings, refs = issued
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_") and not name.upper().startswith(
            "COMPLAINTS_TEST_"
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", settings.database_url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield settings, refs
    get_settings.cache_clear()


def test_a_department_reports_its_action_done_with_complaints_act(
    cli_settings: tuple[Settings, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, refs = cli_settings
    report = tmp_path / "done.json"
    report.write_text(json.dumps({"actor": "客服部-赵主管", "note": "话术培训已完成。"}), "utf-8")

    assert main(["act", refs[0].lower(), "rectified", "--input", str(report), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "done"
    assert actions(settings)[0].done_by == "客服部-赵主管"

    assert main(["act", refs[0], "rectified", "--input", str(report)]) == 2
    assert "already done" in capsys.readouterr().err
    assert main(["act", "CA-99999", "rectified", "--input", str(report)]) == 2
    assert "no corrective action CA-99999" in capsys.readouterr().err
    report.write_text(json.dumps({"actor": "客服部"}), "utf-8")
    assert main(["act", refs[1], "rectified", "--input", str(report)]) == 2
    assert "note" in capsys.readouterr().err
