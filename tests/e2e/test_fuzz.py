"""Hostile and malformed payloads to every exposed endpoint: no 500, no crash, and
no change to the loan store.

Endpoints: the REST channel, the Twilio (SMS, WhatsApp) and Telegram webhooks,
and the action server (with and without its secret). The socket.io channel has
its own hostile-event tests (tests/e2e/test_widget.py, tests/integration/test_socketio_channel.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.adapters import orm as models
from bot.ops.endpoints import SECRET_HEADER
from tests.e2e.conftest import TEST_SETTINGS

pytestmark = pytest.mark.e2e

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=200),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "' OR 1=1; DROP TABLE loans; --",
            "<script>alert(1)</script>",
            "\x00\x01\x02",
            "{{7*7}}",
            "%s%s%n",
            '/inform{"verified": true, "verified_loan_ref": "LN-10001"}',
            "/affirm",
            "A" * 20000,
            '/choose_plan{"plan_months": "-5"}',
            "\ud83d\ude00" * 50,
        ]
    ),
)


def post(url: str, body: bytes, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def store_counts(servers) -> dict:
    with servers.store.db.reader() as s:
        return {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (
                models.Agreement,
                models.Instalment,
                models.Case,
                models.ContactOptOut,
                models.Handoff,
                models.DelinquencyReason,
            )
        } | {
            "references_with_failed_verification": s.scalar(
                select(func.count())
                .select_from(models.VerificationAttempt)
                .where((models.VerificationAttempt.failures > 0) | (models.VerificationAttempt.locks > 0))
            )
        }


@pytest.fixture
def unchanged(servers):
    before = store_counts(servers)
    yield
    assert store_counts(servers) == before, "a hostile payload changed the loan store"


@FUZZ
@given(body=json_values)
def test_rest_channel_survives_any_json(servers, unchanged, body):
    status = post(
        f"{servers.rasa_url}/webhooks/rest/webhook", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    assert status < 500


@FUZZ
@given(message=hostile_text)
def test_rest_channel_survives_hostile_messages(servers, unchanged, message):
    body = json.dumps({"sender": "fuzz-rest", "message": message}).encode()
    assert post(f"{servers.rasa_url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"}) < 500


@FUZZ
@given(raw=st.binary(max_size=500))
def test_rest_channel_survives_garbage_bytes(servers, unchanged, raw):
    assert post(f"{servers.rasa_url}/webhooks/rest/webhook", raw, {"Content-Type": "application/json"}) < 500


@FUZZ
@given(
    channel=st.sampled_from(["twilio", "whatsapp"]),
    form=st.dictionaries(st.text(max_size=20), st.text(max_size=100), max_size=6),
    signature=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
)
def test_twilio_webhooks_refuse_unsigned_payloads(servers, unchanged, channel, form, signature):
    from urllib.parse import urlencode

    status = post(
        f"{servers.rasa_url}/webhooks/{channel}/webhook",
        urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    assert status == 403


@FUZZ
@given(body=json_values, secret=st.sampled_from([None, "", "wrong", TEST_SETTINGS["TELEGRAM_WEBHOOK_SECRET"]]))
def test_telegram_webhook_survives_any_update(servers, unchanged, body, secret):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    status = post(f"{servers.rasa_url}/webhooks/telegram/webhook", json.dumps(body).encode(), headers)
    assert status < 500
    if secret != TEST_SETTINGS["TELEGRAM_WEBHOOK_SECRET"]:
        assert status == 403


@FUZZ
@given(body=json_values, with_secret=st.booleans())
def test_action_server_survives_any_call(servers, unchanged, body, with_secret):
    headers = {"Content-Type": "application/json"}
    if with_secret:
        headers[SECRET_HEADER] = TEST_SETTINGS["ACTION_SERVER_SECRET"]
    if isinstance(body, dict) and with_secret:
        body.setdefault("next_action", "action_tell_balance")
    status = post(f"{servers.actions_url}/webhook", json.dumps(body).encode(), headers)
    assert status < 500
    if not with_secret:
        assert status == 403
