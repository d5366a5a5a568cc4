"""Issue 12 §2 against the real servers: the replies never tell whether a loan
exists, and strangers guessing over an anonymous channel (the REST channel) lock
only that path, not the borrower texting from the phone number on file."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.test_messaging import DOB, TextChannel, new_phone

pytestmark = pytest.mark.e2e


def fresh_attempt(servers, loan_ref: str, typed: str) -> str:
    """One guess from a new conversation, as a guesser with new sender ids would."""
    who = f"e2e-guess-{uuid.uuid4().hex[:12]}"
    servers.say(who, "hi")
    servers.say(who, loan_ref)
    return servers.say(who, typed)


def test_strangers_cannot_tell_a_real_loan_and_lock_only_the_anonymous_path(servers):
    phone = new_phone()
    real = servers.new_loan(phone=phone)
    unknown = f"LN-{uuid.uuid4().int % 10**7:07d}"  # no loan has it

    wrong = ("1 January 1970", "2 January 1970", "3 January 1970", DOB)
    real_replies = [fresh_attempt(servers, real, typed) for typed in wrong]
    unknown_replies = [fresh_attempt(servers, unknown, typed) for typed in wrong]

    def same_minute(text: str) -> str:  # the two locks were set seconds apart
        return re.sub(r"\d{1,2}:\d{2}", "HH:MM", text)

    assert [same_minute(r) for r in real_replies] == [same_minute(r) for r in unknown_replies]
    assert "2 more attempt(s)" in real_replies[0] and "1 more attempt(s)" in real_replies[1]
    assert "can't continue checking these details" in real_replies[2]
    # even the right date of birth is refused on the anonymous path now
    assert "can't continue checking these details" in real_replies[3] and "verified" not in real_replies[3]

    # the borrower texting from their own phone is not locked out
    sms = TextChannel(servers, "twilio", phone)
    assert "date of birth" in sms.say("hi")
    assert "you're verified" in sms.say(DOB)

    events = servers.store.audit_events(real)
    locks = [e for e in events if e["event_type"] == "verification_locked"]
    assert [e["details"]["path"] for e in locks] == ["anonymous"]
    passed = [e for e in events if e["event_type"] == "verification_passed"]
    assert [e["details"]["path"] for e in passed] == ["vouched"]
