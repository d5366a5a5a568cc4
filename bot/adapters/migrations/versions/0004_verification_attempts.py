"""Verification attempts counted per typed reference and path, not per loan
(issue 12): the loan's own failure count and lock go.

A lock or count held on a loan when this runs is dropped: the new counters
start empty (a lock lasted 30 minutes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from bot.adapters.orm import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("counter_key", sa.String(64), nullable=False),
        sa.Column("path", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locks", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime()),
        sa.Column("last_failure_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("counter_key", name="uq_verification_attempts_counter_key"),
    )
    # ALTER TABLE ... DROP COLUMN, also on SQLite (3.35+): recreating `loans`
    # would trip the foreign keys that point at it.
    with op.batch_alter_table("loans", recreate="never") as batch:
        batch.drop_column("verification_locked_until")
        batch.drop_column("verification_failures")


def downgrade() -> None:
    with op.batch_alter_table("loans", recreate="never") as batch:
        batch.add_column(sa.Column("verification_failures", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("verification_locked_until", UTCDateTime()))
    op.drop_table("verification_attempts")
