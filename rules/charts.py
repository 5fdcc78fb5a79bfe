"""The charts of an analysis report, as inline SVG text.

Each function takes figures and returns one ``<svg>`` element as a string: no script, no
external font or image, so the report opens the same in a browser without a network, in
an e-mail client or printed. All text is XML-escaped here, since labels (categories,
handlers, products) come from people. Data with nothing to draw gives a placeholder
chart that says so, never an empty frame or a division by zero.

Labels are bilingual (Chinese first), like the rest of the report's figures.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from rules.analysis import Count, TrendPoint

NO_COMPLAINTS = "本期无投诉 / no complaints in this period"

FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
TRACK = "#f3f4f6"
NAVY = "#1f3a5f"
PALE_NAVY = "#b9c7da"
TEAL = "#0f766e"
ORANGE = "#c2410c"
MET = "#2f7d4f"
MISSED = "#b42318"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class RateBar:
    """One bar of the rate-against-target chart: a rate (0–1) and the least it should be."""

    label: str
    value: float | None
    target: float | None


def category_chart(
    rows: Sequence[Count],
    *,
    title: str = "投诉类别分布 / Complaints by category",
    empty: str = NO_COMPLAINTS,
) -> str:
    """Horizontal bars, one per row in the given order, each labelled with count and share."""
    if not rows or max(row.count for row in rows) <= 0:
        return placeholder(title, empty)
    width, top, row_height, bar_height = 940, 44, 30, 18
    label_width = _label_column(row.label for row in rows)
    left, right = label_width + 12, width - 120
    most = max(row.count for row in rows)
    height = top + row_height * len(rows) + 12
    parts = [_title(title)]
    for index, row in enumerate(rows):
        y = top + index * row_height
        middle = y + row_height / 2
        bar = (right - left) * max(row.count, 0) / most
        parts.append(
            _text(_fit(row.label, 13, label_width), left - 8, middle, anchor="end", size=13)
        )
        parts.append(_rect(left, middle - bar_height / 2, right - left, bar_height, TRACK))
        if bar > 0:
            parts.append(_rect(left, middle - bar_height / 2, max(bar, 1.5), bar_height, NAVY))
        parts.append(
            _text(
                f"{row.count} · {_percent(row.share)}",
                left + max(bar, 0) + 8,
                middle,
                size=12,
                fill=INK,
            )
        )
    return _svg(width, height, title, parts)


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    title: str = "近12个月趋势 / 12-month trend",
    empty: str = NO_COMPLAINTS,
) -> str:
    """Bars of the monthly volume (left axis) with the timely and satisfaction rates as lines
    on a 0–100 % axis (right). The last point, the report's own month, is drawn darker; a
    month without a rate leaves a gap in its line rather than a drop to zero."""
    has_rates = any(p.timely_rate is not None or p.satisfaction_rate is not None for p in points)
    if not points or (max(p.count for p in points) <= 0 and not has_rates):
        return placeholder(title, empty)
    width, height = 940, 340
    left, right, top, bottom = 56, width - 56, 76, height - 40
    plot_height = bottom - top
    step = _nice_step(max(max(p.count for p in points), 1) * 1.15 / 4)  # headroom for labels
    ceiling = step * 4
    slot = (right - left) / len(points)
    parts = [_title(title), *_trend_legend()]
    parts.append(_text("件 / cases", left - 8, top - 14, anchor="end", size=11, fill=MUTED))
    parts.append(_text("%", right + 8, top - 14, size=11, fill=MUTED))
    for tick in range(5):
        y = bottom - plot_height * tick / 4
        parts.append(_line(left, y, right, y, GRID))
        parts.append(_text(_number(step * tick), left - 8, y, anchor="end", size=11, fill=MUTED))
        parts.append(_text(f"{tick * 25}%", right + 8, y, size=11, fill=MUTED))
    last = len(points) - 1
    for index, point in enumerate(points):
        centre = left + slot * (index + 0.5)
        bar = plot_height * max(point.count, 0) / ceiling
        if bar > 0:
            colour = NAVY if index == last else PALE_NAVY
            parts.append(_rect(centre - slot * 0.28, bottom - bar, slot * 0.56, bar, colour))
            parts.append(
                _text(str(point.count), centre, bottom - bar - 8, anchor="middle", size=10)
            )
        weight = "bold" if index == last else "normal"
        parts.append(
            _text(point.period, centre, bottom + 16, anchor="middle", size=10, weight=weight)
        )
    for colour, rates in (
        (TEAL, [p.timely_rate for p in points]),
        (ORANGE, [p.satisfaction_rate for p in points]),
    ):
        spots = [
            None if rate is None else (left + slot * (i + 0.5), _rate_y(rate, top, bottom))
            for i, rate in enumerate(rates)
        ]
        parts.extend(_polylines(spots, colour))
    return _svg(width, height, title, parts)


def target_chart(
    bars: Sequence[RateBar],
    *,
    title: str = "指标达成 / Rates against target",
    empty: str = NO_COMPLAINTS,
) -> str:
    """One bar per rate on a 0–100 % scale, green when it reaches its target and red when
    not, with the target marked by a dark line; a rate without data is shown as "—"."""
    if not bars or all(bar.value is None for bar in bars):
        return placeholder(title, empty)
    width, top, row_height, bar_height = 940, 44, 38, 18
    label_width = _label_column(bar.label for bar in bars)
    left, right = label_width + 12, width - 150
    height = top + row_height * len(bars) + 48
    parts = [_title(title)]
    bottom = top + row_height * len(bars)
    for tick in range(5):
        x = left + (right - left) * tick / 4
        parts.append(_line(x, top, x, bottom, GRID))
        parts.append(_text(f"{tick * 25}%", x, bottom + 14, anchor="middle", size=11, fill=MUTED))
    for index, bar in enumerate(bars):
        middle = top + index * row_height + row_height / 2
        parts.append(
            _text(_fit(bar.label, 13, label_width), left - 8, middle, anchor="end", size=13)
        )
        parts.append(_rect(left, middle - bar_height / 2, right - left, bar_height, TRACK))
        if bar.value is None:
            parts.append(_text("— 无数据 / no data", right + 10, middle, size=12, fill=MUTED))
        else:
            value = _clamp(bar.value)
            met = bar.target is None or bar.value >= bar.target
            length = (right - left) * value
            if length > 0:
                parts.append(
                    _rect(
                        left,
                        middle - bar_height / 2,
                        max(length, 1.5),
                        bar_height,
                        MET if met else MISSED,
                    )
                )
            parts.append(_text(_percent(bar.value), right + 10, middle, size=12, weight="bold"))
        if bar.target is not None:
            x = left + (right - left) * _clamp(bar.target)
            y1, y2 = middle - bar_height / 2 - 5, middle + bar_height / 2 + 5
            parts.append(_line(x, y1, x, y2, INK, width=2.5))
            parts.append(
                _text(f"目标 {_percent(bar.target)}", right + 64, middle, size=11, fill=MUTED)
            )
    parts.append(
        _text(
            "竖线为目标 / the dark mark is the target",
            left,
            bottom + 36,
            size=11,
            fill=MUTED,
        )
    )
    return _svg(width, height, title, parts)


def placeholder(title: str, text: str = NO_COMPLAINTS) -> str:
    """A chart frame that says why there is nothing to draw."""
    width, height = 940, 130
    parts = [
        _title(title),
        f'<rect x="1" y="36" width="{width - 2}" height="{height - 38}" rx="6" fill="#fafafa" '
        f'stroke="#d1d5db" stroke-dasharray="6 4"/>',
        _text(text, width / 2, 36 + (height - 38) / 2, anchor="middle", size=15, fill=MUTED),
    ]
    return _svg(width, height, title, parts)


def _svg(width: int, height: float, title: str, parts: list[str]) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" height="{height:.0f}" role="img" font-family="{FONT}" '
        f'fill="{INK}"><title>{_escape(title)}</title>{body}</svg>'
    )


def _title(text: str) -> str:
    return _text(text, 0, 18, size=14, weight="bold")


def _trend_legend() -> list[str]:
    parts: list[str] = []
    x = 0.0
    for label, kind, colour in (
        ("投诉量 / volume", "bar", PALE_NAVY),
        ("及时率 / timely rate", "line", TEAL),
        ("满意率 / satisfaction rate", "line", ORANGE),
    ):
        if kind == "bar":
            parts.append(_rect(x, 36, 14, 10, colour))
        else:
            parts.append(_line(x, 41, x + 14, 41, colour, width=2.5))
        parts.append(_text(label, x + 20, 41, size=11))
        x += 20 + _text_width(label, 11) + 24
    return parts


def _polylines(spots: list[tuple[float, float] | None], colour: str) -> list[str]:
    """A line through consecutive points, broken where a point is missing, with markers."""
    parts: list[str] = []
    run: list[tuple[float, float]] = []
    for spot in [*spots, None]:
        if spot is not None:
            run.append(spot)
            continue
        if len(run) > 1:
            coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(
                f'<polyline points="{coordinates}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5" stroke-linejoin="round"/>'
            )
        parts.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#ffffff" stroke="{colour}" '
            f'stroke-width="2"/>'
            for x, y in run
        )
        run = []
    return parts


def _rate_y(rate: float, top: float, bottom: float) -> float:
    return bottom - (bottom - top) * _clamp(rate)


def _nice_step(rough: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least `rough`."""
    magnitude = 10 ** max(math.floor(math.log10(rough)), 0) if rough > 0 else 1
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= rough:
            return int(factor * magnitude)
    return int(10 * magnitude)


def _label_column(labels: Iterable[str]) -> float:
    widths = [_text_width(label, 13) for label in labels]
    return min(max([60.0, *widths]), 230.0)


def _text_width(text: str, size: float) -> float:
    """An estimate good enough for layout: CJK characters are square, Latin ones narrower."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.58 for c in text)


def _fit(text: str, size: float, width: float) -> str:
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _escape(text: str) -> str:
    return escape(_CONTROL.sub("", text), {'"': "&quot;"})


def _text(
    text: str,
    x: float,
    y: float,
    *,
    anchor: str = "start",
    size: float = 12,
    fill: str = INK,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" fill="{fill}" '
        f'text-anchor="{anchor}" dominant-baseline="central" font-weight="{weight}">'
        f"{_escape(text)}</text>"
    )


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'rx="2" fill="{fill}"/>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float = 1) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{colour}" stroke-width="{width:g}"/>'
    )
