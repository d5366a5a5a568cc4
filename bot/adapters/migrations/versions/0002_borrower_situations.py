"""Borrower situations: cases (disputes, fraud and payment claims), opt-outs,
handoffs, the vulnerability flag and amended agreements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from bot.adapters.orm import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("borrowers") as batch:
        batch.add_column(sa.Column("vulnerable", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("vulnerability_noted_at", UTCDateTime()))
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("amends_id", sa.Integer))
        batch.create_foreign_key("fk_agreements_amends", "agreements", ["amends_id"], ["id"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("borrower_words", sa.Text),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("channel", sa.String(32)),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
    )
    op.create_index("ix_cases_loan_id", "cases", ["loan_id"])
    op.create_table(
        "contact_opt_outs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("requested_on", sa.String(32)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("borrower_id", "channel", name="uq_opt_outs_channel"),
    )
    op.create_index("ix_contact_opt_outs_borrower_id", "contact_opt_outs", ["borrower_id"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("handoff_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id")),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reply_by", UTCDateTime()),
    )
    op.create_index("ix_handoffs_loan_id", "handoffs", ["loan_id"])


def downgrade() -> None:
    op.drop_table("handoffs")
    op.drop_table("contact_opt_outs")
    op.drop_table("cases")
    with op.batch_alter_table("agreements") as batch:
        batch.drop_constraint("fk_agreements_amends", type_="foreignkey")
        batch.drop_column("amends_id")
    with op.batch_alter_table("borrowers") as batch:
        batch.drop_column("vulnerability_noted_at")
        batch.drop_column("vulnerable")
