"""Verifying the borrower who is writing: the use case behind the verification form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.domain.accounts import AccountView, VerificationOutcome
from bot.domain.verification import LockRules, after_failed_attempt


class VerificationBook(Protocol):
    """The loan store's side (bot.adapters.store.verification and .accounts)."""

    lock_rules: LockRules

    def verify(
        self,
        loan_ref: str,
        date_of_birth: date,
        *,
        vouched: bool = False,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> VerificationOutcome: ...

    def record_conversation_lock(
        self, locked_until: datetime, *, conversation_id: str | None = None, channel: str | None = None
    ) -> None: ...

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
    vouched: bool,
    failures_so_far: int,
    now: datetime,
    conversation_id: str | None = None,
    channel: str | None = None,
) -> Verification:
    """One attempt: the account when the date of birth matches, else how many
    tries are left or until when the conversation is locked out. The answer
    depends only on the typed reference's counter and the conversation's count,
    never on whether a loan has that reference.

    `vouched`: the channel vouches for this very loan (bot.domain.identity), so
    the attempt counts on the vouched path, which strangers cannot lock.
    """
    outcome = book.verify(loan_ref, date_of_birth, vouched=vouched, conversation_id=conversation_id, channel=channel)
    if outcome.status == "verified":
        return Verification(book.account(loan_ref))
    verdict = after_failed_attempt(outcome, failures_so_far, now, book.lock_rules)
    if verdict.locked_until is not None and verdict.conversation_locked(outcome):
        book.record_conversation_lock(verdict.locked_until, conversation_id=conversation_id, channel=channel)
    return Verification(None, verdict.locked_until, verdict.attempts_left, verdict.failures)
