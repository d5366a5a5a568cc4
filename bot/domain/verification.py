"""Verifying a borrower: the date of birth on file, and throttling guesses.

Failed attempts are counted in two places, and the stricter count wins:

- **per typed reference and path** (kept in the loan store): the counter is
  keyed by a keyed hash of the reference as typed, whether or not a loan has
  it, so a real reference and an unknown one get the same replies, attempt
  for attempt, lock included; and it holds across conversations, senders and
  channels, so guessing a date of birth from fresh conversations is throttled.
  A lock doubles each time the same counter locks again (up to the longest
  lock), and a counter quiet for as long as the longest lock starts afresh.
  There are two paths per reference: *vouched*, when the channel itself vouches
  for the loan (the host app's signed token, the phone number or Telegram chat
  on file), and *anonymous* otherwise. Strangers' guesses on an anonymous
  channel lock only the anonymous path, never the borrower's own channels.
- **per conversation**: one conversation never gets more tries than the policy
  allows, whichever references it types.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.accounts import VerificationOutcome

ANONYMOUS = "anonymous"
VOUCHED = "vouched"
PATHS = (ANONYMOUS, VOUCHED)


@dataclass(frozen=True)
class LockRules:
    """How many tries, and for how long a counter is locked after them."""

    max_attempts: int = 3
    lock_minutes: int = 30  # the first lock
    max_lock_minutes: int = 24 * 60  # successive locks double up to this

    def lock_length(self, earlier_locks: int) -> timedelta:
        """The lock after `earlier_locks` earlier locks of the same counter."""
        longest = max(self.max_lock_minutes, self.lock_minutes)
        return timedelta(minutes=min(self.lock_minutes * 2 ** min(earlier_locks, 32), longest))

    @property
    def forget_after(self) -> timedelta:
        """A counter with no failure and no lock for this long starts afresh."""
        return timedelta(minutes=max(self.max_lock_minutes, self.lock_minutes))


def attempt_key(secret: str, path: str, loan_ref: str) -> str:
    """The counter's key: HMAC-SHA256 of the path and the normalised reference as
    typed, so the store never keeps a typed reference in clear (a reference is
    short and guessable: a plain hash would not hide it)."""
    if path not in PATHS:
        raise ValueError(f"unknown verification path {path!r}")
    message = f"verification-attempts\n{path}\n{loan_ref.strip().upper()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AttemptState:
    """What the loan store keeps about one counter (a typed reference on one path)."""

    failures: int = 0  # since the last lock or success
    locks: int = 0  # successive locks, for the back-off
    locked_until: datetime | None = None
    last_failure_at: datetime | None = None

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def stale_at(self, now: datetime, rules: LockRules) -> bool:
        quiet_since = max((t for t in (self.last_failure_at, self.locked_until) if t is not None), default=None)
        return quiet_since is not None and now - quiet_since >= rules.forget_after


def check_date_of_birth(
    state: AttemptState, matches: bool, now: datetime, rules: LockRules
) -> tuple[VerificationOutcome, AttemptState]:
    """The outcome of one attempt and the counter's state after it.

    `matches` is False for a reference no loan has: the outcome is then exactly
    that of a wrong date of birth on a real loan.
    """
    if state.locked_at(now):
        return VerificationOutcome("locked", locked_until=state.locked_until), state
    if state.stale_at(now, rules):
        state = AttemptState()
    if matches:
        return VerificationOutcome("verified"), AttemptState()
    failures = state.failures + 1
    if failures >= rules.max_attempts:
        until = now + rules.lock_length(state.locks)
        locked = AttemptState(0, state.locks + 1, until, now)
        return VerificationOutcome("locked", locked_until=until), locked
    after = replace(state, failures=failures, locked_until=None, last_failure_at=now)
    return VerificationOutcome("mismatch", attempts_left=rules.max_attempts - failures), after


@dataclass(frozen=True)
class ConversationVerdict:
    """What the conversation does after an attempt that did not verify."""

    locked_until: datetime | None  # set: stop asking until then
    attempts_left: int
    failures: int  # in this conversation, this attempt included

    def conversation_locked(self, outcome: VerificationOutcome) -> bool:
        """The conversation's own count locked it (the reference's counter did not)."""
        return self.locked_until is not None and outcome.status != "locked"


def after_failed_attempt(
    outcome: VerificationOutcome, failures_before: int, now: datetime, rules: LockRules
) -> ConversationVerdict:
    """Combine the reference's outcome with the conversation's own count: the stricter wins."""
    failures = failures_before + 1
    if outcome.status == "locked" or failures >= rules.max_attempts:
        until = outcome.locked_until or now + timedelta(minutes=rules.lock_minutes)
        return ConversationVerdict(until, 0, failures)
    attempts_left = min(rules.max_attempts - failures, outcome.attempts_left)
    return ConversationVerdict(None, attempts_left, failures)
