"""Messages to customers by SMS (the template's variables, the provider's id of the
sending); where a member of staff is told that work is theirs (a Slack member ID, an e-mail, a
mobile), and staff notices in the Slack outbox beside the escalations: a forwarding notice
to a department, a person's turn at a step.

A notice has no escalation: `escalation_id` becomes optional and `notice_key` makes each
notice once (unique, like an escalation's key). `medium` says how it goes (a Slack channel
or member, a Slack member found by e-mail, an e-mail), `fallback` where it goes when its
recipient cannot be reached for good, `body` its e-mail's text (`text` the subject),
`not_before` when it may go (outside business hours
a notice waits for the next opening), `case_id` the case it is about.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("provider_ref", sa.String(length=64), nullable=True))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_id", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("mobile", sa.String(length=20), nullable=True))
    with op.batch_alter_table("slack_outbox", schema=None) as batch_op:
        batch_op.alter_column("escalation_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column(  # an e-mail address, for a notice by e-mail
            "channel", existing_type=sa.String(length=80), type_=sa.String(length=254)
        )
        batch_op.add_column(sa.Column("notice_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("medium", sa.String(length=12), nullable=False, server_default="slack")
        )
        batch_op.add_column(sa.Column("fallback", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_slack_outbox_notice_key"), ["notice_key"])
        batch_op.create_index(batch_op.f("ix_slack_outbox_case_id"), ["case_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_slack_outbox_case_id_cases"), "cases", ["case_id"], ["id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM slack_outbox WHERE escalation_id IS NULL")
    with op.batch_alter_table("slack_outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_slack_outbox_case_id_cases"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_slack_outbox_case_id"))
        batch_op.drop_constraint(batch_op.f("uq_slack_outbox_notice_key"), type_="unique")
        for column in ("body", "not_before", "fallback", "medium", "case_id", "notice_key"):
            batch_op.drop_column(column)
        batch_op.alter_column("escalation_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "channel", existing_type=sa.String(length=254), type_=sa.String(length=80)
        )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        for column in ("mobile", "email", "slack_id"):
            batch_op.drop_column(column)
    with op.batch_alter_table("customer_messages", schema=None) as batch_op:
        batch_op.drop_column("provider_ref")
        batch_op.drop_column("sms_params")
