"""The SLA policy as the user writes it: a TOML file with ``COMPLAINTS_SLA__*`` laid over it.

Severity, scope and step names may be Chinese or English. A problem is reported with the
key as the user wrote it — in the file (``sla.toml: [response] major``) or the variable
(``COMPLAINTS_SLA__RESPONSE__MAJOR``) — never in the normalised form the model holds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from rules.enums import Scope, Severity
from rules.sla import SlaPolicy
from rules.steps import Step

_KEYED: dict[str, type[StrEnum]] = {"response": Severity, "handling": Scope, "steps": Step}


def merge_policy(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` laid over `base` key by key (``COMPLAINTS_SLA__RESPONSE__MAJOR=1h`` changes
    one limit and keeps the rest). Severity, scope and step names may be Chinese or English."""
    merged = _normalised(base)
    for key, value in _normalised(override).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    result = dict(data)
    for name, enum in _KEYED.items():
        if isinstance(result.get(name), dict):
            result[name] = {_enum_key(enum, k): v for k, v in result[name].items()}
    return result


def _enum_key(enum: type[StrEnum], key: Any) -> Any:
    try:
        return enum(key).value
    except ValueError:
        return key  # left for validation to report with the field's name


class PolicyError(ValueError):
    """An SLA policy that cannot be used, each problem named where the user wrote it."""


def build_policy(
    written: dict[str, Any] | None, file_name: str | None, override: dict[str, Any]
) -> SlaPolicy:
    """The policy of the file `file_name` (its parsed `written` content; the defaults when
    there is no file) with the ``COMPLAINTS_SLA__*`` `override` laid over it.

    A problem is reported with the key as the user wrote it — in the file (``sla.toml:
    [response] major``) or the variable (``COMPLAINTS_SLA__RESPONSE__MAJOR``) — never in
    the normalised form the model holds."""
    base = written if written is not None else SlaPolicy().model_dump(mode="json")
    try:
        return SlaPolicy.model_validate(merge_policy(base, override))
    except ValidationError as exc:
        problems = [
            f"{_where(err['loc'], written, file_name, override)}: {_message(err)}"
            for err in exc.errors()
        ]
        raise PolicyError("; ".join(problems)) from None


def _where(
    loc: tuple[Any, ...],
    written: dict[str, Any] | None,
    file_name: str | None,
    override: dict[str, Any],
) -> str:
    in_file = f"the SLA policy file {file_name}" if file_name else "the SLA policy"
    if not loc:
        return "COMPLAINTS_SLA" if override and not file_name else in_file
    section, rest = str(loc[0]), [str(part) for part in loc[1:] if part != "[key]"]
    if rest:
        rest[0] = _as_written(section, rest[0], override) or rest[0]
        if _as_written(section, loc[1], override) is not None:
            return "COMPLAINTS_SLA__" + "__".join([section, *rest]).upper()
        rest[0] = _as_written(section, loc[1], written or {}) or rest[0]
    if any(k.lower() == section for k in override) and not rest:
        return f"COMPLAINTS_SLA__{section.upper()}"
    return f"{in_file}: [{section}]" + (f" {'.'.join(rest)}" if rest else "")


def _as_written(section: str, key: Any, data: dict[str, Any]) -> str | None:
    """The key of `data[section]` that normalises to `key`, as the user wrote it."""
    table = data.get(section)
    if not isinstance(table, dict):
        return None
    enum = _KEYED.get(section)
    for written in table:
        if written == key or (enum is not None and _enum_key(enum, written) == key):
            return str(written)
    return None


def _message(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    loc = err["loc"]
    if loc and loc[-1] == "[key]" and str(loc[0]) in _KEYED:
        enum = _KEYED[str(loc[0])]
        names = ", ".join(
            f"{m.value}/{m.name.lower()}" if m.value != m.name.lower() else m.value for m in enum
        )
        return f"no such name {err['input']!r}; the names are {names}"
    return message
