"""A long day: 1,000 complaints driven to closing, every path mixed, on the production topology.

Complaints arrive one after another (a fixed number in play; each that closes lets the
next in) and a desk of operators acts on whatever waits, as in `throughput`. Each case
follows one path, drawn at random: the happy one; not substantiated (explained, then the
callback); grading rejected once; plan rejected once; a progress entry before done; the
customer rejecting the result once (reopened: a second plan cycle, escalated to L3 on
rejection). Complaints answered on the spot go straight to the callback. Customer e-mails
go to a local SMTP server and escalations to a local Slack API, so what left the product
can be counted against what the ledger says it sent.

Goal: 0 lost (every complaint closed), 0 duplicated messages (no e-mail or Slack post
twice), stack RSS when the last 100 close ≤ 1.2 × when the first 100 had closed.

    .venv/bin/python -m benchmarks.soak --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m benchmarks.soak --cases 60 --in-play 20      # a short one, on SQLite
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter
from typing import Any

from benchmarks import common
from benchmarks.common import Bench, Ledger, Timer, log
from benchmarks.throughput import Desk, Item, cases_ready

NAME = "soak"
RSS_GOAL = 1.2
PATHS = {
    "happy": 40,
    "unsubstantiated": 15,
    "regrade": 10,
    "replan": 10,
    "progress": 10,
    "reopen": 15,
}


def decide(item: Item, step: str) -> dict[str, Any]:
    """The input for `step` on this case's path; counts the times it was acted on."""
    times = item.acted.get(step, 0)
    item.acted[step] = times + 1
    data = dict(item.inputs[step])
    first = times == 0
    if item.path == "unsubstantiated" and step == "verify":
        data.update(substantiated=False, explanation_to_customer="经核实，订单按约定履行。")
    elif item.path == "regrade" and step == "approve_grade" and first:
        data.update(approved=False, reason="影响范围需重新评估。")
    elif item.path == "replan" and step == "approve_plan" and first:
        data.update(approved=False, reason="补偿方案不足，请调整。")
    elif item.path == "progress" and step == "execute" and first:
        data.update(kind="progress", note="已联系客户，正在安排。")
    elif item.path == "reopen" and step == "callback" and first:
        data.update(accepts_result=False, resolution=2, comment="还是没解决。")
    return data


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--in-play", type=int, default=40, help="cases open at once")
    parser.add_argument("--operators", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", help="admin URL: Prefect server and ledger on PostgreSQL")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--hours", type=float, default=6, help="give up after this long")
    parser.add_argument("--name", help="result file name (default: soak[-pg])")
    args = parser.parse_args(argv)
    name = args.name or (f"{NAME}-pg" if args.postgres else NAME)

    from tests.integration.slack_server import slack_server
    from tests.integration.smtp_server import smtp_server

    total = Timer()
    with slack_server() as slack, smtp_server() as (inbox, smtp_port):
        env = {
            "COMPLAINTS_SLACK__TOKEN": slack.token,
            "COMPLAINTS_SLACK__BASE_URL": slack.base_url,
            "COMPLAINTS_SMTP_HOST": "127.0.0.1",
            "COMPLAINTS_SMTP_PORT": str(smtp_port),
        }
        with common.product_stack(
            name, workers=args.workers, extra_env=env, postgres=args.postgres
        ) as bench:
            common.wait_worker_polling(bench)
            result = soak(bench, args)
            result["delivered"] = delivered(bench, inbox, slack)
    result.update(
        cases=args.cases,
        in_play=args.in_play,
        operators=args.operators,
        workers=args.workers,
        topology="postgresql" if args.postgres else "sqlite",
        total_seconds=round(total.elapsed, 1),
    )
    result["goal_met"] = (
        result["closed"] == args.cases
        and result["lost"] == 0
        and result["delivered"]["duplicated_emails"] == 0
        and result["delivered"]["duplicated_slack_posts"] == 0
        and (result["rss_ratio_last_to_first_100"] or 99) <= RSS_GOAL
    )
    common.write_result(name, result)
    report(result)
    return result


def soak(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    from complaints.cases import intake
    from complaints.cases.actions import act
    from complaints.timesource import utc_now
    from embedded.synthetic import decisions_for, generate_complaints

    rng = random.Random(args.seed)
    complaints = generate_complaints(args.cases, seed=args.seed, now=utc_now())
    tag = f"S{int(time.time())}"
    queue = iter(enumerate(complaints))
    lock = threading.Lock()
    ledger = Ledger(bench.settings.database_url)
    paths: Counter[str] = Counter()
    submitted: list[Item] = []
    errors: list[str] = []

    def submit() -> Item | None:
        with lock:
            following = next(queue, None)
        if following is None:
            return None
        index, complaint = following
        complaint = complaint.model_copy(update={"external_ref": f"SOAK-{tag}-{index:05d}"})
        try:
            done = intake.submit(complaint, bench.settings, utc_now())
        except Exception as exc:
            errors.append(f"submit {index}: {exc}"[:300])
            return None
        path = (
            "on_spot"
            if complaint.answered_on_spot
            else rng.choices(list(PATHS), list(PATHS.values()))[0]
        )
        item = Item(
            done.case_no,
            done.flow_run_id or "",
            inputs=decisions_for(complaint, seed=args.seed, now=utc_now()),
            path=path,
        )
        with lock:
            paths[path] += 1
            submitted.append(item)
        if not done.flow_run_id:
            errors.append(f"{done.case_no}: no run ({done.start_error})"[:300])
        return item

    def ready(items: list[Item]) -> list[tuple[Item, str | None, str | None]]:
        return cases_ready(ledger, [i for i in items if i.run_id])

    def operate(item: Item) -> None:
        step = item.step or ""
        act(bench.settings, item.key, step, decide(item, step))

    first_items = [i for i in (submit() for _ in range(args.in_play)) if i is not None]
    desk = Desk(args.operators, ready, operate, lambda _: submit())
    rss: dict[str, int] = {}
    stop = threading.Event()

    def closed_count() -> int:
        return sum(1 for i in submitted if i.closed)

    def watch_memory() -> None:
        logged = 0
        while not stop.wait(2):
            closed = closed_count()
            if args.cases < 200:  # no separate first and last hundred to compare
                pass
            elif closed >= 100 and "first_100" not in rss:
                rss["first_100"] = common.snapshot(bench.roots, pss=False).rss
            elif closed >= args.cases - 100 and "last_100" not in rss:
                rss["last_100"] = common.snapshot(bench.roots, pss=False).rss
            if closed >= logged + 50:
                logged = closed - closed % 50
                log(f"{closed}/{args.cases} closed; {len(desk.tally.errors)} errors")

    sampler = threading.Thread(target=watch_memory, daemon=True)
    sampler.start()
    tally = desk.run(first_items, args.hours * 60, until=lambda: closed_count() >= args.cases)
    stop.set()
    sampler.join()
    rss["at_end"] = common.snapshot(bench.roots, pss=False).rss
    open_items = [i for i in submitted if not i.closed and i.run_id]
    states = common.run_states([i.run_id for i in open_items])
    alive = {"PAUSED", "SCHEDULED", "PENDING", "RUNNING"}
    # Still moving when the time ran out (waiting for a person, or between steps) is not lost;
    # a case with no run, or a run that failed or crashed, is.
    unfinished = sum(1 for i in open_items if states.get(i.run_id, ("NONE", None))[0] in alive)
    ledger.close()
    seconds = [s for _, s in tally.done]
    lost = len(submitted) - closed_count() - unfinished
    first, last = rss.get("first_100"), rss.get("last_100")
    return {
        "closed": closed_count(),
        "lost": lost,
        "unfinished_when_time_ran_out": unfinished,
        "never_let_in": args.cases - len(submitted),
        "paths": dict(paths),
        "steps": len(seconds),
        "steps_per_minute": round(len(seconds) / max((tally.ends - tally.started) / 60, 1e-9), 1),
        "resume_to_next_wait_p50_seconds": round(common.percentile(seconds, 50), 2),
        "resume_to_next_wait_p95_seconds": round(common.percentile(seconds, 95), 2),
        "errors": len(tally.errors) + len(errors),
        "first_errors": (errors + tally.errors)[:5],
        "rss_first_100_bytes": first,
        "rss_last_100_bytes": last,
        "rss_ratio_last_to_first_100": round(last / first, 3) if first and last else None,
        "rss_at_end_bytes": rss["at_end"],
        "rss_ratio_end_to_first_100": round(rss["at_end"] / first, 3) if first else None,
    }


def delivered(bench: Bench, inbox: Any, slack: Any) -> dict[str, int]:
    """What left the product against what the ledger says it sent."""
    import sqlalchemy as sa

    from models.ledger import CustomerMessage, SlackOutbox

    engine = sa.create_engine(bench.settings.database_url)
    try:
        with engine.connect() as connection:
            emails = connection.execute(
                sa.select(sa.func.count())
                .select_from(CustomerMessage)
                .where(CustomerMessage.delivery == "email", CustomerMessage.status == "sent")
            ).scalar_one()
            posts = connection.execute(
                sa.select(sa.func.count())
                .select_from(SlackOutbox)
                .where(SlackOutbox.status == "sent")
            ).scalar_one()
    finally:
        engine.dispose()
    outbox_ids = Counter(
        (m.metadata or {}).get("event_payload", {}).get("outbox_id") for m in slack.messages
    )
    return {
        "emails_in_ledger": emails,
        "emails_received": len(inbox.envelopes),
        "duplicated_emails": max(0, len(inbox.envelopes) - emails),
        "slack_posts_in_ledger": posts,
        "slack_posts_received": len(slack.messages),
        "duplicated_slack_posts": sum(n - 1 for n in outbox_ids.values() if n > 1),
    }


def report(r: dict[str, Any]) -> None:
    d = r["delivered"]
    ok = "met" if r["goal_met"] else "NOT met"
    print(
        f"\n{NAME}: {r['cases']} complaints, {r['in_play']} in play, {r['operators']} operators, "
        f"{r['workers']} worker(s) on {r['topology']} — {r['total_seconds']:.0f}s"
    )
    print(f"  paths: {r['paths']}")
    print(
        f"  closed {r['closed']}, unfinished when time ran out "
        f"{r['unfinished_when_time_ran_out']} (+{r['never_let_in']} never let in), "
        f"lost {r['lost']}, errors {r['errors']}; {r['steps']} steps "
        f"({r['steps_per_minute']}/min), resume → next wait p50 "
        f"{r['resume_to_next_wait_p50_seconds']}s p95 {r['resume_to_next_wait_p95_seconds']}s"
    )
    print(
        f"  e-mails: ledger {d['emails_in_ledger']}, received {d['emails_received']}, "
        f"duplicated {d['duplicated_emails']}; Slack: ledger {d['slack_posts_in_ledger']}, "
        f"received {d['slack_posts_received']}, duplicated {d['duplicated_slack_posts']}"
    )
    print(
        f"  stack RSS: first 100 closed {common.mb(r['rss_first_100_bytes'])}, last 100 "
        f"{common.mb(r['rss_last_100_bytes'])}: ×{r['rss_ratio_last_to_first_100']} (goal ≤ {RSS_GOAL}); "
        f"at the end {common.mb(r['rss_at_end_bytes'])}: ×{r['rss_ratio_end_to_first_100']}; goal {ok}"
    )


if __name__ == "__main__":
    main()
