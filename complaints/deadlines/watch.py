"""The deadline watch: fire every alert whose time has come, and spot clusters.

The ledger holds each running clock's next alert time (indexed). One pass asks for the
clocks due now, fires the rungs of the ladder they reached (each once per step and
cycle, by key), and moves each clock to its next rung. Nothing waits per case: a pass
costs one indexed query when nothing is due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from complaints.deadlines import clocks
from complaints.deadlines.escalation import escalate, raise_for_case, run_url
from complaints.notifications.mailer import MailError
from complaints.notifications.messages import send_once
from complaints.notifications.notices import queue
from complaints.reporting import rectification
from complaints.settings import Settings
from complaints.templating import MessageKind
from models.db import unit_of_work
from models.repositories import CaseRepository, EscalationRepository
from rules.alerts import Alert, ClusterMember, Trigger
from rules.escalation import EVENT_LEVEL, on_clock, tells_customer
from rules.notices import Address, watch_gap, watch_gap_notice
from rules.patterns import CaseFacts, find_clusters

log = logging.getLogger("complaints.deadlines.watch")

CHASE_LOOKBACK = timedelta(minutes=3)
"""How far the first pass of a watch run looks for chases to show (runs start each minute)."""

VERIFICATION_LATE_REASON = (
    "核实需要与相关部门及记录逐一确认，仍在进行中 / checking the records with the departments "
    "concerned takes longer than we said"
)


@dataclass
class Fired:
    """What one pass did: escalation keys fired and the cases they concern."""

    keys: list[str] = field(default_factory=list)
    cases: set[str] = field(default_factory=set)
    # (case, cycle, expected done) of verifications that ran past the promised response
    to_tell: list[tuple[str, int, datetime | None]] = field(default_factory=list)
    # cases a customer chased since the last pass, wherever the chase came from
    chased: set[str] = field(default_factory=set)

    def add(self, other: Fired) -> None:
        self.keys += other.keys
        self.cases |= other.cases
        self.to_tell += other.to_tell
        self.chased |= other.chased


def fire_due(settings: Settings, now: datetime, limit: int = 500) -> Fired:
    """Fire the alerts of every clock due by `now` (one transaction per clock)."""
    with unit_of_work(settings.database_url) as session:
        due = list(CaseRepository(session).due_clocks(now, limit))
    fired = Fired()
    for clock_id in due:
        fired.add(_fire_clock(settings, clock_id, now))
    for case_no, cycle, expected in fired.to_tell:  # after the ledger has the escalation
        try:
            send_once(
                settings,
                case_no,
                MessageKind.VERIFICATION_LATE,
                cycle,
                now,
                reason=VERIFICATION_LATE_REASON,
                expected_at=expected,
            )
        except (MailError, OSError) as exc:  # kept as failed in the case's messages
            log.warning("could not tell the customer of %s it takes longer: %s", case_no, exc)
    return fired


def _fire_clock(settings: Settings, clock_id: int, now: datetime) -> Fired:
    fired = Fired()
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        row = repo.clock_for_update(clock_id)
        if row is None or row.done_at is not None or row.next_alert_at is None:
            return fired  # taken by another watcher, or finished meanwhile
        if row.next_alert_at > now:
            return fired
        case = repo.by_id(row.case_id)
        audit = repo.audit(case.id)
        plan = clocks.plan_for(row, case, audit, settings)
        if plan is None:
            row.next_alert_at = None
            return fired
        climb = plan.climb(row.alert_level, now)
        called = on_clock(case.case_no, row.step, row.cycle, climb.levels)
        keys = raise_for_case(repo, settings, case, called, now, due_at=plan.due_at)
        fired.keys += keys
        fired.cases |= {case.case_no} if keys else set()
        if tells_customer(row.step, climb.levels):
            fired.to_tell.append((case.case_no, row.cycle, clocks.promised_handling(repo, case)))
        row.alert_level = climb.alert_level
        row.next_alert_at = climb.next_alert_at
    return fired


def detect_clusters(settings: Settings, now: datetime) -> Fired:
    """One alert per burst of similar complaints inside the window ending now."""
    policy = settings.patterns
    fired = Fired()
    with unit_of_work(settings.database_url) as session:
        repo = CaseRepository(session)
        since = now - policy.window
        # Only categories with at least K complaints in the window can hold a cluster.
        crowded = repo.crowded_categories(since, policy.cluster_size)
        if not crowded:
            return fired
        recent = repo.received_since(since, crowded)
        by_no = {c.case_no: c for c in recent}
        facts = [
            CaseFacts(c.case_no, c.received_at, c.category, c.product, c.order_no) for c in recent
        ]
        for cluster in find_clusters(facts, policy, now):
            # One alert per burst: none while an alert about the same kind is younger than
            # the window, however the burst grows or slides.
            if EscalationRepository(session).fired_since(cluster.family, since):
                continue
            members = [by_no[m.case_no] for m in cluster.members]
            alert = Alert(
                key=cluster.key,
                trigger=Trigger.CLUSTER,
                level=EVENT_LEVEL[Trigger.CLUSTER],
                fired_at=now,
                category=cluster.category,
                product=cluster.product,
                reason=(
                    f"{len(members)} 件同类投诉 / similar complaints within {policy.cluster_window}"
                ),
                members=[
                    ClusterMember(
                        case_no=c.case_no,
                        received_at=c.received_at,
                        run_url=run_url(settings, c.flow_run_id),
                    )
                    for c in members
                ],
            )
            if escalate(repo, settings, alert, members):
                fired.keys.append(cluster.key)
                fired.cases |= {c.case_no for c in members}
    return fired


@dataclass
class Watcher:
    """Successive passes of one watch run.

    Due alerts are looked up every pass (one indexed query). Clusters can only form when
    a case arrives or is graded, and every change to a case appends to the audit trail,
    so cluster detection runs only when the trail's high-water mark has moved.

    The customer's chases (催办) recorded since the last pass are reported too, so their
    cases' views in the Prefect UI are refreshed by the watch (tasks.deadlines): a chase
    comes in through the web service, which never waits on Prefect for it. The first pass
    of a run looks back `CHASE_LOOKBACK`, over the gap between two runs.
    """

    settings: Settings
    mark: int | None = None
    recorded: datetime | None = None  # when this run last recorded its pass

    def watch_once(self, now: datetime) -> Fired:
        if self.recorded is None or now - self.recorded >= PASS_RECORDED_EVERY:
            record_pass(self.settings, now)
            self.recorded = now
        fired = fire_due(self.settings, now)
        fired.keys += rectification.fire_due(self.settings, now)
        with unit_of_work(self.settings.database_url) as session:
            repo = CaseRepository(session)
            mark = repo.audit_mark()
            if mark != self.mark:
                fired.chased = set(repo.chased_cases(self.mark, now - CHASE_LOOKBACK))
        if mark != self.mark:
            self.mark = mark
            fired.add(detect_clusters(self.settings, now))
        return fired


PASS_RECORDED_EVERY = timedelta(seconds=30)


def record_pass(settings: Settings, now: datetime) -> timedelta | None:
    """Record that the watch keeps the timers now; after a gap in which a minute was missed
    (the worker or the server was down, the schedule stalled), tell the W channel once, so
    a watch that was down cannot go unnoticed. The gap, when there was one."""
    with unit_of_work(settings.database_url) as session:
        last = EscalationRepository(session).pass_watch(now)
        gap = watch_gap(last, now)
        if last is not None and gap is not None:
            log.warning("the deadline watch kept no timers for %s (since %s)", gap, last)
            notice = watch_gap_notice(last, now, settings.tz)
            queue(session, None, notice, Address("slack", settings.slack.channels["W"]), None, now)
        return gap


__all__ = ["Fired", "Watcher", "detect_clusters", "fire_due", "record_pass"]
