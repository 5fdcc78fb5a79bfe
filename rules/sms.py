"""Messages to the customer by SMS: which template variables each message fills, and the
provider's rules they must keep.

SMS in mainland China is sent through templates the provider approved beforehand, with
variables, never as free text. Each message kind has one template (its code in the
settings) whose text the company wrote and had approved, e.g. for the acknowledgement:

    您的投诉已受理，编号${case}，我们将在${promise}内答复。进度查询：example.cn/l/${code}

The product fills the variables below. The provider's rules for notification templates
(Alibaba Cloud SMS, "template variable specifications"): a variable's value is not empty,
at most `max_chars` characters (35 by default), and a link is the template's fixed,
filed address followed by one variable — so the link variable is a short token
(complaints.channels.links.short_token), never a whole address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLES: dict[str, tuple[str, ...]] = {
    "acknowledgement": ("case", "promise", "code"),
    "not_substantiated": ("case", "code"),
    "result": ("case", "code"),
    "survey_invitation": ("case", "days", "code"),
    "delay_notice": ("case", "time", "code"),
    "verification_late": ("case", "code"),
}
"""The variables each message kind's template has (`code`: the short link's token)."""

MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def can_text(phone: str | None) -> bool:
    """Whether the number is a mainland mobile an SMS can reach (not a landline)."""
    return bool(phone and MAINLAND_MOBILE.fullmatch(phone))


def problems(kind: str, params: Mapping[str, str], max_chars: int) -> list[str]:
    """Why these values break the template's variables or the provider's rules, if they
    do; empty when they may be sent."""
    expected = VARIABLES.get(kind)
    if expected is None:
        return [f"no SMS template variables for {kind}"]
    found = []
    if set(params) != set(expected):
        found.append(f"{kind}: variables {sorted(params)}, the template has {list(expected)}")
    for name, value in params.items():
        if not value.strip():
            found.append(f"{kind}: ${{{name}}} is empty")
        elif len(value) > max_chars:
            found.append(f"{kind}: ${{{name}}} has {len(value)} characters, over {max_chars}")
    return found


def promise_text(hours: float | None, days: float | None) -> str:
    """The response promised, as a variable: ``12小时``, ``2个工作日``."""
    if days is not None:
        return f"{days:g}个工作日"
    return f"{hours:g}小时" if hours is not None else "尽快"
