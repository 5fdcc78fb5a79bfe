"""Delivers the outbox: each escalation message and staff notice once, in order per channel.

Messages are written to the `slack_outbox` table together with their escalation (or the
change a notice tells of) and sent from there, so a Slack outage or a missing token never
loses one: it stays pending and a later delivery sends it. A notice goes to a channel or a
member (by ID, or found by e-mail with users.lookupByEmail) or by e-mail; a recipient that
will never take it (no such member, a mailbox that refuses) passes it to its fallback
channel.

Exactly once, in order:
- Only the oldest pending message of a channel (its head) may be sent. While it waits for
  its next attempt, or another deliverer is sending it, the rest of the channel waits.
- A deliverer claims the head in a short transaction of its own: one conditional UPDATE
  that succeeds only while the message is still pending and due. The claim moves
  `next_attempt_at` a lease ahead, so every other deliverer sees the head as not due and
  leaves the channel alone. No database lock is held while Slack is called.
- Right after Slack accepts, the message is marked sent in its own transaction. On a
  failure it gets the next attempt time (exponential backoff, capped) and the channel
  stops for this delivery.
The one window left is a process that dies after Slack accepted and before the mark is
committed: after the lease the message is sent again.

The token never appears in a log line or in `last_error`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import Any, TypedDict
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from complaints.settings import Settings, secret_from_block
from models.db import unit_of_work
from models.repositories import EscalationRepository
from models.repositories.escalations import PENDING, SENT

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
MAX_RATE_LIMIT_WAIT = 30
"""Seconds a send waits out Slack's Retry-After; a longer one ends the send, and the outbox
tries the message again after its backoff."""


def claim_lease(settings: Settings) -> timedelta:
    """Longer than one send can take (every try timing out, the rate-limit waits between, a
    few seconds of server-error backoff); after it, a claim whose deliverer died is taken
    over. A lease no longer than that keeps a channel — a ladder level's escalations with
    it — waiting at most this long after a worker is killed mid-send."""
    slack = settings.slack
    tries = slack.retry_limit + 1
    longest = max(slack.timeout_seconds, settings.smtp_timeout_seconds)
    waits = slack.retry_limit * (MAX_RATE_LIMIT_WAIT + 5)
    return timedelta(seconds=math.ceil(tries * longest + waits + 10))


class _BoundedRateLimitRetry(RateLimitErrorRetryHandler):
    """Slack's rate-limit retry, waiting at most `MAX_RATE_LIMIT_WAIT` seconds: a send never
    outlives its claim's lease."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return int(wait[0]) <= MAX_RATE_LIMIT_WAIT
        except (TypeError, ValueError, IndexError):
            return False


EVENT_TYPE = "complaint_escalation"
NOTICE_EVENT_TYPE = "complaint_notice"  # a forwarding notice, a person's turn
UNCONFIGURED = (
    "Slack is not configured (COMPLAINTS_SLACK__TOKEN or COMPLAINTS_SLACK__TOKEN_BLOCK): "
    "escalations are recorded and shown, not sent"
)
# Answers that say nothing can be sent with this token or to this server at the moment,
# whatever the channel: the delivery stops instead of trying every channel.
_SERVICE_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
# Answers that say this recipient will never take the message: a notice goes to its
# fallback channel instead (an escalation, which has none, keeps trying).
_UNREACHABLE = frozenset(
    {"channel_not_found", "users_not_found", "user_not_found", "is_archived", "user_disabled"}
)
SLACK, SLACK_BY_EMAIL, EMAIL = "slack", "slack-email", "email"
UNDELIVERABLE = "failed"  # a notice given up on: the status column keeps ten characters

_warned_unconfigured = False


class SlackConfigError(RuntimeError):
    """The Slack token could not be read; the text says why (never the token)."""


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    pending: int = 0  # still pending after this delivery, due or not
    errors: list[str] = field(default_factory=list)


class OutboxStatus(TypedDict):
    pending: int
    sent: int
    retrying: int  # pending after at least one failed attempt
    oldest_pending_at: datetime | None
    pending_by_channel: dict[str, int]
    last_errors: list[str]  # newest first, one per failing message


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    text: str
    blocks: list[Any]
    attempts: int
    medium: str = SLACK
    body: str | None = None
    fallback: str | None = None
    notice: bool = False


@dataclass(frozen=True)
class _Failure:
    reason: str
    stops_delivery: bool
    unreachable: bool = False  # the recipient is not there for good: its fallback gets it


def slack_token(settings: Settings) -> str | None:
    """The bot token: from the settings, else from the named Prefect Secret block."""
    slack = settings.slack
    if slack.token is not None:
        return slack.token.get_secret_value().strip() or None
    if not slack.token_block:
        return None
    try:
        return secret_from_block(slack.token_block, "Slack token").strip() or None
    except ValueError as exc:
        raise SlackConfigError(str(exc)) from None


def slack_client(settings: Settings, warn: bool = True) -> WebClient | None:
    """A client that retries rate limits (after Retry-After), 500/503 and refused connections.

    None without a token; that is logged once per process (unless `warn` is False: the
    deadline watch, a new process every minute, says it once per run that escalates).
    """
    global _warned_unconfigured
    token = slack_token(settings)
    if token is None:
        if warn and not _warned_unconfigured:
            _warned_unconfigured = True
            logger.warning(UNCONFIGURED)
        return None
    retries = settings.slack.retry_limit
    return WebClient(
        token=token,
        base_url=settings.slack.base_url,
        timeout=math.ceil(settings.slack.timeout_seconds),
        retry_handlers=[
            # Only failures to connect or to send the request: after a reset or a lost
            # answer Slack may already have posted the message, and the outbox decides.
            ConnectionErrorRetryHandler(max_retry_count=retries, error_types=[URLError]),
            _BoundedRateLimitRetry(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
        ],
    )


def deliver_outbox(
    settings: Settings, client: WebClient | None, now: datetime, limit: int = 200
) -> DeliveryReport:
    """Send the due pending messages, oldest first, each channel in order (see module).
    Without a Slack client only the notices by e-mail go (when SMTP is configured)."""
    media = ({SLACK, SLACK_BY_EMAIL} if client is not None else set()) | (
        {EMAIL} if settings.smtp_host else set()
    )
    if not media:
        return DeliveryReport(pending=_pending_count(settings))
    sent = failed = 0
    errors: list[str] = []
    finished: set[str] = set()  # channels this delivery leaves alone from here on
    while sent + failed < limit:
        claimed = _claim_next(settings, now, finished, media)
        if claimed is None:
            break
        outcome = _send(settings, client, claimed)
        if isinstance(outcome, _Failure):
            failed += 1
            finished.add(claimed.channel)
            retry_at = _mark_failed(settings, claimed, outcome, now)
            errors.append(f"{claimed.channel} #{claimed.id}: {outcome.reason}")
            logger.warning(
                "Slack message %s to %s not sent (attempt %s, next at %s): %s",
                claimed.id,
                claimed.channel,
                claimed.attempts,
                f"{retry_at:%Y-%m-%d %H:%M:%S}Z",
                outcome.reason,
            )
            if outcome.stops_delivery:
                break
        else:
            sent += 1
            _mark_sent(settings, claimed.id, outcome, now)
            logger.info("Slack message %s sent to %s (ts %s)", claimed.id, claimed.channel, outcome)
    return DeliveryReport(sent, failed, _pending_count(settings), errors)


def outbox_status(settings: Settings) -> OutboxStatus:
    """Counts for the UI and the command line."""
    with unit_of_work(settings.database_url) as session:
        outbox = EscalationRepository(session)
        counts = outbox.counts_by_status()
        by_channel = outbox.pending_by_channel()
        oldest = outbox.oldest_pending_at()
        failing = outbox.failing()
    return OutboxStatus(
        pending=counts.get(PENDING, 0),
        sent=counts.get(SENT, 0),
        retrying=len(failing),
        oldest_pending_at=oldest,
        pending_by_channel=by_channel,
        last_errors=[f"{channel} #{id_}: {error}" for id_, channel, error in failing[:10]],
    )


def _claim_next(
    settings: Settings, now: datetime, finished: set[str], media: set[str]
) -> _Claimed | None:
    """Claim the oldest due head of a channel not finished yet; None when there is none."""
    with unit_of_work(settings.database_url) as session:
        outbox = EscalationRepository(session)
        for head in outbox.channel_heads(now, sorted(media)):
            if head.channel in finished:
                continue
            if head.next_attempt_at is not None and head.next_attempt_at > now:
                finished.add(head.channel)  # backing off, or being sent by someone else
                continue
            if not outbox.claim(head.id, now, now + claim_lease(settings)):
                finished.add(head.channel)  # another deliverer got there first
                continue
            return _Claimed(
                head.id,
                head.channel,
                head.text,
                list(head.blocks),
                head.attempts + 1,
                head.medium,
                head.body,
                head.fallback,
                head.notice_key is not None,
            )
    return None


def _send(settings: Settings, client: WebClient | None, message: _Claimed) -> str | _Failure:
    """Slack's timestamp of the posted message ("email" for an e-mail), or why not."""
    if message.medium == EMAIL:
        return _mail(settings, message)
    assert client is not None  # only e-mail is claimed without a client
    channel = message.channel
    if message.medium == SLACK_BY_EMAIL:
        found = _member_by_email(client, message.channel)
        if isinstance(found, _Failure):
            return found
        channel = found
    return _post(client, message, channel)


def _member_by_email(client: WebClient, email: str) -> str | _Failure:
    """The Slack member ID of this e-mail (users.lookupByEmail), or why not."""
    try:
        response = client.users_lookupByEmail(email=email)
    except SlackApiError as exc:
        return _api_failure(exc, client.token)
    except (SlackClientError, OSError, HTTPException) as exc:
        return _unreached(client, exc)
    return str(response["user"]["id"])


def _mail(settings: Settings, message: _Claimed) -> str | _Failure:
    from complaints.notifications.messages import MailError, mailer

    try:
        mailer(settings).send(message.channel, message.text, message.body or message.text)
    except MailError as exc:
        return _Failure(
            _one_line(str(exc), None), stops_delivery=not exc.permanent, unreachable=exc.permanent
        )
    return EMAIL  # in place of Slack's timestamp: the mail server took it


def _post(client: WebClient, message: _Claimed, channel: str) -> str | _Failure:
    """Slack's timestamp of the posted message, or why it was not posted."""
    try:
        response = client.chat_postMessage(
            channel=channel,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            metadata={
                "event_type": NOTICE_EVENT_TYPE if message.notice else EVENT_TYPE,
                "event_payload": {"outbox_id": message.id},
            },
        )
    except SlackApiError as exc:
        return _api_failure(exc, client.token)
    except (SlackClientError, OSError, HTTPException) as exc:  # refused, reset, timed out
        return _unreached(client, exc)
    return str(response["ts"])


def _unreached(client: WebClient, exc: Exception) -> _Failure:
    reason = getattr(exc, "reason", None) or exc
    text = f"could not reach Slack at {client.base_url}: {type(exc).__name__}: {reason}"
    return _Failure(_one_line(text, client.token), stops_delivery=True)


def _api_failure(exc: SlackApiError, token: str | None) -> _Failure:
    response = exc.response
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or "no error code")
    reason = f"Slack answered HTTP {status}: {error}"
    if status == 429:
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        reason += f" (Retry-After {retry_after} s)"
    stops = status >= 500 or error in _SERVICE_ERRORS
    return _Failure(
        _one_line(reason, token), stops_delivery=stops, unreachable=error in _UNREACHABLE
    )


def _mark_sent(settings: Settings, outbox_id: int, ts: str, now: datetime) -> None:
    with unit_of_work(settings.database_url) as session:
        row = EscalationRepository(session).message(outbox_id)
        row.status = SENT
        row.slack_ts = ts
        row.sent_at = now
        row.next_attempt_at = None
        row.last_error = None


def _mark_failed(
    settings: Settings, message: _Claimed, failure: _Failure, now: datetime
) -> datetime:
    """The next attempt: after a backoff. A notice whose recipient will never take it goes
    at once by e-mail (a member Slack does not know, with SMTP), else to its fallback
    channel, else nowhere (undeliverable: the case's department heard of it anyway)."""
    doublings = min(message.attempts - 1, 16)  # far past the cap; keeps the number small
    backoff = timedelta(seconds=settings.slack.backoff_seconds * 2**doublings)
    retry_at = now + min(backoff, MAX_BACKOFF)
    with unit_of_work(settings.database_url) as session:
        row = EscalationRepository(session).message(message.id)
        row.last_error = failure.reason
        if failure.unreachable and row.medium == SLACK_BY_EMAIL and settings.smtp_host:
            row.last_error = f"{failure.reason}; e-mailed instead"
            row.medium, retry_at = EMAIL, now
        elif failure.unreachable and row.fallback:
            row.last_error = f"{failure.reason}; sent to {row.fallback} instead"
            row.channel, row.medium, row.fallback = row.fallback, SLACK, None
            retry_at = now
        elif failure.unreachable and row.notice_key is not None:
            row.status = UNDELIVERABLE  # nowhere else to go; escalations keep trying
        row.next_attempt_at = retry_at
    return retry_at


def _pending_count(settings: Settings) -> int:
    with unit_of_work(settings.database_url) as session:
        return EscalationRepository(session).pending_count()


def _one_line(text: str, token: str | None, limit: int = 300) -> str:
    """For `last_error` and the log: one line, not too long, never the token."""
    if token:
        text = text.replace(token, "xoxb-…")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
