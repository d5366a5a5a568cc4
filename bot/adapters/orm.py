"""The loan store's tables (SQLAlchemy 1.4, 2.0-style declarative mapping).

Only `bot.adapters.store` and the migrations use these classes; everything else works
with the plain views that `bot.adapters.store` returns.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

# SQLAlchemy 1.4 ships no type information (no py.typed, and its stubs are not
# installed), so declarative_base() returns an unknown dynamic class; mypy cannot use
# a variable as a base class. Annotating it Any lets the mapped classes below inherit
# from it; their columns are untyped either way.
Base: Any = declarative_base()


class Money(TypeDecorator):
    """Exact Decimal amounts: NUMERIC(18, 4) on PostgreSQL; text on SQLite,
    whose NUMERIC would round-trip through binary floating point."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(str(value))


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes, stored in UTC; SQLite gives them back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the loan store; use bot.domain.clock.utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


# The partial unique index behind "one open agreement per loan"
# (bot.domain.agreements.OPEN_AGREEMENT_STATUSES; see Agreement.__table_args__).
_OPEN_SQL = "status = 'active'"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Borrower(Base):
    __tablename__ = "borrowers"

    id = Column(Integer, primary_key=True)
    full_name = Column(String(200), nullable=False)
    # How to address the borrower (bot/domain/names.py), when the lender knows them:
    # the family name as written in full_name, and mr | ms | mrs | miss | mx.
    family_name = Column(String(100))
    title = Column(String(8))
    date_of_birth = Column(Date, nullable=False)
    phone = Column(String(32))
    email = Column(String(254))
    timezone = Column(String(64), nullable=False, default="Europe/London")
    language = Column(String(16), nullable=False, default="en")
    # e.g. {"sms": true, "whatsapp": true, "email": true, "telegram": false}
    contact_preferences = Column(JSON, nullable=False, default=dict)
    # Set when the borrower discloses a vulnerability (FCA FG21/1): no collection
    # until a person has reviewed it.
    vulnerable = Column(Boolean, nullable=False, default=False)
    vulnerability_noted_at = Column(UTCDateTime())
    # Where the lender reaches the borrower first: sms, whatsapp, telegram or wechat.
    preferred_channel = Column(String(16), nullable=False, default="sms")
    # Telegram has no phone number in its updates; the chat id identifies the borrower.
    telegram_chat_id = Column(String(64), unique=True)
    # Likewise the OpenID on WeChat (one per Official Account: the lender's); unique (index below).
    wechat_openid = Column(String(64))
    created_at = Column(UTCDateTime(), nullable=False, default=_now)

    loans = relationship("Loan", back_populates="borrower")
    opt_outs = relationship("ContactOptOut", back_populates="borrower")

    __table_args__ = (Index("ix_borrowers_wechat_openid", "wechat_openid", unique=True),)


class Loan(Base):
    __tablename__ = "loans"

    id = Column(Integer, primary_key=True)
    loan_ref = Column(String(32), nullable=False, unique=True)
    borrower_id = Column(Integer, ForeignKey("borrowers.id"), nullable=False, index=True)
    product = Column(String(64), nullable=False)
    currency = Column(String(3), nullable=False)
    principal = Column(Money(), nullable=False)
    outstanding_balance = Column(Money(), nullable=False)
    overdue_amount = Column(Money(), nullable=False)
    days_past_due = Column(Integer, nullable=False, default=0)
    next_due_date = Column(Date)
    status = Column(String(32), nullable=False, default="delinquent")
    # Whose conduct rules apply (bot/domain/conduct.py MARKETS): US, UK or CN; from the
    # import, else derived from the currency and the borrower's time zone.
    market = Column(String(2), nullable=False, default="US", server_default="US")
    created_at = Column(UTCDateTime(), nullable=False, default=_now)
    updated_at = Column(UTCDateTime(), nullable=False, default=_now, onupdate=_now)

    borrower = relationship("Borrower", back_populates="loans")
    agreements = relationship("Agreement", back_populates="loan", order_by="Agreement.id")
    reasons = relationship("DelinquencyReason", back_populates="loan", order_by="DelinquencyReason.id")


class Agreement(Base):
    __tablename__ = "agreements"

    id = Column(Integer, primary_key=True)
    agreement_ref = Column(String(32), nullable=False, unique=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    kind = Column(String(32), nullable=False)
    status = Column(String(32), nullable=False, default="active")
    total_amount = Column(Money(), nullable=False)
    currency = Column(String(3), nullable=False)
    terms = Column(JSON, nullable=False, default=dict)
    conversation_id = Column(String(128))
    channel = Column(String(32))
    # The read-back the borrower said yes to; a retried "yes" finds this key taken.
    idempotency_key = Column(String(64), nullable=False, unique=True)
    # An amended agreement points at the one it replaces (status "amended").
    amends_id = Column(Integer, ForeignKey("agreements.id"))
    # Who agreed, as outcomes are reported and offers learned (issue 14): the loan's
    # reason code, days past due, product and the borrower's language when it was made.
    context = Column(JSON)
    # When it was completed, broken, cancelled or amended.
    ended_at = Column(UTCDateTime())
    created_at = Column(UTCDateTime(), nullable=False, default=_now)
    updated_at = Column(UTCDateTime(), nullable=False, default=_now, onupdate=_now)

    loan = relationship("Loan", back_populates="agreements")
    instalments = relationship("Instalment", back_populates="agreement", order_by="Instalment.sequence")

    __table_args__ = (
        Index(
            "uq_agreements_one_open_per_loan",
            "loan_id",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
    )


class Instalment(Base):
    __tablename__ = "instalments"

    id = Column(Integer, primary_key=True)
    agreement_id = Column(Integer, ForeignKey("agreements.id"), nullable=False, index=True)
    sequence = Column(Integer, nullable=False)
    due_date = Column(Date, nullable=False)
    amount = Column(Money(), nullable=False)
    status = Column(String(32), nullable=False, default="scheduled")
    # What payments have covered so far (bot.domain.payments); at most `amount`.
    paid_amount = Column(Money(), nullable=False, default=Decimal(0), server_default="0")

    agreement = relationship("Agreement", back_populates="instalments")

    __table_args__ = (UniqueConstraint("agreement_id", "sequence", name="uq_instalments_sequence"),)


class DelinquencyReason(Base):
    __tablename__ = "delinquency_reasons"

    id = Column(Integer, primary_key=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    reason_code = Column(String(32), nullable=False)
    borrower_words = Column(Text)
    conversation_id = Column(String(128))
    channel = Column(String(32))
    recorded_at = Column(UTCDateTime(), nullable=False, default=_now)

    loan = relationship("Loan", back_populates="reasons")


class VerificationAttempt(Base):
    """Failed verifications of one typed reference on one path (bot.domain.verification).

    Keyed by an HMAC of the path and the reference as typed, whether or not a
    loan has it: the reference is not stored in clear, and a real reference and
    an unknown one are counted (and answered) alike.
    """

    __tablename__ = "verification_attempts"

    id = Column(Integer, primary_key=True)
    counter_key = Column(String(64), nullable=False, unique=True)
    path = Column(String(16), nullable=False)  # anonymous | vouched
    failures = Column(Integer, nullable=False, default=0)
    locks = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime())
    last_failure_at = Column(UTCDateTime())
    updated_at = Column(UTCDateTime(), nullable=False, default=_now)


class AuditEvent(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the migration)."""

    __tablename__ = "audit_events"

    id = Column(Integer, primary_key=True)
    event_type = Column(String(64), nullable=False, index=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), index=True)
    borrower_id = Column(Integer, ForeignKey("borrowers.id"))
    conversation_id = Column(String(128))
    channel = Column(String(32))
    details = Column(JSON, nullable=False, default=dict)
    occurred_at = Column(UTCDateTime(), nullable=False, default=_now, index=True)


class Case(Base):
    """Something the lender must look into: a dispute, a fraud claim, a payment claim.

    An open dispute or fraud claim puts the loan on collection hold.
    """

    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    case_ref = Column(String(32), nullable=False, unique=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    kind = Column(String(32), nullable=False)  # dispute | fraud_claim | payment_claim
    status = Column(String(32), nullable=False, default="open")
    borrower_words = Column(Text)
    details = Column(JSON, nullable=False, default=dict)
    conversation_id = Column(String(128))
    channel = Column(String(32))
    opened_at = Column(UTCDateTime(), nullable=False, default=_now)
    closed_at = Column(UTCDateTime())

    loan = relationship("Loan")


class ContactOptOut(Base):
    """The borrower asked not to be contacted on a channel ("all" for every channel)."""

    __tablename__ = "contact_opt_outs"

    id = Column(Integer, primary_key=True)
    borrower_id = Column(Integer, ForeignKey("borrowers.id"), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    conversation_id = Column(String(128))
    requested_on = Column(String(32))  # the channel the request was made on
    created_at = Column(UTCDateTime(), nullable=False, default=_now)

    borrower = relationship("Borrower", back_populates="opt_outs")

    __table_args__ = (UniqueConstraint("borrower_id", "channel", name="uq_opt_outs_channel"),)


class Handoff(Base):
    """A conversation waiting for a person (the default handoff destination)."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    handoff_ref = Column(String(32), nullable=False, unique=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), index=True)
    conversation_id = Column(String(128), nullable=False)
    channel = Column(String(32))
    reason = Column(String(32), nullable=False)
    priority = Column(String(16), nullable=False, default="normal")
    transcript = Column(JSON, nullable=False, default=list)
    status = Column(String(32), nullable=False, default="queued")
    created_at = Column(UTCDateTime(), nullable=False, default=_now)
    reply_by = Column(UTCDateTime())
    # The console (issue 15): who is working it, and since when the assistant is paused for them
    claimed_by = Column(String(32))
    claimed_at = Column(UTCDateTime())
    taken_over_at = Column(UTCDateTime())


class ContactAttempt(Base):
    """Every proactive contact the assistant made or decided not to make, and why.

    The contact rules (opt-outs, holds, hours, 7 attempts in 7 days) count the
    rows with outcome "sent".
    """

    __tablename__ = "contact_attempts"

    id = Column(Integer, primary_key=True)
    borrower_id = Column(Integer, ForeignKey("borrowers.id"), nullable=False)
    loan_id = Column(Integer, ForeignKey("loans.id"), index=True)
    channel = Column(String(16), nullable=False)
    trigger = Column(String(32), nullable=False)  # e.g. newly_overdue, instalment_due
    outcome = Column(String(16), nullable=False)  # sent, skipped or failed
    skip_reason = Column(String(64))
    conversation_id = Column(String(128))
    created_at = Column(UTCDateTime(), nullable=False, default=_now)

    __table_args__ = (Index("ix_contact_attempts_borrower_time", "borrower_id", "created_at"),)


class Payment(Base):
    """A payment reported by the lender's payment page or provider (webhook) or bank
    file (CSV), recorded once per `payment_id`. A refused one (unknown loan, another
    currency) is kept with its reason and changes nothing."""

    __tablename__ = "payments"

    id = Column(Integer, primary_key=True)
    payment_id = Column(String(64), nullable=False, unique=True)  # the payer's or provider's own id
    loan_id = Column(Integer, ForeignKey("loans.id"), index=True)
    loan_ref = Column(String(40), nullable=False)  # as reported
    paid_at = Column(UTCDateTime(), nullable=False)
    amount = Column(Money(), nullable=False)
    currency = Column(String(3), nullable=False)
    method = Column(String(32), nullable=False)
    source = Column(String(16), nullable=False)  # csv | webhook
    status = Column(String(16), nullable=False)  # applied | refused
    refusal_reason = Column(String(64))
    to_balance = Column(Money(), nullable=False, default=Decimal(0))  # beyond any instalment
    unapplied = Column(Money(), nullable=False, default=Decimal(0))  # beyond the balance: to refund
    received_at = Column(UTCDateTime(), nullable=False, default=_now, index=True)

    allocations = relationship("PaymentAllocation", back_populates="payment", order_by="PaymentAllocation.id")


class PaymentAllocation(Base):
    """The part of a payment that went to one instalment."""

    __tablename__ = "payment_allocations"

    id = Column(Integer, primary_key=True)
    payment_row_id = Column(Integer, ForeignKey("payments.id"), nullable=False, index=True)
    instalment_id = Column(Integer, ForeignKey("instalments.id"), nullable=False, index=True)
    amount = Column(Money(), nullable=False)

    payment = relationship("Payment", back_populates="allocations")
    instalment = relationship("Instalment")


class Feedback(Base):
    """The optional question at the end of a conversation that resolved (issue 14 §5):
    asked once after an agreement, answered with a rating 1-5 (and maybe a comment,
    masked like any borrower text), skipped, or left unanswered (`asked`)."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    feedback_ref = Column(String(32), nullable=False, unique=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    # The agreement the conversation ended with: one question per agreement.
    agreement_id = Column(Integer, ForeignKey("agreements.id"), unique=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(32))
    language = Column(String(8), nullable=False)
    status = Column(String(16), nullable=False, default="asked")  # asked | rated | skipped
    rating = Column(Integer)
    comment = Column(Text)
    asked_at = Column(UTCDateTime(), nullable=False, default=_now, index=True)
    answered_at = Column(UTCDateTime())

    __table_args__ = (CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="ck_feedback_rating"),)


# At most one escalation in progress per loan (see Escalation.__table_args__).
_OPEN_ESCALATION_SQL = "status = 'open'"


class Escalation(Base):
    """Escalation of a loan whose borrower is unwilling to pay (issue 14): first a final
    notice the borrower is told about, then a `legal_review` entry for a person.
    Nothing here takes legal action; a person decides (`python -m bot review-escalation`)."""

    __tablename__ = "escalations"

    id = Column(Integer, primary_key=True)
    escalation_ref = Column(String(32), nullable=False, unique=True)
    loan_id = Column(Integer, ForeignKey("loans.id"), nullable=False, index=True)
    stage = Column(String(16), nullable=False)  # final_notice | legal_review
    status = Column(String(16), nullable=False, default="open")  # open | withdrawn | reviewed
    details = Column(JSON, nullable=False, default=dict)  # why: broken agreements, refusals, days past due
    opened_at = Column(UTCDateTime(), nullable=False, default=_now)
    notified_at = Column(UTCDateTime())  # the borrower was told of the final notice
    review_queued_at = Column(UTCDateTime())
    closed_at = Column(UTCDateTime())
    outcome = Column(String(32))  # why it was withdrawn, or the reviewer's decision

    loan = relationship("Loan")

    __table_args__ = (
        Index(
            "uq_escalations_one_open_per_loan",
            "loan_id",
            unique=True,
            sqlite_where=text(_OPEN_ESCALATION_SQL),
            postgresql_where=text(_OPEN_ESCALATION_SQL),
        ),
    )


class Operator(Base):
    """A member of the collections team who logs in to the console (issue 15)."""

    __tablename__ = "operators"

    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False, unique=True)
    role = Column(String(16), nullable=False)  # agent | supervisor | admin
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime(), nullable=False, default=_now)
    last_login_at = Column(UTCDateTime())
    # Sessions signed before this are refused: log-out, a new password, deactivation.
    sessions_valid_after = Column(UTCDateTime())
    language = Column(String(8))  # the console's language for them (en | zh); NULL: the lender's default


class ConsoleLoginFailure(Base):
    """Wrong passwords in a row per log-in name as typed (known or not): the console's throttle."""

    __tablename__ = "console_login_failures"

    name = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    last_failure_at = Column(UTCDateTime(), nullable=False)
