"""The REST channel refuses sender ids shaped like another channel's conversation
(issue 12: `"sender": "web-<hmac>"`, a phone number or a Telegram chat id read and
wrote that conversation, verified state included)."""

from __future__ import annotations

import pytest

from channels.rest import body_problem


@pytest.mark.parametrize(
    "sender",
    [
        "web-0123456789abcdef0123456789abcdef",  # a logged-in borrower's widget conversation
        "web-anon-0123456789abcdef0123456789abcdef",  # an anonymous visitor's
        "Web-0123",
        "+447700900001",  # an SMS conversation
        "whatsapp:+447700900001",
        "7000010003",  # a Telegram chat
        "-1001234567890",  # a Telegram group
    ],
)
def test_another_channels_conversation_is_refused_and_nothing_is_echoed(sender):
    problem = body_problem({"sender": sender, "message": "how much do I owe?"})
    assert problem == "sender must not have the form of another channel's conversation id"
    assert sender not in problem


@pytest.mark.parametrize("sender", ["me", "demo-1", "bench-0f3a", "c-6f1e2d", "privacy-test-borrower"])
def test_ordinary_senders_are_accepted(sender):
    assert body_problem({"sender": sender, "message": "hi"}) is None
