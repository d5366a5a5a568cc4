"""No borrower message lost under faults (issue 12): a burst on one
conversation, a turn that fails while Twilio or Telegram waits, bodies nested
too deep to parse. Each message is processed in order or refused with a status
the sender can act on (429 / 503 with Retry-After), never answered `200 []`.

The fault is real: the tracker store's SQLite file is held by an exclusive
transaction, so Rasa cannot read or save the conversation.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.adapters import orm as models
from bot.ops.endpoints import SECRET_HEADER
from components.lock_store import MAX_QUEUED_MESSAGES
from tests.e2e.conftest import TEST_SETTINGS, hang_up
from tests.e2e.test_messaging import DOB, TelegramChat, TextChannel, new_phone, twilio_post

pytestmark = pytest.mark.e2e


def rest(servers, sender: str, message: str, raw: bytes | None = None) -> tuple[int, dict, object]:
    body = raw if raw is not None else json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{servers.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.headers, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def user_messages(servers, sender_id: str) -> list[dict]:
    """What the borrower said in a conversation, as Rasa's tracker has it."""
    url = f"{servers.rasa_url}/conversations/{urllib.parse.quote(sender_id, safe='+')}/tracker"
    with urllib.request.urlopen(f"{url}?token={TEST_SETTINGS['RASA_TOKEN']}", timeout=30) as answer:
        return [e for e in json.loads(answer.read()).get("events") or [] if e.get("event") == "user"]


@contextlib.contextmanager
def tracker_store_down(servers):
    """Nobody else can read or write the tracker store while this holds it."""
    holder = sqlite3.connect(servers.work / "trackers.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_burst_on_one_conversation_is_answered_in_order_or_refused_never_dropped(servers):
    sender = f"burst-{uuid.uuid4().hex[:8]}"
    texts = [f"hello number {i}" for i in range(3 * MAX_QUEUED_MESSAGES)]
    with ThreadPoolExecutor(len(texts)) as pool:
        answers = list(pool.map(lambda text: rest(servers, sender, text), texts))

    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {200, 429}
    assert statuses.count(429) > 0, "a burst three times the queue's size must be refused in part"
    for status, headers, body in answers:
        if status == 200:
            assert body, "a processed message is answered"
        else:
            assert int(headers["Retry-After"]) >= 1 and "send it again" in body["error"]
    processed = [text for text, (status, _, _) in zip(texts, answers, strict=True) if status == 200]
    stored = [e["text"] for e in user_messages(servers, sender)]
    assert sorted(stored) == sorted(processed)  # exactly the answered ones, each once

    # Once the burst is over the conversation takes messages again.
    assert rest(servers, sender, "hello again")[0] == 200


def test_a_rest_message_that_could_not_be_processed_is_refused_not_answered_empty(servers):
    sender = f"down-{uuid.uuid4().hex[:8]}"
    with tracker_store_down(servers):
        status, headers, body = rest(servers, sender, "hello")
    assert status == 503 and headers["Retry-After"] and "send it again" in body["error"]
    status, _, body = rest(servers, sender, "hello")
    assert status == 200 and body


def test_a_twilio_message_whose_turn_failed_is_handled_when_twilio_retries(servers):
    """Before: the failed turn's MessageSid was remembered, so the retry was
    acknowledged with an empty TwiML and the borrower's message was lost."""
    phone = new_phone()
    servers.new_loan(phone=phone)
    sms = TextChannel(servers, "twilio", phone)
    sid = f"SM{uuid.uuid4().hex}"
    params = {
        "MessageSid": sid,
        "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"],
        "From": phone,
        "To": TEST_SETTINGS["TWILIO_SMS_NUMBER"],
        "Body": "hi",
        "NumMedia": "0",
    }
    with tracker_store_down(servers):
        assert twilio_post(servers, "twilio", params) == 503
    assert sms.new_texts() == []
    assert "date of birth" in sms.say("hi", message_sid=sid)  # Twilio's retry, same MessageSid
    assert sms.say("hi", message_sid=sid) == ""  # and once handled, a further retry is not
    assert [e["text"] for e in user_messages(servers, phone)] == ["hi"]
    assert "you're verified" in sms.say(DOB)


def test_a_telegram_update_whose_turn_failed_is_handled_when_redelivered(servers):
    chat_id = str(7_800_000_000 + uuid.uuid4().int % 1_000_000)
    servers.new_loan(telegram_chat_id=chat_id)
    chat = TelegramChat(servers, chat_id)
    with tracker_store_down(servers):
        assert chat.say("hi") == 503
    assert chat.replies() == []
    assert chat.say("hi", repeat=True) == 200  # Telegram redelivers the same update
    assert any("date of birth" in r["text"] for r in chat.replies())
    assert chat.say("hi", repeat=True) == 200
    assert chat.replies() == []


def nested(levels: int) -> bytes:
    return b'{"a": ' * (levels - 1) + b"{}" + b"}" * (levels - 1)


def loan_store_rows(servers) -> dict:
    with servers.store.db.reader() as s:
        return {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (models.Agreement, models.Case, models.Handoff, models.DelinquencyReason)
        }


@pytest.mark.parametrize("levels", [100, 2_000, 100_000])
def test_bodies_nested_too_deep_get_4xx_on_every_endpoint(servers, levels):
    before = loan_store_rows(servers)
    deep = nested(levels)
    status, _, _ = rest(servers, "", "", raw=b'{"sender": "deep", "message": "hi", "metadata": ' + deep + b"}")
    assert status == 400

    telegram = urllib.request.Request(
        f"{servers.rasa_url}/webhooks/telegram/webhook",
        data=b'{"update_id": 1, "message": ' + deep + b"}",
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": TEST_SETTINGS["TELEGRAM_WEBHOOK_SECRET"],
        },
    )
    actions = urllib.request.Request(
        f"{servers.actions_url}/webhook",
        data=b'{"next_action": "action_tell_balance", "tracker": ' + deep + b"}",
        headers={"Content-Type": "application/json", SECRET_HEADER: TEST_SETTINGS["ACTION_SERVER_SECRET"]},
    )
    for request in (telegram, actions):
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        assert 400 <= status < 500, (request.full_url, status)
    assert loan_store_rows(servers) == before


def test_a_widget_message_that_could_not_be_processed_is_refused_in_the_borrowers_words(servers):
    """Before: the socket handler logged the failure and the borrower saw nothing."""
    import asyncio

    import socketio

    async def conversation() -> tuple[dict, dict]:
        client = socketio.AsyncClient(reconnection=False)
        refused: asyncio.Queue = asyncio.Queue()
        replies: asyncio.Queue = asyncio.Queue()
        confirmed: asyncio.Queue = asyncio.Queue()
        client.on("message_refused", refused.put_nowait)
        client.on("bot_uttered", replies.put_nowait)
        client.on("session_confirm", confirmed.put_nowait)
        await client.connect(servers.rasa_url, transports=["polling"], wait_timeout=30)
        try:
            await client.emit("session_request", {})
            await asyncio.wait_for(confirmed.get(), timeout=30)
            with tracker_store_down(servers):
                await client.emit("user_uttered", {"message": "hello"})
                refusal = await asyncio.wait_for(refused.get(), timeout=60)
            assert replies.empty()
            await client.emit("user_uttered", {"message": "hello"})  # sent again, it is answered
            return refusal, await asyncio.wait_for(replies.get(), timeout=60)
        finally:
            await hang_up(client)

    refusal, reply = asyncio.run(conversation())
    assert refusal["text"].startswith("Sorry, I couldn't take that message just now, and nothing was done with it")
    assert refusal["status"] == 503 and refusal["retry_after"] >= 1
    assert reply["text"]
