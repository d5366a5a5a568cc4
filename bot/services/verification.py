"""Verifying the borrower who is writing: the use case behind the verification form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.domain.accounts import AccountView, VerificationOutcome
from bot.domain.verification import after_failed_attempt


class VerificationBook(Protocol):
    """The loan store's side (bot.adapters.store.verification and .accounts)."""

    def verify(
        self, loan_ref: str, date_of_birth: date, *, conversation_id: str | None = None, channel: str | None = None
    ) -> VerificationOutcome: ...

    def account(self, loan_ref: str) -> AccountView: ...


@dataclass(frozen=True)
class Verification:
    account: AccountView | None  # set once verified
    locked_until: datetime | None = None  # set: the conversation stops asking until then
    attempts_left: int = 0
    failures: int = 0  # failed attempts in this conversation

    @property
    def verified(self) -> bool:
        return self.account is not None


def verify_borrower(
    book: VerificationBook,
    loan_ref: str,
    date_of_birth: date,
    *,
    failures_so_far: int,
    max_attempts: int,
    lock_minutes: int,
    now: datetime,
    conversation_id: str | None = None,
    channel: str | None = None,
) -> Verification:
    """One attempt: the account when the date of birth matches, else how many
    tries are left or until when the borrower is locked out."""
    outcome = book.verify(loan_ref, date_of_birth, conversation_id=conversation_id, channel=channel)
    if outcome.status == "verified":
        return Verification(book.account(loan_ref))
    verdict = after_failed_attempt(outcome, failures_so_far, now, max_attempts=max_attempts, lock_minutes=lock_minutes)
    return Verification(None, verdict.locked_until, verdict.attempts_left, verdict.failures)
