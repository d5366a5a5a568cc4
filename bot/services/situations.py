"""Disputes, fraud claims and payment claims: each is a case and the reason
for the missed payment, written together (one transaction)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from bot.domain.privacy import mask_personal_data
from bot.domain.situations import dispute_kind


class CaseBook(Protocol):
    """The loan store's side (bot.adapters.store.cases)."""

    def open_case(
        self,
        loan_ref: str,
        kind: str,
        borrower_words: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        reason_code: str | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> str: ...


def record_dispute(
    book: CaseBook, loan_ref: str, words: str | None, *, conversation_id: str | None, channel: str | None
) -> str:
    """ "I don't owe this" / "the amount is wrong": the loan goes on collection hold. Returns the case reference."""
    return book.open_case(
        loan_ref,
        "dispute",
        words,
        details={"dispute_kind": dispute_kind(words)},
        reason_code="dispute",
        conversation_id=conversation_id,
        channel=channel,
    )


def record_fraud_claim(
    book: CaseBook, loan_ref: str, words: str | None, *, conversation_id: str | None, channel: str | None
) -> str:
    """ "This isn't my loan": the loan goes on collection hold. Returns the case reference."""
    return book.open_case(
        loan_ref,
        "fraud_claim",
        words,
        reason_code="fraud_not_my_loan",
        conversation_id=conversation_id,
        channel=channel,
    )


def record_payment_claim(
    book: CaseBook,
    loan_ref: str,
    *,
    paid_on: date,
    amount: Decimal,
    currency: str,
    method: str,
    conversation_id: str | None,
    channel: str | None,
) -> str:
    """ "I already paid": when, how much and how, for the team to check. Returns the case reference.

    `method` is the borrower's words ("by card ..."): kept masked, like every
    borrower's words the lender keeps."""
    details = {
        "paid_on": paid_on.isoformat(),
        "amount": str(amount),
        "currency": currency,
        "method": mask_personal_data(method),
    }
    return book.open_case(
        loan_ref,
        "payment_claim",
        details=details,
        reason_code="already_paid",
        conversation_id=conversation_id,
        channel=channel,
    )
