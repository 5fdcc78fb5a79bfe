"""The `complaints` command.

    complaints up [--port 4200] [--no-demo]   run the product (server, deployments, worker);
                                              --host beyond 127.0.0.1 needs
                                              PREFECT_SERVER_API_AUTH_STRING
    complaints submit FILE|-                  register a complaint (JSON) and start its run
    complaints act CASE STEP --input FILE|-   give a waiting step its input (JSON)
    complaints show CASE [--raw]              one case: register, status, timeline, messages,
                                              deadlines and escalations (--raw: unmasked)
    complaints hold CASE --reason TEXT        the case waits on the customer: SLA clocks stop
    complaints release CASE --note TEXT       the customer answered: SLA clocks run again
    complaints escalations [--open]           escalations, newest first; --open: overdue cases
    complaints list [--status 处理中]          cases, newest first
    complaints report monthly [--period 2026-10]   an analysis (half_year: 2026-H1, annual: 2026);
                                              --partial: a period not over yet, so far
    complaints reconcile                      start runs never started, restart runs that died,
                                              alert on runs that failed
    complaints retry CASE                     start a case's failed run again, from the ledger
    complaints erase CASE --by NAME           erase a closed case's customer data (on request);
                                              --due: every case past the retention period
    complaints deploy                         register the deployments on a running server
    complaints key create NAME --channel app  an intake API key for a channel (shown once)
    complaints key list | revoke NAME         the keys, and taking one back
    complaints web [--port 4210]              the intake API and customer pages alone
    complaints db upgrade                     migrate the ledger's schema

Every command takes --json for scripts. Bad input ends with exit status 2 and one line on
stderr saying what is wrong; nothing is written.

One module for the whole command line on purpose: each command is a short function over
the services, and the parser at the end reads in the same order as `complaints --help`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def read_json(source: str) -> Any:
    """A JSON file (or stdin) in any encoding a Chinese office saves text in."""
    from rules.fields import decode

    try:
        if source != "-":
            data = Path(source).read_bytes()
        elif hasattr(sys.stdin, "buffer"):
            data = sys.stdin.buffer.read()
        else:  # a text stream handed in by a caller
            data = sys.stdin.read().encode("utf-8", "surrogatepass")
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}") from None
    try:
        text = decode(data)
    except ValueError as exc:
        raise CliError(f"cannot read {source}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"malformed JSON in {source}: {exc.msg} at line {exc.lineno}") from None


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


# -- commands ------------------------------------------------------------------------------
def cmd_submit(args: argparse.Namespace) -> None:
    from complaints.cases import casework, intake, staff
    from complaints.timesource import utc_now

    raw = read_json(args.file)
    settings = _settings(prefect=True)
    try:
        complaint = intake.accept(raw, settings, utc_now())
    except intake.ComplaintRefused as exc:
        raise CliError(str(exc)) from None
    _upgrade(settings)
    refused = staff.receiver_check(settings, complaint)  # registered by hand
    if refused is not None:
        raise CliError(f"invalid complaint: {refused}")
    try:
        result = intake.submit(complaint, settings, utc_now())
    except casework.IdempotencyConflict as exc:
        raise CliError(str(exc)) from None
    data = {
        "case_no": result.case_no,
        "created": result.created,
        "flow_run_id": result.flow_run_id,
        "start_error": result.start_error,
    }
    text = f"{result.case_no} {'registered' if result.created else 'already registered'}"
    if result.flow_run_id:
        text += f"; flow run {settings.ui_url}/runs/flow-run/{result.flow_run_id}"
    else:
        text += f"; its run starts at the next reconcile: {unreachable(settings, Exception(result.start_error or ''))}"
    emit(args, data, text)


def cmd_act(args: argparse.Namespace) -> None:
    from complaints.cases.actions import ActionRefused, act
    from complaints.reporting import rectification

    raw = read_json(args.input)
    if rectification.action_id(args.case) is not None:
        _rectified(args, raw)
        return
    try:
        acted = act(_settings(prefect=True), args.case, args.step, raw)
    except ActionRefused as exc:
        raise CliError(str(exc)) from None
    emit(args, acted.__dict__, f"{acted.case_no}: {acted.step} recorded; the case moves on")


def _rectified(args: argparse.Namespace, raw: Any) -> None:
    """`complaints act CA-00001 rectified --input done.json`: a department's report."""
    from complaints.reporting import rectification
    from complaints.timesource import utc_now
    from rules.inputs import describe_errors

    if args.step != "rectified":
        raise CliError(f"a corrective action takes the step 'rectified', not {args.step!r}")
    settings = _settings()
    _upgrade(settings)
    try:
        data = rectification.RectifiedInput.model_validate(raw)
    except ValidationError as exc:
        raise CliError(f"invalid input for rectified: {describe_errors(exc)}") from None
    try:
        action = rectification.report_done(settings, args.case, data, utc_now())
    except (rectification.ActionNotFound, rectification.ActionClosed) as exc:
        raise CliError(str(exc)) from None
    emit(
        args,
        {"action": args.case.upper(), "department": action.department, "status": action.status},
        f"{args.case.upper()} ({action.department}): rectification reported done",
    )


def cmd_show(args: argparse.Namespace) -> None:
    from complaints.cases import casefile

    settings = _settings()
    _readable(settings)
    try:
        file = casefile.read(settings, args.case)
    except LookupError:
        raise CliError(f"no case {args.case}") from None
    fields = casefile.case_fields(file.case, settings, raw=args.raw)
    fields["cycle"] = file.case.cycle
    fields["flow_run_id"] = file.case.flow_run_id
    due = casefile.current_due(file)
    fields["due_at"] = due.astimezone(settings.tz).isoformat() if due else None
    data: dict[str, Any] = {
        "case": fields,
        "timeline": casefile.timeline(file, settings, raw=args.raw),
        "clocks": casefile.clock_rows(file, settings),
        "escalations": casefile.escalation_rows(file, settings),
        "on_hold": casefile.on_hold(file),
        "messages": [
            {
                "kind": m.kind,
                "delivery": m.delivery,
                "status": m.status,
                "recipient": m.recipient if args.raw else casefile.mask_recipient(m.recipient),
            }
            for m in file.messages
        ],
    }
    if file.case.repeat_of:
        fields["repeat_of"] = file.case.repeat_of
    lines = [
        f"{fields['case_no']}  {fields['status']}  {fields['severity']}  "
        f"{fields['category'] or '待分类'}  step: {fields['current_step']}  due: {fields['due_at'] or '—'}",
        f"  {fields['customer_name']} {fields['customer_contact'] or ''} · {fields['channel']} · "
        f"{fields['demand']}",
        f"  {fields['description']}",
        "",
        *[
            f"  {t['at']}  {t['step']}  {t['actor']}  {t['decision']}  {t['summary']}"
            for t in data["timeline"]
        ],
    ]
    if file.case.repeat_of:
        lines.insert(1, f"  重复投诉 repeat of {file.case.repeat_of}")
    if data["on_hold"]:
        lines.insert(1, "  等待客户 waiting on the customer: SLA clocks stopped")
    if data["clocks"]:
        lines += ["", "  deadlines:"]
        lines += [
            f"  {c['clock']} (cycle {c['cycle']}): due {c['due'] or '—'}  level {c['level']}"
            + (f"  done {c['done']}" + ("" if c["on_time"] is not False else " (late)"))
            * bool(c["done"])
            for c in data["clocks"]
        ]
    if data["escalations"]:
        lines += ["", "  escalations:"]
        lines += [
            f"  {e['at']}  {e['level']}  {e['audience']}  {e['summary']}"
            for e in data["escalations"]
        ]
    if file.messages:
        lines += [
            "",
            *[f"  message {m['kind']}: {m['delivery']} {m['status']}" for m in data["messages"]],
        ]
    emit(args, data, "\n".join(lines))


def cmd_hold(args: argparse.Namespace) -> None:
    _hold_or_release(args, hold=True)


def cmd_release(args: argparse.Namespace) -> None:
    _hold_or_release(args, hold=False)


def _hold_or_release(args: argparse.Namespace, hold: bool) -> None:
    from complaints.cases import casework, staff
    from complaints.timesource import utc_now
    from rules.inputs import WaitOnCustomer, describe_errors
    from rules.steps import Step

    settings = _settings()
    _upgrade(settings)
    flag = "--reason" if hold else "--note"
    if not (args.reason if hold else args.note).strip():
        raise CliError("say why (--reason) or what the customer answered (--note)")
    try:
        request = WaitOnCustomer.model_validate(
            {
                "case_no": args.case,
                "waiting": hold,
                "note": args.reason if hold else args.note,
                "actor": args.actor,
            }
        )
    except ValidationError as exc:
        raise CliError(describe_errors(exc).replace("note:", f"{flag}:")) from None
    record = casework.hold if hold else casework.release
    now = utc_now()
    try:
        refused = staff.attempt(settings, request.case_no, Step.HOLD, request.actor, now)
        if refused is not None:
            raise CliError(f"{request.case_no}: {refused}")
        record(settings, request.case_no, now, request.actor, request.note)
    except casework.CaseNotFound:
        raise CliError(f"no case {request.case_no}") from None
    except casework.CaseStateError as exc:
        raise CliError(str(exc)) from None
    state = "waiting on the customer; SLA clocks stopped" if hold else "SLA clocks running again"
    emit(args, {"case_no": request.case_no, "on_hold": hold}, f"{request.case_no}: {state}")


def cmd_escalations(args: argparse.Namespace) -> None:
    from complaints.cases import casefile

    settings = _settings()
    _readable(settings)
    rows = casefile.escalation_list(settings, overdue_only=args.open, limit=args.limit)
    text = "\n".join(f"{r['at']}  {r['level']:<7} {r['cases']:<18} {r['summary']}" for r in rows)
    emit(args, rows, text or ("no overdue cases" if args.open else "no escalations"))


def cmd_todo(args: argparse.Namespace) -> None:
    from complaints.cases import worklist
    from complaints.timesource import utc_now

    settings = _settings()
    _readable(settings)
    try:
        items = worklist.todo(settings, args.person, args.department, args.role)
    except worklist.UnknownWho as exc:
        raise CliError(str(exc)) from None
    now = utc_now()
    rows = [item.row(now, settings.tz) for item in items]
    lines = [
        f"{r['case_no']}  {r['step_label']:<22} {r['severity']:<3} "
        f"{r['department'] or '—':<5} 截止 due {r['due_at'] or '—'}  "
        f"{_left(r['left_minutes'])}  已等 waited {_span(r['waited_minutes'])}"
        for r in rows
    ]
    emit(args, rows, "\n".join(lines) or "nothing waits: 没有待办 / no work waiting")


def _left(minutes: Any) -> str:
    if minutes is None:
        return "无期限 / no deadline"
    if minutes < 0:
        return f"已逾期 overdue {_span(-minutes)}"
    return f"剩 left {_span(minutes)}"


def _span(minutes: Any) -> str:
    if minutes is None:
        return "—"
    days, rest = divmod(int(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours}h{mins:02d}m"


def cmd_list(args: argparse.Namespace) -> None:
    from complaints.cases import supervision
    from complaints.cases.casefile import masker
    from models.db import unit_of_work
    from models.repositories import CaseRepository
    from rules.enums import CaseStatus

    settings = _settings()
    _readable(settings)
    try:
        status = CaseStatus(args.status) if args.status else None
    except ValueError:
        choices = ", ".join(f"{s.value} ({s.code})" for s in CaseStatus)
        raise CliError(f"unknown status {args.status!r}; choose one of {choices}") from None
    with unit_of_work(settings.database_url) as session:
        cases = CaseRepository(session).list(status, limit=args.limit)
        run_ids = [c.flow_run_id for c in cases]
        rows: list[dict[str, Any]] = [
            {
                "case_no": c.case_no,
                "status": c.status.value,
                "step": c.current_step,
                "severity": c.severity.value,
                "category": c.category.value if c.category else None,
                "received_at": c.received_at.astimezone(settings.tz).isoformat(),
                "description": masker(c)(c.description),
            }
            for c in cases
        ]
    states = _run_states(settings, run_ids)
    for row, run_id in zip(rows, run_ids, strict=True):
        row["run"] = states.get(run_id or "", "—" if run_id else "not started")
    text = "\n".join(
        f"{r['case_no']}  {r['status']}  {r['step']:<14} {r['severity']}  "
        f"{r['category'] or '待分类'}  {r['description'][:24]}"
        + (
            "  ⚠ 运行失败 run failed: complaints retry " + r["case_no"]
            if r["run"] in supervision.RETRYABLE_TYPES
            else ""
        )
        for r in rows
    )
    if states == {} and any(run_ids):
        text += "\n(run states unknown: Prefect is not reachable)"
    emit(args, rows, text or "no cases")


def _run_states(settings: Any, run_ids: list[str | None]) -> dict[str, str]:
    """Each run's state from Prefect; empty when Prefect cannot be reached."""
    from complaints.cases import supervision

    runs = {run_id: run_id for run_id in run_ids if run_id}
    if not runs:
        return {}
    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    find_server(settings)
    # A listing is a glance: no retries, a short wait; the ledger's rows stand without it.
    quick = {PREFECT_CLIENT_MAX_RETRIES: 0, PREFECT_API_REQUEST_TIMEOUT: 5}
    try:
        with temporary_settings(updates=quick):
            return {s.flow_run_id: s.state_type for s in supervision.run_statuses(runs)}
    except Exception:
        return {}


def cmd_report(args: argparse.Namespace) -> None:
    from complaints.notifications import slack
    from complaints.reporting import rectification, reports
    from complaints.timesource import utc_now

    settings = _settings()
    _upgrade(settings)
    now = utc_now()
    try:
        period = reports.period_of(args.kind, args.period, now, settings, args.partial)
        report = reports.build(settings, period, now, args.partial, args.department)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    saved = reports.save(settings, report)
    # A period not over yet gives no rectification notice: its problems are not final;
    # a department's summary gives none either (the consolidated report does).
    final = not args.partial and args.department is None
    issued = rectification.issue(settings, report.figures, now) if final else None
    refs = issued.refs if issued else []
    delivered = "not delivered (--no-deliver)"
    if not args.no_deliver and args.department:
        try:
            client = slack.slack_client(settings, warn=False)
            delivered = reports.deliver_to_department(settings, client, report, saved)
        except Exception as exc:
            delivered = f"NOT delivered ({exc}); the files are saved, run again to send"
    elif not args.no_deliver:
        client = slack.slack_client(settings, warn=False)
        if client is None:
            delivered = "not delivered: Slack is not configured"
        else:
            try:
                delivered = "posted to " + reports.deliver_to_slack(settings, client, report, saved)
            except Exception as exc:
                delivered = f"NOT delivered ({exc}); the files are saved, run again to send"
        try:
            mailed = reports.deliver_by_email(settings, report, saved)
            if mailed:
                delivered += "; e-mailed to " + ", ".join(mailed)
        except Exception as exc:
            delivered += f"; NOT e-mailed ({exc})"
    data = {
        "kind": period.kind.value,
        "period": str(period),
        "volume": report.figures.volume,
        "html": str(saved.html),
        "csv": str(saved.csv),
        "markdown": str(saved.markdown),
        "delivery": delivered,
        "corrective_actions": refs,
    }
    text = "\n".join(
        [reports.headline(report.figures), f"saved: {saved.html}", f"       {saved.csv}", delivered]
        + ([f"corrective actions: {', '.join(refs)}"] if refs else [])
    )
    emit(args, data, text)
    if "NOT " in delivered:  # saved, but not where it was meant to go: a failure to script on
        raise CliError("the report is saved but NOT delivered (above)", EXIT_FAILED)


def cmd_reconcile(args: argparse.Namespace) -> None:
    from complaints.cases import intake, supervision
    from complaints.timesource import utc_now

    settings = _settings(prefect=True)
    _upgrade(settings)
    try:
        started = intake.reconcile(settings, args.limit)
        restarted = supervision.restart_stalled(settings, utc_now())
        failed = supervision.report_failed(settings, utc_now())
    except Exception as exc:
        raise CliError(unreachable(settings, exc), EXIT_FAILED) from None
    text = f"started {len(started)} case run(s); restarted {len(restarted)} stalled run(s)"
    if failed:
        text += (
            f"; {len(failed)} failed run(s) alerted ({', '.join(failed)}): complaints retry CASE"
        )
    emit(args, {"started": started, "restarted": restarted, "failed": failed}, text)


def cmd_retry(args: argparse.Namespace) -> None:
    from complaints.cases import supervision

    settings = _settings(prefect=True)
    _upgrade(settings)
    try:
        run_id = supervision.retry(settings, args.case)
    except supervision.NotRetryable as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:
        raise CliError(unreachable(settings, exc), EXIT_FAILED) from None
    emit(
        args,
        {"case_no": args.case, "flow_run_id": run_id},
        f"{args.case}: its run starts again from the ledger and waits where the case waits",
    )


def cmd_erase(args: argparse.Namespace) -> None:
    from complaints.cases import casework, retention
    from complaints.timesource import utc_now
    from rules.retention import RETENTION_ACTOR, Reason

    if (args.case is None) != args.due:
        raise CliError("name one closed case (erase CASE --by NAME), or --due for the retention")
    if args.case is not None and args.by is None:
        raise CliError("say who erases it and on whose request: --by NAME")
    settings = _settings(prefect=True)
    _upgrade(settings)
    if args.due:
        done = retention.erase_due(settings, utc_now(), args.by or RETENTION_ACTOR)
        lines = [erasure.describe() for erasure in done.erased] + done.failed
        data = {"erased": [e.__dict__ for e in done.erased], "failed": done.failed}
        emit(args, data, "\n".join(lines) or "no case is past the retention period")
        if done.failed:
            raise CliError(f"{len(done.failed)} case(s) NOT erased (above)", EXIT_FAILED)
        return
    try:
        erasure = retention.erase(settings, args.case, args.by, Reason.REQUEST, utc_now())
    except casework.CaseNotFound:
        raise CliError(f"no case {args.case}") from None
    except retention.NotErasable as exc:
        raise CliError(str(exc)) from None
    emit(args, erasure.__dict__, erasure.describe())


def cmd_deploy(args: argparse.Namespace) -> None:
    from deployments.definitions import deploy_all, ensure_work_pool

    settings = _settings(prefect=True)
    ensure_work_pool(settings.work_pool, settings.worker_type)
    ids = deploy_all(
        settings.work_pool,
        settings.timezone,
        settings.report_crons,
        mailbox=bool(settings.mailbox.host),
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    emit(args, [str(i) for i in ids], f"registered {len(ids)} deployments on {settings.work_pool}")


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    settings = _settings()
    _upgrade(settings)
    emit(args, {"database": _safe_url(settings.database_url)}, "ledger schema is up to date")


def cmd_key(args: argparse.Namespace) -> None:
    from complaints.channels import keys
    from complaints.timesource import utc_now

    settings = _ledger(reading=args.key_command == "list")
    try:
        if args.key_command == "create":
            channel = keys.parse_channel(args.channel)
            key = keys.create(settings, args.name, channel, utc_now())
            emit(
                args,
                {"name": args.name.strip(), "channel": channel.code, "key": key},
                f"{key}\n(key {args.name.strip()!r} for {channel.code}; shown only now: keep it "
                "in the channel's secret store)",
            )
        elif args.key_command == "revoke":
            info = keys.revoke(settings, args.name, utc_now())
            emit(args, _key_row(info), f"key {info.name!r} revoked")
        else:
            rows = [_key_row(info) for info in keys.listing(settings)]
            lines = [
                f"{r['name']:<24} {r['channel']:<14} {r['prefix']}…  "
                + (f"revoked {r['revoked_at']}" if r["revoked_at"] else "active")
                for r in rows
            ]
            emit(args, rows, "\n".join(lines) or "no keys yet")
    except keys.KeyRefused as exc:
        raise CliError(str(exc)) from None


def cmd_staff(args: argparse.Namespace) -> None:
    from complaints.cases import staff
    from complaints.timesource import utc_now

    settings = _ledger(reading=args.staff_command == "list")
    try:
        if args.staff_command == "import":
            people = staff.read_file(args.file)
            added, updated = staff.save(settings, people, utc_now())
            emit(
                args,
                {"added": added, "updated": updated, "people": len(people)},
                f"{len(people)} people read: {added} added, {updated} updated",
            )
        elif args.staff_command == "add":
            person = staff.parse_person(
                {
                    "name": args.name,
                    "department": args.department,
                    "roles": args.roles,
                    "slack_id": args.slack_id,
                    "email": args.email,
                    "mobile": args.mobile,
                }
            )
            added, _ = staff.save(settings, [person], utc_now())
            emit(
                args, _person_row(person), f"{'added' if added else 'updated'}: {person.describe()}"
            )
        elif args.staff_command == "deactivate":
            person = staff.deactivate(settings, args.name, utc_now())
            emit(args, _person_row(person), f"{person.name} may act no more (kept in history)")
        elif args.staff_command == "reshow":
            _reshow_forms(settings, quiet=False)
            return
        else:
            people = list(staff.directory(settings).values())
            lines = [f"{p.describe()}{'' if p.active else '  [停用 / inactive]'}" for p in people]
            emit(
                args,
                [_person_row(p) for p in people],
                "\n".join(lines) or "no staff directory yet: anyone may act (see README)",
            )
    except staff.StaffRefused as exc:
        raise CliError(str(exc)) from None
    if args.staff_command != "list":
        _reshow_forms(settings, quiet=True)


def _reshow_forms(settings: Any, quiet: bool) -> None:
    """The forms of waiting cases offer the directory as it is now (on stderr: the
    command's own output stays what --json promises)."""
    from complaints.orchestration.forms import reshow_waiting

    url = find_server(settings)
    done = reshow_waiting(settings)
    if done.changed or not quiet:
        print(
            f"{done.changed} of {done.waiting} waiting forms now offer the directory as it is",
            file=sys.stderr,
        )
    if done.failed:
        raise CliError(
            f"the directory is saved, but {len(done.failed)} waiting forms still offer the "
            f"old one (Prefect at {url}: {done.failed[0]}); run `complaints staff reshow` "
            "when it is reachable — `complaints act` shows its case's form again itself"
        )


def _person_row(person: Any) -> dict[str, Any]:
    return {
        "name": person.name,
        "department": person.department.value,
        "roles": sorted(role.code for role in person.roles),
        "active": person.active,
        "slack_id": person.slack_id,
        "email": person.email,
        "mobile": person.mobile,
    }


def _key_row(info: Any) -> dict[str, Any]:
    return {
        "name": info.name,
        "channel": info.channel.code,
        "prefix": info.prefix,
        "created_at": info.created_at.isoformat(),
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
    }


def cmd_web(args: argparse.Namespace) -> None:
    from complaints.channels.web import serve

    settings = _settings(prefect=True)
    _upgrade(settings)
    serve(settings, args.host, args.port)


def cmd_up(args: argparse.Namespace) -> None:
    from embedded.up import run_product

    run_product(port=args.port, demo=not args.no_demo, workers=args.workers, host=args.host)


# -- plumbing -------------------------------------------------------------------------------
def _settings(prefect: bool = False) -> Any:
    """The product's settings; with `prefect`, Prefect pointed at the product's server."""
    from complaints.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    if prefect:
        find_server(settings)
    return settings


def find_server(settings: Any) -> str:
    """The Prefect API this command talks to: PREFECT_API_URL (or the Prefect profile's) if
    set, else the product's own server at COMPLAINTS_UI_URL — never a temporary server of
    Prefect's own, which would hold none of the product's runs."""
    import os

    from prefect.context import refresh_global_settings_context
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        url = settings.ui_url.rstrip("/") + "/api"
        os.environ["PREFECT_API_URL"] = url
        refresh_global_settings_context()
    return str(url)


def unreachable(settings: Any, exc: Exception) -> str:
    from prefect.settings import get_current_settings

    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    return (
        f"no Prefect server answers at {get_current_settings().api.url} ({reason}); start the "
        "product (make run) or point PREFECT_API_URL at its server"
    )


def _ledger(reading: bool) -> Any:
    """The settings, with the ledger checked for a read (which never migrates) or
    migrated for a write."""
    settings = _settings()
    if reading:
        _readable(settings)
    else:
        _upgrade(settings)
    return settings


def _upgrade(settings: Any) -> None:
    from models.db import upgrade

    upgrade(settings.database_url)


def _readable(settings: Any) -> None:
    """Reads never migrate: a ledger not at the newest schema is reported, not upgraded."""
    from models.db import NotMigrated, check_current

    try:
        check_current(settings.database_url)
    except NotMigrated as exc:
        raise CliError(str(exc)) from None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def case_arg(text: str) -> str:
    """A case number as typed: any case, surrounding spaces ignored; anything else is
    refused here, before a control character could reach a message or the terminal."""
    from rules.case_number import is_case_number, normalize

    number = str(normalize(text))
    if not (is_case_number(number) or re.fullmatch(r"CA-[0-9]{1,9}", number)):
        raise argparse.ArgumentTypeError(
            f"not a case number: {text[:40]!r} (TS-YYYYMMDD-NNNN, or CA-NNNNN for an action)"
        )
    return number


class Parser(argparse.ArgumentParser):
    """argparse with its errors in one line, as every other refusal of the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def actor_arg(text: str) -> str:
    """A person's name as typed: one line, 1-50 characters."""
    from rules.fields import single_line

    name = text.strip()
    if not 1 <= len(name) <= 50:
        raise argparse.ArgumentTypeError("a name of 1-50 characters")
    try:
        return single_line(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def limit_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be 1-1000, not {value}")
    return value


def period_arg(text: str) -> str:
    """A period as typed; blank is a mistake, not "the last one" (leave --period out)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty; leave --period out for the last complete one")
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="complaints", description="客户投诉处理 on Prefect")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], None], help_: str) -> Any:
        command = sub.add_parser(name, help=help_)
        command.add_argument("--json", action="store_true", help="machine-readable output")
        command.set_defaults(func=func)
        return command

    up = add("up", cmd_up, "run the product: Prefect server + UI, deployments, worker")
    up.add_argument(
        "--host",
        default="127.0.0.1",
        help="where the Prefect server listens; beyond loopback only with Prefect's basic auth "
        "(PREFECT_SERVER_API_AUTH_STRING)",
    )
    up.add_argument("--port", type=int, default=4200)
    up.add_argument("--workers", type=int, default=1)
    up.add_argument("--no-demo", action="store_true", help="start without demo cases")

    submit = add("submit", cmd_submit, "register a complaint from a JSON file (- for stdin)")
    submit.add_argument("file")

    act = add("act", cmd_act, "give a waiting step its input")
    act.add_argument("case", type=case_arg)
    act.add_argument("step")
    act.add_argument("--input", required=True, help="JSON file, or - for stdin")

    show = add("show", cmd_show, "show one case (customer data masked)")
    show.add_argument("case", type=case_arg)
    show.add_argument(
        "--raw", action="store_true", help="the record as registered: name, phone, e-mail unmasked"
    )

    for name, func, help_, flag in (
        ("hold", cmd_hold, "the case waits on the customer: SLA clocks stop", "--reason"),
        ("release", cmd_release, "the customer answered: SLA clocks run again", "--note"),
    ):
        command = add(name, func, help_)
        command.add_argument("case", type=case_arg)
        command.add_argument(flag, required=True)
        command.add_argument("--actor", default="客服", help="who records it")

    escalations = add("escalations", cmd_escalations, "escalations, newest first")
    escalations.add_argument(
        "--open", action="store_true", help="only open cases with an overdue clock"
    )
    escalations.add_argument("--limit", type=limit_arg, default=50)

    todo = add(
        "todo", cmd_todo, "what waits for a person, a department or a role, soonest due first"
    )
    who = todo.add_mutually_exclusive_group()
    who.add_argument("--person", help="a name of the staff directory")
    who.add_argument("--department", help="物流部, … (or its code: logistics, …)")
    who.add_argument("--role", help="handler, department_director, … (or 处理人员, …)")

    listing = add("list", cmd_list, "list cases")
    listing.add_argument(
        "--status", help="已登记 / 处理中 / 已关闭 (or registered, in_progress, closed)"
    )
    listing.add_argument("--limit", type=limit_arg, default=50)

    report = add("report", cmd_report, "compile an analysis report for a period")
    report.add_argument("kind", choices=["monthly", "half_year", "annual"])
    report.add_argument(
        "--period",
        type=period_arg,
        help="2026-10 (monthly), 2026-H1 (half_year), 2026 (annual); default: last",
    )
    report.add_argument("--no-deliver", action="store_true", help="save only, do not post")
    report.add_argument(
        "--department",
        help="one responsible department's own summary of its cases (物流部, …), sent to it",
    )
    report.add_argument(
        "--partial",
        action="store_true",
        help="a period not over yet: its figures so far, marked 截至 … / as of …",
    )

    retry = add("retry", cmd_retry, "start a case's failed run again (nothing recorded is lost)")
    retry.add_argument("case", type=case_arg)

    reconcile = add("reconcile", cmd_reconcile, "start runs never started; restart runs that died")
    reconcile.add_argument("--limit", type=limit_arg, default=100)

    erase = add("erase", cmd_erase, "erase a closed case's customer data; the figures stay")
    erase.add_argument("case", type=case_arg, nargs="?")
    erase.add_argument("--by", type=actor_arg, help="who erases it (kept in the audit trail)")
    erase.add_argument(
        "--due",
        action="store_true",
        help="every closed case past COMPLAINTS_RETENTION_DAYS, as the nightly run does",
    )

    add("deploy", cmd_deploy, "register the deployments on the Prefect server")

    key = add("key", cmd_key, "intake API keys, one or more per channel")
    key_sub = key.add_subparsers(dest="key_command", required=True)
    create = key_sub.add_parser("create", help="a new key for a channel, shown once")
    create.add_argument("name", help="who uses it, e.g. app-backend")
    create.add_argument("--channel", required=True, help="app, chat, email, hotline, …")
    revoke = key_sub.add_parser("revoke", help="take a key back: it stops working at once")
    revoke.add_argument("name")
    key_sub.add_parser("list", help="every key, active or revoked")
    for command in (create, revoke, key_sub.choices["list"]):
        command.add_argument("--json", action="store_true")
        command.set_defaults(func=cmd_key)

    staff = add("staff", cmd_staff, "the staff directory: who may act at which step")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    imported = staff_sub.add_parser(
        "import", help="add or update people from a TOML or CSV file (examples/staff.toml)"
    )
    imported.add_argument("file", type=Path)
    person = staff_sub.add_parser("add", help="add or update one person")
    person.add_argument("name")
    person.add_argument("--department", required=True, help="产品部, 客服部, 物流部, …")
    person.add_argument(
        "--roles",
        required=True,
        help="comma-separated: receiver, handler, department_director, "
        "operations_director, callback, leadership",
    )
    person.add_argument("--slack-id", help="their Slack member ID (U…): told of their work by DM")
    person.add_argument("--email", help="their e-mail: found in Slack by it, else e-mailed")
    person.add_argument("--mobile", help="their mainland mobile number")
    gone = staff_sub.add_parser("deactivate", help="a person who may act no more (kept in history)")
    gone.add_argument("name")
    staff_sub.add_parser("list", help="everyone, active or not, with department and roles")
    staff_sub.add_parser(
        "reshow",
        help="the forms of waiting cases offer the directory as it is (done by each change)",
    )
    for command in staff_sub.choices.values():
        command.add_argument("--json", action="store_true")
        command.set_defaults(func=cmd_staff)

    web = add("web", cmd_web, "the intake API and the customer's pages (complaints up starts it)")
    web.add_argument("--host", help="default COMPLAINTS_API_HOST (127.0.0.1)")
    web.add_argument("--port", type=int, help="default COMPLAINTS_API_PORT (4210)")

    db = add("db", lambda a: None, "ledger schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade_cmd = db_sub.add_parser("upgrade", help="migrate the ledger to the newest schema")
    upgrade_cmd.add_argument("--json", action="store_true")
    upgrade_cmd.set_defaults(func=cmd_db_upgrade)
    return parser


def _is_text(argument: str) -> bool:
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    unreadable = next((n for n, a in enumerate(given, 1) if not _is_text(a)), None)
    if unreadable is not None:  # bytes the locale could not decode reach us as surrogates
        print(
            f"complaints: argument {unreadable} is not valid text (undecodable bytes); "
            "give it in UTF-8",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        args = build_parser().parse_args(given)
    except SystemExit as exc:  # --help, or arguments refused in one line
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        args.func(args)
        sys.stdout.flush()  # here, not at exit, so a reader that has gone is handled below
    except CliError as exc:
        print(f"complaints: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `complaints show … | head`: the reader has all it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
