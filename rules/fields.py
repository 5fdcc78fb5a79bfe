"""The kinds of value a person types, each with one strict definition shared by every form.

Every entry point — the command line, the Prefect UI's forms, scripts calling the API —
validates through the models built from these, so a field means the same thing and has
the same limits wherever it is typed:

- `Line`: one line of text; no control characters at all (no NUL, ESC, newline).
- `Prose`: free text; line breaks and tabs are kept (``\\r\\n`` becomes ``\\n``), any other
  control character is refused.
- `Flag`: a JSON boolean; "yes", "true" and 1 are refused rather than guessed at.
- `Score`: a JSON integer 1-5; "5" and 4.0 are refused.
- `Moment`: an ISO-8601 time with its zone, e.g. ``2026-11-30T09:30:00+08:00``; Unix
  numbers and times without a zone are refused, and so is any year outside 2000-2099,
  before any arithmetic can overflow. Whether a moment is plausible *now* (a receipt not
  in the future, a deadline within the policy) needs the clock: see `InputLimits`.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict

FIRST_YEAR, LAST_YEAR = 2000, 2099

FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
"""Digits typed on a Chinese keyboard in full-width form, read as ASCII digits."""


# Bidirectional embeddings, overrides and isolates: invisible, they make text shown in the
# UI, a report or a terminal read differently from what is stored ("Trojan Source").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _control_characters(text: str, allowed: str) -> list[str]:
    return sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in text
            if ch not in allowed
            and (unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS)
        }
    )


def single_line(value: str) -> str:
    bad = _control_characters(value, "")
    if bad:
        raise ValueError(
            f"控制字符或换行 {', '.join(bad)} 不允许 / control characters or line breaks are not allowed"
        )
    return value


def prose(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = _control_characters(value, "\n\t")
    if bad:
        raise ValueError(f"控制字符 {', '.join(bad)} 不允许 / control characters are not allowed")
    return value


def _moment(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise ValueError(
            "时间须为 ISO 8601 文本，如 2026-11-30T09:30:00+08:00 / a time must be ISO 8601 text"
            " with its zone, not a number"
        )
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("时间必须带时区 / the time must carry a time zone, e.g. +08:00")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            f"年份须在 {FIRST_YEAR}-{LAST_YEAR} 之间 / the year must be {FIRST_YEAR}-{LAST_YEAR}"
        )
    return value


Line = Annotated[str, AfterValidator(single_line)]
Prose = Annotated[str, AfterValidator(prose)]
Flag = Annotated[bool, Strict()]
Score = Annotated[int, Strict(), Field(ge=1, le=5)]
Moment = Annotated[datetime, BeforeValidator(_moment), AfterValidator(_aware)]


class InputLimits(BaseModel):
    """How far from now a typed time may lie (`COMPLAINTS_INPUT__*`).

    A complaint is received now or a little before (a letter registered a few weeks late),
    never in the future beyond clock skew; what it is about happened before it was received,
    within years; a deadline a person sets lies ahead, within the policy's horizon, which
    also keeps it well inside what the working-day calendar can count.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    received_max_age_days: int = Field(default=31, ge=1, le=3660)
    occurred_max_age_days: int = Field(default=3 * 366, ge=1, le=3660)
    deadline_max_days: int = Field(default=180, ge=1, le=1000)
    clock_skew_minutes: int = Field(default=10, ge=0, le=1440)

    @property
    def skew(self) -> timedelta:
        return timedelta(minutes=self.clock_skew_minutes)


DEFAULT_LIMITS = InputLimits()


def in_the_past(
    field: str, value: datetime | None, now: datetime, max_age_days: int, limits: InputLimits
) -> list[str]:
    """Problems with a time that must lie between `max_age_days` ago and now."""
    if value is None:
        return []
    if value > now + limits.skew:
        return [f"{field}: 不能晚于当前时间 / cannot be in the future"]
    if value < now - timedelta(days=max_age_days):
        return [
            f"{field}: 不能早于 {max_age_days} 天前 / cannot be more than {max_age_days} days ago"
        ]
    return []


def ahead(field: str, value: datetime | None, now: datetime, limits: InputLimits) -> list[str]:
    """Problems with a deadline: after now, within the policy's horizon."""
    if value is None:
        return []
    if value <= now:
        return [f"{field}: 期限已过 / the deadline is in the past"]
    if value > now + timedelta(days=limits.deadline_max_days):
        return [
            f"{field}: 期限不能超过 {limits.deadline_max_days} 天 / a deadline cannot be more than"
            f" {limits.deadline_max_days} days ahead"
        ]
    return []


# What a Chinese office saves text as: UTF-8 (with or without the BOM Windows Notepad
# writes), UTF-16 with its BOM (Excel's "Unicode text"), and GBK/GB18030 (the default
# code page of Chinese Windows). Tried in that order; GB18030 is a superset of GBK.
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode(data: bytes) -> str:
    """The text in `data`, whichever of those encodings it is in; ValueError in one line
    when it is none of them (Latin-1, a binary file, a truncated download)."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return _textual(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"not valid {encoding.upper()} text ({exc.reason} at byte {exc.start})"
                ) from None
    candidates = ["utf-8", "gb18030"]
    if len(data) >= 2 and data.count(0) * 3 >= len(data):  # UTF-16 without its BOM:
        big_endian = data[0::2].count(0) > data[1::2].count(0)  # where ASCII's zeros are
        candidates = ["utf-16-be" if big_endian else "utf-16-le", *candidates]
    for encoding in candidates:
        try:
            text = _textual(data.decode(encoding), encoding)
        except (UnicodeDecodeError, ValueError):
            continue
        if encoding != "gb18030" or _plausibly_chinese(text):
            return text
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f" (byte 0x{data[exc.start]:02X} at {exc.start})"
    else:
        where = " (control characters: a binary file?)"
    raise ValueError(f"not UTF-8, GB18030/GBK or UTF-16 text{where}; save it as UTF-8")


def _plausibly_chinese(text: str) -> bool:
    """GB18030 decodes almost any bytes, so a Latin-1 "Müller" or a Big5 "中文" come out as
    rare characters ("M黮ler", kana). Text a person typed in GBK is mostly in the common
    set (GB2312: every everyday character); refuse text that mostly is not."""
    foreign = [c for c in text if ord(c) > 0x7F]
    if not foreign:
        return True
    uncommon = 0
    for char in foreign:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            uncommon += 1
            continue
        if "\u3040" <= char <= "\u30ff":  # kana, in GB2312 but not in Chinese text
            uncommon += 1
    return uncommon * 2 <= len(foreign)


def _textual(text: str, encoding: str) -> str:
    """Text a person saved has no control characters but line ends, tabs and form feeds."""
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f"), None)
    if bad is not None:
        raise ValueError(f"control character U+{ord(bad):04X} in {encoding} text")
    return text
