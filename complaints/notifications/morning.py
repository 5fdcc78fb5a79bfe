"""The morning list (每日待办): on each working day, one message to each department and to
each person with open work — overdue, due today, waiting on the customer, newly handed over.

Written to the outbox once per working day and recipient (the watch delivers it within
seconds), so a run retried or run twice that morning sends nothing twice. On a day the SLA
policy's calendar does not work (a weekend, a holiday) nothing is sent; "newly handed over"
counts from the previous working day's list.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from complaints.cases import worklist
from complaints.notifications.notices import queue
from complaints.settings import Settings
from models.db import unit_of_work
from models.repositories.staff import StaffRepository
from rules.enums import Department
from rules.notices import Address, person_address
from rules.worklist import morning_list, sections, select


def previous_list(settings: Settings, now: datetime) -> datetime:
    """When the previous working day's list went: the same time of that day."""
    clock = settings.sla.clock(settings.tz)
    local = now.astimezone(settings.tz)
    day: date = local.date()
    for _ in range(40):
        day -= timedelta(days=1)
        if clock.calendar.is_working_day(day):
            break
    return datetime.combine(day, time(local.hour, local.minute), settings.tz)


def send_morning_lists(settings: Settings, now: datetime) -> list[str]:
    """Queue today's lists; returns who gets one (departments first, then people). None
    on a day off."""
    tz = settings.tz
    today = now.astimezone(tz).date()
    if not settings.sla.clock(tz).calendar.is_working_day(today):
        return []
    items = worklist.waiting(settings)
    since = previous_list(settings, now)
    slack, email = settings.slack_configured, bool(settings.smtp_host)
    sent: list[str] = []
    with unit_of_work(settings.database_url) as session:
        for department in Department:
            parts = sections(select(items, department=department), now, since, tz)
            if not parts:
                continue
            addresses = [Address("email", to) for to in settings.department_emails(department)]
            if slack:
                addresses.insert(0, Address("slack", settings.department_channel(department)))
            key = f"morning:{today:%Y%m%d}:{department.code}"
            notice = morning_list(key, department.value, parts, now, tz)
            if any([queue(session, None, notice, a, None, now) for a in addresses]):
                sent.append(department.value)
        for person in StaffRepository(session).people().values():
            parts = sections(select(items, person=person.name), now, since, tz)
            if not person.active or not parts:
                continue
            address = person_address(person, slack, email, fallback="-")
            if address.fallback is None:  # no way to reach them but their department's list
                continue
            address = Address(address.medium, address.to, None, person.name)  # theirs alone
            key = f"morning:{today:%Y%m%d}:{person.name}"
            if queue(
                session, None, morning_list(key, person.name, parts, now, tz), address, None, now
            ):
                sent.append(person.name)
    return sent
