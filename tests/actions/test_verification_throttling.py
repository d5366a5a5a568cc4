"""Issue 12 §2: nobody can tell from the replies whether a loan exists, strangers
cannot lock a borrower out of their own channels, and guessing a date of birth
from many conversations is throttled.

Each attempt runs the verification form's step (and, once locked, the step that
explains the lock) in a fresh conversation, as a guesser with new sender ids would.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from actions.account import ActionAccountSummary
from actions.verification import ValidateVerifyForm
from bot.bootstrap import services
from bot.domain.formatting import format_datetime
from bot.domain.identity import METADATA_KEY, ChannelIdentity, mint_channel_identity
from tests.actions.support import run, slots_of, tracker, validate

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
RIGHT = "12 March 1985"  # LN-10001's date of birth
WRONG = "1 January 1980"


@pytest.fixture
def clock(monkeypatch):
    """One clock for the actions and the store, moved by the tests."""

    class Clock:
        now = NOW

    monkeypatch.setattr("bot.adapters.store.rows.utcnow", lambda: Clock.now)
    monkeypatch.setattr("actions.verification.utcnow", lambda: Clock.now)
    return Clock


def vouched_for(trk, loan_ref: str):
    """The widget connector vouches for `loan_ref` (a signed host-app login)."""
    token = mint_channel_identity(
        ChannelIdentity("web", "loan_ref", loan_ref),
        services().settings.channel_identity_secret,
        now=datetime.now(timezone.utc),
        conversation_id=trk.sender_id,
    )
    trk.latest_message["metadata"] = {METADATA_KEY: token}
    return trk


def attempt(
    loan_ref: str, typed: str, sender: str, *, vouched: bool = False, failures: int = 0, language: str = "en"
) -> dict:
    """One date-of-birth answer: what the borrower reads and the slots set."""
    slots = {"loan_ref": loan_ref, "verification_failures": failures, "language": language}
    trk = tracker(slots, intent="inform", text=typed, sender=sender)
    if vouched:
        vouched_for(trk, loan_ref)
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", typed, trk)
    said = list(dispatcher.messages)
    if result.get("verification_locked"):
        # the form ends; action_account_summary explains the lock
        after = tracker({**result, "loan_ref": loan_ref, "language": language}, sender=sender)
        summary, events = run(ActionAccountSummary(), after)
        said += summary.messages
        assert slots_of(events) == {}
    return {"said": said, "slots": result}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_real_loan_and_an_unknown_reference_get_identical_replies_at_every_attempt(loans, clock, language):
    """Fresh conversations, a wrong date of birth on LN-10001 and anything on
    LN-99999 (no such loan): the same replies at attempts 1, 2, 3 (the lock) and 4."""

    def replies(loan_ref: str) -> list[dict]:
        return [attempt(loan_ref, WRONG, f"{loan_ref}-fresh-{i}", language=language) for i in range(4)]

    real, unknown = replies("LN-10001"), replies("LN-99999")
    assert real == unknown
    said = [[(m["response"], m.get("attempts_left"), m.get("locked_until")) for m in r["said"]] for r in real]
    lock_time = format_datetime(NOW + timedelta(minutes=30), "Europe/London", language)
    assert said[0] == [("utter_verification_failed", 2, None)]
    assert said[1] == [("utter_verification_failed", 1, None)]
    assert said[2] == said[3] == [("utter_verification_locked", None, lock_time)]
    # a wrong date of birth and an unknown reference are audited apart, for the team only
    reasons = [e["details"].get("reason") for e in loans.audit_events() if e["event_type"] == "verification_failed"]
    assert reasons == ["date_of_birth_mismatch"] * 2 + ["unknown_loan"] * 2


def test_anonymous_guesses_do_not_lock_out_the_borrower_on_a_channel_that_vouches_for_them(loans, clock):
    for i in range(9):  # three locks' worth of strangers' guesses
        attempt("LN-10001", WRONG, f"stranger-{i}")
        clock.now += timedelta(seconds=1)
    # an anonymous conversation is locked out, even with the right date ...
    assert attempt("LN-10001", RIGHT, "anonymous-borrower")["slots"]["verification_locked"] is True
    # ... the borrower logged in through the lender's app (or writing from their phone) is not
    result = attempt("LN-10001", RIGHT, "app-borrower", vouched=True)
    assert result["slots"]["verified"] is True
    assert [m["response"] for m in result["said"]] == ["utter_verified"]
    assert loans.audit_events("LN-10001")[-1]["details"]["path"] == "vouched"


def test_a_vouched_channel_still_has_its_own_limit(loans, clock):
    for i, expected in enumerate(([("utter_verification_failed", 2)], [("utter_verification_failed", 1)])):
        said = attempt("LN-10001", WRONG, f"phone-{i}", vouched=True)["said"]
        assert [(m["response"], m.get("attempts_left")) for m in said] == expected
    assert attempt("LN-10001", WRONG, "phone-2", vouched=True)["slots"]["verification_locked"] is True
    assert attempt("LN-10001", RIGHT, "phone-3", vouched=True)["slots"]["verification_locked"] is True


def test_brute_force_across_many_senders_is_throttled(loans, clock):
    """A guesser with a new conversation for every guess, a different date every
    five minutes for a day: three guesses per lock, locks that double, and even
    the right date refused while locked."""
    checked, refused, locks = 0, 0, []
    for i in range(24 * 12):
        typed = RIGHT if i == 3 else f"{1 + i % 28} February {1950 + i // 28}"
        result = attempt("LN-10001", typed, f"bot-{i}")
        assert not result["slots"].get("verified"), f"guess {i} verified"
        said = [m["response"] for m in result["said"]]
        if said == ["utter_verification_failed"]:
            checked += 1
        elif loans.audit_events()[-1]["event_type"] == "verification_locked":
            checked += 1
            locks.append(datetime.fromisoformat(result["slots"]["locked_until"]) - clock.now)
        else:
            refused += 1
        clock.now += timedelta(minutes=5)
    assert locks == [timedelta(minutes=30 * 2**n) for n in range(len(locks))]
    assert checked == 3 * len(locks) <= 18 and refused >= 24 * 12 - 18
    lock_events = [e for e in loans.audit_events("LN-10001") if e["event_type"] == "verification_locked"]
    assert [e["details"]["lock_number"] for e in lock_events] == list(range(1, len(locks) + 1))
    assert {e["details"]["path"] for e in lock_events} == {"anonymous"}


def test_a_conversation_trying_many_references_is_locked_and_it_is_audited(loans, clock):
    for i, ref in enumerate(("LN-10002", "LN-55555")):
        assert attempt(ref, WRONG, "one-conversation", failures=i)["slots"]["verification_failures"] == i + 1
    result = attempt("LN-10003", WRONG, "one-conversation", failures=2)
    assert result["slots"]["verification_locked"] is True
    assert [m["response"] for m in result["said"]] == ["utter_verification_locked"]
    last = loans.audit_events()[-1]
    assert (last["event_type"], last["conversation_id"]) == ("verification_locked", "one-conversation")
    assert last["details"]["reason"] == "conversation_attempts"
