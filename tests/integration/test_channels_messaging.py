"""Unit tests for the SMS, WhatsApp and Telegram connectors: webhook checks,
numbered options on text channels and reading numbered replies.

Whole conversations over these channels are in tests/e2e/test_messaging.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.request import RequestParameters
from twilio.request_validator import RequestValidator

from bot.bootstrap import services
from bot.domain.clock import utcnow
from bot.domain.formatting import format_choices
from bot.domain.identity import METADATA_KEY, InvalidIdentity, read_channel_identity
from channels.telegram import Malformed, TelegramBotInput, callback_data, incoming, read_update
from channels.text_options import (
    chosen_number,
    identity_metadata,
    numbered_options,
    pending_buttons,
    reply_line,
    resolve_reply,
)
from channels.twilio import TwilioSMSInput, TwilioTextOutput, TwilioWhatsAppInput

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "unit-twilio-auth-token"
BASE = "https://bot.example.com"
BUTTONS = [
    {"title": "Pay £250.00 now", "payload": "/choose_pay_now"},
    {"title": "6 monthly payments of £41.66", "payload": '/choose_plan{"plan_months": "6"}'},
    {"title": "Pay by a date", "payload": "/choose_promise_to_pay"},
]


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def agent_for(domain, tracker=None):
    """What the connectors use of Rasa's Agent: the domain, its NLG and the tracker store."""

    class Store:
        async def retrieve(self, sender_id):
            return tracker

    return SimpleNamespace(
        domain=domain, nlg=TemplatedNaturalLanguageGenerator(domain.responses), tracker_store=Store()
    )


def twilio_request(params: dict, *, path="/webhooks/twilio/webhook", signature: str | None = "sign", query=""):
    form = RequestParameters({k: [v] for k, v in params.items()})
    headers = {}
    if signature == "sign":
        url = BASE + path + (f"?{query}" if query else "")
        signature = RequestValidator(TOKEN).compute_signature(url, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return SimpleNamespace(form=form, headers=headers, path=path, query_string=query)


def sms_input(token=TOKEN, cls=TwilioSMSInput):
    return cls(
        account_sid="AC123",
        auth_token=token,
        number="+15005550006",
        public_base_url=BASE + "/",
        api_base_url="http://fake",
    )


SMS = {"From": "+447700900001", "To": "+15005550006", "Body": "hello", "MessageSid": "SM1", "AccountSid": "AC123"}


# -- Twilio signatures --------------------------------------------------


def test_a_correctly_signed_twilio_webhook_is_accepted():
    assert sms_input().signature_ok(twilio_request(SMS))


def test_the_signature_covers_the_query_string():
    assert sms_input().signature_ok(twilio_request(SMS, query="a=1"))


@pytest.mark.parametrize(
    "request_",
    [
        twilio_request(SMS, signature=None),  # unsigned
        twilio_request(SMS, signature="bm90IGEgc2lnbmF0dXJl"),  # forged
        twilio_request(
            {**SMS, "Body": "changed"},
            signature=RequestValidator(TOKEN).compute_signature(BASE + "/webhooks/twilio/webhook", SMS),
        ),  # body changed after signing
        twilio_request(
            SMS, signature=RequestValidator("other-token").compute_signature(BASE + "/webhooks/twilio/webhook", SMS)
        ),  # another account's token
        twilio_request(
            SMS,
            path="/webhooks/whatsapp/webhook",
            signature=RequestValidator(TOKEN).compute_signature(BASE + "/webhooks/twilio/webhook", SMS),
        ),  # signed for another URL
    ],
    ids=["unsigned", "forged", "tampered", "other-token", "other-url"],
)
def test_bad_twilio_signatures_are_refused(request_):
    assert not sms_input().signature_ok(request_)


def test_without_an_auth_token_every_webhook_is_refused_and_it_is_logged_once(caplog):
    connector = sms_input(token="")
    with caplog.at_level("WARNING"):
        assert not connector.signature_ok(twilio_request(SMS))
        assert not connector.signature_ok(twilio_request(SMS))
    assert sum("TWILIO_AUTH_TOKEN is not set" in r.message for r in caplog.records) == 1


def test_refusals_log_no_personal_data(caplog):
    with caplog.at_level("WARNING"):
        sms_input().signature_ok(twilio_request(SMS, signature="bm90IGEgc2lnbmF0dXJl"))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "refused" in logged and "+447700900001" not in logged and "hello" not in logged


def test_connectors_load_from_empty_credentials(monkeypatch):
    for cls in (TwilioSMSInput, TwilioWhatsAppInput, TelegramBotInput):
        connector = cls.from_credentials(None)
        assert connector.name() in ("twilio", "whatsapp", "telegram")
        assert connector.blueprint(lambda message: None) is not None


def test_credentials_fill_from_settings(monkeypatch):
    settings = services().settings
    patched = SimpleNamespace(
        **{**settings.__dict__, "twilio_auth_token": "tok", "twilio_whatsapp_number": "+14155238886"}
    )
    monkeypatch.setattr("channels.twilio.services", lambda: SimpleNamespace(settings=patched))
    whatsapp = TwilioWhatsAppInput.from_credentials({})
    assert whatsapp.auth_token == "tok"
    assert whatsapp.number == "whatsapp:+14155238886"  # the prefix Twilio needs is added
    assert TwilioWhatsAppInput.from_credentials({"auth_token": "given"}).auth_token == "given"


def test_sender_must_fit_the_channel():
    assert sms_input().sender_ok("+447700900001")
    assert not sms_input().sender_ok("whatsapp:+447700900001")
    whatsapp = sms_input(cls=TwilioWhatsAppInput)
    assert whatsapp.sender_ok("whatsapp:+447700900001")
    assert not whatsapp.sender_ok("+447700900001") and not whatsapp.sender_ok("whatsapp:")


def test_the_identity_in_the_metadata_is_signed_for_the_action_server():
    metadata = identity_metadata("whatsapp", "phone", "whatsapp:+447700900001")
    secret = services().settings.channel_identity_secret
    me = "whatsapp:+447700900001"  # the sender is the conversation
    identity = read_channel_identity(metadata[METADATA_KEY], secret, now=utcnow(), conversation_id=me)
    assert (identity.channel, identity.kind, identity.value) == ("whatsapp", "phone", "whatsapp:+447700900001")
    with pytest.raises(InvalidIdentity):
        read_channel_identity(metadata[METADATA_KEY], "another-secret", now=utcnow(), conversation_id=me)
    with pytest.raises(InvalidIdentity):  # it is short-lived
        read_channel_identity(metadata[METADATA_KEY], secret, now=utcnow() + timedelta(hours=1), conversation_id=me)
    with pytest.raises(InvalidIdentity):  # and good for its own conversation only
        read_channel_identity(metadata[METADATA_KEY], secret, now=utcnow(), conversation_id="+447700900002")


# -- Telegram secret and updates ---------------------------------------


def telegram_request(secret):
    return SimpleNamespace(headers={} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret})


def telegram_input(secret="s3cret", token="123456:abc"):
    return TelegramBotInput(token=token, webhook_secret=secret, api_base_url="http://fake")


def test_telegram_secret_header():
    assert telegram_input().secret_ok(telegram_request("s3cret"))
    assert not telegram_input().secret_ok(telegram_request("wrong"))
    assert not telegram_input().secret_ok(telegram_request(None))
    assert not telegram_input(secret="").secret_ok(telegram_request(""))  # unconfigured: nothing passes
    assert not telegram_input(token="").secret_ok(telegram_request("s3cret"))


def test_telegram_without_a_token_has_no_output_but_loads():
    assert telegram_input(token="").get_output_channel() is None
    assert telegram_input(token="not a token").get_output_channel() is None


def update(**fields) -> bytes:
    return json.dumps({"update_id": 1, **fields}).encode()


CHAT = {"id": 42, "type": "private", "first_name": "Ann"}


def test_telegram_text_message_and_button_tap():
    chat, text, query = incoming(read_update(update(message={"message_id": 5, "date": 0, "chat": CHAT, "text": "hi"})))
    assert (chat.id, chat.type, text, query) == (42, "private", "hi", None)
    tap = update(
        callback_query={
            "id": "cb1",
            "from": {"id": 42, "is_bot": False, "first_name": "Ann"},
            "chat_instance": "x",
            "data": "/choose_pay_now",
            "message": {"message_id": 6, "date": 0, "chat": CHAT, "text": "Options"},
        }
    )
    chat, text, query = incoming(read_update(tap))
    assert (chat.id, text, query) == (42, "/choose_pay_now", "cb1")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"message": {}}',
        b'{"update_id": "x"}',
        b'{"update_id": 1, "message": "text"}',
        b'{"update_id": 1, "message": {"text": "hi"}}',
        b'{"update_id": 1, "message": {"text": "hi", "chat": {"id": "x"}}}',
        b'{"update_id": 1, "callback_query": {"data": "1"}}',
    ],
)
def test_malformed_telegram_bodies_are_refused(body):
    with pytest.raises(Malformed):
        incoming(read_update(body))


def test_telegram_updates_without_text_are_not_answered():
    sticker = update(message={"message_id": 5, "date": 0, "chat": CHAT, "sticker": {"file_id": "f"}})
    assert incoming(read_update(sticker)) is None
    edited = update(edited_message={"message_id": 5, "date": 0, "chat": CHAT, "text": "yes"})
    assert incoming(read_update(edited)) is None


def test_long_payloads_become_option_numbers_on_telegram():
    assert callback_data({"title": "t", "payload": "/choose_pay_now"}, 1) == "/choose_pay_now"
    long = {"title": "t", "payload": '/stop_contact{"opt_out_scope": "channel", "note": "' + "x" * 60 + '"}'}
    assert callback_data(long, 2) == "2"


# -- numbered options ---------------------------------------------------


def test_numbered_options_text():
    assert numbered_options("How would you like to sort this out?", BUTTONS, "Reply 1, 2 or 3.") == (
        "How would you like to sort this out?\n"
        "1. Pay £250.00 now\n"
        "2. 6 monthly payments of £41.66\n"
        "3. Pay by a date\n"
        "Reply 1, 2 or 3."
    )


def test_choices_are_joined_in_the_borrowers_language():
    assert format_choices(["1", "2", "3"], "en") == "1, 2 or 3"
    assert format_choices(["1", "2"], "en") == "1 or 2"
    assert format_choices(["1", "2", "3"], "zh") == "1、2或3"


def test_the_reply_line_comes_from_the_domain(domain):
    tracker = DialogueStateTracker.from_events("t", [], domain.slots)
    assert run(reply_line(agent_for(domain), tracker, "twilio", 3)) == "Reply 1, 2 or 3."
    assert run(reply_line(agent_for(domain), None, "twilio", 2)) == "Reply 1 or 2."
    tracker.update(SlotSet("language", "zh"))
    assert "1、2或3" in run(reply_line(agent_for(domain), tracker, "twilio", 3))
    assert run(reply_line(None, tracker, "twilio", 3)) is None  # no agent: options without the line


class FakeMessages:
    def __init__(self):
        self.sent = []

    async def create_async(self, **params):
        self.sent.append(params)


def test_sms_output_sends_buttons_as_numbered_options(domain):
    client = SimpleNamespace(messages=FakeMessages())
    output = TwilioTextOutput("twilio", client, "+15005550006", lambda: agent_for(domain))
    run(output.send_response("+447700900001", {"text": "How would you like to pay?", "buttons": BUTTONS}))
    run(output.send_response("+447700900001", {"text": "Thanks."}))
    assert client.messages.sent == [
        {
            "from_": "+15005550006",
            "to": "+447700900001",
            "body": (
                "How would you like to pay?\n1. Pay £250.00 now\n2. 6 monthly payments of £41.66\n"
                "3. Pay by a date\nReply 1, 2 or 3."
            ),
        },
        {"from_": "+15005550006", "to": "+447700900001", "body": "Thanks."},
    ]


# -- numbered replies ---------------------------------------------------


@pytest.mark.parametrize(
    "text, number",
    [
        ("2", 2),
        (" 2. ", 2),
        ("option 2", 2),
        ("Option 3", 3),
        ("2)", 2),
        ("#1", 1),
        ("no. 2", 2),
        ("12", 12),
        ("2 months", None),
        ("I can pay 2", None),
        ("", None),
        ("two", None),
        ("1985", None),
    ],
)
def test_chosen_number(text, number):
    assert chosen_number(text) == number


def conversation(domain, *events):
    return DialogueStateTracker.from_events("t", list(events), domain.slots)


def test_a_number_chooses_the_last_buttons_since_the_borrower_wrote(domain):
    tracker = conversation(
        domain,
        UserUttered("my hours were cut"),
        BotUttered("Options", data={"buttons": BUTTONS}),
        BotUttered("Or tell me what you can afford."),
        ActionExecuted("action_listen"),
    )
    buttons = pending_buttons(tracker)
    assert resolve_reply("2", buttons) == '/choose_plan{"plan_months": "6"}'
    assert resolve_reply("option 1", buttons) == "/choose_pay_now"
    assert resolve_reply("4", buttons) == "4"  # no such option: the text as typed
    assert resolve_reply("I can do 50 a month", buttons) == "I can do 50 a month"


def test_old_buttons_do_not_answer_a_new_question(domain):
    tracker = conversation(
        domain,
        BotUttered("Options", data={"buttons": BUTTONS}),
        UserUttered("I can do 50 a month"),
        BotUttered("When would you like the first payment?"),
    )
    assert pending_buttons(tracker) == []
    assert resolve_reply("3", pending_buttons(tracker)) == "3"
    assert pending_buttons(None) == []
