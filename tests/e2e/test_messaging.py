"""Whole conversations over SMS, WhatsApp and Telegram against the real servers.

Webhooks are posted the way the platforms post them (Twilio: a signed form;
Telegram: an Update with the secret header); what the assistant sends back is
captured by the platform fake (tests/e2e/platform_fake.py); the database is
checked after.
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.adapters import orm as models
from tests.e2e.conftest import TEST_SETTINGS

pytestmark = pytest.mark.e2e
DOB = "1 June 1980"
_numbers = itertools.count(100)


def new_phone() -> str:
    return f"+4477009{next(_numbers):05d}"


def post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def twilio_post(servers, channel: str, params: dict, *, signature: str | None = "sign") -> int:
    url = f"{servers.rasa_url}/webhooks/{channel}/webhook"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = RequestValidator(TEST_SETTINGS["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return post(url, urlencode(params).encode(), headers)


class TextChannel:
    """A borrower texting the assistant over SMS ("twilio") or WhatsApp."""

    def __init__(self, servers, channel: str, phone: str):
        self.servers, self.channel, self.phone = servers, channel, phone
        number = TEST_SETTINGS["TWILIO_SMS_NUMBER" if channel == "twilio" else "TWILIO_WHATSAPP_NUMBER"]
        self.address = phone if channel == "twilio" else f"whatsapp:{phone}"
        self.our_number = number
        self._seen = 0

    def say(self, text: str, *, message_sid: str | None = None) -> str:
        """Send one message; return everything the assistant texted back, joined.
        The same `message_sid` again is how Twilio retries a delivery."""
        params = {
            "MessageSid": message_sid or f"SM{next(_numbers):032d}",
            "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"],
            "From": self.address,
            "To": self.our_number,
            "Body": text,
            "NumMedia": "0",
        }
        assert twilio_post(self.servers, self.channel, params) == 200
        return "\n".join(self.new_texts())

    def new_texts(self) -> list[str]:
        sent = self.servers.platform.messages_to("twilio", self.address)
        new, self._seen = sent[self._seen :], len(sent)
        for message in new:
            assert message.params["From"] == self.our_number
        return [m.params["Body"] for m in new]


class TelegramChat:
    def __init__(self, servers, chat_id: str):
        self.servers, self.chat_id = servers, chat_id
        self._seen = 0
        self._update_id = next(_numbers) * 1000

    def _post(
        self, update: dict, secret: str | None = TEST_SETTINGS["TELEGRAM_WEBHOOK_SECRET"], repeat: bool = False
    ) -> int:
        """`repeat`: deliver the last update again, as Telegram retries one."""
        if not repeat:
            self._update_id += 1
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps({"update_id": self._update_id, **update}).encode()
        return post(f"{self.servers.rasa_url}/webhooks/telegram/webhook", body, headers)

    def _chat(self) -> dict:
        return {"id": int(self.chat_id), "type": "private", "first_name": "Test"}

    def say(self, text: str, **kw) -> int:
        return self._post(
            {
                "message": {
                    "message_id": self._update_id,
                    "date": 1767000000,
                    "chat": self._chat(),
                    "from": self._user(),
                    "text": text,
                }
            },
            **kw,
        )

    def tap(self, callback_data: str) -> int:
        return self._post(
            {
                "callback_query": {
                    "id": f"cb{self._update_id}",
                    "from": self._user(),
                    "chat_instance": "ci",
                    "data": callback_data,
                    "message": {"message_id": 1, "date": 1767000000, "chat": self._chat(), "text": "..."},
                }
            }
        )

    def _user(self) -> dict:
        return {"id": int(self.chat_id), "is_bot": False, "first_name": "Test"}

    def replies(self) -> list[dict]:
        """New sendMessage calls: {"text", "buttons": [(title, callback_data)]}."""
        sent = [
            s for s in self.servers.platform.messages_to("telegram", self.chat_id) if s.path.endswith("/sendMessage")
        ]
        new, self._seen = sent[self._seen :], len(sent)
        out = []
        for s in new:
            markup = json.loads(s.params.get("reply_markup") or "{}")
            buttons = [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]
            out.append({"text": s.params["text"], "buttons": buttons})
        return out


def option_number(text: str, pattern: str) -> str:
    """The number of the numbered option whose title matches `pattern`."""
    match = re.search(rf"^(\d+)\. {pattern}", text, re.MULTILINE)
    assert match, f"no option matching {pattern!r} in:\n{text}"
    return match.group(1)


def agreements_for(servers, loan_ref: str):
    return [a for a in servers.store.agreements() if a.loan_ref == loan_ref]


def row_counts(servers) -> dict:
    with servers.store.db.reader() as s:
        return {
            table: s.scalar(select(func.count()).select_from(model))
            for table, model in [
                ("audit_events", models.AuditEvent),
                ("agreements", models.Agreement),
                ("contact_attempts", models.ContactAttempt),
            ]
        }


# -- whole conversations -------------------------------------------------------


def test_sms_conversation_to_an_instalment_plan_choosing_by_number(servers):
    phone = new_phone()
    ref = servers.new_loan(phone=phone)
    sms = TextChannel(servers, "twilio", phone)

    reply = sms.say("hi")
    assert "date of birth" in reply and "loan reference" not in reply  # the number identified the loan
    assert ref not in reply and "£" not in reply  # nothing about the loan before verification

    reply = sms.say(DOB)
    assert "you're verified" in reply and "£250.00 overdue" in reply

    reply = sms.say("my car broke down and the repair took everything")
    assert "1. " in reply and re.search(r"^Reply 1, 2( or |, )", reply, re.MULTILINE)
    assert "[" not in reply  # no buttons markup on a text channel
    plan = option_number(reply, r"6 monthly payments of £41\.66")

    reply = sms.say(f" {plan}. ")
    assert "When would you like the first payment" in reply
    reply = sms.say("in 10 days")
    assert "To confirm: 6 monthly payments" in reply
    assert agreements_for(servers, ref) == []
    reply = sms.say("yes")
    agreement_ref = re.search(r"reference is (AG-[A-Z0-9]{8})", reply).group(1)

    [agreement] = agreements_for(servers, ref)
    assert agreement.agreement_ref == agreement_ref
    assert agreement.kind == "instalment_plan" and len(agreement.instalments) == 6
    assert agreement.channel == "twilio"


def test_a_twilio_retry_of_the_same_message_is_handled_once(servers):
    phone = new_phone()
    ref = servers.new_loan(phone=phone, overdue="60.00", outstanding="900.00")
    sms = TextChannel(servers, "twilio", phone)
    assert "date of birth" in sms.say("hi", message_sid="SM" + "1" * 32)
    assert sms.say("hi", message_sid="SM" + "1" * 32) == ""  # the retry: no second greeting
    assert "you're verified" in sms.say(DOB)
    pay_now = option_number(sms.say("I just forgot"), r"Pay £60\.00 now")
    assert "To confirm" in sms.say(pay_now)
    yes_sid = f"SM{next(_numbers):032d}"
    assert "pay.acme-lending.example" in sms.say("yes", message_sid=yes_sid)
    assert sms.say("yes", message_sid=yes_sid) == ""  # Twilio timed out and sent the "yes" again
    assert len(agreements_for(servers, ref)) == 1

    tracker = json.loads(
        urllib.request.urlopen(
            f"{servers.rasa_url}/conversations/{urllib.parse.quote(phone, safe='+')}/tracker?token={TEST_SETTINGS['RASA_TOKEN']}",
            timeout=30,
        ).read()
    )
    said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert said.count("hi") == 1 and said.count("yes") == 1


def test_a_telegram_retry_of_the_same_update_is_handled_once(servers):
    chat_id = str(7_700_000_000 + next(_numbers))
    servers.new_loan(telegram_chat_id=chat_id)
    chat = TelegramChat(servers, chat_id)
    assert chat.say("hi") == 200
    assert any("date of birth" in r["text"] for r in chat.replies())
    assert chat.say("hi", repeat=True) == 200
    assert chat.replies() == []


def test_an_ambiguous_date_of_birth_is_chosen_by_number_over_sms(servers):
    """The readings offered are masked in the stored conversation, yet "1" still
    picks one: each carries its date sealed (actions/verification.py)."""
    phone = new_phone()
    servers.new_loan(phone=phone)
    sms = TextChannel(servers, "twilio", phone)
    assert "date of birth" in sms.say("hi")
    reply = sms.say("01/06/1980")
    assert "which one is your date of birth" in reply
    assert "you're verified" in sms.say(option_number(reply, "1 June 1980"))


def test_whatsapp_conversation_to_a_payment_today(servers):
    phone = new_phone()
    ref = servers.new_loan(phone=phone, overdue="60.00", outstanding="900.00")
    chat = TextChannel(servers, "whatsapp", phone)

    reply = chat.say("hello")
    assert "date of birth" in reply and "loan reference" not in reply
    assert "you're verified" in chat.say(DOB)
    reply = chat.say("sorry, I just forgot")
    pay_now = option_number(reply, r"Pay £60\.00 now")

    reply = chat.say(f"option {pay_now}")
    assert "To confirm: you'll pay £60.00 today" in reply
    reply = chat.say("yes")
    assert "pay.acme-lending.example/pay?token=" in reply

    [agreement] = agreements_for(servers, ref)
    assert agreement.kind == "pay_now" and agreement.channel == "whatsapp"
    assert all(
        m.params["From"] == TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
        for m in servers.platform.messages_to("twilio", f"whatsapp:{phone}")
    )


def test_telegram_conversation_with_buttons_and_a_typed_number(servers):
    chat_id = str(7_700_000_000 + next(_numbers))
    ref = servers.new_loan(telegram_chat_id=chat_id)
    chat = TelegramChat(servers, chat_id)

    assert chat.say("/start") == 200
    text = " ".join(r["text"] for r in chat.replies())
    assert "date of birth" in text and "loan reference" not in text

    assert chat.say(DOB) == 200
    assert "you're verified" in " ".join(r["text"] for r in chat.replies())

    assert chat.say("my car broke down and the repair took everything") == 200
    [offers] = [r for r in chat.replies() if r["buttons"]]
    titles = [title for title, _ in offers["buttons"]]
    assert "Reply" not in offers["text"]  # real buttons, no numbered list
    plan_data = dict(offers["buttons"])["6 monthly payments of £41.66"]

    assert chat.tap(plan_data) == 200  # a tapped inline button
    assert "When would you like the first payment" in " ".join(r["text"] for r in chat.replies())
    assert chat.say("in 10 days") == 200
    assert "To confirm: 6 monthly payments" in " ".join(r["text"] for r in chat.replies())
    assert chat.say("yes") == 200
    assert "AG-" in " ".join(r["text"] for r in chat.replies())

    [agreement] = agreements_for(servers, ref)
    assert agreement.kind == "instalment_plan" and agreement.channel == "telegram"
    assert titles  # the offers came as buttons


def test_telegram_accepts_a_typed_option_number(servers):
    chat_id = str(7_700_000_000 + next(_numbers))
    ref = servers.new_loan(telegram_chat_id=chat_id, overdue="60.00", outstanding="900.00")
    chat = TelegramChat(servers, chat_id)
    chat.say("hi")
    chat.say(DOB)
    chat.say("sorry, I just forgot")
    [offers] = [r for r in chat.replies() if r["buttons"]]
    number = [title for title, _ in offers["buttons"]].index("Pay £60.00 now") + 1
    assert chat.say(str(number)) == 200
    assert "To confirm: you'll pay £60.00 today" in " ".join(r["text"] for r in chat.replies())
    chat.say("yes")
    [agreement] = agreements_for(servers, ref)
    assert agreement.kind == "pay_now"


def test_a_phone_that_matches_no_borrower_gets_the_normal_verification(servers):
    sms = TextChannel(servers, "twilio", new_phone())
    reply = sms.say("hi")
    assert "loan reference" in reply
    assert "date of birth" in sms.say("LN-10001")


# -- refused webhooks -----------------------------------------------------------


def test_unsigned_and_badly_signed_twilio_webhooks_are_refused(servers):
    phone = new_phone()
    servers.new_loan(phone=phone)
    before = row_counts(servers)
    for channel, sender in (("twilio", phone), ("whatsapp", f"whatsapp:{phone}")):
        params = {"From": sender, "To": "+15005550006", "Body": "hi", "MessageSid": "SM1"}
        assert twilio_post(servers, channel, params, signature=None) == 403
        assert twilio_post(servers, channel, params, signature="bm90IGEgc2lnbmF0dXJl") == 403
        wrong = RequestValidator("another-token").compute_signature(
            f"{servers.rasa_url}/webhooks/{channel}/webhook", params
        )
        assert twilio_post(servers, channel, params, signature=wrong) == 403
        # signed for the other channel's URL
        other = RequestValidator(TEST_SETTINGS["TWILIO_AUTH_TOKEN"]).compute_signature(
            f"{servers.rasa_url}/webhooks/rest/webhook", params
        )
        assert twilio_post(servers, channel, params, signature=other) == 403
        assert servers.platform.messages_to("twilio", sender) == []
    assert row_counts(servers) == before
    assert user_messages(servers, phone) == []
    assert user_messages(servers, f"whatsapp:{phone}") == []


def test_telegram_updates_without_the_secret_are_refused(servers):
    chat_id = str(7_700_000_000 + next(_numbers))
    servers.new_loan(telegram_chat_id=chat_id)
    chat = TelegramChat(servers, chat_id)
    before = row_counts(servers)
    assert chat.say("hi", secret=None) == 403
    assert chat.say("hi", secret="wrong-secret") == 403
    assert chat.say("hi", secret="") == 403
    assert chat.replies() == []
    assert row_counts(servers) == before
    assert user_messages(servers, chat_id) == []


def test_malformed_but_signed_webhooks_get_400(servers):
    phone = new_phone()
    assert twilio_post(servers, "twilio", {"To": "+15005550006", "Body": "hi"}) == 400  # no From
    assert twilio_post(servers, "twilio", {"From": phone, "To": "+15005550006"}) == 400  # no Body
    # a WhatsApp sender on the SMS webhook (and the other way round)
    assert twilio_post(servers, "twilio", {"From": f"whatsapp:{phone}", "Body": "hi"}) == 400
    assert twilio_post(servers, "whatsapp", {"From": phone, "Body": "hi"}) == 400
    url = f"{servers.rasa_url}/webhooks/telegram/webhook"
    secret = {
        "X-Telegram-Bot-Api-Secret-Token": TEST_SETTINGS["TELEGRAM_WEBHOOK_SECRET"],
        "Content-Type": "application/json",
    }
    assert post(url, b"not json", secret) == 400
    assert post(url, b'{"update_id": 1, "message": {"text": "hi"}}', secret) == 400
    assert post(url, b'{"update_id": 1, "message": "hi"}', secret) == 400


def user_messages(servers, sender_id: str) -> list:
    """What the borrower said in a conversation, as Rasa's tracker has it (reading
    it starts a session, so the greeting may be there: only user events count)."""
    request = urllib.request.Request(
        f"{servers.rasa_url}/conversations/{urllib.request.quote(sender_id)}/tracker?token={TEST_SETTINGS['RASA_TOKEN']}"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        events = json.loads(response.read()).get("events") or []
    return [e for e in events if e.get("event") == "user"]
