"""Each case's one-way customer key, and the installation key it is made with, so that a
customer's contact can be erased without changing the figures that count customers.

The key is an HMAC of the phone (else the e-mail) under a random key made here and kept in
`product_secrets` (rules.retention); existing cases get theirs now, by the same rule
registration uses. A downgrade drops the column but keeps the installation key: the keys
of erased cases could not be made again under a new one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 09:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rules.retention import KEY_SECRET, customer_key

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000

product_secrets = sa.table(
    "product_secrets",
    sa.column("name", sa.String),
    sa.column("value", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
cases = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("customer_phone", sa.String),
    sa.column("customer_email", sa.String),
    sa.column("customer_key", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_customer_key"), ["customer_key"], unique=False)
    connection = op.get_bind()
    secret = _installation_key(connection)
    _backfill(connection, secret)


def _installation_key(connection: sa.Connection) -> bytes:
    """The installation's key: the one kept from an earlier upgrade, else a new one."""
    found = connection.scalar(
        sa.select(product_secrets.c.value).where(product_secrets.c.name == KEY_SECRET)
    )
    if found is None:
        found = secrets.token_urlsafe(48)
        connection.execute(
            product_secrets.insert().values(  # the database's clock: UTC on both
                name=KEY_SECRET, value=found, created_at=sa.func.current_timestamp()
            )
        )
    return str(found).encode()


def _backfill(connection: sa.Connection, secret: bytes) -> None:
    """Every existing case's key, a batch of rows at a time (memory stays flat)."""
    update = (
        sa.update(cases)
        .where(cases.c.id == sa.bindparam("case_id"))
        .values(customer_key=sa.bindparam("key"))
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(cases.c.id, cases.c.customer_phone, cases.c.customer_email)
            .where(cases.c.id > last)
            .order_by(cases.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        keys = [
            {"case_id": case_id, "key": customer_key(secret, phone, email)}
            for case_id, phone, email in rows
        ]
        connection.execute(update, keys)
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_customer_key"))
        batch_op.drop_column("customer_key")
