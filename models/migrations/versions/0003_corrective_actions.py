"""Corrective actions: the rectifications half-year notices ask departments to report done.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:07:27.720688
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("report_kind", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("department", sa.String(length=20), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alert_level", sa.Integer(), server_default="-1", nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=50), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_actions")),
        sa.UniqueConstraint("key", name=op.f("uq_corrective_actions_key")),
    )
    with op.batch_alter_table("corrective_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corrective_actions_next_alert_at"), ["next_alert_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_corrective_actions_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("corrective_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrective_actions_status"))
        batch_op.drop_index(batch_op.f("ix_corrective_actions_next_alert_at"))

    op.drop_table("corrective_actions")
