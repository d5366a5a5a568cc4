"""A borrower's account as the assistant may speak of it, and the outcome of verifying them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bot.domain.agreements import AgreementView
from bot.domain.names import PersonName

CASE_KINDS = ("dispute", "fraud_claim", "payment_claim")
HOLD_CASE_KINDS = ("dispute", "fraud_claim")  # an open one stops collection until it is closed
CASE_OUTCOMES = ("upheld", "rejected", "withdrawn")  # upheld: the borrower was right


@dataclass(frozen=True)
class AccountView:
    """What a verified borrower may be told about their loan."""

    loan_ref: str
    product: str
    currency: str
    principal: Decimal
    outstanding_balance: Decimal
    overdue_amount: Decimal
    days_past_due: int
    next_due_date: date | None
    status: str
    borrower_first_name: str
    language: str
    timezone: str
    open_agreement: AgreementView | None
    open_cases: tuple[str, ...] = ()  # kinds of open cases: dispute, fraud_claim, payment_claim
    vulnerable: bool = False
    opted_out_channels: tuple[str, ...] = ()
    borrower_name: PersonName | None = None  # how to address them: bot.domain.names.address_as

    @property
    def on_collection_hold(self) -> bool:
        return any(kind in HOLD_CASE_KINDS for kind in self.open_cases)


@dataclass(frozen=True)
class VerificationOutcome:
    # "verified" | "mismatch" | "locked": a reference no loan has is a "mismatch",
    # exactly like a wrong date of birth (bot.domain.verification)
    status: str
    attempts_left: int = 0
    locked_until: datetime | None = None


class UnknownLoan(LookupError):
    pass


class UnknownReference(LookupError):
    """No case or handoff with that reference."""
