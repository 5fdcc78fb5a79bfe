"""The morning list (每日待办): each working day, every department and every person with
open work is told what is overdue, due today, waiting on the customer and newly handed
over (complaints.notifications.morning). A second run the same day sends nothing twice;
a day off sends nothing."""

from __future__ import annotations

from prefect import flow

from tasks.worklists import queue_morning_lists


@flow(name="morning-list", log_prints=True)
def morning_list() -> list[str]:
    """每日待办 / today's open work, to each department and person who has some."""
    told = queue_morning_lists()
    print(f"morning list for {len(told)}: {', '.join(told) or 'nobody has open work'}")
    return told
