"""Signed identities from the channels: only ours count, and only while current."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from bot.domain.identity import (
    ChannelIdentity,
    InvalidIdentity,
    another_channels_conversation,
    mint_channel_identity,
    read_channel_identity,
    read_widget_token,
    widget_token,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SECRET = "a-test-secret-of-at-least-32-bytes!!"


def test_a_widget_token_names_its_loan():
    token = widget_token("LN-10001", SECRET, now=NOW)
    assert read_widget_token(token, SECRET, now=NOW + timedelta(minutes=59)) == "LN-10001"


@pytest.mark.parametrize(
    "token",
    [
        widget_token("LN-10001", "another-secret-of-at-least-32-bytes!", now=NOW),  # forged
        jwt.encode({"loan_ref": "LN-10001", "exp": int(NOW.timestamp()) + 60}, SECRET, algorithm="HS512"),
        jwt.encode({"loan_ref": "LN-10001"}, SECRET, algorithm="HS256"),  # no expiry
        jwt.encode({"exp": int(NOW.timestamp()) + 60}, SECRET, algorithm="HS256"),  # no loan
        jwt.encode({"loan_ref": 12345, "exp": int(NOW.timestamp()) + 60}, SECRET, algorithm="HS256"),
        "not.a.token",
        "",
    ],
)
def test_bad_widget_tokens_are_refused(token):
    with pytest.raises(InvalidIdentity):
        read_widget_token(token, SECRET, now=NOW)


def test_an_expired_widget_token_is_refused():
    token = widget_token("LN-10001", SECRET, now=NOW)
    with pytest.raises(InvalidIdentity):
        read_widget_token(token, SECRET, now=NOW + timedelta(hours=1))


def test_a_channel_identity_round_trips_and_expires():
    identity = ChannelIdentity("twilio", "phone", "+447700900001")
    token = mint_channel_identity(identity, SECRET, now=NOW, conversation_id="+447700900001")
    assert (
        read_channel_identity(token, SECRET, now=NOW + timedelta(minutes=5), conversation_id="+447700900001")
        == identity
    )
    with pytest.raises(InvalidIdentity):
        read_channel_identity(token, SECRET, now=NOW + timedelta(minutes=11), conversation_id="+447700900001")


def test_a_channel_identity_works_only_in_its_own_conversation():
    token = mint_channel_identity(
        ChannelIdentity("twilio", "phone", "+447700900001"), SECRET, now=NOW, conversation_id="+447700900001"
    )
    with pytest.raises(InvalidIdentity):
        read_channel_identity(token, SECRET, now=NOW, conversation_id="someone-else")


@pytest.mark.parametrize("token", [None, 42, {"kind": "phone"}, "x" * 5000, "a.b.c"])
def test_anything_else_is_not_an_identity(token):
    with pytest.raises(InvalidIdentity):
        read_channel_identity(token, SECRET, now=NOW, conversation_id="c")


def test_a_widget_token_is_not_a_channel_identity():
    with pytest.raises(InvalidIdentity):
        read_channel_identity(widget_token("LN-10001", SECRET, now=NOW), SECRET, now=NOW, conversation_id="c")


@pytest.mark.parametrize(
    "exp",
    ["tomorrow", "1e12", [1], {"at": 1}, None, True, float("nan"), float("inf"), -float("inf")],
    ids=["text", "numeric-text", "list", "object", "null", "true", "nan", "inf", "-inf"],
)
def test_a_signed_token_whose_expiry_is_not_a_number_is_refused_not_a_crash(exp):
    """Issue 12: a non-numeric `exp` in a correctly signed token crashed the socket's connect handler."""
    widget = jwt.encode({"loan_ref": "LN-10001", "exp": exp}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidIdentity):
        read_widget_token(widget, SECRET, now=NOW)
    identity = jwt.encode(
        {
            "purpose": "channel_identity",
            "conversation": "c",
            "kind": "phone",
            "channel": "twilio",
            "value": "+4477",
            "exp": exp,
        },
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(InvalidIdentity):
        read_channel_identity(identity, SECRET, now=NOW, conversation_id="c")


def test_expiry_may_be_a_float_or_a_huge_integer():
    later = NOW.timestamp() + 60.5
    assert read_widget_token(jwt.encode({"loan_ref": "LN-1", "exp": later}, SECRET), SECRET, now=NOW) == "LN-1"
    assert read_widget_token(jwt.encode({"loan_ref": "LN-1", "exp": 10**400}, SECRET), SECRET, now=NOW) == "LN-1"
    with pytest.raises(InvalidIdentity):
        read_widget_token(jwt.encode({"loan_ref": "LN-1", "exp": -(10**400)}, SECRET), SECRET, now=NOW)


@pytest.mark.parametrize(
    "conversation_id",
    [
        "web-0123456789abcdef0123456789abcdef",  # a widget conversation
        "web-anon-0123456789abcdef0123456789abcdef",
        "WEB-anything",
        " web-0123",
        "+447700900001",  # SMS
        "whatsapp:+447700900001",
        "WhatsApp:+447700900001",
        "messenger:12345",
        "wechat:oWx-12_abcdefghijklmnopqrstu",  # a WeChat follower of the lender's Official Account
        "7000010003",  # a Telegram chat
        "-1001234567890",  # a Telegram group
    ],
)
def test_other_channels_conversation_ids_are_recognised(conversation_id):
    assert another_channels_conversation(conversation_id)


@pytest.mark.parametrize("conversation_id", ["me", "demo-1", "fuzz-rest", "bench-00ff12", "c-1f2e", "webster", "a+b"])
def test_ordinary_rest_senders_are_not(conversation_id):
    assert not another_channels_conversation(conversation_id)


def test_candidate_loan_by_phone_and_chat_id(store):
    from bot.ops.demo import seed_demo

    seed_demo(store, NOW.date())
    assert store.candidate_loan("phone", "+447700900001") == "LN-10001"
    assert store.candidate_loan("phone", "whatsapp:+447700900001") == "LN-10001"
    assert store.candidate_loan("telegram_chat_id", "7000010003") == "LN-10003"
    assert store.candidate_loan("wechat_openid", "odemo00000000000000000010007") == "LN-10007"
    assert store.candidate_loan("wechat_openid", "oNobody0000000000000000000000") is None
    assert store.loans_at_address("wechat_openid", "odemo00000000000000000010007") == ["LN-10007"]
    assert store.candidate_loan("loan_ref", "LN-10002") == "LN-10002"
    assert store.candidate_loan("phone", "+440000000000") is None
    assert store.candidate_loan("loan_ref", "LN-99999") is None
    assert store.candidate_loan("email", "x@example.com") is None
