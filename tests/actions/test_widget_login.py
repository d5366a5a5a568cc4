"""A widget login (a signed channel identity naming a loan reference) is the first
factor whether or not the loan is on file, so nothing tells which loans exist
(issue 12: the demo log-in hands out a token for any reference)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from actions.session import ActionSessionStart
from actions.verification import ValidateVerifyForm
from bot.bootstrap import services
from bot.domain.identity import METADATA_KEY, ChannelIdentity, mint_channel_identity
from tests.actions.support import names, run, slots_of, tracker, validate

SENDER = "web-0123456789abcdef0123456789abcdef"


def logged_in(loan_ref: str, **kwargs):
    token = mint_channel_identity(
        ChannelIdentity("web", "loan_ref", loan_ref),
        services().settings.channel_identity_secret,
        now=datetime.now(timezone.utc),
        conversation_id=SENDER,
    )
    trk = tracker(channel="socketio", sender=SENDER, **kwargs)
    trk.latest_message["metadata"] = {METADATA_KEY: token}
    return trk


@pytest.mark.parametrize("loan_ref", ["LN-10001", "LN-99999"])
def test_a_widget_login_fills_the_loan_reference_whether_or_not_the_loan_exists(loans, loan_ref):
    dispatcher, events = run(ActionSessionStart(), logged_in(loan_ref))
    assert names(dispatcher) == ["utter_intro"]
    assert slots_of(events)["loan_ref"] == loan_ref  # the next question is the date of birth either way


def test_an_unknown_loan_fails_like_a_wrong_date_of_birth(loans):
    wrong = validate(
        ValidateVerifyForm(), "date_of_birth", "1 January 1950", logged_in("LN-10001", slots={"loan_ref": "LN-10001"})
    )
    unknown = validate(
        ValidateVerifyForm(), "date_of_birth", "1 January 1950", logged_in("LN-99999", slots={"loan_ref": "LN-99999"})
    )
    assert names(wrong[0]) == names(unknown[0]) == ["utter_verification_failed"]
    assert wrong[0].messages == unknown[0].messages
    assert not wrong[1].get("verified") and not unknown[1].get("verified")
