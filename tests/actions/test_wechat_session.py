"""A WeChat conversation starts in Chinese (WECHAT_LANGUAGE), and the follower's
OpenID on file is the first verification factor (issue 16)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSessionStart
from bot.bootstrap import services
from bot.domain.identity import METADATA_KEY, ChannelIdentity, mint_channel_identity
from tests.actions.support import DOMAIN, names, run, slots_of, tracker

OPENID = "odemo00000000000000000010007"  # LN-10007's in the demo portfolio
SENDER = "wechat:" + OPENID


def on_wechat(openid: str = OPENID, **kwargs):
    token = mint_channel_identity(
        ChannelIdentity("wechat", "wechat_openid", openid),
        services().settings.channel_identity_secret,
        now=datetime.now(timezone.utc),
        conversation_id="wechat:" + openid,
    )
    trk = tracker(channel="wechat", sender="wechat:" + openid, **kwargs)
    trk.latest_message["metadata"] = {METADATA_KEY: token}
    return trk


def start(trk) -> tuple[CollectingDispatcher, list]:
    """Run the session start (its intro is rendered from the domain: see actions/session.py)."""
    dispatcher = CollectingDispatcher()
    return dispatcher, asyncio.run(ActionSessionStart().run(dispatcher, trk, DOMAIN))


def test_a_wechat_conversation_starts_in_chinese_with_the_openid_as_first_factor(loans):
    dispatcher, events = start(on_wechat())
    slots = slots_of(events)
    assert slots["language"] == "zh" and slots["loan_ref"] == "LN-10007"
    [intro] = dispatcher.messages
    # utter_intro's Chinese variation: Rasa would render the conversation's language so far (English)
    assert intro["text"] == "您好，我是Acme Lending的自动客服助手。本次对话可能会被记录。"


def test_an_unknown_openid_is_asked_the_loan_reference_in_chinese(loans):
    _dispatcher, events = start(on_wechat("oUnknown00000000000000000000"))
    assert slots_of(events)["language"] == "zh" and "loan_ref" not in slots_of(events)


def test_a_wechat_conversation_already_in_chinese_gets_the_response_itself(loans):
    dispatcher, _events = run(ActionSessionStart(), on_wechat(slots={"language": "zh"}))
    assert names(dispatcher) == ["utter_intro"]


def test_other_channels_start_in_the_default_language(loans):
    dispatcher, events = run(ActionSessionStart(), tracker(channel="rest", sender="me"))
    assert names(dispatcher) == ["utter_intro"] and slots_of(events)["language"] == "en"
