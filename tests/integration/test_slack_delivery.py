"""The Slack outbox delivered by the real slack_sdk client to a local Slack Web API."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from complaints.notifications import slack
from complaints.notifications.slack import (
    MAX_RATE_LIMIT_WAIT,
    claim_lease,
    deliver_outbox,
    outbox_status,
    slack_client,
    slack_token,
)
from complaints.settings import Settings, SlackSettings
from models.db import unit_of_work
from models.ledger import Escalation, SlackOutbox
from rules.alerts import Alert, Level, Trigger
from rules.enums import Category, Severity
from rules.slack_blocks import slack_message
from tests.integration.prefect_secrets import secret_blocks
from tests.integration.slack_server import TOKEN, FakeSlack

NOW = datetime(2026, 11, 23, 4, 15, tzinfo=UTC)
NAME, PHONE, EMAIL = "张三丰", "13812345678", "zhangsan@example.com"
RUN_URL = "http://127.0.0.1:4200/runs/flow-run/0d7c5b1e-6a39-4c55-9d8e-3f1b2a4c5d6e"
OPERATIONS = "#complaints-operations"
LEADERSHIP = "#complaints-leadership"


def with_slack(settings: Settings, base_url: str, **changes: Any) -> Settings:
    """The test settings with a Slack that answers quickly (no retries unless asked)."""
    options: dict[str, Any] = {
        "token": SecretStr(TOKEN),
        "base_url": base_url,
        "timeout_seconds": 5,
        "retry_limit": 0,
        "backoff_seconds": 30,
    }
    options.update(changes)
    return settings.model_copy(update={"slack": SlackSettings(**options)})


@pytest.fixture
def connected(settings: Settings, slack_api: FakeSlack) -> Settings:
    return with_slack(settings, slack_api.base_url)


def alert(number: int, level: Level = Level.OPERATIONS_DIRECTOR) -> Alert:
    return Alert(
        key=f"sla:verify:c0:{level.tag}:{number}",
        trigger=Trigger.SLA,
        level=level,
        fired_at=NOW,
        case_no=f"TS-20261123-{number:04d}",
        severity=Severity.SERIOUS,
        category=Category.LOGISTICS,
        step="verify",
        step_label="核实 / Verify",
        due_at=NOW - timedelta(hours=2, minutes=15),
        overdue_by=timedelta(hours=2, minutes=15),
        owner="物流部",
        customer_name=NAME,
        customer_phone=PHONE,
        customer_email=EMAIL,
        description=f"快递延误五天，请回电 {PHONE} 或发邮件 {EMAIL}",
        run_url=RUN_URL,
    )


def queue(settings: Settings, *alerts: Alert) -> list[int]:
    """Record escalations and their outbox messages, as the escalation step does."""
    ids = []
    with unit_of_work(settings.database_url) as session:
        for item in alerts:
            escalation = Escalation(
                key=item.key,
                trigger=item.trigger.value,
                level=int(item.level),
                audience=item.level.tag,
                step=item.step,
                cycle=0,
                due_at=item.due_at,
                fired_at=item.fired_at,
                summary=f"{item.case_no} {item.trigger.label}",
                detail={},
            )
            session.add(escalation)
            session.flush()
            message = slack_message(item, settings.tz)
            row = SlackOutbox(
                escalation_id=escalation.id,
                channel=settings.slack.channels[item.level.tag],
                text=message.text,
                blocks=message.blocks,
                status="pending",
                attempts=0,
                created_at=item.fired_at,
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def outbox(settings: Settings) -> list[SlackOutbox]:
    with unit_of_work(settings.database_url) as session:
        return list(session.scalars(sa.select(SlackOutbox).order_by(SlackOutbox.id)))


def delivered_ids(slack_api: FakeSlack) -> list[int]:
    return [m.metadata["event_payload"]["outbox_id"] for m in slack_api.messages if m.metadata]


def test_an_escalation_arrives_in_its_channel_with_the_customer_masked(
    connected: Settings, slack_api: FakeSlack
) -> None:
    (outbox_id,) = queue(connected, alert(7))

    report = deliver_outbox(connected, slack_client(connected), NOW)

    assert (report.sent, report.failed, report.pending, report.errors) == (1, 0, 0, [])
    (posted,) = slack_api.messages
    assert posted.channel == OPERATIONS
    assert (posted.text or "").startswith("⏰ L2 TS-20261123-0007 · 超时 / overdue")
    assert posted.blocks[0]["text"]["text"].startswith("⏰ 二级·运营总监")
    assert posted.metadata == {
        "event_type": "complaint_escalation",
        "event_payload": {"outbox_id": outbox_id},
    }
    assert posted.unfurl_links is False
    shown = json.dumps([posted.text, posted.blocks], ensure_ascii=False)
    assert "138****5678" in shown and "z***@example.com" in shown and "张**" in shown
    for raw in (NAME, PHONE, EMAIL):
        assert raw not in shown
    (row,) = outbox(connected)
    assert (row.status, row.slack_ts, row.sent_at, row.attempts) == ("sent", posted.ts, NOW, 1)
    assert (row.last_error, row.next_attempt_at) == (None, None)


def test_a_rate_limited_message_is_sent_once_after_the_retry_after_wait(
    settings: Settings, slack_api: FakeSlack
) -> None:
    connected = with_slack(settings, slack_api.base_url, retry_limit=2)
    queue(connected, alert(1))
    slack_api.rate_limit(1, retry_after=1)

    started = time.monotonic()
    report = deliver_outbox(connected, slack_client(connected), NOW)

    assert time.monotonic() - started >= 1
    assert (report.sent, report.failed) == (1, 0)
    assert len(slack_api.messages) == 1
    refused, accepted = slack_api.calls
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1
    assert outbox(connected)[0].status == "sent"


def test_a_rate_limit_longer_than_a_send_may_wait_leaves_the_message_to_the_outbox(
    settings: Settings, slack_api: FakeSlack
) -> None:
    connected = with_slack(settings, slack_api.base_url, retry_limit=2)
    queue(connected, alert(1))
    slack_api.rate_limit(1, retry_after=MAX_RATE_LIMIT_WAIT + 30)

    started = time.monotonic()
    report = deliver_outbox(connected, slack_client(connected), NOW)

    assert time.monotonic() - started < MAX_RATE_LIMIT_WAIT  # no 60-second sleep in the send
    assert (report.sent, report.failed, report.pending) == (0, 1, 1)
    (row,) = outbox(connected)
    assert row.status == "pending" and row.next_attempt_at is not None


def test_a_message_whose_deliverer_died_mid_send_goes_within_minutes_not_a_quarter_hour(
    connected: Settings, slack_api: FakeSlack
) -> None:
    from models.repositories import EscalationRepository

    (outbox_id,) = queue(connected, alert(1))
    lease = claim_lease(connected)
    with unit_of_work(connected.database_url) as session:  # claimed, then the worker was killed
        assert EscalationRepository(session).claim(outbox_id, NOW, NOW + lease)
    client = slack_client(connected)

    assert deliver_outbox(connected, client, NOW + lease - timedelta(seconds=1)).sent == 0
    assert deliver_outbox(connected, client, NOW + lease).sent == 1
    assert lease <= timedelta(minutes=3)  # the defaults: 4 tries of 10 s, 3 waits of ≤ 35 s
    assert delivered_ids(slack_api) == [outbox_id]


def test_messages_queued_during_an_outage_arrive_once_each_and_in_order_after_it(
    connected: Settings, slack_api: FakeSlack
) -> None:
    ids = queue(connected, alert(1), alert(2), alert(3, Level.LEADERSHIP), alert(4))
    slack_api.outage(True)
    client = slack_client(connected)

    first = deliver_outbox(connected, client, NOW)

    assert (first.sent, first.failed, first.pending) == (0, 1, 4)
    (error,) = first.errors
    assert "HTTP 503" in error
    head = outbox(connected)[0]
    assert (head.attempts, head.next_attempt_at) == (1, NOW + timedelta(seconds=30))
    assert "HTTP 503" in (head.last_error or "")
    assert len(slack_api.calls) == 1  # a Slack outage stops the whole delivery

    waiting = deliver_outbox(connected, client, NOW + timedelta(seconds=10))
    # The operations head backs off and nothing overtakes it; leadership gets its first try.
    assert (waiting.sent, waiting.failed) == (0, 1)
    assert [row.attempts for row in outbox(connected)] == [1, 0, 1, 0]

    deliver_outbox(connected, client, NOW + timedelta(seconds=31))
    assert [row.attempts for row in outbox(connected)] == [2, 0, 1, 0]
    assert outbox(connected)[0].next_attempt_at == NOW + timedelta(seconds=31 + 60)

    slack_api.outage(False)
    later = NOW + timedelta(hours=2)
    recovered = deliver_outbox(connected, client, later)
    again = deliver_outbox(connected, client, later + timedelta(hours=2))

    assert (recovered.sent, recovered.failed, recovered.pending) == (4, 0, 0)
    assert (again.sent, again.failed, again.pending) == (0, 0, 0)
    assert sorted(delivered_ids(slack_api)) == ids
    operations = [
        m.metadata["event_payload"]["outbox_id"]
        for m in slack_api.messages
        if m.channel == OPERATIONS and m.metadata
    ]
    assert operations == [ids[0], ids[1], ids[3]]
    rows = outbox(connected)
    assert [row.status for row in rows] == ["sent"] * 4
    assert [row.attempts for row in rows] == [3, 1, 2, 1]
    assert all(row.sent_at == later for row in rows)


def test_a_failing_channel_holds_back_only_its_own_later_messages(
    connected: Settings, slack_api: FakeSlack
) -> None:
    ids = queue(connected, alert(1, Level.LEADERSHIP), alert(2), alert(3, Level.LEADERSHIP))
    slack_api.missing_channels.add(LEADERSHIP)

    report = deliver_outbox(connected, slack_client(connected), NOW)

    assert (report.sent, report.failed, report.pending) == (1, 1, 2)
    assert report.errors == [f"{LEADERSHIP} #{ids[0]}: Slack answered HTTP 200: channel_not_found"]
    assert delivered_ids(slack_api) == [ids[1]]
    status = outbox_status(connected)
    assert (status["pending"], status["sent"], status["retrying"]) == (2, 1, 1)
    assert status["pending_by_channel"] == {LEADERSHIP: 2}
    assert status["oldest_pending_at"] == NOW

    slack_api.missing_channels.clear()
    deliver_outbox(connected, slack_client(connected), NOW + timedelta(hours=1))

    assert delivered_ids(slack_api) == [ids[1], ids[0], ids[2]]


def test_concurrent_deliverers_send_every_message_exactly_once_in_channel_order(
    connected: Settings, slack_api: FakeSlack
) -> None:
    alerts = [
        alert(n, Level.LEADERSHIP if n % 3 == 0 else Level.OPERATIONS_DIRECTOR)
        for n in range(1, 13)
    ]
    ids = queue(connected, *alerts)
    reports: list[slack.DeliveryReport] = []

    def deliverer() -> None:
        reports.append(deliver_outbox(connected, slack_client(connected), NOW))

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sum(report.sent for report in reports) == 12
    assert sorted(delivered_ids(slack_api)) == ids
    for channel in (OPERATIONS, LEADERSHIP):
        in_channel = [
            m.metadata["event_payload"]["outbox_id"]
            for m in slack_api.messages
            if m.channel == channel and m.metadata
        ]
        assert in_channel == sorted(in_channel)
    assert all(row.status == "sent" for row in outbox(connected))


def test_without_a_token_nothing_is_sent_messages_stay_pending_and_one_warning_says_why(
    settings: Settings,
    slack_api: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slack, "_warned_unconfigured", False)
    unconfigured = with_slack(settings, slack_api.base_url, token=None)
    queue(unconfigured, alert(1), alert(2))
    caplog.set_level(logging.WARNING, logger="complaints.notifications.slack")

    clients = [slack_client(unconfigured) for _ in range(3)]
    report = deliver_outbox(unconfigured, clients[0], NOW)

    assert clients == [None, None, None]
    assert (report.sent, report.failed, report.pending) == (0, 0, 2)
    assert slack_api.calls == []
    assert [row.status for row in outbox(unconfigured)] == ["pending", "pending"]
    assert [row.attempts for row in outbox(unconfigured)] == [0, 0]
    (warning,) = caplog.records
    assert "COMPLAINTS_SLACK__TOKEN" in warning.getMessage()
    assert "recorded and shown, not sent" in warning.getMessage()


def test_the_token_never_appears_in_logs_or_in_the_recorded_error(
    connected: Settings, slack_api: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    queue(connected, alert(1), alert(2, Level.LEADERSHIP))
    caplog.set_level(logging.DEBUG)
    client = slack_client(connected)

    deliver_outbox(connected, client, NOW)  # both sent
    queue(connected, alert(3))
    slack_api.invalid_auth(True)
    rejected = deliver_outbox(connected, client, NOW)
    slack_api.outage(True)
    down = deliver_outbox(connected, client, NOW + timedelta(hours=1))

    assert (rejected.failed, down.failed) == (1, 1)
    assert "invalid_auth" in rejected.errors[0] and "HTTP 503" in down.errors[0]
    assert "Slack message" in caplog.text  # the delivery did log
    assert TOKEN not in caplog.text
    assert TOKEN.removeprefix("xoxb-") not in caplog.text
    for row in outbox(connected):
        assert TOKEN not in (row.last_error or "")
    assert TOKEN not in repr(rejected) + repr(down)


def test_the_token_comes_from_a_prefect_secret_block_when_not_set_directly(
    settings: Settings, slack_api: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = secret_blocks(monkeypatch, TOKEN)
    from_block = with_slack(settings, slack_api.base_url, token=None, token_block="slack-bot-token")
    queue(from_block, alert(1))

    assert slack_token(from_block) == TOKEN
    report = deliver_outbox(from_block, slack_client(from_block), NOW)

    assert loaded == ["slack-bot-token", "slack-bot-token"]
    assert report.sent == 1
    assert slack_token(with_slack(settings, slack_api.base_url)) == TOKEN
