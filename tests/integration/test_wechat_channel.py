"""The WeChat Official Account connector: the protocol (signatures, encrypted mode,
safe XML), the webhook's checks, passive and late replies against the local fake
of WeChat's API, the access token's refresh, and an unsubscribe as an opt-out.

Whole conversations over WeChat are in tests/e2e/test_wechat.py.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.request import RequestParameters
from sanic.response import HTTPResponse

from bot.bootstrap import services
from bot.domain.clock import utcnow
from bot.domain.identity import METADATA_KEY, read_channel_identity
from bot.settings import Settings
from channels import wechat
from channels.wechat import WeChatAPI, WeChatInput, WeChatOutput, record_unsubscribe
from channels.wechat_protocol import (
    MAX_BODY_BYTES,
    BadMessage,
    WeChatCrypto,
    aes_key,
    cdata,
    encrypted_reply,
    pack_texts,
    parse_xml,
    signature,
    signature_ok,
    text_reply,
)
from tests.e2e.platform_fake import PlatformFake, wechat_text

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "unitWeChatToken"
APP_ID = "wx0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "oUnit-0000000000000000000001"
ACCOUNT = "gh_0123456789ab"


def run(coro):
    return asyncio.run(coro)


# -- signatures and encrypted mode ---------------------------------------------

# A published vector of the same scheme (WeChat Work's variant, which differs only in
# carrying a corp id where an Official Account carries its app id).
VECTOR = {
    "token": "123456",
    "key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "id": "wx49f0ab532d5d035a",
    "timestamp": "1411525903",
    "nonce": "461056294",
    "encrypted": (
        "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283d"
        "Gymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwB"
        "iT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54S"
        "NdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91"
        "eBdCRxthuL0="
    ),
    "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
}


def test_a_published_message_decrypts_and_its_signature_checks():
    crypto = WeChatCrypto(VECTOR["key"], VECTOR["id"])
    assert (
        signature(VECTOR["token"], VECTOR["timestamp"], VECTOR["nonce"], VECTOR["encrypted"])
        == (VECTOR["msg_signature"])
    )
    message = parse_xml(crypto.decrypt(VECTOR["encrypted"]))
    assert (message["FromUserName"], message["Content"]) == ("messense", "test")
    with pytest.raises(BadMessage):  # the same message is not for another account
        WeChatCrypto(VECTOR["key"], "wx0000000000000000").decrypt(VECTOR["encrypted"])


def test_encryption_is_what_wechat_decrypts():
    """Checked against an independent decryption with PKCS#7 to 32 bytes."""
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    message = "<xml><Content><![CDATA[您好，分6期还款]]></Content></xml>"
    encrypted = crypto.encrypt(message)
    key = base64.b64decode(AES_KEY + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    unpadder = padding.PKCS7(256).unpadder()
    plain = unpadder.update(padded) + unpadder.finalize()
    (length,) = struct.unpack(">I", plain[16:20])
    assert plain[20 : 20 + length].decode() == message and plain[20 + length :] == APP_ID.encode()
    assert crypto.decrypt(encrypted) == message
    assert crypto.encrypt(message) != encrypted  # a fresh random prefix each time


@pytest.mark.parametrize(
    "encrypted",
    ["not base64!", base64.b64encode(b"short").decode(), base64.b64encode(b"\0" * 32).decode(), ""],
)
def test_what_does_not_decrypt_is_a_bad_message(encrypted):
    with pytest.raises(BadMessage):
        WeChatCrypto(AES_KEY, APP_ID).decrypt(encrypted)


@pytest.mark.parametrize("key", ["", "short", AES_KEY + "A", AES_KEY[:-1] + "!"])
def test_an_encoding_aes_key_must_be_43_characters(key):
    with pytest.raises(ValueError):
        aes_key(key)


def test_signatures():
    good = signature(TOKEN, "1700000000", "nonce1")
    assert signature_ok(good, TOKEN, "1700000000", "nonce1")
    assert signature_ok(good.upper(), TOKEN, "1700000000", "nonce1")
    assert not signature_ok(good, TOKEN, "1700000001", "nonce1")
    assert not signature_ok(good, "otherToken", "1700000000", "nonce1")
    assert not signature_ok(None, TOKEN, "1700000000", "nonce1")
    assert not signature_ok(good, "", "1700000000", "nonce1")
    assert not signature_ok(good, TOKEN, None, "nonce1")


# -- XML ---------------------------------------------------------------------------


def test_a_text_message_is_read():
    fields = parse_xml(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oA]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[你好 <b>]]></Content><MsgId>123</MsgId><Nested><A>1</A></Nested></xml>"
    )
    assert fields == {
        "ToUserName": "gh_1",
        "FromUserName": "oA",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "你好 <b>",
        "MsgId": "123",
    }


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<xml><a>unclosed</xml>",
        b"<notxml><a>1</a></notxml>",
        # entity expansion ("billion laughs"), an external entity, a DTD at all
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><C>&b;</C></xml>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><C>&e;</C></xml>',
        b'<!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml/>',
        b'<?xml version="1.0" encoding="no-such-encoding"?><xml/>',
        b"<xml>" + b"<a>" * 2000 + b"</a>" * 2000 + b"</xml>" + b" " * MAX_BODY_BYTES,  # too large
        "<xml><C>\udcff</C></xml>".encode("utf-8", "surrogatepass"),
    ],
)
def test_hostile_or_broken_xml_is_a_bad_message(body):
    with pytest.raises(BadMessage):
        parse_xml(body)


def test_reply_text_survives_cdata_breakers_and_control_characters():
    content = "a ]]> b <c> & \x00\x07 d 您好"
    reply = parse_xml(text_reply(OPENID, ACCOUNT, content, 1700000000))
    assert reply["Content"] == "a ]]> b <c> &  d 您好"
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == (OPENID, ACCOUNT, "text")
    assert cdata("x") == "<![CDATA[x]]>"


def test_an_encrypted_reply_is_signed_and_decrypts():
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    inner = text_reply(OPENID, ACCOUNT, "您好", 1700000000)
    outer = parse_xml(encrypted_reply(crypto, TOKEN, inner, "1700000001", "n0nce"))
    assert signature_ok(outer["MsgSignature"], TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    assert crypto.decrypt(outer["Encrypt"]) == inner


def test_a_turn_is_packed_into_as_few_messages_as_fit():
    assert pack_texts(["Hello.", "", "  What is your date of birth?  "]) == ["Hello.\n\nWhat is your date of birth?"]
    long_line = "还" * 1000  # 3,000 bytes
    packed = pack_texts(["您好", long_line, "再见"])
    assert all(len(p.encode()) <= 2048 for p in packed)
    assert "".join(packed).replace("\n", "") == "您好" + long_line + "再见"
    lines = "\n".join(f"{i}. 每月还款{i}00元" for i in range(1, 200))
    assert pack_texts([lines])[0].split("\n")[0] == "1. 每月还款100元"  # split between lines


# -- settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"wechat_token": "has spaces"}, "WECHAT_TOKEN"),
        ({"wechat_token": "a" * 33}, "WECHAT_TOKEN"),
        ({"wechat_encoding_aes_key": "short", "wechat_app_id": APP_ID}, "WECHAT_ENCODING_AES_KEY"),
        ({"wechat_encoding_aes_key": AES_KEY}, "WECHAT_APP_ID"),
        ({"wechat_reply_seconds": 5.0}, "WECHAT_REPLY_SECONDS"),
        ({"wechat_reply_seconds": 0.0}, "WECHAT_REPLY_SECONDS"),
        ({"wechat_language": "fr"}, "WECHAT_LANGUAGE"),
        ({"wechat_template_field": "first.DATA"}, "WECHAT_TEMPLATE_FIELD"),
    ],
)
def test_wechat_settings_are_checked_at_start_up(changes, problem):
    with pytest.raises(RuntimeError, match=problem):
        Settings(**changes).check()
    Settings(wechat_token=TOKEN, wechat_encoding_aes_key=AES_KEY, wechat_app_id=APP_ID).check()


def test_a_production_wechat_token_must_be_strong_and_its_own():
    strong = {
        name: f"{i}f3a9c1e7b5d2f8a4c6e0b9d1f7a3c5e8b2d4f6"
        for i, name in enumerate(
            ["payment_link_secret", "widget_jwt_secret", "channel_identity_secret", "action_server_secret"]
        )
    }
    production = {"app_env": "production", "widget_origins": "https://app.example.com", **strong}
    with pytest.raises(RuntimeError, match="WECHAT_TOKEN is too weak"):
        Settings(**production, wechat_token="abc123").check()
    Settings(**production, wechat_token="9c1e7b5d2f8a4c6e0b9d1f7a3c5e8b2d").check()


# -- the connector -------------------------------------------------------------------


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def fake():
    platform = PlatformFake()
    platform.start()
    yield platform
    platform.stop()


class FakeAgent:
    """What the connector uses of Rasa's Agent, with a turn that says `replies` after `delay` seconds."""

    def __init__(self, domain, replies=(), delay=0.0, fail=False):
        self.domain = domain
        self.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        self.replies, self.delay, self.fail = list(replies), delay, fail
        self.trackers: dict[str, DialogueStateTracker] = {}
        self.received: list = []
        agent = self

        class Store:
            async def retrieve(self, sender_id):
                return agent.trackers.get(sender_id)

        self.tracker_store = Store()

    def is_ready(self):
        return True

    async def on_new_message(self, message):
        self.received.append(message)
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the tracker store is down")
        for reply in self.replies:
            message.output_channel.messages.append(dict(reply))


def connector(fake, **kw) -> WeChatInput:
    values = {
        "token": TOKEN,
        "app_id": APP_ID,
        "app_secret": "unit-app-secret",
        "api_base_url": f"{fake.url}/wechat",
        "reply_seconds": 0.5,
        "template_id": "TPL-unit",
        **kw,
    }
    return WeChatInput(**values)


def query(timestamp="1700000000", nonce="n1", **extra) -> RequestParameters:
    args = {"signature": signature(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}
    return RequestParameters({k: [v] for k, v in args.items()})


def request(agent, body: str | bytes, args=None):
    raw = body.encode() if isinstance(body, str) else body
    return SimpleNamespace(args=args or query(), body=raw, app=SimpleNamespace(ctx=SimpleNamespace(agent=agent)))


_ids = iter(range(10**15, 10**16))


def text_message(content: str, openid=OPENID, msg_id: str | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or next(_ids)}</MsgId></xml>"
    )


async def handle(wx: WeChatInput, agent: FakeAgent, body: str, args=None) -> HTTPResponse:
    req = request(agent, body, args)
    wx._app = req.app
    fields = wx._message(req)
    if isinstance(fields, HTTPResponse):
        return fields
    result = await wx._handle(req, fields, agent.on_new_message, time.monotonic())
    await asyncio.gather(*wx._background)
    await wx.api.close()  # its HTTP session belongs to this event loop
    return result


def test_the_signature_is_checked_and_without_a_token_all_is_refused(fake, caplog):
    wx = connector(fake)
    assert wx.signed(SimpleNamespace(args=query()))
    assert not wx.signed(SimpleNamespace(args=query(signature="0" * 40)))
    assert not wx.signed(SimpleNamespace(args=RequestParameters({"timestamp": ["1"], "nonce": ["n"]})))
    with caplog.at_level("WARNING"):
        assert not connector(fake, token="").signed(SimpleNamespace(args=query()))
    assert "WECHAT_TOKEN is not set" in caplog.text


def test_a_quick_turn_is_the_passive_reply_with_buttons_as_numbered_options(fake, domain):
    agent = FakeAgent(
        domain,
        replies=[
            {"text": "您好。"},
            {"text": "您想如何还款？", "buttons": [{"title": "今天还清", "payload": "/choose_pay_now"}] * 2},
        ],
    )
    result = run(handle(connector(fake), agent, text_message("你好")))
    reply = parse_xml(result.body)
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == (OPENID, ACCOUNT, "text")
    assert reply["Content"].startswith("您好。\n\n您想如何还款？\n1. 今天还清\n2. 今天还清\n")
    assert "1" in reply["Content"].splitlines()[-1]  # utter_reply_with_number
    [message] = agent.received
    assert message.sender_id == "wechat:" + OPENID and message.input_channel == "wechat"
    identity = read_channel_identity(
        message.metadata[METADATA_KEY],
        services().settings.channel_identity_secret,
        now=utcnow(),
        conversation_id="wechat:" + OPENID,
    )
    assert (identity.channel, identity.kind, identity.value) == ("wechat", "wechat_openid", OPENID)


def test_a_typed_number_chooses_the_latest_option(fake, domain):
    agent = FakeAgent(domain)
    tracker = DialogueStateTracker("wechat:" + OPENID, domain.slots)
    tracker.update(
        BotUttered("?", {"buttons": [{"title": "a", "payload": "/deny"}, {"title": "b", "payload": "/affirm"}]})
    )
    agent.trackers["wechat:" + OPENID] = tracker
    run(handle(connector(fake), agent, text_message(" 2 ")))
    assert agent.received[0].text == "/affirm"


def test_a_slow_turn_is_acknowledged_and_its_replies_go_through_the_customer_service_api(fake, domain):
    openid = "oUnit-slow000000000000000001"
    agent = FakeAgent(domain, replies=[{"text": "慢的回复"}], delay=1.0)
    result = run(handle(connector(fake), agent, text_message("你好", openid=openid)))
    assert result.body == b"success"
    [sent] = fake.messages_to("wechat", openid)
    assert sent.path == "/wechat/cgi-bin/message/custom/send"
    assert sent.params == {"touser": openid, "msgtype": "text", "text": {"content": "慢的回复"}}


def test_a_retried_msgid_is_handled_once(fake, domain):
    agent = FakeAgent(domain, replies=[{"text": "一次"}])
    wx = connector(fake)
    first = run(handle(wx, agent, text_message("你好", msg_id="777000111")))
    again = run(handle(wx, agent, text_message("你好", msg_id="777000111")))
    assert "一次" in parse_xml(first.body)["Content"] and again.body == b"success"
    assert len(agent.received) == 1


def test_a_turn_that_fails_says_please_send_it_again_and_a_retry_is_handled(fake, domain):
    agent = FakeAgent(domain, fail=True)
    wx = connector(fake)
    result = run(handle(wx, agent, text_message("你好", msg_id="777000222")))
    assert "send" in parse_xml(result.body)["Content"]  # utter_message_not_processed (language slot unset: English)
    agent.fail = False
    run(handle(wx, agent, text_message("你好", msg_id="777000222")))
    assert len(agent.received) == 2  # the retry was handled, not swallowed


def test_encrypted_mode_reads_and_answers_encrypted(fake, domain):
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    wx = connector(fake, encoding_aes_key=AES_KEY)
    agent = FakeAgent(domain, replies=[{"text": "加密的回复"}])
    encrypted = crypto.encrypt(text_message("你好"))
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    args = query(encrypt_type="aes", msg_signature=signature(TOKEN, "1700000000", "n1", encrypted))
    result = run(handle(wx, agent, body, args))
    outer = parse_xml(result.body)
    assert set(outer) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert signature_ok(outer["MsgSignature"], TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    assert parse_xml(crypto.decrypt(outer["Encrypt"]))["Content"] == "加密的回复"

    bad = query(encrypt_type="aes", msg_signature="0" * 40)
    assert run(handle(wx, agent, body, bad)).status == 403
    plain = parse_xml(run(handle(wx, agent, text_message("plain"))).body)  # plaintext mode: a plaintext reply
    assert plain["Content"] == "加密的回复" and "Encrypt" not in plain
    other = WeChatCrypto(AES_KEY, "wx_another_app_id").encrypt(text_message("你好"))
    body = f"<xml><Encrypt><![CDATA[{other}]]></Encrypt></xml>"
    args = query(encrypt_type="aes", msg_signature=signature(TOKEN, "1700000000", "n1", other))
    assert run(handle(wx, agent, body, args)).status == 400
    unencrypted = "<xml><Encrypt></Encrypt></xml>"
    args = query(encrypt_type="aes", msg_signature=signature(TOKEN, "1700000000", "n1", ""))
    assert run(handle(wx, agent, unencrypted, args)).status == 400
    assert [m.text for m in agent.received] == ["你好", "plain"]


@pytest.mark.parametrize(
    "body, status",
    [
        (text_message("hi", openid="not an openid!"), 400),
        (text_message("hi").replace(ACCOUNT, ""), 400),
        (text_message("x" * 5001), 400),
        ("<xml><FromUserName>oUnit-0000000000000000000001</FromUserName><MsgType>text</MsgType></xml>", 400),
        ("<xml/>", 400),
        ("garbage", 400),
        ("<xml>" + "x" * (MAX_BODY_BYTES + 1) + "</xml>", 413),
    ],
)
def test_signed_bodies_that_are_not_messages_get_4xx_and_reach_nobody(fake, domain, body, status):
    agent = FakeAgent(domain)
    assert run(handle(connector(fake), agent, body)).status == status
    assert agent.received == []


def test_an_openid_in_the_query_must_be_the_sender(fake, domain):
    agent = FakeAgent(domain)
    assert (
        run(handle(connector(fake), agent, text_message("hi"), query(openid="oSomeoneElse000000000000000"))).status
        == 400
    )
    assert agent.received == []


def test_pictures_and_menu_events_are_acknowledged_without_a_turn(fake, domain):
    agent = FakeAgent(domain)
    image = text_message("").replace("<MsgType><![CDATA[text]]>", "<MsgType><![CDATA[image]]>")
    click = (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>CLICK</Event><EventKey>MENU</EventKey></xml>"
    )
    for body in (image, click):
        assert run(handle(connector(fake), agent, body)).body == b"success"
    assert agent.received == []


def test_following_the_account_is_a_greeting(fake, domain):
    agent = FakeAgent(domain, replies=[{"text": "您好"}])
    follow = (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1700000123</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )
    wx = connector(fake)
    assert parse_xml(run(handle(wx, agent, follow)).body)["Content"] == "您好"
    assert run(handle(wx, agent, follow)).body == b"success"  # WeChat's retry of the event
    assert [m.text for m in agent.received] == ["/greet"]


def test_voice_is_answered_from_wechats_own_transcript(fake, domain):
    agent = FakeAgent(domain, replies=[{"text": "好的"}])
    voice = (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
        f"<MsgType>voice</MsgType><MediaId>m</MediaId><Format>amr</Format><Recognition>我想分期</Recognition>"
        f"<MsgId>{next(_ids)}</MsgId></xml>"
    )
    run(handle(connector(fake), agent, voice))
    assert [m.text for m in agent.received] == ["我想分期"]


# -- the API: access token and template messages ---------------------------------


def test_the_access_token_is_cached_and_fetched_again_when_wechat_refuses_it(fake):
    async def scenario():
        api = WeChatAPI(APP_ID, "unit-app-secret", f"{fake.url}/wechat")
        openid = "oUnit-token0000000000000000001"
        try:
            assert await api.send_text(openid, "一")
            issued = len(fake.wechat_tokens)
            assert await api.send_text(openid, "二")
            assert len(fake.wechat_tokens) == issued  # cached
            fake.expire_wechat_token()
            assert await api.send_text(openid, "三")  # refused once (42001), fetched again, sent
            assert len(fake.wechat_tokens) == issued + 1
            fake.wechat_window_closed.add(openid)
            assert not await api.send_text(openid, "四")  # 45015: not within 48 hours
            assert await api.send_template(openid, "TPL", "content", "五")
        finally:
            await api.close()
        return [wechat_text(s) for s in fake.messages_to("wechat", openid)]

    assert run(scenario()) == ["一", "二", "三", "五"]


def test_wechat_unreachable_is_logged_not_raised(caplog):
    async def scenario():
        api = WeChatAPI(APP_ID, "secret", "http://127.0.0.1:9")
        try:
            return await api.send_text(OPENID, "x")
        finally:
            await api.close()

    with caplog.at_level("ERROR"):
        assert run(scenario()) is False
    assert "access token" in caplog.text and OPENID not in caplog.text


def test_a_reminders_opening_goes_as_a_template_message_and_the_rest_as_customer_service(fake, domain):
    openid = "oUnit-remind000000000000000001"
    agent = FakeAgent(domain)
    tracker = DialogueStateTracker("wechat:" + openid, domain.slots)
    tracker.update(SlotSet("language", "zh"))
    agent.trackers["wechat:" + openid] = tracker
    wx = connector(fake)
    wx._app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
    output = wx.get_output_channel()
    assert isinstance(output, WeChatOutput)

    async def scenario():
        await output.send_response(
            "wechat:" + openid, {"text": "您好，这里是Acme", "utter_action": "utter_reminder_opening"}
        )
        await output.send_response(
            "wechat:" + openid, {"text": "请告诉我您的出生日期", "utter_action": "utter_ask_date_of_birth"}
        )
        await wx.api.close()

    run(scenario())
    template, text = fake.messages_to("wechat", openid)
    assert template.path.endswith("/template/send")
    assert template.params == {
        "touser": openid,
        "template_id": "TPL-unit",
        "data": {"content": {"value": "您好，这里是Acme"}},
    }
    assert wechat_text(text) == "请告诉我您的出生日期"


def test_without_an_app_id_and_secret_nothing_can_be_sent(fake):
    assert connector(fake, app_id="", app_secret="").get_output_channel() is None


def test_the_connector_loads_from_settings():
    wx = WeChatInput.from_credentials(None)
    assert wx.name() == "wechat" and wx.blueprint(lambda message: None) is not None
    assert wx.api.base_url == services().settings.wechat_api_base_url


# -- unsubscribe -------------------------------------------------------------------


def test_an_unsubscribe_opts_out_every_borrower_at_the_openid_and_the_verified_one(sqlite_store, monkeypatch):
    rows = []
    for ref, openid in (("LN-WX1", "oUnsub0000000000000000000001"), ("LN-WX2", None)):
        rows.append(
            {
                "loan_ref": ref,
                "borrower_name": f"Borrower {ref}",
                "date_of_birth": date(1980, 6, 1),
                "phone": None,
                "email": None,
                "wechat_openid": openid,
                "timezone": "Asia/Shanghai",
                "language": "zh",
                "product": "personal_loan",
                "currency": "CNY",
                "principal": Decimal("5000"),
                "outstanding_balance": Decimal("3000"),
                "overdue_amount": Decimal("600"),
                "days_past_due": 20,
                "next_due_date": None,
            }
        )
    sqlite_store.upsert_loans(rows)
    monkeypatch.setattr(wechat, "services", lambda: SimpleNamespace(store=sqlite_store))
    conversation = "wechat:oUnsub0000000000000000000001"
    assert record_unsubscribe("oUnsub0000000000000000000001", conversation, "LN-WX2") == 2
    assert sqlite_store.account("LN-WX1").opted_out_channels == ("wechat",)
    assert sqlite_store.account("LN-WX2").opted_out_channels == ("wechat",)
    assert record_unsubscribe("oUnsub0000000000000000000001", conversation, None) == 1  # again: no second row
    assert sqlite_store.account("LN-WX1").opted_out_channels == ("wechat",)
    assert record_unsubscribe("oNobody000000000000000000001", "wechat:oNobody000000000000000000001", None) == 0


def test_without_the_key_a_compatible_mode_message_is_read_in_plaintext(fake, domain):
    agent = FakeAgent(domain, replies=[{"text": "明文"}])
    compatible = text_message("你好").replace("</xml>", "<Encrypt><![CDATA[c2VjcmV0]]></Encrypt></xml>")
    reply = parse_xml(run(handle(connector(fake), agent, compatible, query(encrypt_type="aes"))).body)
    assert reply["Content"] == "明文" and "Encrypt" not in reply
    only_encrypted = f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt>c2VjcmV0</Encrypt></xml>"
    assert run(handle(connector(fake), agent, only_encrypted, query(encrypt_type="aes"))).status == 400
