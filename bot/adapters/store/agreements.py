"""Recording what the borrower agreed: each confirmation once, one open agreement per loan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, Loan
from bot.adapters.store import rows
from bot.domain.accounts import UnknownLoan
from bot.domain.agreements import (
    OPEN_AGREEMENT_STATUSES,
    AgreementProposal,
    OpenAgreementExists,
    RecordedAgreement,
)


class AgreementRecords:
    db: Database

    def record_agreement(
        self,
        loan_ref: str,
        proposal: AgreementProposal,
        *,
        idempotency_key: str,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> RecordedAgreement:
        """Write an agreement, its instalments and the audit event in one transaction.

        The same `idempotency_key` (one read-back) never creates a second agreement,
        and the database allows one open agreement per loan, so two confirmations
        racing from two channels produce exactly one row.
        """
        proposal.check()
        now = now or rows.utcnow()

        def create(s: Session) -> Agreement:
            loan = s.scalar(select(Loan).where(Loan.loan_ref == loan_ref).with_for_update())
            if loan is None:
                raise UnknownLoan(loan_ref)
            if proposal.currency != loan.currency:
                raise ValueError("proposal currency differs from the loan's")
            if proposal.total_amount > loan.outstanding_balance:
                raise ValueError("proposal exceeds the outstanding balance")
            open_agreement = rows.open_agreement(s, loan.id)
            if open_agreement is not None:
                raise OpenAgreementExists(rows.agreement_view(open_agreement))
            agreement = rows.insert_agreement(
                s, loan, proposal, idempotency_key, now, conversation_id=conversation_id, channel=channel
            )
            rows.audit(
                s,
                "agreement_created",
                loan=loan,
                conversation_id=conversation_id,
                channel=channel,
                now=now,
                agreement_ref=agreement.agreement_ref,
                kind=proposal.kind,
                total_amount=str(proposal.total_amount),
                currency=proposal.currency,
            )
            return agreement

        return self._write_once(idempotency_key, create, loan_ref=loan_ref)

    def amend_agreement(
        self,
        agreement_ref: str,
        proposal: AgreementProposal,
        *,
        idempotency_key: str,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> RecordedAgreement:
        """Replace an open agreement with amended terms; the old one becomes "amended"."""
        proposal.check()
        now = now or rows.utcnow()

        def amend(s: Session) -> Agreement:
            old = s.scalar(select(Agreement).where(Agreement.agreement_ref == agreement_ref).with_for_update())
            if old is None or old.status not in OPEN_AGREEMENT_STATUSES:
                raise ValueError("only an open agreement can be amended")
            old.status = "amended"
            old.updated_at = old.ended_at = now
            s.flush()  # frees the one-open-agreement-per-loan slot
            new = rows.insert_agreement(
                s,
                old.loan,
                proposal,
                idempotency_key,
                now,
                conversation_id=conversation_id,
                channel=channel,
                amends_id=old.id,
            )
            rows.audit(
                s,
                "agreement_amended",
                loan=old.loan,
                conversation_id=conversation_id,
                channel=channel,
                now=now,
                agreement_ref=new.agreement_ref,
                replaces=old.agreement_ref,
            )
            return new

        return self._write_once(idempotency_key, amend)

    def cancel_agreement(
        self, agreement_ref: str, *, conversation_id: str | None = None, channel: str | None = None
    ) -> bool:
        with self.db.transaction() as s:
            agreement = s.scalar(select(Agreement).where(Agreement.agreement_ref == agreement_ref))
            if agreement is None or agreement.status not in OPEN_AGREEMENT_STATUSES:
                return False
            agreement.status = "cancelled"
            agreement.updated_at = agreement.ended_at = rows.utcnow()
            for instalment in agreement.instalments:
                if instalment.status == "scheduled":
                    instalment.status = "cancelled"
            rows.audit(
                s,
                "agreement_cancelled",
                loan=agreement.loan,
                conversation_id=conversation_id,
                channel=channel,
                agreement_ref=agreement_ref,
            )
            return True

    def _write_once(
        self, idempotency_key: str, write: Callable[[Session], Agreement], *, loan_ref: str | None = None
    ) -> RecordedAgreement:
        """Run `write` in one transaction unless this confirmation (its idempotency
        key) was already recorded; then, or when a concurrent confirmation wins the
        race, report what was recorded instead of writing twice."""
        try:
            with self.db.transaction() as s:
                existing = rows.by_idempotency_key(s, idempotency_key)
                if existing is not None:
                    return RecordedAgreement(rows.agreement_view(existing), created=False)
                return RecordedAgreement(rows.agreement_view(write(s)), created=True)
        except IntegrityError:
            with self.db.reader() as s:
                existing = rows.by_idempotency_key(s, idempotency_key)
                if existing is not None:
                    return RecordedAgreement(rows.agreement_view(existing), created=False)
                if loan_ref is not None:
                    open_agreement = rows.open_agreement(s, rows.loan(s, loan_ref).id)
                    if open_agreement is not None:
                        raise OpenAgreementExists(rows.agreement_view(open_agreement)) from None
                raise
