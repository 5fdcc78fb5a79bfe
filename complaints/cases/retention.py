"""Erasing a closed case's customer (个人信息保护法): on request, or when the retention
period after closing is over (`retention_days`).

What the figures need stays — dates, severity, category, department, clocks, scores and
the one-way customer key (rules.retention) — so every past report reads the same. What
names, reaches or quotes the customer goes: the name becomes a placeholder, phone and
e-mail are dropped, the free text of the case, its messages, survey comments, audit
payloads and report are masked, its evidence files are deleted, and its report and
timeline are removed from Prefect.

The ledger's part is one transaction. Files and Prefect come after it; when Prefect cannot
be reached the result says so, and erasing the case again — which changes nothing more in
the ledger ("already erased") — removes what was left.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from complaints.cases.casework import CaseNotFound
from complaints.settings import Settings
from models.db import unit_of_work
from models.ledger import AuditEntry, Case
from models.repositories import CaseRepository
from models.repositories.retention import RetentionRepository
from rules.enums import CaseStatus
from rules.masking import mask_customer_text
from rules.presentation import artifact_key, report_artifact_key
from rules.retention import (
    CASE_TEXT,
    CONTACT,
    ERASED,
    ERASED_NAME,
    RETENTION_ACTOR,
    Reason,
    erase_payload,
    retention_cutoff,
)
from rules.steps import Step, event_key

BATCH = 200  # cases read per query of a retention run


class NotErasable(ValueError):
    """Only a closed case's customer is erased; the message says why not, in one line."""


@dataclass(frozen=True)
class Erasure:
    """What erasing one case did: in the ledger (now or before), on disk and in Prefect."""

    case_no: str
    already: bool  # erased before: the ledger is as that erasure left it
    at: datetime
    actor: str
    reason: str
    fields: list[str]
    files: str
    prefect: str
    prefect_done: bool  # False: Prefect's copy is left, `prefect` says why

    def describe(self) -> str:
        done = (
            f"already erased ({self.at:%Y-%m-%d}, {self.actor})"
            if self.already
            else f"erased {', '.join(self.fields) or 'nothing left to erase'}"
        )
        return f"{self.case_no}: {done}; {self.files}; {self.prefect}"


@dataclass
class RetentionRun:
    erased: list[Erasure] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per case left as it was


def erase(
    settings: Settings,
    case_no: str,
    actor: str,
    reason: Reason,
    now: datetime,
    prefect: bool = True,
) -> Erasure:
    """Erase the customer of a closed case; a case erased before is left as it is.
    `prefect`: False when Prefect is known not to answer (its copy is then left)."""
    with unit_of_work(settings.database_url) as session:
        case, entry, created = _erase_in_ledger(session, case_no, actor, reason, now)
        flow_run_id = case.flow_run_id
    prefect_done, prefect_said = (
        forget_in_prefect(case_no, flow_run_id) if prefect else (False, PREFECT_DOWN)
    )
    return Erasure(
        case_no=case_no,
        already=not created,
        at=entry.at,
        actor=entry.actor,
        reason=str(entry.payload.get("why", "")),
        fields=list(entry.payload.get("fields", [])),
        files=delete_evidence(settings, case_no),
        prefect=prefect_said,
        prefect_done=prefect_done,
    )


def erase_due(settings: Settings, now: datetime, actor: str = RETENTION_ACTOR) -> RetentionRun:
    """Erase every closed case kept as long as `retention_days` allows; one case that
    cannot be erased is reported and the others go on."""
    cutoff = retention_cutoff(now, settings.retention_days)
    run = RetentionRun()
    failed: list[str] = []
    prefect = True  # until it does not answer: then not asked again for each case
    while True:
        with unit_of_work(settings.database_url) as session:
            due = RetentionRepository(session).due(cutoff, BATCH, skip=failed)
        if not due:
            return run
        for case_no in due:
            try:
                erasure = erase(settings, case_no, actor, Reason.RETENTION, now, prefect)
                run.erased.append(erasure)
                prefect = erasure.prefect_done
            except Exception as exc:
                failed.append(case_no)
                run.failed.append(f"{case_no}: {' '.join(str(exc).split())[:200]}")


def _erase_in_ledger(
    session: Session, case_no: str, actor: str, reason: Reason, now: datetime
) -> tuple[Case, AuditEntry, bool]:
    """The case, its erasure entry, and whether it was made now."""
    repo = CaseRepository(session)
    case = repo.get(case_no)
    if case is None:
        raise CaseNotFound(case_no)
    if case.status is not CaseStatus.CLOSED:
        raise NotErasable(
            f"{case_no} 未关闭 / is not closed ({case.status.value}): only a closed case's "
            "customer data is erased"
        )
    done = RetentionRepository(session).erasure(case.id)
    if done is not None:
        return case, done, False
    fields = _erase_rows(repo, case)
    entry = AuditEntry(
        case_id=case.id,
        key=event_key(Step.ERASE),
        step=Step.ERASE.value,
        cycle=case.cycle,
        actor=actor[:50],
        at=now,
        decision=ERASED,
        payload={"why": reason.value, "note": reason.label, "fields": fields},
    )
    repo.record(entry)
    case.updated_at = now
    return case, entry, True


def _erase_rows(repo: CaseRepository, case: Case) -> list[str]:
    """Mask or drop every value of the case's rows that may name, reach or quote its
    customer; the names of what held something, for the audit entry."""
    who = (case.customer_name, case.customer_phone, case.customer_email)
    fields = [name for name in (*CONTACT, *CASE_TEXT) if getattr(case, name)]
    for name in CASE_TEXT:
        setattr(case, name, mask_customer_text(getattr(case, name), *who))
    case.customer_name, case.customer_phone, case.customer_email = ERASED_NAME, None, None
    messages = repo.messages(case.id)
    for message in messages:
        message.recipient = ""
        message.subject = mask_customer_text(message.subject, *who)[:200]
        message.body = mask_customer_text(message.body, *who)
        message.error = mask_customer_text(message.error, *who)
    surveys = [s for s in repo.surveys(case.id) if s.comment]
    for survey in surveys:
        survey.comment = mask_customer_text(survey.comment, *who)
    for entry in repo.audit(case.id):
        entry.payload = erase_payload(entry.payload, *who)
    report = repo.report(case.id)
    if report is not None:
        report.markdown = mask_customer_text(report.markdown, *who)
    fields += ["customer_messages"] * bool(messages) + ["survey_answers.comment"] * bool(surveys)
    fields += ["audit_entries.payload"] + ["case_reports.markdown"] * (report is not None)
    return fields


def delete_evidence(settings: Settings, case_no: str) -> str:
    """Delete the files kept for the case (mail attachments, forwarded mails)."""
    folder = Path(settings.evidence_dir) / case_no
    if not folder.is_dir():
        return "no evidence files"
    count = sum(1 for path in folder.rglob("*") if path.is_file())
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        return f"evidence files NOT deleted ({exc.strerror}: {folder}); erase again"
    return f"{count} evidence file(s) deleted"


PREFECT_DOWN = "Prefect's copy NOT removed (Prefect did not answer): erase the case again"


def forget_in_prefect(case_no: str, flow_run_id: str | None) -> tuple[bool, str]:
    """Remove the case's report and timeline artifacts (every version) and the answers
    people gave its run's forms from Prefect. Best effort: whether it was done, and a line
    saying what happened."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.exceptions import ObjectNotFound

    keys = [report_artifact_key(case_no), artifact_key(case_no)]
    try:
        with _quick(), get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
            )
            for artifact in artifacts:
                try:
                    client.delete_artifact(artifact.id)
                except ObjectNotFound:  # removed meanwhile: gone either way
                    continue
            answers = _delete_run_inputs(client, UUID(flow_run_id)) if flow_run_id else 0
    except Exception as exc:
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        return False, f"Prefect's copy NOT removed ({reason}): erase the case again"
    return True, f"{len(artifacts)} artifact(s) and {answers} form answer(s) removed from Prefect"


def _delete_run_inputs(client: Any, run_id: UUID) -> int:
    """The inputs Prefect keeps for the run's waits: what people typed into each form."""
    deleted = 0
    for prefix in ("suspended-", "paused-"):  # Prefect keys them by the state's name
        while found := client.filter_flow_run_input(run_id, prefix, 100, set()):
            for stored in found:
                client.delete_flow_run_input(run_id, stored.key)
                deleted += 1
    return deleted


@contextmanager
def _quick() -> Iterator[None]:
    """No retries and a short wait: Prefect's part never holds up the ledger's."""
    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    with temporary_settings(
        updates={PREFECT_CLIENT_MAX_RETRIES: 0, PREFECT_API_REQUEST_TIMEOUT: 10}
    ):
        yield
