"""The task that reads the complaints mailbox (complaints.channels.mailbox)."""

from __future__ import annotations

from complaints.channels import mailbox
from complaints.settings import get_settings
from complaints.timesource import utc_now
from tasks.kinds import ledger_task


@ledger_task("read-mailbox")
def read_mailbox() -> mailbox.MailboxPass:
    """One pass over the mails not handled yet; a mailbox that cannot be read fails the
    task (the next scheduled pass tries again), a mail that cannot be read is skipped."""
    return mailbox.poll(get_settings(), utc_now())
