"""When the deadline watch last kept the timers (`watch_passes`, one row): a pass that
finds the last one older than a missed minute tells the W channel.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("passed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_passes")),
    )


def downgrade() -> None:
    op.drop_table("watch_passes")
