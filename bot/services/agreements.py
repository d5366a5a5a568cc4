"""Carrying out what a borrower confirmed after the read-back: create, amend or cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.domain.agreements import (
    PAID_BY_LINK,
    AgreementOperation,
    AgreementProposal,
    AgreementView,
    AmendAgreement,
    CancelAgreement,
    CreateAgreement,
    RecordedAgreement,
)


class AgreementBook(Protocol):
    """The loan store's agreement writes (bot.adapters.store.agreements)."""

    def record_agreement(
        self,
        loan_ref: str,
        proposal: AgreementProposal,
        *,
        idempotency_key: str,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> RecordedAgreement: ...

    def amend_agreement(
        self,
        agreement_ref: str,
        proposal: AgreementProposal,
        *,
        idempotency_key: str,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> RecordedAgreement: ...

    def cancel_agreement(
        self, agreement_ref: str, *, conversation_id: str | None = None, channel: str | None = None
    ) -> bool: ...


@dataclass(frozen=True)
class Confirmed:
    """The result of a confirmation."""

    operation: AgreementOperation
    agreement: AgreementView | None  # what now stands (None after a cancellation)
    created: bool  # False: this very confirmation had already been carried out

    @property
    def needs_payment_link(self) -> bool:
        """A new arrangement paid in one go gets a link to pay it."""
        return (
            self.created
            and isinstance(self.operation, CreateAgreement)
            and self.agreement is not None
            and self.agreement.kind in PAID_BY_LINK
        )


def carry_out(
    book: AgreementBook,
    operation: AgreementOperation,
    *,
    loan_ref: str,
    conversation_id: str | None = None,
    channel: str | None = None,
) -> Confirmed:
    """Record the confirmed operation once (the proposal's idempotency key).

    Raises OpenAgreementExists when a new arrangement meets an open one, and
    lets database errors through (the caller keeps the proposal for a retry).
    """
    ctx = {"conversation_id": conversation_id, "channel": channel}
    if isinstance(operation, CancelAgreement):
        cancelled = book.cancel_agreement(operation.agreement_ref, **ctx)
        return Confirmed(operation, None, cancelled)
    proposal = operation.proposal
    if isinstance(operation, AmendAgreement):
        recorded = book.amend_agreement(
            operation.agreement_ref, proposal, idempotency_key=proposal.idempotency_key, **ctx
        )
    else:
        recorded = book.record_agreement(loan_ref, proposal, idempotency_key=proposal.idempotency_key, **ctx)
    return Confirmed(operation, recorded.agreement, recorded.created)
