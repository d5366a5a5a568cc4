"""The action server runs the actions off its event loop (actions/threads.py), on real PostgreSQL.

An action waiting for PostgreSQL no longer holds up the others; a database
error in a worker thread is still the polite answer (never a 500); concurrent
calls each get their own session and answer for their own loan.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from actions import threads
from bot.adapters.database import Database
from bot.adapters.orm import DelinquencyReason
from bot.adapters.store import LoanStore
from bot.ops.demo import seed_demo
from bot.ops.endpoints import SECRET_HEADER
from bot.ops.migrate import upgrade
from tests.actions.support import ENVIRONMENT, SEED_DAY
from tests.ports import free_port
from tests.services import postgres_database

ROOT = Path(__file__).resolve().parents[2]
SECRET = "threads-test-action-secret"


@pytest.fixture
def loans_on_postgres():
    admin, name, url = postgres_database()
    upgrade(url)
    store = LoanStore(Database(url))
    seed_demo(store, SEED_DAY)
    store.db.engine.dispose()
    yield name, url, admin
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class ActionServer:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log

    def call(
        self,
        action: str,
        slots: dict,
        *,
        sender: str = "t-threads",
        text_: str = "",
        timeout: float = 30,
        sent_at: float | None = None,
    ):
        tracker = {
            "sender_id": sender,
            "slots": {"language": "en", **slots},
            "latest_message": {"text": text_, "intent": {"name": "inform", "confidence": 1.0}},
            "events": [{"event": "user", "text": text_, "timestamp": sent_at or time.time()}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
        body = json.dumps(
            {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6.2"}
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/webhook", data=body, headers={"Content-Type": "application/json", SECRET_HEADER: SECRET}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def health(self, timeout: float) -> int:
        with urllib.request.urlopen(f"{self.url}/health", timeout=timeout) as response:
            return response.status


def start_action_server(database_url: str, work: Path, action_threads: int):
    port = free_port()
    log = work / f"actions-{port}.log"
    env = {
        **os.environ,
        **ENVIRONMENT,
        "DATABASE_URL": database_url,
        "ACTION_SERVER_SECRET": SECRET,
        "ACTION_THREADS": str(action_threads),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    server = ActionServer(f"http://127.0.0.1:{port}", log)
    deadline = time.time() + 60
    while True:
        try:
            server.health(timeout=1)
            return proc, server
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"the action server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)


@pytest.fixture
def action_server(loans_on_postgres, tmp_path, request):
    _, url, _ = loans_on_postgres
    proc, server = start_action_server(url, tmp_path, getattr(request, "param", 4))
    yield server
    proc.terminate()
    proc.wait(timeout=20)


VERIFIED = {"verified": True, "verified_loan_ref": "LN-10001"}


def _in_background(fn, *args, **kwargs):
    result: dict = {}

    def run():
        result["value"] = fn(*args, **kwargs)
        result["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


@pytest.mark.postgres
@pytest.mark.parametrize("action_server", [4, 0], indirect=True, ids=["threads", "event-loop"])
def test_an_action_waiting_for_postgresql_does_not_hold_up_the_others(action_server, loans_on_postgres, request):
    """While one call waits for a table lock, another conversation's call and the health
    check are answered, with threads; on the event loop (ACTION_THREADS=0) they wait."""
    _, url, _ = loans_on_postgres
    on_threads = request.node.callspec.id == "threads"
    holder = create_engine(url, future=True)
    with holder.connect() as conn:
        conn.execute(text("LOCK TABLE loans IN ACCESS EXCLUSIVE MODE"))  # held until the block ends
        waiting, first = _in_background(action_server.call, "action_tell_balance", VERIFIED)
        time.sleep(0.5)
        assert "value" not in first  # waiting for the lock
        other, second = _in_background(action_server.call, "action_tell_balance", {}, sender="t-other")
        other.join(timeout=3)
        answered_while_locked = "value" in second
        released_at = time.monotonic()
        conn.rollback()  # releases the lock
    holder.dispose()
    waiting.join(timeout=30)
    other.join(timeout=30)
    status, body = first["value"]
    assert status == 200
    assert body["responses"][0]["response"] == "utter_account_summary"
    assert body["responses"][0]["loan_ref"] == "LN-10001"
    status, body = second["value"]
    assert status == 200 and [m["response"] for m in body["responses"]] == ["utter_verify_first"]
    if on_threads:
        assert answered_while_locked and second["at"] < released_at
    else:  # one database wait stops the whole server
        assert not answered_while_locked and second["at"] > released_at


@pytest.mark.postgres
def test_a_database_error_in_a_worker_thread_is_a_polite_answer(loans_on_postgres, tmp_path):
    name, url, admin = loans_on_postgres
    with admin.connect() as conn:  # the action server's connections will give up on a wait
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET statement_timeout = '300ms'"))
    proc, server = start_action_server(url, tmp_path, 2)
    holder = create_engine(url, future=True)
    try:
        with holder.connect() as conn:
            conn.execute(text("SET statement_timeout = 0"))
            conn.execute(text("LOCK TABLE loans IN ACCESS EXCLUSIVE MODE"))
            status, body = server.call("action_tell_balance", VERIFIED, text_="my dob is 1985-03-12")
            conn.rollback()
        assert status == 200
        assert [m["response"] for m in body["responses"]] == ["utter_something_went_wrong"]
        assert body["events"] == []
        # and the next call, the lock gone, is answered as usual by the same threads
        status, body = server.call("action_tell_balance", VERIFIED)
        assert status == 200 and body["responses"][0]["response"] == "utter_account_summary"
    finally:
        holder.dispose()
        proc.terminate()
        proc.wait(timeout=20)
    log = server.log.read_text()
    assert "action action_tell_balance failed: OperationalError" in log
    assert "1985" not in log


@pytest.mark.postgres
@pytest.mark.parametrize("action_server", [1], indirect=True)
def test_a_call_that_waited_for_a_thread_past_rasas_deadline_does_nothing(action_server, loans_on_postgres):
    """One thread, busy with a call waiting for PostgreSQL: a call whose deadline
    (ACTION_DEADLINE_SECONDS after the borrower's message) passes while it waits for
    the thread records nothing and says nothing, as Rasa has told the borrower so."""
    _, url, _ = loans_on_postgres
    holder = create_engine(url, future=True)
    slots = {"verified": True, "verified_loan_ref": "LN-10002"}
    with holder.connect() as conn:
        conn.execute(text("LOCK TABLE loans IN ACCESS EXCLUSIVE MODE"))
        busy, _ = _in_background(action_server.call, "action_tell_balance", VERIFIED)
        time.sleep(0.5)
        late, result = _in_background(
            action_server.call,
            "action_record_reason",
            slots,
            sender="t-late",
            text_="I lost my job last month",
            sent_at=time.time() - 7,  # the deadline (8 s) passes in a second
        )
        time.sleep(2)
        conn.rollback()
    holder.dispose()
    busy.join(timeout=30)
    late.join(timeout=30)
    status, body = result["value"]
    assert status == 200 and body == {"events": [], "responses": []}
    store = LoanStore(Database(url))
    with store.db.reader() as s:
        assert s.execute(select(DelinquencyReason.id)).all() == []
    store.db.engine.dispose()


@pytest.mark.postgres
def test_concurrent_calls_each_read_and_write_their_own_loan(action_server, loans_on_postgres):
    """Calls for ten loans at once, four threads: every answer is its own loan's, and every
    reason is recorded once, against its own loan and conversation."""
    _, url, _ = loans_on_postgres
    refs = [f"LN-1000{i}" for i in range(1, 10)] + ["LN-10010"]
    store = LoanStore(Database(url))
    expected = {ref: store.account(ref).days_past_due for ref in refs}
    results: dict[tuple[str, int, str], tuple] = {}

    def borrower(ref: str, round_: int) -> None:
        slots = {"verified": True, "verified_loan_ref": ref}
        results[(ref, round_, "balance")] = action_server.call("action_tell_balance", slots, sender=f"c-{ref}")
        results[(ref, round_, "reason")] = action_server.call(
            "action_record_reason", slots, sender=f"c-{ref}-{round_}", text_="I lost my job last month"
        )

    workers = [threading.Thread(target=borrower, args=(ref, n)) for ref in refs for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert len(results) == len(refs) * 3 * 2
    for (ref, _, kind), (status, body) in results.items():
        assert status == 200, (ref, kind, body)
        first = body["responses"][0]
        if kind == "balance":
            assert first["response"] == "utter_account_summary"
            assert first["loan_ref"] == ref and first["days_past_due"] == expected[ref]
        else:
            assert first["response"] != "utter_something_went_wrong"
    with store.db.reader() as s:
        recorded = s.execute(select(DelinquencyReason.conversation_id, DelinquencyReason.loan_id)).all()
        loan_ids = {ref: store_loan_id(s, ref) for ref in refs}
    assert sorted(c for c, _ in recorded) == sorted(f"c-{ref}-{n}" for ref in refs for n in range(3))
    for conversation_id, loan_id in recorded:
        assert loan_ids[conversation_id[2:-2]] == loan_id
    store.db.engine.dispose()


def store_loan_id(session, ref: str) -> int:
    return session.execute(text("SELECT id FROM loans WHERE loan_ref = :r"), {"r": ref}).scalar_one()


def test_an_action_that_runs_another_stays_in_its_thread():
    """offers.py awaits another action's `run`: with every thread busy that call must not
    wait for a thread of its own (it would wait forever)."""
    names: list[str] = []

    async def inner():
        names.append(threading.current_thread().name)
        return "inner"

    async def outer():
        names.append(threading.current_thread().name)
        return await threads.off_the_event_loop(inner(), 1)

    async def main():
        return await asyncio.wait_for(threads.off_the_event_loop(outer(), 1), timeout=10)

    try:
        assert asyncio.run(main()) == "inner"
    finally:
        threads.shutdown()
    assert names[0] == names[1] and names[0].startswith("action")
    assert names[0] != threading.current_thread().name


def test_no_threads_runs_on_the_event_loop():
    async def where():
        return threading.current_thread().name

    assert asyncio.run(threads.off_the_event_loop(where(), 0)) == threading.current_thread().name
