"""Verifying a borrower (date of birth, lockout) and finding the loan a channel identity points to."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.adapters.database import Database
from bot.adapters.orm import Borrower, Loan
from bot.adapters.store import rows
from bot.domain.accounts import VerificationOutcome
from bot.domain.verification import LoanLockState, check_date_of_birth


class _AuditContext(TypedDict):
    """Where and when, for every audit event of one verification attempt (`rows.audit`'s keywords)."""

    conversation_id: str | None
    channel: str | None
    now: datetime


class VerificationRecords:
    db: Database
    max_attempts: int
    lock_minutes: int

    def verify(
        self,
        loan_ref: str,
        date_of_birth: date,
        *,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> VerificationOutcome:
        """Check a borrower's date of birth against a loan; lock after repeated failures."""
        now = now or rows.utcnow()
        with self.db.transaction() as s:
            loan = s.scalar(
                select(Loan).where(Loan.loan_ref == loan_ref).options(selectinload(Loan.borrower)).with_for_update()
            )
            ctx: _AuditContext = {"conversation_id": conversation_id, "channel": channel, "now": now}
            if loan is None:
                rows.audit(s, "verification_failed", reason="unknown_loan", **ctx)
                return VerificationOutcome("unknown_loan")
            state = LoanLockState(loan.verification_failures, loan.verification_locked_until)
            outcome, after = check_date_of_birth(
                state,
                loan.borrower.date_of_birth == date_of_birth,
                now,
                max_attempts=self.max_attempts,
                lock_minutes=self.lock_minutes,
            )
            loan.verification_failures, loan.verification_locked_until = after.failures, after.locked_until
            if outcome.status == "verified":
                rows.audit(s, "verification_passed", loan=loan, **ctx)
            elif outcome.status == "mismatch":
                rows.audit(s, "verification_failed", loan=loan, reason="date_of_birth_mismatch", **ctx)
            elif after == state:
                rows.audit(s, "verification_refused_locked", loan=loan, **ctx)
            else:
                until = after.locked_until
                assert until is not None, "check_date_of_birth locks with an end time"
                rows.audit(s, "verification_locked", loan=loan, locked_until=until.isoformat(), **ctx)
            return outcome

    def candidate_loan(self, kind: str, value: str) -> str | None:
        """The loan a channel identity points to, if exactly one is in collections.

        `kind` is loan_ref, phone or telegram_chat_id (see bot.domain.identity). A
        borrower with several loans in arrears is asked for the reference.
        """
        with self.db.reader() as s:
            if kind == "loan_ref":
                return s.scalar(select(Loan.loan_ref).where(Loan.loan_ref == value))
            if kind == "phone":
                number = value.removeprefix("whatsapp:").replace(" ", "")
                if not number:
                    return None
                borrower_ids = select(Borrower.id).where(Borrower.phone == number)
            elif kind == "telegram_chat_id":
                borrower_ids = select(Borrower.id).where(Borrower.telegram_chat_id == value)
            else:
                return None
            refs = s.scalars(
                select(Loan.loan_ref).where(Loan.borrower_id.in_(borrower_ids), Loan.overdue_amount > 0)
            ).all()
            return refs[0] if len(refs) == 1 else None

    def loans_at_address(self, kind: str, value: str) -> list[str]:
        """One loan reference per borrower reached at a phone number or Telegram chat
        (to honour a STOP from that address for every borrower there)."""
        with self.db.reader() as s:
            if kind == "phone":
                match = Borrower.phone == value.removeprefix("whatsapp:").replace(" ", "")
            elif kind == "telegram_chat_id":
                match = Borrower.telegram_chat_id == value
            else:
                return []
            found = s.execute(
                select(Loan.borrower_id, func.min(Loan.loan_ref)).join(Borrower).where(match).group_by(Loan.borrower_id)
            ).all()
            return [ref for _, ref in found]
