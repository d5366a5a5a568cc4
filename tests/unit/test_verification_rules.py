"""The lockout rules of verification, without a database (bot.domain.verification)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.domain.accounts import VerificationOutcome
from bot.domain.verification import LoanLockState, after_failed_attempt, check_date_of_birth

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
RULES = {"max_attempts": 3, "lock_minutes": 30}


def test_a_match_verifies_and_forgets_earlier_failures():
    outcome, after = check_date_of_birth(LoanLockState(2, None), True, NOW, **RULES)
    assert outcome.status == "verified" and after == LoanLockState(0, None)


def test_the_third_failure_locks_the_loan_for_the_policy_minutes():
    state = LoanLockState(0, None)
    for attempts_left in (2, 1):
        outcome, state = check_date_of_birth(state, False, NOW, **RULES)
        assert (outcome.status, outcome.attempts_left) == ("mismatch", attempts_left)
    outcome, state = check_date_of_birth(state, False, NOW, **RULES)
    assert outcome.status == "locked" and outcome.locked_until == NOW + timedelta(minutes=30)
    assert state == LoanLockState(0, NOW + timedelta(minutes=30))


def test_a_locked_loan_refuses_even_the_right_date_until_the_lock_ends():
    locked = LoanLockState(0, NOW + timedelta(minutes=5))
    outcome, after = check_date_of_birth(locked, True, NOW, **RULES)
    assert outcome.status == "locked" and after == locked
    outcome, _ = check_date_of_birth(locked, True, NOW + timedelta(minutes=6), **RULES)
    assert outcome.status == "verified"


def test_the_conversation_count_is_the_stricter_one():
    # the loan allows two more tries, but this conversation has already failed twice
    verdict = after_failed_attempt(VerificationOutcome("mismatch", attempts_left=2), 2, NOW, **RULES)
    assert verdict.locked_until == NOW + timedelta(minutes=30) and verdict.failures == 3
    # the loan's count is the stricter: one try left
    verdict = after_failed_attempt(VerificationOutcome("mismatch", attempts_left=1), 0, NOW, **RULES)
    assert verdict.locked_until is None and verdict.attempts_left == 1


def test_an_unknown_loan_counts_like_a_wrong_date_and_reveals_nothing_more():
    unknown = after_failed_attempt(VerificationOutcome("unknown_loan"), 0, NOW, **RULES)
    wrong = after_failed_attempt(VerificationOutcome("mismatch", attempts_left=2), 0, NOW, **RULES)
    assert unknown == wrong
