"""Payments in, what they paid, and what became of agreements (issue 14): payments and
their allocations to instalments, what each instalment has had, the agreement's
context (for outcome reporting and offer learning) and end time, and escalations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from bot.adapters.orm import Money, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN_ESCALATION = "status = 'open'"


def upgrade() -> None:
    with op.batch_alter_table("instalments", recreate="never") as batch:
        batch.add_column(sa.Column("paid_amount", Money(), nullable=False, server_default="0"))
    with op.batch_alter_table("agreements", recreate="never") as batch:
        batch.add_column(sa.Column("context", sa.JSON))
        batch.add_column(sa.Column("ended_at", UTCDateTime()))
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("payment_id", sa.String(64), nullable=False, unique=True),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id")),
        sa.Column("loan_ref", sa.String(40), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("refusal_reason", sa.String(64)),
        sa.Column("to_balance", Money(), nullable=False),
        sa.Column("unapplied", Money(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_payments_loan_id", "payments", ["loan_id"])
    op.create_index("ix_payments_received_at", "payments", ["received_at"])
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("payment_row_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("instalment_id", sa.Integer, sa.ForeignKey("instalments.id"), nullable=False),
        sa.Column("amount", Money(), nullable=False),
    )
    op.create_index("ix_payment_allocations_payment_row_id", "payment_allocations", ["payment_row_id"])
    op.create_index("ix_payment_allocations_instalment_id", "payment_allocations", ["instalment_id"])
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("escalation_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("notified_at", UTCDateTime()),
        sa.Column("review_queued_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("outcome", sa.String(32)),
    )
    op.create_index("ix_escalations_loan_id", "escalations", ["loan_id"])
    op.create_index(
        "uq_escalations_one_open_per_loan",
        "escalations",
        ["loan_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_ESCALATION),
        postgresql_where=sa.text(OPEN_ESCALATION),
    )


def downgrade() -> None:
    op.drop_table("escalations")
    op.drop_table("payment_allocations")
    op.drop_table("payments")
    with op.batch_alter_table("agreements", recreate="never") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("context")
    with op.batch_alter_table("instalments", recreate="never") as batch:
        batch.drop_column("paid_amount")
