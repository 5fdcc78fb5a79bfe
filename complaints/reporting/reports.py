"""An analysis report from figures to files: compute, render, save, summarise, deliver.

The files are written before anything is sent, so a delivery that fails loses nothing:
the report stays under the reports directory (and as a Prefect artifact) and a later
delivery sends the same files.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from complaints.reporting import analysis
from complaints.reporting.render import render_csv, render_html, render_markdown
from complaints.settings import Settings
from complaints.timesource import utc_now
from rules.analysis import Figures, SummarySent
from rules.enums import Department
from rules.periods import Kind, Period

log = logging.getLogger("complaints.reporting.reports")


@dataclass(frozen=True)
class Report:
    figures: Figures
    markdown: str
    html: str
    csv: str

    @property
    def name(self) -> str:
        whose = f"-{self.figures.department}" if self.figures.department else ""
        return f"{self.figures.kind.value}-{self.figures.period}{whose}"


@dataclass(frozen=True)
class Saved:
    directory: Path
    markdown: Path
    html: Path
    csv: Path


class PeriodNotOver(ValueError):
    """The period asked for has not ended (or not begun): its figures would look final."""


def period_of(
    kind: Kind | str,
    period: str | None,
    now: datetime,
    settings: Settings,
    partial: bool = False,
) -> Period:
    """The period asked for, or the last complete one (what a scheduled run reports).

    A period that has not ended is refused — its report would read like the final one —
    unless `partial` asks for its figures so far, reported as such; one that has not
    begun is always refused."""
    if not period:
        return Period.last_complete(kind, now, settings.tz)
    found = Period.parse(kind, period)
    start, end = found.bounds(settings.tz)
    if start > now:
        raise PeriodNotOver(f"{found} has not begun yet: there is nothing to report")
    if end > now and not partial:
        ends = end.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        raise PeriodNotOver(
            f"{found} has not ended yet (it ends {ends} {settings.timezone}): report it "
            "after that, or ask for its figures so far with --partial"
        )
    return found


def build(
    settings: Settings,
    period: Period,
    now: datetime,
    partial: bool = False,
    department: str | None = None,
) -> Report:
    """`partial`: a period not over yet, its figures as of `now` and marked so;
    `department`: that responsible department's own summary of its cases."""
    if department is not None and department not in {d.value for d in Department}:
        names = ", ".join(d.value for d in Department)
        raise ValueError(f"no department {department!r}: the departments are {names}")
    summaries = (
        summaries_sent(settings, period)
        if department is None and period.kind is Kind.MONTHLY
        else None
    )
    figures = analysis.compute(
        settings, period, now, partial=partial, department=department, summaries=summaries
    )
    templates = settings.templates_dir
    return Report(
        figures=figures,
        markdown=render_markdown(figures, templates),
        html=render_html(figures, templates),
        csv=render_csv(figures),
    )


def save(settings: Settings, report: Report) -> Saved:
    """reports/<kind>/<period>/ (a department's: …/<period>/<department>/): analysis.md,
    analysis.html, figures.csv (overwritten)."""
    directory = settings.reports_dir / report.figures.kind.value / report.figures.period
    if report.figures.department:
        directory /= report.figures.department
    directory.mkdir(parents=True, exist_ok=True)
    paths = Saved(
        directory,
        directory / "analysis.md",
        directory / "analysis.html",
        directory / "figures.csv",
    )
    for path, text in ((paths.markdown, report.markdown), (paths.html, report.html)):
        _write(path, text)
    _write(paths.csv, report.csv)
    return paths


SENT = "sent.json"
"""Beside a department's saved summary: when and where it was sent (`record_sent`)."""


def record_sent(saved: Saved, figures: Figures, outcome: str, now: datetime) -> None:
    """Note beside a department's saved summary what its delivery did, for the
    consolidated report to show; "not delivered: …" is recorded as not sent."""
    sent = not outcome.startswith("not delivered")
    record = SummarySent(
        department=figures.department or "",
        period=figures.period,
        saved_at=figures.generated_at,
        sent_at=now if sent else None,
        where=outcome,
    )
    _write(saved.directory / SENT, record.model_dump_json(indent=2))


def summaries_sent(settings: Settings, period: Period) -> dict[str, SummarySent]:
    """The departments' own summaries of `period` found under the reports directory, by
    department: saved (with the time of its Markdown) and, if recorded, sent."""
    found = {}
    for department in Department:
        directory = settings.reports_dir / period.kind.value / str(period) / department.value
        markdown = directory / "analysis.md"
        if not markdown.exists():
            continue
        saved_at = datetime.fromtimestamp(markdown.stat().st_mtime, tz=UTC)
        record = SummarySent(department=department.value, period=str(period), saved_at=saved_at)
        try:
            stored = json.loads((directory / SENT).read_text(encoding="utf-8"))
            record = SummarySent.model_validate(stored).model_copy(update={"saved_at": saved_at})
        except FileNotFoundError:
            pass
        except ValueError as exc:  # a damaged note: the summary was saved, its sending unknown
            log.warning("unreadable %s for %s: %s", SENT, department.value, exc)
            record = record.model_copy(update={"where": f"unknown ({SENT} unreadable)"})
        found[department.value] = record
    return found


def _write(path: Path, text: str) -> None:
    """Write a sibling file, then rename: a reader never sees half a report."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text, encoding="utf-8", newline="")
    partial.replace(path)


def headline(figures: Figures) -> str:
    """The short summary posted with the files."""

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    title = f"{figures.kind.label.split(' / ')[0]} {figures.period}"
    if figures.department:
        title = f"{figures.department} · {title}"
    if figures.partial:
        title += f"（截至 {_as_of(figures)}，本期未结束 / as of then, the period has not ended）"
    if figures.volume == 0:
        return f"{title}：本期无投诉 / no complaints in this period"
    change = figures.volume_mom.ratio
    trend = "" if change is None else f"（环比 {change:+.1%}）"
    unmet = [k.name.split(" / ")[0] for k in figures.kpis if k.met is False]
    return "\n".join(
        [
            f"*{title}*",
            f"投诉 {figures.volume} 件{trend} · 及时率 {pct(figures.timely_cases.value)} · "
            f"满意率 {pct(figures.satisfaction.value)} · 回访率 {pct(figures.callback.value)} · "
            f"解决率 {pct(figures.resolution.value)} · 期末未结 {figures.still_open} 件",
            "未达标 / below target: " + ("、".join(unmet) if unmet else "无 / none"),
        ]
    )


def deliver_to_slack(settings: Settings, client: Any, report: Report, saved: Saved) -> str:
    """Upload the HTML and CSV with the headline to the reports channel; returns the channel.

    Raises on failure (the caller retries); the files are already saved.
    """
    channel = settings.slack.reports_channel
    client.files_upload_v2(
        channel=_channel_id(client, channel),
        initial_comment=headline(report.figures),
        file_uploads=[
            {"file": str(saved.html), "filename": f"{report.name}.html", "title": report.name},
            {"file": str(saved.csv), "filename": f"{report.name}.csv", "title": report.name},
        ],
    )
    return channel


class ChannelNotFound(LookupError):
    """The reports channel is given by a name Slack could not resolve; the message says how
    to fix it in one line."""


ID_INSTEAD = (
    "set COMPLAINTS_SLACK__REPORTS_CHANNEL to the channel's ID (e.g. C0123456789: channel "
    "details → bottom of the About tab), which needs no lookup"
)


def _channel_id(client: Any, channel: str) -> str:
    """files_upload_v2 wants a channel id; configuration may hold a #name, looked up with
    `conversations.list`: public channels (scope channels:read), then private ones (scope
    groups:read, needed only when the channel is private)."""
    if not channel.startswith("#"):
        return channel
    name = channel[1:]
    for kind in ("public_channel", "private_channel"):
        found = _find_channel(client, channel, name, kind)
        if found:
            return found
    raise ChannelNotFound(
        f"no Slack channel named {channel} that the bot can see (invite it with "
        f"/invite, or for a private channel add the groups:read scope); or {ID_INSTEAD}"
    )


def _find_channel(client: Any, channel: str, name: str, kind: str) -> str | None:
    from slack_sdk.errors import SlackApiError

    cursor = None
    while True:
        try:
            page = client.conversations_list(
                limit=200, cursor=cursor, exclude_archived=True, types=kind
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            needed = exc.response.get("needed") or "channels:read"
            if kind == "private_channel" and error == "missing_scope":
                raise ChannelNotFound(
                    f"no public Slack channel named {channel}; to find a private one the "
                    f"bot token needs the {needed} scope; or {ID_INSTEAD}"
                ) from None
            raise ChannelNotFound(
                f"cannot look up Slack channel {channel} ({error}; the bot token needs "
                f"the {needed} scope); or {ID_INSTEAD}"
            ) from None
        for found in page.get("channels") or []:
            if found.get("name") == name:
                return str(found["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def deliver_by_email(settings: Settings, report: Report, saved: Saved) -> list[str]:
    """E-mail the report to COMPLAINTS_REPORT_EMAIL_TO (HTML and CSV attached).

    Returns the addresses sent to; raises MailError on failure (the caller retries).
    """
    from complaints.notifications.messages import mailer

    if not settings.report_email_to or not settings.smtp_host:
        return []
    sender = mailer(settings)
    subject = f"{report.figures.kind.label.split(' / ')[0]} {report.figures.period}"
    for address in settings.report_email_to:
        sender.send(address, subject, headline(report.figures), [saved.html, saved.csv])
    return list(settings.report_email_to)


def departments_with_cases(settings: Settings, period: Period) -> list[str]:
    """The responsible departments with cases received in `period`, largest first."""
    return analysis.departments_of(settings, period)


def deliver_to_department(settings: Settings, client: Any, report: Report, saved: Saved) -> str:
    """A department's summary to the department's own channel and addresses
    (COMPLAINTS_DEPARTMENTS); says where it went, or that nowhere is configured."""
    from complaints.notifications.messages import mailer

    department = report.figures.department or ""
    contact = settings.departments.get(department)
    if contact is None:
        outcome = f"not delivered: no contact for {department} in COMPLAINTS_DEPARTMENTS"
        record_sent(saved, report.figures, outcome, utc_now())
        return outcome
    went = []
    if contact.slack_channel and client is not None:
        client.files_upload_v2(
            channel=_channel_id(client, contact.slack_channel),
            initial_comment=headline(report.figures),
            file_uploads=[
                {"file": str(saved.html), "filename": f"{report.name}.html", "title": report.name},
                {"file": str(saved.csv), "filename": f"{report.name}.csv", "title": report.name},
            ],
        )
        went.append(f"posted to {contact.slack_channel}")
    if contact.email_to and settings.smtp_host:
        sender = mailer(settings)
        subject = (
            f"{department} {report.figures.kind.label.split(' / ')[0]} {report.figures.period}"
        )
        for address in contact.email_to:
            sender.send(address, subject, headline(report.figures), [saved.html, saved.csv])
        went.append("e-mailed to " + ", ".join(contact.email_to))
    outcome = "; ".join(went) or f"not delivered: {department} has no channel or address set"
    record_sent(saved, report.figures, outcome, utc_now())
    return outcome


def _as_of(figures: Figures) -> str:
    return figures.end.astimezone(ZoneInfo(figures.timezone)).strftime("%Y-%m-%d %H:%M")
