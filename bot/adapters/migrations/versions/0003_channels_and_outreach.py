"""Channels and outreach: the borrower's preferred channel and Telegram chat id,
and the log of proactive contact attempts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from bot.adapters.orm import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("borrowers") as batch:
        batch.add_column(sa.Column("preferred_channel", sa.String(16), nullable=False, server_default="sms"))
        batch.add_column(sa.Column("telegram_chat_id", sa.String(64)))
        batch.create_unique_constraint("uq_borrowers_telegram_chat_id", ["telegram_chat_id"])
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=False),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id")),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("skip_reason", sa.String(64)),
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_contact_attempts_loan_id", "contact_attempts", ["loan_id"])
    op.create_index("ix_contact_attempts_borrower_time", "contact_attempts", ["borrower_id", "created_at"])


def downgrade() -> None:
    op.drop_table("contact_attempts")
    with op.batch_alter_table("borrowers") as batch:
        batch.drop_constraint("uq_borrowers_telegram_chat_id", type_="unique")
        batch.drop_column("telegram_chat_id")
        batch.drop_column("preferred_channel")
