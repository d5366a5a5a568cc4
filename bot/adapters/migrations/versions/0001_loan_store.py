"""Loan store: borrowers, loans, agreements, instalments, reasons and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from bot.adapters.orm import Money, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

OPEN = "status = 'active'"


def upgrade() -> None:
    op.create_table(
        "borrowers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("email", sa.String(254)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("contact_preferences", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("loan_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=False),
        sa.Column("product", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("principal", Money(), nullable=False),
        sa.Column("outstanding_balance", Money(), nullable=False),
        sa.Column("overdue_amount", Money(), nullable=False),
        sa.Column("days_past_due", sa.Integer, nullable=False),
        sa.Column("next_due_date", sa.Date),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("verification_failures", sa.Integer, nullable=False),
        sa.Column("verification_locked_until", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_loans_borrower_id", "loans", ["borrower_id"])
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_ref", sa.String(32), nullable=False, unique=True),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("total_amount", Money(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("channel", sa.String(32)),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_agreements_loan_id", "agreements", ["loan_id"])
    op.create_index(
        "uq_agreements_one_open_per_loan",
        "agreements",
        ["loan_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agreement_id", sa.Integer, sa.ForeignKey("agreements.id"), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.UniqueConstraint("agreement_id", "sequence", name="uq_instalments_sequence"),
    )
    op.create_index("ix_instalments_agreement_id", "instalments", ["agreement_id"])
    op.create_table(
        "delinquency_reasons",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("borrower_words", sa.Text),
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("channel", sa.String(32)),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_delinquency_reasons_loan_id", "delinquency_reasons", ["loan_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loans.id")),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id")),
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("channel", sa.String(32)),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_audit_events_event_type", "audit_events", ["event_type"])
    op.create_index("ix_audit_events_loan_id", "audit_events", ["loan_id"])
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"])
    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for table in ("audit_events", "delinquency_reasons", "instalments", "agreements", "loans", "borrowers"):
        op.drop_table(table)
