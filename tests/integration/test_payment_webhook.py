"""The payment webhook (channels/payments.py) against a real loan store: signatures,
replays, bad bodies, refusals and duplicate deliveries, and the thank-you on the
borrower's channel within the contact rules. The route's handler is called as Sanic
would; whole deliveries to a running assistant are in tests/e2e/test_payments_e2e.py
and the fuzz suite in tests/e2e/test_payments_fuzz.py."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from sqlalchemy import select

from bot import bootstrap
from bot.adapters.orm import ContactAttempt
from bot.domain.payment_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signature_problem
from bot.ops.demo import seed_demo
from bot.settings import Settings
from channels.payments import PaymentWebhookInput
from tests.services import TODAY

ROOT = Path(__file__).resolve().parents[2]
SECRET = "unit-payment-webhook-secret"
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # noon in London: within contact hours
NIGHT = datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)
PAYMENT = {
    "payment_id": "pi_0001",
    "loan_ref": "LN-10001",
    "paid_at": "2026-11-23T09:30:00Z",
    "amount": "100.00",
    "currency": "GBP",
    "method": "card",
}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def app(sqlite_store, domain):
    """The services booted on a seeded store with the webhook's secret, and a stand-in for
    Rasa's app: its agent's domain and NLG, and an SMS channel that keeps what it sends."""
    bootstrap.bootstrap(Settings(database_url=sqlite_store.db.url, payment_webhook_secret=SECRET))
    seed_demo(bootstrap.services().store, TODAY)
    sent: list[tuple[str, dict]] = []

    class Output:
        async def send_response(self, recipient, message):
            sent.append((recipient, message))

    channels = [
        SimpleNamespace(name=lambda n=n: n, get_output_channel=Output) for n in ("twilio", "whatsapp", "telegram")
    ]
    agent = SimpleNamespace(domain=domain, nlg=TemplatedNaturalLanguageGenerator(domain.responses))
    yield SimpleNamespace(ctx=SimpleNamespace(agent=agent, input_channels=channels), sent=sent)
    bootstrap.reset()


def deliver(app, body, *, headers=None, timestamp=None, secret=SECRET, clock=NOON, channel=None):
    """POST /payments/webhook as Sanic would call it; the status and JSON answer."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    if headers is None:
        headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, raw)}
    channel = channel or PaymentWebhookInput()
    channel.clock = lambda: clock
    [route] = [r for r in channel.blueprint(None)._future_routes if r.uri == "/webhook"]

    async def post():
        answer = await route.handler(SimpleNamespace(body=raw, headers=headers, app=app))
        await asyncio.gather(*channel._tasks)  # the thank-you, sent after the answer
        return answer

    answer = asyncio.run(post())
    return answer.status, json.loads(answer.body)


def payments():
    return bootstrap.services().store.payments()


def attempts():
    with bootstrap.services().store.db.reader() as s:
        return [(a.trigger, a.outcome, a.skip_reason, a.conversation_id) for a in s.scalars(select(ContactAttempt))]


def test_a_signed_payment_is_recorded_once_however_often_it_is_delivered(app):
    assert deliver(app, PAYMENT) == (200, {"payment_id": "pi_0001", "status": "recorded", "reason": None})
    for _ in range(3):
        assert deliver(app, PAYMENT)[1]["status"] == "already_recorded"
    [p] = payments()
    assert (p["payment_id"], p["amount"], p["source"], p["status"]) == ("pi_0001", "100.00", "webhook", "applied")
    assert bootstrap.services().store.account("LN-10001").overdue_amount == 150


def test_the_borrower_is_thanked_once_a_day_on_their_channel(app):
    deliver(app, PAYMENT)
    [(recipient, message)] = app.sent
    assert recipient == "+447700900001"
    assert message["text"].startswith("Hello from Acme Lending: thank you, we have received your payment.")
    for secret in ("£", "100", "LN-10001", "debt", "loan"):
        assert secret not in message["text"]
    deliver(app, {**PAYMENT, "payment_id": "pi_0002"})
    assert len(app.sent) == 1
    assert attempts() == [
        ("payment_thanks", "sent", None, "+447700900001"),
        ("payment_thanks", "skipped", "already_thanked_today", "+447700900001"),
    ]


def test_payments_in_quick_succession_get_one_thank_you(app):
    """Each recorded payment starts a thank-you after its answer; the second must wait for
    the first, or both see nobody thanked today (seen end to end: two texts)."""
    channel = PaymentWebhookInput()
    channel.clock = lambda: NOON
    [route] = [r for r in channel.blueprint(None)._future_routes if r.uri == "/webhook"]

    async def both():
        for payment_id in ("pi_0001", "pi_0002", "pi_0003"):
            raw = json.dumps({**PAYMENT, "payment_id": payment_id, "amount": "10.00"}).encode()
            stamp = str(int(time.time()))
            headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, stamp, raw)}
            await route.handler(SimpleNamespace(body=raw, headers=headers, app=app))
        await asyncio.gather(*channel._tasks)

    asyncio.run(both())
    assert len(app.sent) == 1
    assert sorted(set(attempts())) == [
        ("payment_thanks", "sent", None, "+447700900001"),
        ("payment_thanks", "skipped", "already_thanked_today", "+447700900001"),
    ]
    assert channel._thanking == {}  # nothing kept once done


def test_a_chinese_speaking_borrower_is_thanked_in_chinese(app):
    noon_in_shanghai = datetime(2026, 11, 23, 4, tzinfo=timezone.utc)
    payment = {**PAYMENT, "loan_ref": "LN-10007", "currency": "CNY", "paid_at": "2026-11-23T03:30:00Z"}
    assert deliver(app, payment, clock=noon_in_shanghai)[0] == 200
    [(recipient, message)] = app.sent
    assert recipient == "7000010007"  # the demo borrower's Telegram chat
    assert message["text"].startswith("您好，这里是") and "谢谢您，我们已收到您的付款" in message["text"]


def test_no_thanks_outside_contact_hours_or_after_an_opt_out(app):
    deliver(app, PAYMENT, clock=NIGHT)
    bootstrap.services().store.record_opt_out("LN-10002", "whatsapp")  # the demo borrower's preferred channel
    deliver(app, {**PAYMENT, "payment_id": "pi_0003", "loan_ref": "LN-10002"})
    assert app.sent == []
    assert [(t, o, r) for t, o, r, _ in attempts()] == [
        ("payment_thanks", "skipped", "outside_contact_hours"),
        ("payment_thanks", "skipped", "opted_out_channel"),
    ]


def test_no_thanks_when_the_lender_turned_them_off(app):
    bootstrap.bootstrap(
        Settings(
            database_url=bootstrap.services().settings.database_url, payment_webhook_secret=SECRET, payment_thanks=False
        )
    )
    assert deliver(app, PAYMENT)[0] == 200
    assert app.sent == [] and attempts() == []


@pytest.mark.parametrize(
    "headers, problem",
    [
        ({}, "missing_signature"),
        ({TIMESTAMP_HEADER: "now", SIGNATURE_HEADER: "sha256=00"}, "bad_timestamp"),
        ({SIGNATURE_HEADER: "sha256=" + "0" * 64}, "missing_signature"),
    ],
)
def test_missing_or_malformed_signatures_are_refused(app, headers, problem):
    assert deliver(app, PAYMENT, headers=headers) == (401, {"error": problem})
    assert payments() == []


def test_a_wrong_secret_or_a_changed_body_is_refused(app):
    assert deliver(app, PAYMENT, secret="someone-elses-secret") == (401, {"error": "bad_signature"})
    raw = json.dumps(PAYMENT).encode()
    stamp = str(int(time.time()))
    tampered = raw.replace(b"100.00", b"1.00")
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, stamp, raw)}
    assert deliver(app, tampered, headers=headers) == (401, {"error": "bad_signature"})
    assert payments() == []


def test_an_old_delivery_replayed_is_refused(app):
    assert deliver(app, PAYMENT, timestamp=int(time.time()) - 301) == (401, {"error": "stale_timestamp"})
    assert deliver(app, PAYMENT, timestamp=int(time.time()) + 301) == (401, {"error": "stale_timestamp"})
    assert deliver(app, PAYMENT, timestamp=int(time.time()) - 250)[0] == 200  # within the tolerance
    assert payments()[0]["payment_id"] == "pi_0001"


def test_without_a_secret_every_delivery_is_refused(app):
    bootstrap.bootstrap(Settings(database_url=bootstrap.services().settings.database_url))
    assert deliver(app, PAYMENT, secret="") == (403, {"error": "the payment webhook is not configured"})
    assert payments() == []


@pytest.mark.parametrize(
    "body, fields",
    [
        (b"not json", None),
        (b"[1, 2]", None),
        (b"[" * 5000 + b"]" * 5000, None),
        ({**PAYMENT, "amount": 100.0}, ["amount"]),
        ({k: v for k, v in PAYMENT.items() if k != "currency"}, ["currency"]),
        ({**PAYMENT, "paid_at": "2026-11-23 09:30", "loan_ref": "<script>"}, ["loan_ref", "paid_at"]),
        (b'{"payment_id": "' + b"x" * 20000 + b'"}', None),
    ],
)
def test_bad_bodies_are_refused_with_the_fields_named_and_nothing_echoed(app, body, fields):
    status, answer = deliver(app, body)
    assert status == 400
    if fields is None:
        assert answer == {"error": "the body must be one JSON object of payment fields"}
    else:
        assert answer == {"error": "invalid payment", "fields": fields}
    assert "<script>" not in json.dumps(answer)
    assert payments() == []


def test_another_currency_or_an_unknown_loan_is_refused_and_reported(app):
    assert deliver(app, {**PAYMENT, "currency": "EUR"}) == (
        422,
        {"payment_id": "pi_0001", "status": "refused", "reason": "currency_mismatch"},
    )
    assert deliver(app, {**PAYMENT, "currency": "EUR"})[0] == 422  # again: the same answer
    assert deliver(app, {**PAYMENT, "payment_id": "pi_0009", "loan_ref": "LN-99999"})[1]["reason"] == "unknown_loan"
    assert [(p["payment_id"], p["status"], p["refusal_reason"]) for p in payments()] == [
        ("pi_0009", "refused", "unknown_loan"),
        ("pi_0001", "refused", "currency_mismatch"),
    ]
    assert app.sent == []
    assert bootstrap.services().store.account("LN-10001").overdue_amount == 250


def test_an_id_reused_for_a_different_payment_is_a_conflict(app):
    deliver(app, PAYMENT)
    assert deliver(app, {**PAYMENT, "amount": "5.00"}) == (
        409,
        {"payment_id": "pi_0001", "status": "conflict", "reason": "payment_id_reused"},
    )
    assert len(payments()) == 1


def test_a_loan_store_that_cannot_be_reached_gets_503_and_retry_after(app):
    bootstrap.bootstrap(Settings(database_url="postgresql://postgres@127.0.0.1:9/none", payment_webhook_secret=SECRET))
    channel = PaymentWebhookInput()
    [route] = [r for r in channel.blueprint(None)._future_routes if r.uri == "/webhook"]
    raw = json.dumps(PAYMENT).encode()
    stamp = str(int(time.time()))
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, stamp, raw)}
    answer = asyncio.run(route.handler(SimpleNamespace(body=raw, headers=headers, app=app)))
    assert answer.status == 503 and answer.headers["Retry-After"] == "30"


# ---------------------------------------------------------------- the signature itself


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=299), skew=st.integers(-300, 300))
def test_a_signature_holds_only_for_its_own_body_and_time(body, flip, skew):
    now = 1_765_000_000
    stamp = str(now + skew)
    good = sign(SECRET, stamp, body)
    assert signature_problem(SECRET, stamp, good, body, now, 300) is None
    assert signature_problem(SECRET, stamp, good.upper().replace("SHA256=", "sha256="), body, now, 300) is None
    if body:
        i = flip % len(body)
        changed = body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]
        assert signature_problem(SECRET, stamp, good, changed, now, 300) == "bad_signature"
    assert signature_problem(SECRET, str(now + skew + 1), good, body, now, 300) in ("bad_signature", "stale_timestamp")
    assert signature_problem("another-secret", stamp, good, body, now, 300) == "bad_signature"
    assert signature_problem(SECRET, stamp, "sha256=" + "0" * 64 + "," + good, body, now, 300) is None  # rotation
