"""The throttling rules of verification, without a database (bot.domain.verification)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.accounts import VerificationOutcome
from bot.domain.verification import (
    ANONYMOUS,
    VOUCHED,
    AttemptState,
    LockRules,
    after_failed_attempt,
    attempt_key,
    check_date_of_birth,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
RULES = LockRules(max_attempts=3, lock_minutes=30, max_lock_minutes=24 * 60)


def fail_until_locked(state: AttemptState, now: datetime) -> tuple[VerificationOutcome, AttemptState]:
    outcome = VerificationOutcome("mismatch")
    while outcome.status != "locked":
        outcome, state = check_date_of_birth(state, False, now, RULES)
    return outcome, state


def test_a_match_verifies_and_forgets_earlier_failures_and_locks():
    outcome, after = check_date_of_birth(AttemptState(2, 3, None, NOW), True, NOW, RULES)
    assert outcome.status == "verified" and after == AttemptState()


def test_the_third_failure_locks_the_counter_for_the_policy_minutes():
    state = AttemptState()
    for attempts_left in (2, 1):
        outcome, state = check_date_of_birth(state, False, NOW, RULES)
        assert (outcome.status, outcome.attempts_left) == ("mismatch", attempts_left)
    outcome, state = check_date_of_birth(state, False, NOW, RULES)
    assert outcome.status == "locked" and outcome.locked_until == NOW + timedelta(minutes=30)
    assert state == AttemptState(0, 1, NOW + timedelta(minutes=30), NOW)


def test_a_locked_counter_refuses_even_the_right_date_until_the_lock_ends():
    locked = AttemptState(0, 1, NOW + timedelta(minutes=5), NOW)
    outcome, after = check_date_of_birth(locked, True, NOW, RULES)
    assert outcome.status == "locked" and after == locked
    outcome, _ = check_date_of_birth(locked, True, NOW + timedelta(minutes=6), RULES)
    assert outcome.status == "verified"


def test_each_successive_lock_doubles_up_to_the_longest():
    state, now, lengths = AttemptState(), NOW, []
    for _ in range(8):
        outcome, state = fail_until_locked(state, now)
        assert outcome.locked_until is not None
        lengths.append(outcome.locked_until - now)
        now = outcome.locked_until  # the guesser comes back the moment the lock ends
    assert [int(length.total_seconds() // 60) for length in lengths] == [30, 60, 120, 240, 480, 960, 1440, 1440]


def test_brute_force_gets_a_handful_of_guesses_a_day():
    """A guesser who returns the moment each lock ends: after the first day, three
    guesses a day (a date of birth has some 30,000 plausible values)."""
    state, now, guesses = AttemptState(), NOW, 0
    while now < NOW + timedelta(days=30):
        outcome, state = check_date_of_birth(state, False, now, RULES)
        guesses += 1
        if outcome.locked_until is not None:
            now = outcome.locked_until
    assert guesses <= 3 * 7 + 3 * 30


def test_a_quiet_counter_starts_afresh():
    """No failure and no lock for the longest lock's length: back to 3 tries and a 30-minute lock."""
    _, state = fail_until_locked(AttemptState(), NOW)
    _, state = fail_until_locked(state, NOW + timedelta(hours=1))
    assert state.locks == 2
    later = state.locked_until + RULES.forget_after  # type: ignore[operator]
    outcome, fresh = check_date_of_birth(state, False, later, RULES)
    assert (outcome.status, outcome.attempts_left) == ("mismatch", 2)
    assert fresh.locks == 0
    # but a counter still within that time keeps its back-off
    _, state = check_date_of_birth(state, False, state.locked_until, RULES)  # type: ignore[arg-type]
    assert state.locks == 2


def test_the_conversation_count_is_the_stricter_one():
    # the reference allows two more tries, but this conversation has already failed twice
    verdict = after_failed_attempt(VerificationOutcome("mismatch", attempts_left=2), 2, NOW, RULES)
    assert verdict.locked_until == NOW + timedelta(minutes=30) and verdict.failures == 3
    assert verdict.conversation_locked(VerificationOutcome("mismatch", attempts_left=2))
    # the reference's count is the stricter: one try left
    verdict = after_failed_attempt(VerificationOutcome("mismatch", attempts_left=1), 0, NOW, RULES)
    assert verdict.locked_until is None and verdict.attempts_left == 1


def test_a_locked_reference_locks_the_conversation_until_the_reference_lock_ends():
    until = NOW + timedelta(hours=2)
    outcome = VerificationOutcome("locked", locked_until=until)
    verdict = after_failed_attempt(outcome, 0, NOW, RULES)
    assert verdict.locked_until == until and not verdict.conversation_locked(outcome)


def test_counter_keys_hide_the_reference_and_separate_paths_and_secrets():
    key = attempt_key("secret", ANONYMOUS, "LN-10001")
    assert len(key) == 64 and "10001" not in key
    assert key == attempt_key("secret", ANONYMOUS, " ln-10001 ")  # the reference as normalised
    assert key != attempt_key("secret", VOUCHED, "LN-10001")
    assert key != attempt_key("other secret", ANONYMOUS, "LN-10001")
    assert key != attempt_key("secret", ANONYMOUS, "LN-10002")
    with pytest.raises(ValueError):
        attempt_key("secret", "phone", "LN-10001")
