"""A complaint analysis report (月度/半年度/年度), rendered from its `Figures`.

Three outputs of the same figures:

- ``render_markdown``: ``templates/<language>/analysis.md.j2``, for the Prefect UI artifact
  and e-mail bodies;
- ``render_html``: ``templates/<language>/analysis.html.j2``, one standalone file with
  inline CSS and inline SVG charts (``rules.charts``); it loads nothing from the network
  (a Content-Security-Policy in the page forbids it) and prints on A4;
- ``render_csv``: one row per figure, for a spreadsheet.

Customer quotes are masked here, before any template sees them (``rules.masking``), so no
output can show a customer's phone number or e-mail address whatever a template does.
Rates are shown as percentages with one decimal, durations in minutes (with hours from
120 minutes on), changes as ``+12.5%`` / ``−3.0%``, and "—" where there is nothing to
divide by. A period without complaints says so in its headline instead of showing zeros.

Templates get the figures (quotes masked), the local dates of the period and a few lists
already put in reading order; they are rendered with ``StrictUndefined`` like every other
document (``complaints.templating``), with its filters plus ``percent``, ``signed_percent``
and ``minutes``.

The three outputs share their helpers here, which is what makes this module long.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Template
from markupsafe import Markup

from complaints.templating import (
    DASH,
    cell,
    checked_language,
    environment,
    languages_of,
    markdown_cell,
    yesno,
)
from rules.alerts import Level, Trigger
from rules.analysis import (
    DEFINITIONS,
    Count,
    Duration,
    Figures,
    Kpi,
    Quote,
    Rate,
    Review,
    Standing,
)
from rules.charts import NO_COMPLAINTS, RateBar, category_chart, target_chart, trend_chart
from rules.masking import mask_text

NOTHING_TO_JUDGE = "本期无可评估的指标 / nothing to judge in this period"
NOT_HANDED_OVER = "（受理人，未交办 / receiver, not handed over）"

BOM = "\ufeff"
CSV_COLUMNS = ("section", "name", "value", "unit", "numerator", "denominator", "note")

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def percent(value: float | None) -> str:
    """0.875 → "87.5%"; None (nothing to divide by) → "—"."""
    return DASH if value is None else f"{value * 100:.1f}%"


def signed_percent(ratio: float | None) -> str:
    """A change: +0.125 → "+12.5%", −0.03 → "−3.0%", None (nothing before) → "—"."""
    if ratio is None:
        return DASH
    shown = round(ratio * 100, 1)
    if shown == 0:
        return "0.0%"
    return f"+{shown:.1f}%" if shown > 0 else f"−{-shown:.1f}%"


BAR_CELLS = 10


def bar(share: float | None, of: float = 1.0) -> str:
    """A chart in a table cell, for the Markdown the Prefect UI shows: `share` of `of` as
    ten cells, "███████░░░" for 0.7; empty when there is nothing to draw."""
    if share is None or of <= 0:
        return ""
    filled = round(max(0.0, min(1.0, share / of)) * BAR_CELLS)
    return "█" * filled + "░" * (BAR_CELLS - filled)


def clause(text: str) -> str:
    """A sentence as a clause of a longer one: its closing punctuation dropped, so joined
    clauses end with one 。, never "。。"."""
    return str(text).rstrip("。；;，,.!！ ")


def minutes(value: float | None, minute: str = "分钟", hour: str = "小时") -> str:
    """45 → "45 分钟"; 150 → "150 分钟 (2.5 小时)": long durations are easier read in hours."""
    if value is None:
        return DASH
    shown = f"{_one_decimal(value)} {minute}"
    return f"{shown} ({_one_decimal(value / 60)} {hour})" if value >= 120 else shown


def rate_bars(kpis: list[Kpi]) -> list[RateBar]:
    """The KPIs that are rates ("≥ 90%"), as bars for the chart, read from their text.

    `Kpi` carries its target and actual as display text only, so the percentages are read
    back from it; a KPI whose target is not a percentage (first response, in minutes) has
    no bar.
    """
    bars = []
    for kpi in kpis:
        target = _PERCENT.search(kpi.target)
        if target is None:
            continue
        actual = _PERCENT.search(kpi.actual)
        bars.append(
            RateBar(
                label=kpi.name,
                value=None if actual is None else float(actual.group(1)) / 100,
                target=float(target.group(1)) / 100,
            )
        )
    return bars


def report_context(figures: Figures) -> dict[str, Any]:
    """What the templates show: the figures with masked quotes, local dates, ordered lists."""
    tz = ZoneInfo(figures.timezone)
    title, _, subtitle = figures.kind.label.partition(" / ")
    if figures.department:  # a department's own summary of its cases
        title, subtitle = f"{figures.department} · {title}", f"{subtitle} — {figures.department}"
    safe = figures.model_copy(
        update={"quotes": masked_quotes(figures.quotes), "review": masked_review(figures.review)}
    )
    return {
        "figures": safe,
        "title": title,
        "subtitle": subtitle,
        "first_day": _local(figures.start, tz).date().isoformat(),
        "last_day": (_local(figures.end, tz) - timedelta(microseconds=1)).date().isoformat(),
        "generated_at": _local(figures.generated_at, tz).strftime("%Y-%m-%d %H:%M"),
        "empty": figures.volume == 0,
        "trend_peak": max((p.count for p in figures.trend), default=0),
        "judged": any(kpi.met is not None for kpi in figures.kpis),
        "trend_has_data": any(
            p.count or p.timely_rate is not None or p.satisfaction_rate is not None
            for p in figures.trend
        ),
        "top_problems": top_five(figures.top_problems),
        "survey": [
            {"name": name, "value": value} for name, value in figures.survey_averages.items()
        ],
        "escalations": [
            {"trigger": _trigger(e.trigger), "level": _level(e.level), "count": e.count}
            for e in figures.escalations
        ],
        "escalation_total": sum(e.count for e in figures.escalations),
        "definitions": list(DEFINITIONS.values()),
        "no_complaints": NO_COMPLAINTS,
        "nothing_to_judge": NOTHING_TO_JUDGE,
    }


def masked_review(review: Review | None) -> Review | None:
    """The half-year review with every free text (descriptions, suggestions) masked."""
    if review is None:
        return None
    return review.model_copy(
        update={
            "major_cases": [
                c.model_copy(update={"description": mask_text(c.description)})
                for c in review.major_cases
            ],
            "suggestions": [
                s.model_copy(update={"text": mask_text(s.text)}) for s in review.suggestions
            ],
            "notices": [
                n.model_copy(update={"suggestions": [mask_text(t) for t in n.suggestions]})
                for n in review.notices
            ],
        }
    )


def masked_quotes(quotes: list[Quote]) -> list[Quote]:
    return [quote.model_copy(update={"text": mask_text(quote.text)}) for quote in quotes]


def top_five(rows: list[Count]) -> list[Count]:
    """The five most frequent problems, most frequent first (ties keep their order)."""
    return sorted(rows, key=lambda row: -row.count)[:5]


def render_markdown(figures: Figures, templates_dir: Path, language: str = "zh-CN") -> str:
    template = _template(templates_dir, language, "analysis.md.j2", html=False)
    text = template.render(report_context(figures)).strip()
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


def render_html(figures: Figures, templates_dir: Path, language: str = "zh-CN") -> str:
    """One standalone page: inline CSS, three inline SVG charts, no script, no network."""
    empty_text = NO_COMPLAINTS if figures.volume == 0 else NOTHING_TO_JUDGE
    charts = {
        "category": Markup(category_chart(figures.by_category)),
        "trend": Markup(trend_chart(figures.trend)),
        "targets": Markup(target_chart(rate_bars(figures.kpis), empty=empty_text)),
    }
    template = _template(templates_dir, language, "analysis.html.j2", html=True)
    return template.render(report_context(figures) | {"charts": charts}).strip() + "\n"


def render_csv(figures: Figures) -> str:
    """The figures as CSV text, one row per figure, columns `CSV_COLUMNS`.

    The text starts with a byte-order mark, so Excel opens the Chinese labels as UTF-8
    rather than as the local code page; write it as it is (``encoding="utf-8"``, not
    ``"utf-8-sig"``, which would add a second mark). Numbers are plain (``87.5`` with unit
    ``%``) so a spreadsheet can compute with them; an empty value means there was nothing to
    divide by. Any other cell that a spreadsheet would evaluate (a quote or a name starting
    with ``=``, ``+``, ``-`` or ``@``) is prefixed with an apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([_spreadsheet_safe(item) for item in row] for row in csv_rows(figures))
    return BOM + buffer.getvalue()


def csv_rows(figures: Figures) -> list[tuple[str, ...]]:
    tz = ZoneInfo(figures.timezone)
    first_day = _local(figures.start, tz).date().isoformat()
    last_day = (_local(figures.end, tz) - timedelta(microseconds=1)).date().isoformat()
    cases = "件 / cases"
    rows: list[tuple[str, ...]] = [
        ("报告 / report", "类型 / kind", figures.kind.label, "", "", "", ""),
        ("报告 / report", "报告期 / period", figures.period, "", "", "", ""),
        (
            "报告 / report",
            "统计区间 / dates",
            f"{first_day} – {last_day}",
            figures.timezone,
            "",
            "",
            "",
        ),
        ("概况 / overview", "投诉量 / volume", _figure(figures.volume), cases, "", "", ""),
        (
            "概况 / overview",
            "期末未结 / still open",
            _figure(figures.still_open),
            cases,
            "",
            "",
            "",
        ),
    ]
    for name, change, note in (
        ("环比 / vs previous period", figures.volume_mom, "本期 / 上期 current / previous"),
        ("同比 / vs a year before", figures.volume_yoy, "本期 / 去年同期 current / year before"),
    ):
        ratio = change.ratio
        value = "" if ratio is None else _figure(f"{ratio * 100:+.1f}")
        rows.append(
            (
                "概况 / overview",
                name,
                value,
                "%",
                _figure(change.current),
                _figure(change.previous),
                note,
            )
        )
    for name, rate in _rates(figures):
        rows.append(_rate_row("比率 / rates", name, rate))
    rows.append(
        (
            "比率 / rates",
            "期末未回访 / callbacks still owed",
            _figure(figures.callbacks_owed),
            "次 / callbacks",
            "",
            "",
            "",
        )
    )
    for name, duration in (
        ("首次响应 / first response", figures.first_response),
        ("处理时长 / handling time", figures.handling),
    ):
        rows.extend(_duration_rows(name, duration))
    for kpi in figures.kpis:
        verdict = yesno(kpi.met, "达标 / met", "未达标 / missed")
        rows.append(
            ("KPI", kpi.name, kpi.actual, "", "", "", f"目标 / target {kpi.target}; {verdict}")
        )
    for section, counts in (
        ("类别 / by category", figures.by_category),
        ("渠道 / by channel", figures.by_channel),
        ("等级 / by severity", figures.by_severity),
        ("部门 / by department", figures.by_department),
        ("高频问题 / top problems", top_five(figures.top_problems)),
        ("责任部门 / attributed department", figures.by_attributed_department),
        ("责任人 / attributed handler", figures.by_handler),
    ):
        rows.extend(
            (section, row.label, _figure(row.count), cases, "", "", f"{row.share * 100:.1f}%")
            for row in counts
        )
    for name, average in figures.survey_averages.items():
        value = "" if average is None else _figure(f"{average:.2f}")
        rows.append(("满意度均分 / survey averages", name, value, "1–5", "", "", ""))
    rows.extend(
        (
            "升级 / escalations",
            f"{_trigger(e.trigger)} · {_level(e.level)}",
            _figure(e.count),
            "次 / times",
            "",
            "",
            "",
        )
        for e in figures.escalations
    )
    shares: list[tuple[str, Standing]] = [
        (f"部门 / department {d.department}", d) for d in figures.departments
    ]
    shares += [
        (f"处理人 / handler {h.handler}{'' if h.handed_over else NOT_HANDED_OVER}", h)
        for h in figures.handlers
    ]
    for section, share in shares:
        rows.append(_rate_row(section, "及时率 / timely rate", share.timely))
        rows.append(_rate_row(section, "满意率 / satisfaction rate", share.satisfaction))
        for name, count in (
            ("投诉量 / volume", share.volume),
            ("期末未结 / open at the end", share.open_at_end),
            ("期末逾期 / overdue at the end", share.overdue_at_end),
        ):
            rows.append((section, name, _figure(count), cases, "", "", ""))
    rows.extend(
        (
            "逾期来源 / overdue",
            f"{r.step} · {r.department}",
            _figure(r.count),
            "次 / times",
            "",
            "",
            "",
        )
        for r in figures.overdue_sources
    )
    rows.extend(
        (
            "期末未结 / open cases",
            o.case_no,
            "" if o.overdue_days is None else _figure(o.overdue_days),
            "逾期天数 / days overdue",
            "",
            "",
            f"{o.department} · {o.owner}{'' if o.handed_over else NOT_HANDED_OVER} · {o.step}",
        )
        for o in figures.open_cases
    )
    for given in figures.department_inputs:
        section = f"部门小结 / department summary {given.department}"
        if given.sent_at is None:
            state = "已生成未发送 / saved, not sent" if given.saved else "未报送 / not sent"
        else:
            sent_on = _local(given.sent_at, tz).date().isoformat()
            state = f"{'按时 / on time' if given.on_time else '逾期 / late'} {sent_on}"
        rows.append((section, "小结 / summary", state, "", "", "", given.where))
        rows.append(_rate_row(section, "及时率 / timely rate", given.timely))
        rows.append((section, "投诉量 / volume", _figure(given.volume), cases, "", "", ""))
        rows.append(
            (
                section,
                "主要原因 / main cause",
                given.main_cause or "",
                cases,
                _figure(given.main_cause_cases),
                "",
                "",
            )
        )
        for name, count in (
            ("整改未完成 / actions open", given.actions_open),
            ("整改逾期 / actions overdue", given.actions_overdue),
        ):
            rows.append((section, name, _figure(count), "项 / actions", "", "", ""))
    for point in figures.trend:
        section = f"趋势 / trend {point.period}"
        rows.append((section, "投诉量 / volume", _figure(point.count), cases, "", "", ""))
        for name, monthly in (
            ("及时率 / timely rate", point.timely_rate),
            ("满意率 / satisfaction rate", point.satisfaction_rate),
        ):
            value = "" if monthly is None else _figure(f"{monthly * 100:.1f}")
            rows.append((section, name, value, "%", "", "", ""))
    for quote in masked_quotes(figures.quotes):
        accepted = "接受 / accepted" if quote.accepted else "不接受 / not accepted"
        rows.append(("客户原话 / quotes", quote.case_no, quote.text, "", "", "", accepted))
    return rows


def _rates(figures: Figures) -> list[tuple[str, Rate]]:
    return [
        ("及时率 / timely rate", figures.timely_cases),
        ("环节按时率 / steps on time", figures.timely_steps),
        ("满意率 / satisfaction rate", figures.satisfaction),
        ("回访率 / callback rate", figures.callback),
        ("解决率 / resolution rate", figures.resolution),
        ("重新处理率 / reopen rate", figures.reopened),
        ("重复投诉率 / repeat rate", figures.repeats),
    ]


def _rate_row(section: str, name: str, rate: Rate) -> tuple[str, ...]:
    value = "" if rate.value is None else _figure(f"{rate.value * 100:.1f}")
    return (section, name, value, "%", _figure(rate.numerator), _figure(rate.denominator), "")


def _duration_rows(name: str, duration: Duration) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for which, value in (
        ("中位数 / median", duration.median_minutes),
        ("P90", duration.p90_minutes),
    ):
        hours = f"{_one_decimal(value / 60)} 小时 / h" if value is not None and value >= 120 else ""
        rows.append(
            (
                "时长 / durations",
                f"{name} {which}",
                "" if value is None else _figure(_one_decimal(value)),
                "分钟 / min",
                "",
                str(duration.count),
                hours,
            )
        )
    return rows


def _template(templates_dir: Path, language: str, name: str, *, html: bool) -> Template:
    language = checked_language(languages_of(templates_dir), language)
    env = environment(
        templates_dir,
        autoescape=html,
        localdate=lambda moment, zone: _local(moment, ZoneInfo(zone)).date().isoformat(),
        cell=cell if html else markdown_cell,  # HTML escapes by itself (autoescape)
        percent=percent,
        signed_percent=signed_percent,
        minutes=minutes,
        clause=clause,
        bar=bar,
    )
    return env.get_template(f"{language}/{name}")


class _Figure(str):
    """A number the report computed, written as text: the one kind of cell left as it is."""


def _figure(value: object) -> _Figure:
    return _Figure(value)


def _spreadsheet_safe(value: str) -> str:
    """Every cell but the report's own numbers: text a spreadsheet would evaluate (starting
    with =, +, -, @, a tab or a return — "+1", "-inf" and "=HYPERLINK(…)" alike) gets an
    apostrophe in front, which spreadsheets read as "this is text"."""
    if isinstance(value, _Figure):
        return value
    return "'" + value if value.startswith(_FORMULA_START) else value


def _trigger(trigger: str) -> str:
    try:
        return Trigger(trigger).label
    except ValueError:
        return trigger


def _level(level: int) -> str:
    try:
        return Level(level).label
    except ValueError:
        return f"L{level}"


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """Figures hold UTC; a naive datetime is taken as UTC too."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def _one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
