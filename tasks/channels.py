"""The task that reads the complaints mailbox (complaints.channels.mailbox)."""

from __future__ import annotations

from complaints.channels import mailbox
from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.kinds import ledger_task
from tasks.views import publish_case, publish_skipped_mails


@ledger_task("read-mailbox")
def read_mailbox() -> mailbox.MailboxPass:
    """One pass over the mails not handled yet; a mailbox that cannot be read fails the
    task (the next scheduled pass tries again), a mail that cannot be taken is skipped and
    the failed-mail report (the `mail-skipped` table) refreshed.

    A case a customer wrote to has its view in the UI refreshed, so its handler sees the
    mail (and a chase) on the case's run; that view never fails the pass (tasks.views)."""
    settings = get_settings()
    done = mailbox.poll(settings, utc_now())
    for case_no in sorted(set(done.correspondence)):
        publish_case(settings, case_no, open_cases=False)
    if done.skipped:
        publish_skipped_mails(settings)
    return done
