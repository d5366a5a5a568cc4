"""The production profile on this machine: `python -m bot cluster` with two Rasa
replicas behind nginx sharing a PostgreSQL tracker store and a Redis lock store,
events to RabbitMQ, the loan store on PostgreSQL, selected by settings alone.

Proves: a conversation may move between replicas; a replica restarting
mid-conversation resumes it from the shared tracker store; concurrent messages
of one conversation are processed one at a time and none is lost; the event
broker receives the conversation.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from bot.adapters.database import Database
from bot.adapters.store import LoanStore
from bot.domain.clock import local_today
from bot.ops.demo import seed_demo
from bot.ops.migrate import upgrade
from tests.e2e.conftest import ROOT, TEST_SETTINGS, _free_port, _model, hang_up, log_tails
from tests.services import unavailable

pytestmark = pytest.mark.e2e

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
RABBITMQ = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


class Cluster:
    """`python -m bot cluster` running in the background, and ways to reach each part."""

    def __init__(self, proc: subprocess.Popen, port: int, work: Path, store: LoanStore, tracker_url: str, queue: str):
        self.proc, self.port, self.work, self.store = proc, port, work, store
        self.tracker_url, self.queue = tracker_url, queue

    def log_tails(self) -> list[tuple[str, str]]:
        return log_tails(self.work)

    def replica_url(self, replica: int) -> str:
        return f"http://127.0.0.1:{self.port + 110 + replica}"

    def pids(self) -> dict:
        return json.loads((self.work / "processes.json").read_text())

    def wait_until_down(self, replica: int) -> None:
        """Until the replica's port refuses connections. A killed process keeps
        accepting them for a moment, and nginx does not resend a POST it sent."""
        import socket

        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port + 110 + replica), timeout=1).close()
            except OSError:
                return
            time.sleep(0.05)
        raise AssertionError(f"replica {replica} still accepts connections")

    def say(self, who: str, message: str, replica: int | None = None) -> str:
        """Through nginx, or straight to one replica."""
        import urllib.request

        base = f"http://127.0.0.1:{self.port}" if replica is None else self.replica_url(replica)
        body = json.dumps({"sender": who, "message": message}).encode()
        request = urllib.request.Request(
            f"{base}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=90) as response:
            return "\n".join(r.get("text", "") for r in json.loads(response.read()))

    def user_and_bot_events(self, who: str) -> list[tuple[str, str]]:
        engine = create_engine(self.tracker_url)
        with engine.connect() as c:
            rows = c.execute(
                text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": who}
            ).all()
        engine.dispose()
        return [(t, json.loads(d).get("text") or "") for t, d in rows if t in ("user", "bot")]


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _create_database(name: str) -> str:
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: the profile cannot be tested here
        unavailable("postgres", f"PostgreSQL not reachable ({type(exc).__name__})")
    finally:
        engine.dispose()
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(name: str) -> None:
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    model = _model()
    work = tmp_path_factory.mktemp("production")
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable("redis", f"Redis not reachable ({type(exc).__name__})")
    try:
        socket.create_connection(_host_port(RABBITMQ, 5672), timeout=2).close()
    except OSError as exc:
        unavailable("rabbitmq", f"RabbitMQ not reachable ({type(exc).__name__})")
    suffix = uuid.uuid4().hex[:10]
    loans_db, tracker_db = f"e2e_loans_{suffix}", f"e2e_tracker_{suffix}"
    loans_url = _create_database(loans_db)
    tracker_url = _create_database(tracker_db)
    redis.Redis.from_url(REDIS).flushdb()
    upgrade(loans_url)
    store = LoanStore(Database(loans_url))
    seed_demo(store, local_today("Europe/London"))

    queue = f"e2e_events_{suffix}"
    # nginx on port and port+1, action servers from port+10, replicas from port+110 (bot/ops/cluster.py)
    port = _free_port(1, 10, 11, 110, 111)
    env = {
        **os.environ,
        **TEST_SETTINGS,
        "DATABASE_URL": loans_url,
        "TRACKER_STORE_URL": tracker_url,
        "LOCK_STORE_URL": REDIS,
        "EVENT_BROKER_URL": RABBITMQ,
        "EVENT_BROKER_QUEUE": queue,
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "cluster",
            "--replicas",
            "2",
            "--port",
            str(port),
            "--model",
            str(model),
            "--work",
            str(work),
        ],
        cwd=ROOT,
        env=env,
        stdout=(work / "cluster.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 400
        while "behind http" not in (work / "cluster.log").read_text():
            if proc.poll() is not None or time.time() > deadline:
                logs = "".join(p.read_text()[-2000:] for p in work.glob("*.log"))
                raise RuntimeError("the cluster did not start:\n" + logs)
            time.sleep(1)
        yield Cluster(proc, port, work, store, tracker_url, queue)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        store.db.engine.dispose()
        _drop_database(loans_db)
        _drop_database(tracker_db)
        asyncio.run(_delete_queue(queue))


async def _delete_queue(name: str) -> None:
    """Rasa's pika broker declares the queue durable: remove it so runs leave nothing behind."""
    import aio_pika

    connection = await aio_pika.connect_robust(RABBITMQ)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


def _who() -> str:
    return f"prod-{uuid.uuid4().hex[:12]}"


def test_a_conversation_moves_between_replicas_to_an_agreement(cluster):
    who = _who()
    assert "loan reference" in cluster.say(who, "hi", replica=0)
    assert "date of birth" in cluster.say(who, "LN-10005", replica=1)
    assert "verified" in cluster.say(who, "21/05/1995", replica=0)
    cluster.say(who, "my boiler broke and I had to pay for it")
    reply = cluster.say(who, "I can pay it in 5 days")
    assert "To confirm: you promise to pay £120.00 by" in reply
    reply = cluster.say(who, "yes")
    ref = re.search(r"(AG-[A-Z0-9]{8})", reply).group(1)
    [agreement] = [a for a in cluster.store.agreements() if a.loan_ref == "LN-10005"]
    assert agreement.agreement_ref == ref and agreement.kind == "promise_to_pay"


def test_a_replica_restart_resumes_the_conversation(cluster):
    who = _who()
    cluster.say(who, "hi", replica=0)
    assert "date of birth" in cluster.say(who, "LN-10001", replica=0)
    os.kill(cluster.pids()["rasa-0"], signal.SIGKILL)
    cluster.wait_until_down(0)
    # While it is down, nginx sends messages to the other replica.
    assert "Acme Lending" in cluster.say(_who(), "hello")
    deadline = time.time() + 300
    while True:
        try:
            cluster.say(_who(), "hello", replica=0)
            break
        except OSError:
            assert time.time() < deadline, "the supervisor did not restart the replica"
            time.sleep(2)
    # The restarted replica knows the loan reference already given: it verifies.
    reply = cluster.say(who, "12 March 1985", replica=0)
    assert "verified" in reply and "loan reference" not in reply


def test_concurrent_messages_of_one_conversation_are_processed_in_turn(cluster):
    who = _who()
    cluster.say(who, "hi")
    questions = [
        "will this affect my credit score",
        "what fees will I pay",
        "how can I pay",
        "why are you contacting me",
        "how do you use my data",
        "are you a bot",
    ]
    with ThreadPoolExecutor(len(questions)) as pool:
        replies = list(pool.map(lambda iq: cluster.say(who, iq[1], replica=iq[0] % 2), enumerate(questions)))
    assert all(replies), "every message got an answer"
    events = cluster.user_and_bot_events(who)
    users = [t for kind, t in events if kind == "user"]
    assert sorted(users) == sorted(["hi", *questions]), "no message lost"
    # One at a time: each user message is followed by its own answer before the next user message.
    for i, (kind, _) in enumerate(events[:-1]):
        if kind == "user" and i > 0:
            assert events[i + 1][0] == "bot", f"message {i} was not answered before the next one"


def test_events_reach_the_event_broker(cluster):
    who = _who()
    cluster.say(who, "hello")
    cluster.say(who, "my card is 4111 1111 1111 1111")

    async def consume() -> list[dict]:
        import aio_pika

        connection = await aio_pika.connect_robust(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(cluster.queue, durable=True)
            bodies = []
            deadline = time.time() + 30
            while time.time() < deadline:
                message = await queue.get(no_ack=True, fail=False)
                if message is None:
                    if any(b.get("sender_id") == who for b in bodies):
                        break
                    await asyncio.sleep(0.2)
                    continue
                bodies.append(json.loads(message.body))
            return bodies

    events = asyncio.run(consume())
    assert any(e.get("sender_id") == who and e.get("event") == "user" for e in events)
    # masked before it is streamed (components/tracker_store.py)
    streamed = json.dumps(events)
    assert "4111 1111 1111 1111" not in streamed and "4111111111111111" not in streamed
    assert any(
        e.get("sender_id") == who and e.get("event") == "user" and e.get("text") == "my card is ••••••" for e in events
    )


def test_a_reply_started_on_another_replica_reaches_the_widget(cluster):
    """The widget's socket is open on replica 0; a reminder is triggered through
    replica 1's API. python-socketio's Redis manager carries the reply across."""
    import socketio

    from bot.adapters.rasa_trigger import RasaTrigger
    from bot.domain.clock import utcnow
    from bot.domain.identity import widget_token

    loan = "LN-10004"
    token = widget_token(loan, TEST_SETTINGS["WIDGET_JWT_SECRET"], now=utcnow())

    async def scenario() -> dict:
        client = socketio.AsyncClient()
        received: asyncio.Queue = asyncio.Queue()
        confirmed: asyncio.Queue = asyncio.Queue()
        client.on("bot_uttered", received.put_nowait)
        client.on("session_confirm", confirmed.put_nowait)
        # Long-polling: python-engineio's WebSocket client needs a newer aiohttp
        # than Rasa 3.6 allows (the widget itself uses WebSocket).
        await client.connect(
            cluster.replica_url(0), transports=["polling"], auth={"token": token}, socketio_path="/socket.io"
        )
        try:
            await client.emit("session_request", {})
            # the widget's conversation on this device, as the server chose it
            conversation = (await asyncio.wait_for(confirmed.get(), timeout=30))["session_id"]
            trigger = RasaTrigger(cluster.replica_url(1), TEST_SETTINGS["RASA_TOKEN"])
            await asyncio.get_running_loop().run_in_executor(None, trigger, conversation, "socketio", loan)
            return await asyncio.wait_for(received.get(), timeout=30)
        finally:
            await hang_up(client)

    message = asyncio.run(scenario())
    assert "Acme Lending" in message["text"] and "£" not in message["text"]


def test_a_person_takes_a_widget_conversation_over_across_replicas(cluster):
    """The team console (issue 15) across replicas: the borrower's socket is on replica 0;
    the takeover, the agent's message and the hand-back go through replica 1's API.
    The pause lives in the shared tracker store, the agent's words cross by Redis."""
    import socketio

    from bot.adapters.rasa_conversations import RasaConversations

    console = RasaConversations(cluster.replica_url(1), TEST_SETTINGS["RASA_TOKEN"])

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        client = socketio.AsyncClient()
        received: asyncio.Queue = asyncio.Queue()
        confirmed: asyncio.Queue = asyncio.Queue()
        client.on("bot_uttered", received.put_nowait)
        client.on("session_confirm", confirmed.put_nowait)
        await client.connect(cluster.replica_url(0), transports=["polling"], socketio_path="/socket.io")
        loop = asyncio.get_running_loop()

        async def said(text: str, wait: float) -> list[str]:
            await client.emit("user_uttered", {"message": text})
            return await drain(wait)

        async def drain(wait: float) -> list[str]:
            texts: list[str] = []
            try:
                while True:
                    texts.append((await asyncio.wait_for(received.get(), timeout=wait))["text"])
                    wait = 2.0  # the rest of the turn's messages follow quickly
            except asyncio.TimeoutError:
                return texts

        try:
            await client.emit("session_request", {})
            conversation = (await asyncio.wait_for(confirmed.get(), timeout=30))["session_id"]
            before = await said("hi", 60)
            await loop.run_in_executor(None, console.pause, conversation)
            await loop.run_in_executor(
                None, lambda: console.say(conversation, "Hello, Amy from the team here.", operator="amy")
            )
            during = await drain(30) + await said("thanks Amy", 5)
            await loop.run_in_executor(None, console.resume, conversation)
            after = await said("hi again", 60)
            return before, during, after
        finally:
            await hang_up(client)

    before, during, after = asyncio.run(scenario())
    assert before and "automated assistant" in before[0]
    assert during == ["Hello, Amy from the team here."]  # the assistant said nothing to "thanks Amy"
    assert after  # answering again after the hand-back
