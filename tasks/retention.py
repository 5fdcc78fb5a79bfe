"""The task of the retention run: erase the customers of the cases kept long enough."""

from __future__ import annotations

from prefect.logging import get_run_logger

from complaints.cases import retention
from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.kinds import ledger_task


class RetentionIncomplete(RuntimeError):
    """Some due cases could not be erased; the others were. The next run tries them again."""


@ledger_task("erase-due-cases")
def erase_due_cases() -> list[str]:
    """Erase every closed case past `retention_days`; the case numbers erased. Fails, after
    erasing all it could, when any case could not be erased, so the run shows it."""
    done = retention.erase_due(get_settings(), utc_now())
    log = get_run_logger()
    for erasure in done.erased:
        log.info(erasure.describe())
    if done.failed:
        raise RetentionIncomplete(
            f"{len(done.failed)} case(s) not erased: {'; '.join(done.failed[:10])}"
        )
    return [erasure.case_no for erasure in done.erased]
