"""`complaints up`: the embedded default stack in one command.

Starts a Prefect server on SQLite (UI on 127.0.0.1:4200), migrates the ledger, creates
the process work pool, registers the deployments, starts a worker and the intake service
(API and customer pages on 127.0.0.1:4210) and, unless told not to, seeds demo cases at
every step. Ctrl-C stops everything it started.

With `--host` beyond loopback it first demands Prefect's basic auth
(`PREFECT_SERVER_API_AUTH_STRING`), which the stack then hands to each of its processes.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from complaints.settings import DEFAULT_VAR

PUBLIC_ADDRESSES = ("COMPLAINTS_UI_URL", "PREFECT_UI_API_URL")


def run_product(
    port: int = 4200, demo: bool = True, workers: int = 1, host: str = "127.0.0.1"
) -> None:
    from complaints.cli import CliError
    from complaints.orchestration.server import SERVER_AUTH, exposure_refusal
    from embedded.stack import Stack, deploy_product

    if refusal := exposure_refusal(host, os.environ.get(SERVER_AUTH)):
        raise CliError(refusal)

    # Ctrl-C and a service manager's SIGTERM both stop everything this command started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    from complaints.settings import get_settings

    home = Path(os.environ.get("PREFECT_HOME", DEFAULT_VAR / "prefect"))
    # Behind a TLS proxy the operator names the addresses a browser uses: the UI's, which
    # messages link to, and the API's, which the UI calls.
    public = {k: os.environ[k] for k in PUBLIC_ADDRESSES if k in os.environ}
    stack = Stack(
        home=home, port=port, host=host, web_port=get_settings().api_port, extra_env=public
    )
    os.environ.update(stack.env())  # this process talks to the server it starts
    get_settings.cache_clear()

    from models.db import upgrade

    settings = get_settings()
    stack.worker_limit, stack.worker_type = settings.worker_limit, settings.worker_type
    upgrade(settings.database_url)
    print(f"ledger: {settings.database_url}")
    print(f"starting the Prefect server on {stack.ui_url} (first start takes a while) ...")
    stack.start_server()
    try:
        deploy_product(stack, settings, workers, "complaints-worker")
        stack.start_web()
        print(f"Prefect UI: {stack.ui_url}   (logs in {stack.home})")
        if stack.auth_string:
            print(f"listening on {host}:{port}; the UI and the API ask for {SERVER_AUTH}")
        print(
            f"intake API and customer pages: {stack.web_url}   (API docs {stack.web_url}/docs; "
            f"links in messages point to {settings.public_url})"
        )
        print(
            f"work pool {settings.work_pool!r}: {workers} {settings.worker_type} worker(s), each running at "
            f"most {settings.worker_limit} flow runs at once (COMPLAINTS_WORKER_LIMIT)"
        )
        print(f"escalations: {_slack_status(settings)}")
        box = settings.mailbox
        print(
            f"mail intake: reading {box.folder} at {box.host}:{box.port} every minute"
            if box.host
            else "mail intake: off (set COMPLAINTS_MAILBOX__HOST to read a complaints mailbox)"
        )
        print(f"who may act: {_directory_status(settings)}")
        print(f"staff notices: {_notice_status(settings)}")
        if demo:
            threading.Thread(target=_seed_demo, args=(settings,), daemon=True).start()
        print("Ctrl-C stops the server and the workers.")
        while True:
            time.sleep(1)
            if stack.server is not None and stack.server.poll() is not None:
                raise SystemExit(f"the Prefect server stopped; see {stack.home}/server.log")
            if stack.web is not None and stack.web.poll() is not None:
                raise SystemExit(f"the intake service stopped; see {stack.home}/web.log")
    except KeyboardInterrupt:
        print("stopping ...")
    finally:
        stack.stop()


def _slack_status(settings: Any) -> str:
    from complaints.notifications.slack import UNCONFIGURED, SlackConfigError, slack_token

    try:
        token = slack_token(settings)
    except SlackConfigError as exc:
        return f"WARNING: {exc}"
    if token is None:
        return f"WARNING: {UNCONFIGURED}"
    channels = ", ".join(f"{level} {name}" for level, name in settings.slack.channels.items())
    return f"sent to Slack ({channels})"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _seed_demo(settings: object) -> None:
    from embedded.demo import populate

    try:
        cases = populate(settings)  # type: ignore[arg-type]
        print(f"demo: {len(cases)} cases, one waiting at each step: {', '.join(cases)}")
    except Exception as exc:  # the demo is a convenience; the product runs without it
        print(f"demo cases could not be seeded: {exc}")


def _notice_status(settings: Any) -> str:
    """Where departments hear of their cases and people of their turns; one warning naming
    the departments no notice can reach."""
    from rules.enums import Department

    nowhere = [d.value for d in Department if not settings.department_reachable(d)]
    if nowhere:
        return (
            f"WARNING: {', '.join(nowhere)} cannot be told of their cases: no Slack and no "
            "e-mail address (COMPLAINTS_SLACK__TOKEN, or COMPLAINTS_DEPARTMENTS with email_to "
            "and COMPLAINTS_SMTP_HOST)"
        )
    own = [
        f"{name} {contact.slack_channel}"
        for name, contact in settings.departments.items()
        if contact.slack_channel
    ]
    default = settings.slack.channels["W"] if settings.slack_configured else "e-mail"
    return f"forwarding and turns to {', '.join([*own, f'others {default}'])}"


def _directory_status(settings: Any) -> str:
    from complaints.cases import staff

    active = sum(person.active for person in staff.directory(settings).values())
    if active:
        return f"{active} people in the staff directory; every decision must name one of them"
    return (
        "WARNING: no staff directory: any name is accepted as the actor "
        "(complaints staff import examples/staff.toml puts one in force)"
    )
