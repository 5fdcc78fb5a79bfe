"""E-mail intake: every minute, the complaints mailbox's new mails become cases, or join
the case they answer (complaints.channels.mailbox)."""

from __future__ import annotations

from prefect import flow
from prefect.runtime import deployment

from tasks.channels import read_mailbox
from tasks.supervision import skip_late_runs


@flow(name="mail-intake", log_prints=True)
def mail_intake() -> dict[str, list[str]]:
    if deployment.id:  # after an outage one pass covers the missed ones
        skip_late_runs(deployment.id)
    done = read_mailbox()
    if done.registered:
        print(f"registered {len(done.registered)} complaint(s): {', '.join(done.registered)}")
    if done.correspondence:
        print(f"added the customer's mail to: {', '.join(done.correspondence)}")
    for line in done.skipped:
        print(f"left in the mailbox for a person: {line}")
    return {
        "registered": done.registered,
        "repeated": done.repeated,
        "correspondence": done.correspondence,
        "skipped": done.skipped,
    }
