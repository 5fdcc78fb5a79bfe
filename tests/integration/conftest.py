"""Real ledgers for the integration tier: a SQLite file and a fresh PostgreSQL database.

Every test that asks for `database_url` runs once per backend and starts from an empty,
migrated ledger. SQLite gets a new file per test. PostgreSQL gets one database per test
session, created from COMPLAINTS_TEST_POSTGRES_URL and dropped at the end; its tables are
emptied before each test. `models.db.engine_for` caches one engine per URL, so each
database has its own URL and its engine is disposed of before the database goes away.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from complaints.settings import PROJECT_ROOT, Settings, SlackSettings, SmsSettings, get_settings
from models.db import engine_for, upgrade
from models.ledger import Base
from rules.routing import DEFAULT_ROUTING
from rules.sla import SlaPolicy
from tests.conftest import migrated_sqlite, postgres_url
from tests.integration.cli_support import UNREACHABLE_PREFECT, Result, invoke
from tests.integration.slack_server import FakeSlack, slack_server
from tests.integration.smtp_server import Inbox, smtp_server


def _libpq(url: sa.URL) -> str:
    """The SQLAlchemy URL as a libpq connection string for psycopg."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test session, migrated to the newest schema."""
    import psycopg
    from psycopg import sql

    admin_url = postgres_url()
    if not admin_url:
        pytest.skip("COMPLAINTS_TEST_POSTGRES_URL is not set; no PostgreSQL to test against")
    admin = make_url(admin_url)
    try:
        admin_conn = psycopg.connect(_libpq(admin), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())
        pytest.skip(f"PostgreSQL at {admin.host}:{admin.port or 5432} is unreachable: {reason}")
    name = f"complaints_test_{secrets.token_hex(4)}"
    url = admin.set(database=name).render_as_string(hide_password=False)
    with admin_conn:
        admin_conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            upgrade(url)
            yield url
        finally:
            engine_for(url).dispose()
            admin_conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _empty(url: str) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine_for(url).begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger at the newest schema, on each backend."""
    if request.param == "sqlite":
        url = migrated_sqlite(tmp_path / "ledger.db")
        try:
            yield url
        finally:
            engine_for(url).dispose()
    else:
        url = request.getfixturevalue("postgres_database")
        _empty(url)
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings built here, not read from COMPLAINTS_* variables or a .env file."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        timezone="Asia/Shanghai",
        company_name="客户服务中心",
        sla=SlaPolicy(),
        routing=dict(DEFAULT_ROUTING),
        smtp_host=None,
        smtp_port=25,
        smtp_user=None,
        smtp_password=None,
        smtp_from="客户服务中心 <complaints@example.com>",
        smtp_starttls=False,
        smtp_timeout_seconds=5,
        templates_dir=PROJECT_ROOT / "templates",
        link_secret=None,  # the ledger's own key, not one an end-to-end stack left in the env
        slack=SlackSettings(),  # nor its Slack, SMS or departments: each test sets its own
        sms=SmsSettings(),
        departments={},
    )


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server and the port it listens on."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def slack_api() -> Iterator[FakeSlack]:
    """A local Slack Web API; point `SlackSettings.base_url` at its `.base_url`."""
    with slack_server() as server:
        yield server


# -- the command line in-process (test_cli*.py) ------------------------------------------
@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """COMPLAINTS_DATABASE_URL at a fresh, migrated SQLite file (as `make run` leaves it) and
    PREFECT_API_URL at a closed port."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_"):
            monkeypatch.delenv(name)
    url = migrated_sqlite(tmp_path / "ledger.db")
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", url)
    monkeypatch.setenv("PREFECT_API_URL", UNREACHABLE_PREFECT)
    monkeypatch.chdir(tmp_path)  # no .env file from the working directory
    get_settings.cache_clear()
    # Prefect reads its settings once, at import: change them in its own context too.
    with temporary_settings(updates={PREFECT_API_URL: UNREACHABLE_PREFECT}):
        yield url
    get_settings.cache_clear()
    engine_for(url).dispose()


@pytest.fixture
def write(tmp_path: Path) -> Any:
    """Writes a command's input file (JSON, or text as given) and returns its path."""

    def write(data: Any, name: str = "input.json") -> str:
        path = tmp_path / name
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], ledger: str) -> Any:
    def run(*argv: str) -> Result:
        return invoke(capsys, *argv)

    return run
