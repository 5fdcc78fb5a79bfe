"""Mails the intake left for a person (`skipped_mails`): the owner of the mailbox is told
of each once, and the failed-mail report lists them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "skipped_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_key", sa.String(length=120), nullable=False),
        sa.Column("uid", sa.String(length=20), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("case_no", sa.String(length=20), nullable=True),
        sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skipped_mails")),
        sa.UniqueConstraint("mail_key", name=op.f("uq_skipped_mails_mail_key")),
    )


def downgrade() -> None:
    op.drop_table("skipped_mails")
