"""The team console (issue 15): operators, the log-in throttle, and who is working a handoff.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from bot.adapters.orm import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime()),
        sa.Column("sessions_valid_after", UTCDateTime()),
    )
    op.create_table(
        "console_login_failures",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
    )
    # Plain ALTER TABLE, also on SQLite (recreating `handoffs` is not needed for new nullable columns).
    op.add_column("handoffs", sa.Column("claimed_by", sa.String(32)))
    op.add_column("handoffs", sa.Column("claimed_at", UTCDateTime()))
    op.add_column("handoffs", sa.Column("taken_over_at", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("handoffs", recreate="never") as batch:
        batch.drop_column("taken_over_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
    op.drop_table("console_login_failures")
    op.drop_table("operators")
