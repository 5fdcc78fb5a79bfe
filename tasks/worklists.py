"""The task of the morning-list run: queue each department's and person's open work."""

from __future__ import annotations

from complaints.notifications.morning import send_morning_lists
from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.kinds import ledger_task


@ledger_task("queue-morning-lists")
def queue_morning_lists() -> list[str]:
    """Who gets today's list (none on a day off); the deadline watch delivers them."""
    return send_morning_lists(get_settings(), utc_now())
