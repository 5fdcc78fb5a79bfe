"""Engines, the unit of work and schema migrations.

Repositories flush; only the unit of work commits. One unit of work per task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@cache
def engine_for(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's own locking begins a transaction lazily; take the write lock up front so
        # two writers wait for each other instead of failing on upgrade to a write lock.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


@cache
def _sessions(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def unit_of_work(url: str) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any exception."""
    session = _sessions(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def transaction(url: str, session: Session | None = None) -> Iterator[Session]:
    """The caller's unit of work when one is passed in, else a new one: a service called on
    its own commits, and called inside a larger use case it joins that one transaction."""
    if session is not None:
        yield session
        return
    with unit_of_work(url) as own:
        yield own


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class NotMigrated(Exception):
    """The ledger is missing or its schema is not the newest; the message says what to run."""


def check_current(url: str) -> None:
    """Raise NotMigrated unless the ledger exists at the newest schema. Reads call this
    instead of `upgrade`: reading never writes, not even a migration or a new file."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    fix = "run `complaints db upgrade` (or start the product, which migrates it)"
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            raise NotMigrated(f"there is no ledger at {path} yet: {fix}")
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine_for(url).connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        found = f"schema {current}" if current else "no schema"
        raise NotMigrated(f"the ledger has {found}, the product needs {head}: {fix}")


def upgrade(url: str) -> None:
    """Bring the ledger's schema to the newest migration (creates the database file)."""
    engine = engine_for(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
