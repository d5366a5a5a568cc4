"""Verifying a borrower: the date of birth on file, and a lockout after repeated failures.

Two counts apply: the loan's (kept in the loan store, so a lockout holds across
conversations and channels) and the conversation's (so one conversation never
gets more tries than the policy allows, whatever the loan's count says).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.accounts import VerificationOutcome


@dataclass(frozen=True)
class LoanLockState:
    """What the loan store keeps about failed verifications of one loan."""

    failures: int
    locked_until: datetime | None


def check_date_of_birth(
    state: LoanLockState, matches: bool, now: datetime, *, max_attempts: int, lock_minutes: int
) -> tuple[VerificationOutcome, LoanLockState]:
    """The outcome of one attempt and the loan's state after it."""
    if state.locked_until is not None and state.locked_until > now:
        return VerificationOutcome("locked", locked_until=state.locked_until), state
    if matches:
        return VerificationOutcome("verified"), LoanLockState(0, None)
    failures = state.failures + 1
    if failures >= max_attempts:
        until = now + timedelta(minutes=lock_minutes)
        return VerificationOutcome("locked", locked_until=until), LoanLockState(0, until)
    return VerificationOutcome("mismatch", attempts_left=max_attempts - failures), LoanLockState(failures, None)


@dataclass(frozen=True)
class ConversationVerdict:
    """What the conversation does after an attempt that did not verify."""

    locked_until: datetime | None  # set: stop asking until then
    attempts_left: int
    failures: int  # in this conversation, this attempt included


def after_failed_attempt(
    outcome: VerificationOutcome, failures_before: int, now: datetime, *, max_attempts: int, lock_minutes: int
) -> ConversationVerdict:
    """Combine the loan's outcome with the conversation's own count: the
    stricter wins (an unknown loan counts like a wrong date of birth)."""
    failures = failures_before + 1
    if outcome.status == "locked" or failures >= max_attempts:
        until = outcome.locked_until or now + timedelta(minutes=lock_minutes)
        return ConversationVerdict(until, 0, failures)
    attempts_left = max_attempts - failures
    if outcome.status == "mismatch":
        attempts_left = min(attempts_left, outcome.attempts_left)
    return ConversationVerdict(None, attempts_left, failures)
