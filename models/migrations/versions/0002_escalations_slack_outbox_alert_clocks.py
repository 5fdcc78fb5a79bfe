"""Escalations and the cases they concern, the Slack outbox, alert clocks, repeat links.

Existing deadlines get alert_level -1 (nothing fired yet); their alert times are derived
again the next time their case changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:46:04.583333
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=30), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("key", name=op.f("uq_escalations_key")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalations_fired_at"), ["fired_at"], unique=False)

    op.create_table(
        "escalation_cases",
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_escalation_cases_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_cases_escalation_id_escalations"),
        ),
        sa.PrimaryKeyConstraint("escalation_id", "case_id", name=op.f("pk_escalation_cases")),
    )
    with op.batch_alter_table("escalation_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_cases_case_id"), ["case_id"], unique=False)

    op.create_table(
        "slack_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("slack_ts", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_slack_outbox_escalation_id_escalations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_outbox")),
        sa.UniqueConstraint("escalation_id", name=op.f("uq_slack_outbox_escalation_id")),
    )
    with op.batch_alter_table("slack_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slack_outbox_status"), ["status"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_of", sa.String(length=24), nullable=True))

    with op.batch_alter_table("step_deadlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_alert_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("alert_level", sa.Integer(), nullable=False, server_default="-1")
        )
        batch_op.create_index(
            batch_op.f("ix_step_deadlines_next_alert_at"), ["next_alert_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("step_deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_deadlines_next_alert_at"))
        batch_op.drop_column("alert_level")
        batch_op.drop_column("next_alert_at")
        batch_op.drop_column("warn_at")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("repeat_of")

    with op.batch_alter_table("slack_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_outbox_status"))

    op.drop_table("slack_outbox")
    with op.batch_alter_table("escalation_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_cases_case_id"))

    op.drop_table("escalation_cases")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_fired_at"))

    op.drop_table("escalations")
