"""Customer messages and case documents, rendered from per-language Jinja templates.

Wording lives in ``templates/<language>/`` so it can be corrected without touching code;
zh-CN is the default language and en is also provided. Every template is rendered with
``StrictUndefined``, so a misspelt or missing variable fails loudly instead of sending a
customer a message with a hole in it.

Layout of a templates directory::

    <language>/<kind>.txt.j2        one per MessageKind, blocks ``subject`` and ``body``
    <language>/case_report.md.j2    the six-part case report (Markdown)
    <language>/case_timeline.md.j2  the per-case artifact shown in the Prefect UI (Markdown)

Customer messages get a ``MessageContext``; fields left as None are not passed at all, so a
template that needs one (``promised_hours`` or ``promised_days`` in the acknowledgement) raises
``jinja2.UndefinedError`` naming it.

The documents take a plain dict, because the caller assembles it from the ledger. All
strings in it are already formatted (local times) and masked (customer name and contact)
by the caller; the templates only lay them out, and show None as "—".

``case_report`` context:

- ``case``: case_no, channel, received_at, occurred_at, customer_name, customer_contact,
  product, order_no, severity, category, department, scope, receiver, description, demand,
  demand_detail
- ``timeline``: list of {at, step, actor, decision, summary}
- ``result``: {resolved: bool, satisfied: bool | None, result_summary: str | None,
  survey: {efficiency, resolution, attitude, fairness, average, comment} | None,
  follow_up: str | None}
- ``improvement``: {root_cause, improvement, attributed_department, attributed_employee},
  any of them None
- ``summary``: {hours_taken: float, reopen_count: int, closed_at: str,
  recommendations: str | None}

``case_timeline`` context:

- ``case``: the keys above plus status, current_step and due_at (str | None)
- ``timeline``: as above
- ``clocks``: list of {clock, cycle, started, due, warn, level, done, on_time}
- ``escalations``: list of {at, level, audience, trigger, summary}
- ``messages``: list of {kind, delivery, status, at}
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel

from rules.presentation import inert

DASH = "—"


class MessageKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    NOT_SUBSTANTIATED = "not_substantiated"
    RESULT = "result"
    SURVEY_INVITATION = "survey_invitation"
    DELAY_NOTICE = "delay_notice"  # handling takes longer: the reason, the new expected time
    VERIFICATION_LATE = "verification_late"  # past the promised response: still checking


class RenderedMessage(BaseModel):
    subject: str
    body: str


class MessageContext(BaseModel):
    """Everything a customer message may show; nothing internal belongs here."""

    company_name: str
    case_no: str
    customer_name: str
    received_at: str
    description: str
    promised_hours: float | None = None
    promised_days: float | None = None  # when the promise is in working days
    explanation: str | None = None
    result: str | None = None
    status_url: str | None = None  # the customer's status page (complaints.channels.links)
    survey_url: str | None = None  # the customer's own survey, in the invitation
    survey_days: int | None = None  # how long the survey link works
    reason: str | None = None  # why it takes longer (a delay notice)
    expected_at: str | None = None  # when it is now expected to be done, local time


def dash(value: Any) -> str:
    """Show an absent value as "—" rather than "None", which reads like a bug to a customer."""
    if value is None or value == "":
        return DASH
    return str(value)


def number(value: Any) -> str:
    """Drop a float's ".0" so "12 小时" is not read out as "12.0 小时"."""
    if value is None:
        return DASH
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def cell(value: Any) -> str:
    """Keep free text on one line: in a Markdown table cell a line break would split it.
    (A pipe is escaped with the rest of the Markdown, by `inert`.)"""
    return " ".join(dash(value).split())


def markdown_cell(value: Any) -> str:
    """Free text in one Markdown table cell, inert: it renders as itself, nothing more."""
    return inert(cell(value))


def yesno(value: Any, yes: str, no: str) -> str:
    if value is None:
        return DASH
    return yes if value else no


def languages_of(templates_dir: Path) -> tuple[str, ...]:
    if not templates_dir.is_dir():
        raise ValueError(f"templates directory not found: {templates_dir}")
    return tuple(sorted(p.name for p in templates_dir.iterdir() if p.is_dir()))


def checked_language(languages: tuple[str, ...], language: str) -> str:
    """Refuse rather than fall back: a customer should never get a message in a language
    nobody chose, and the check also keeps the name inside the templates directory."""
    language = str(language)
    if language not in languages:
        available = ", ".join(languages) or "none"
        raise ValueError(f"no templates for language {language!r} (available: {available})")
    return language


def environment(
    templates_dir: Path, *, autoescape: bool = False, markdown: bool = False, **filters: Any
) -> Environment:
    """The one way the product loads templates: strict (an unknown variable is an error),
    blocks trimmed, with the filters every template may use; `markdown`: every value a
    template prints is made inert (shown in the Prefect UI); `filters` add or replace."""
    options: dict[str, Any] = dict(
        loader=FileSystemLoader(templates_dir),
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    if markdown:
        options["finalize"] = inert
    env = Environment(**options)
    env.filters.update({"dash": dash, "number": number, "cell": cell, "yesno": yesno, **filters})
    return env


class Renderer:
    """Renders messages and documents from one templates directory, in a chosen language."""

    def __init__(self, templates_dir: Path) -> None:
        self.languages = languages_of(templates_dir)
        self.templates_dir = templates_dir
        # Messages are plain text for the customer; the case documents are Markdown shown
        # in the Prefect UI, where every value a template prints is made inert.
        self._env = environment(templates_dir)
        self._markdown = environment(templates_dir, markdown=True)

    def message(self, kind: MessageKind, language: str, context: MessageContext) -> RenderedMessage:
        template = self._env.get_template(f"{self._language(language)}/{kind}.txt.j2")
        missing = {"subject", "body"} - template.blocks.keys()
        if missing:
            raise ValueError(
                f"template {template.name} lacks block(s): {', '.join(sorted(missing))}"
            )
        variables = context.model_dump(exclude_none=True)
        try:
            subject = "".join(template.blocks["subject"](template.new_context(variables)))
            body = "".join(template.blocks["body"](template.new_context(variables)))
        except Exception:
            self._env.handle_exception()
        return RenderedMessage(subject=" ".join(subject.split()), body=body.strip())

    def case_report(self, language: str, context: dict[str, Any]) -> str:
        return self._document("case_report", language, context)

    def case_timeline(self, language: str, context: dict[str, Any]) -> str:
        return self._document("case_timeline", language, context)

    def _document(self, name: str, language: str, context: dict[str, Any]) -> str:
        template = self._markdown.get_template(f"{self._language(language)}/{name}.md.j2")
        return template.render(context).strip() + "\n"

    def _language(self, language: str) -> str:
        return checked_language(self.languages, language)
