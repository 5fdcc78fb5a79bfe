"""Personal data kept no longer than needed (个人信息保护法): once a day, the customers of
the cases closed longer than the retention period ago are erased, keeping what the figures
need (complaints.cases.retention). The ledger says which cases are due, so a run missed
during an outage is made up by the next one."""

from __future__ import annotations

from prefect import flow

from tasks.retention import erase_due_cases


@flow(name="personal-data-retention", log_prints=True)
def personal_data_retention() -> list[str]:
    """个人信息保留期限 / erase the customer data of cases closed longer than
    COMPLAINTS_RETENTION_DAYS ago."""
    erased = erase_due_cases()
    print(f"erased the customer data of {len(erased)} closed case(s)")
    return erased
