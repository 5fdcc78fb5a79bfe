"""The Message-ID of each e-mail sent to a customer, so that a reply threading on it joins
its case.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_message_id", sa.String(length=250), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_customer_messages_mail_message_id"), ["mail_message_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_messages_mail_message_id"))
        batch_op.drop_column("mail_message_id")
