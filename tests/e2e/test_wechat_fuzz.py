"""Hostile and malformed calls to the WeChat webhook: never a 5xx, nothing answered
without a valid signature, and no change to the loan store.

Signed bodies of any shape (bytes, XML with any fields, entity bombs, encrypted
garbage with a valid msg_signature), unsigned ones, and the URL check with any
query. tests/e2e/test_fuzz.py does the same for the other endpoints.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.wechat_protocol import signature
from tests.e2e.test_fuzz import FUZZ, hostile_text, store_counts
from tests.e2e.test_wechat import CRYPTO, TOKEN, signed

pytestmark = pytest.mark.e2e

OPENID = "oFuzz0000000000000000000000"  # on file for no borrower


@pytest.fixture
def unchanged(servers):
    before = store_counts(servers)
    yield
    assert store_counts(servers) == before, "a hostile call changed the loan store"


def call(servers, body: bytes, params: dict, method: str = "POST") -> tuple[int, bytes]:
    url = f"{servers.rasa_url}/webhooks/wechat/webhook?{urlencode(params)}"
    request = urllib.request.Request(url, data=body if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def xml(fields: dict[str, str]) -> bytes:
    inner = "".join(f"<{name}><![CDATA[{value.replace(']]>', '')}]]></{name}>" for name, value in fields.items())
    return f"<xml>{inner}</xml>".encode("utf-8", "surrogatepass")


field_names = st.sampled_from(
    ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "Recognition", "Encrypt"]
)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)  # URL- and UTF-8-safe
message_fields = st.dictionaries(
    field_names,
    st.one_of(
        hostile_text,
        st.sampled_from(["text", "event", "voice", "image", "subscribe", "unsubscribe", OPENID, "gh_x", "123"]),
    ),
    max_size=8,
)
bombs = st.sampled_from(
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><Content>&c;</Content></xml>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
        b"<xml>" + b"<a>" * 20000 + b"</a>" * 20000 + b"</xml>",
        b"<xml>" + b"x" * 70000 + b"</xml>",
        b'<?xml version="1.0" encoding="UTF-7"?><xml/>',
        b"\xef\xbb\xbf<xml><MsgType>text</MsgType></xml>",
    ]
)


@FUZZ
@given(body=st.one_of(st.binary(max_size=600), st.builds(xml, message_fields), bombs))
def test_any_signed_body_gets_an_answer_below_500(servers, unchanged, body):
    status, _ = call(servers, body, signed(openid=OPENID))
    assert status < 500


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=300), st.builds(xml, message_fields)),
    params=st.dictionaries(
        st.sampled_from(["signature", "timestamp", "nonce", "openid", "encrypt_type", "msg_signature", "echostr"]),
        texts,
        max_size=7,
    ),
)
def test_without_a_valid_signature_nothing_is_answered(servers, unchanged, body, params):
    if signature(TOKEN, params.get("timestamp", ""), params.get("nonce", "")) == params.get("signature"):
        return  # hypothesis will not find a SHA-1 preimage, but be exact
    assert call(servers, body, params)[0] == 403
    assert call(servers, b"", params, method="GET")[0] == 403


@FUZZ
@given(encrypt=st.one_of(texts, st.binary(max_size=300).map(lambda b: CRYPTO.encrypt(b.hex()))))
def test_encrypted_garbage_with_a_valid_msg_signature_is_refused(servers, unchanged, encrypt):
    encrypt = encrypt.replace("]]>", "")
    query = signed()
    query |= {"encrypt_type": "aes", "msg_signature": signature(TOKEN, query["timestamp"], query["nonce"], encrypt)}
    body = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    status, _ = call(servers, body.encode("utf-8", "surrogatepass"), query)
    assert 400 <= status < 500


@FUZZ
@given(echostr=texts)
def test_the_url_check_survives_any_echostr(servers, echostr):
    status, body = call(servers, b"", signed(echostr=echostr), method="GET")
    assert status < 500
    if status == 200:
        assert body.decode() == echostr
