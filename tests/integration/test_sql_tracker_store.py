"""The production tracker store (components.tracker_store.CachingSQLTrackerStore)
gives what Rasa's own SQL store gives, masked, on SQLite and PostgreSQL: the
tracker retrieved before every turn, the rows written, the events streamed to
the broker; also when turns of one conversation alternate between replicas, a
replica restarts, or the conversation is deleted. A turn costs one query to
retrieve and one to save, whatever the length of the conversation, and both
are served by an index.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from types import SimpleNamespace

import pytest
import rasa.shared.core.events
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.domain.privacy import MASK
from components.tracker_store import CachingSQLTrackerStore, MaskingSQLTrackerStore
from tests.integration.test_long_conversations import DOMAIN, Collected, _talk, _turns


def _options(url: str) -> dict:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database}
    return {
        "dialect": "postgresql",
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username or "",
        "password": parsed.password or "",
    }


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def tracker_db(request, tmp_path):
    """Two empty tracker databases of one kind: ours, and Rasa's for comparison."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ours.db'}", f"sqlite:///{tmp_path / 'rasas.db'}"
        return
    first = request.getfixturevalue("postgres_url")
    from tests.services import postgres_database

    admin, name, second = postgres_database()
    try:
        yield first, second
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _store(cls, url: str, broker=None):
    store = cls(DOMAIN, event_broker=broker, **_options(url))
    return store


def _rows(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        rows = c.execute(
            sa.text("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id")
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_it_gives_what_rasas_sql_store_gives(tracker_db):
    ours_url, rasas_url = tracker_db
    ours = _store(CachingSQLTrackerStore, ours_url, Collected())
    theirs = _store(MaskingSQLTrackerStore, rasas_url, Collected())
    turns = _turns()
    assert asyncio.run(_talk(ours, "b1", turns)) == asyncio.run(_talk(theirs, "b1", turns))
    assert ours.event_broker.published == theirs.event_broker.published
    assert _rows(ours_url) == _rows(rasas_url)
    full, their_full = asyncio.run(ours.retrieve_full_tracker("b1")), asyncio.run(theirs.retrieve_full_tracker("b1"))
    assert full.current_state(EventVerbosity.ALL) == their_full.current_state(EventVerbosity.ALL)
    # what is stored is masked (timestamps left out: "1796613418.6411123" holds a 4111)
    events = [json.loads(row[5]) for row in _rows(ours_url)]
    stored = json.dumps([{k: v for k, v in e.items() if k != "timestamp"} for e in events], ensure_ascii=False)
    assert "4111" not in stored and "12 March 1985" not in stored and MASK in stored


async def _alternating(stores, sender: str, turns) -> list[dict]:
    """Turns of one conversation taken by the replicas in turn (nginx round-robin)."""
    seen = []
    for i, turn in enumerate(turns):
        store = stores[i % len(stores)]
        tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
        seen.append(tracker.current_state(EventVerbosity.ALL))
        for event in copy.deepcopy(turn):
            tracker.update(event)
        await store.save(tracker)
    return seen


def test_replicas_taking_turns_and_a_restarted_replica_see_what_rasa_gives(tracker_db):
    ours_url, rasas_url = tracker_db
    turns = _turns()
    replicas = [_store(CachingSQLTrackerStore, ours_url) for _ in range(2)]
    theirs = _store(MaskingSQLTrackerStore, rasas_url)
    half = len(turns) // 2
    ours_seen = asyncio.run(_alternating(replicas, "b2", turns[:half]))
    # replica 0 is killed; a new process (nothing kept) takes the rest with replica 1
    replicas[0] = _store(CachingSQLTrackerStore, ours_url)
    ours_seen += asyncio.run(_alternating(replicas, "b2", turns[half:]))
    assert ours_seen == asyncio.run(_talk(theirs, "b2", turns))
    assert _rows(ours_url) == _rows(rasas_url)


def test_a_deleted_conversation_is_not_served_from_memory(tmp_path):
    url = f"sqlite:///{tmp_path / 'ours.db'}"
    store = _store(CachingSQLTrackerStore, url)
    asyncio.run(_talk(store, "b3", _turns()[:6]))
    assert asyncio.run(store.retrieve("b3")) is not None
    with store.engine.begin() as c:
        c.execute(sa.text("DELETE FROM events WHERE sender_id = 'b3'"))
    assert asyncio.run(store.retrieve("b3")) is None


def test_a_tracker_that_does_not_continue_the_stored_one_is_saved_as_rasa_saves_it(tracker_db):
    ours_url, rasas_url = tracker_db
    ours, theirs = _store(CachingSQLTrackerStore, ours_url), _store(MaskingSQLTrackerStore, rasas_url)
    turns = _turns()[:4]
    replacement = [ActionExecuted("action_session_start"), SessionStarted(), UserUttered("card 4111 1111 1111 1111")]
    for store in (ours, theirs):
        asyncio.run(_talk(store, "b4", turns))
        tracker = DialogueStateTracker.from_events("b4", copy.deepcopy(replacement), DOMAIN.slots)
        asyncio.run(store.save(tracker))
    assert _rows(ours_url) == _rows(rasas_url)
    assert asyncio.run(ours.retrieve("b4")).current_state(EventVerbosity.ALL) == asyncio.run(
        theirs.retrieve("b4")
    ).current_state(EventVerbosity.ALL)


def test_the_least_recently_used_conversations_are_dropped(tmp_path):
    store = CachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"), cache_size=2)
    for sender in ("c1", "c2", "c3"):
        asyncio.run(_talk(store, sender, _turns()[:3]))
    assert list(store._kept) == ["c2", "c3"]
    assert asyncio.run(store.retrieve("c1")).sender_id == "c1"  # read again from the database


def test_a_turn_is_one_indexed_query_to_retrieve_and_one_to_save(tracker_db):
    url = tracker_db[0]
    store = _store(CachingSQLTrackerStore, url)
    turns = _turns()
    asyncio.run(_talk(store, "b5", turns[:30]))
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engines = {store.engine, store._autocommit}  # on PostgreSQL, a pool of autocommit connections
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        asyncio.run(_talk(store, "b5", turns[30:31]))
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    postgres = store.engine.dialect.name == "postgresql"
    assert len(inserts) == 1 and len(selects) == (1 if postgres else 2)  # SQLite has no RETURNING here
    if postgres:
        assert len(statements) == 2  # no BEGIN / COMMIT round trips either
        with store.engine.begin() as c:
            c.execute(sa.text("SET LOCAL enable_seqscan = off"))
            explain = "EXPLAIN SELECT id, data FROM events WHERE sender_id = :s AND id >= :i ORDER BY id"
            plan = " ".join(row[0] for row in c.execute(sa.text(explain), {"s": "b5", "i": 1}))
        assert "Index" in plan and "Seq Scan" not in plan, plan


@pytest.mark.postgres
def test_synchronous_commit_off_applies_to_the_stores_own_connections_only(postgres_url):
    """`synchronous_commit: off` (endpoints, TRACKER_STORE_SYNCHRONOUS_COMMIT): the
    connections that write each turn's events do not wait for the disk; the default
    waits, and any other value is refused."""
    on = _store(CachingSQLTrackerStore, postgres_url)
    off = CachingSQLTrackerStore(DOMAIN, synchronous_commit="off", **_options(postgres_url))
    try:
        with on._autocommit.connect() as c:
            assert c.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"
        with off._autocommit.connect() as c:
            assert c.execute(sa.text("SHOW synchronous_commit")).scalar() == "off"
        with off.engine.connect() as c:  # Rasa's own reads and first saves: unchanged
            assert c.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"
        asyncio.run(_talk(off, "b-off", _turns()[:5]))
        assert asyncio.run(off.retrieve("b-off")) is not None
    finally:
        for store in (on, off):
            store._autocommit.dispose()
            store.engine.dispose()
    with pytest.raises(ValueError, match="synchronous_commit"):
        CachingSQLTrackerStore(DOMAIN, synchronous_commit="sometimes", **_options(postgres_url))


async def _talk_as_rasa(store, sender: str, turns, append_action_listen: bool = False) -> list[dict]:
    """Each turn as Rasa's processor does it: get or create the tracker (empty, as
    the processor asks for it), add the turn's events, save; what the turn started from."""
    seen = []
    for turn in turns:
        tracker = await store.get_or_create_tracker(sender, append_action_listen=append_action_listen)
        seen.append(tracker.current_state(EventVerbosity.ALL))
        for event in copy.deepcopy(turn):
            tracker.update(event)
        await store.save(tracker)
    return seen


def _counting(store) -> list[str]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    for engine in {store.engine, store._autocommit}:
        sa.event.listen(engine, "before_cursor_execute", record)
    return statements


@pytest.mark.parametrize("append_action_listen", [False, True])
def test_a_new_conversation_is_created_and_saved_as_rasa_does_at_the_cost_of_a_turn(
    tracker_db, monkeypatch, append_action_listen
):
    """A conversation nobody has written yet (Rasa's `create_tracker`, then its
    first turn): the same trackers, rows and broker events as Rasa's store; on
    PostgreSQL one query to find nothing, one statement per save, no transaction."""
    # the action_listen that create_tracker adds is stamped with the clock
    monkeypatch.setattr(rasa.shared.core.events, "time", SimpleNamespace(time=lambda: 1_790_000_000.0))
    ours_url, rasas_url = tracker_db
    ours = _store(CachingSQLTrackerStore, ours_url, Collected())
    theirs = _store(MaskingSQLTrackerStore, rasas_url, Collected())
    turns = _turns()[:6]
    statements = _counting(ours)
    seen = asyncio.run(_talk_as_rasa(ours, "n1", turns[:1], append_action_listen))
    if ours.engine.dialect.name == "postgresql":
        expected = ["SELECT", "INSERT", "INSERT"] if append_action_listen else ["SELECT", "INSERT"]
        assert [s.lstrip().split()[0].upper() for s in statements] == expected
    seen += asyncio.run(_talk_as_rasa(ours, "n1", turns[1:], append_action_listen))
    assert seen == asyncio.run(_talk_as_rasa(theirs, "n1", turns, append_action_listen))
    assert ours.event_broker.published == theirs.event_broker.published
    assert _rows(ours_url) == _rows(rasas_url)


def test_a_conversation_another_replica_started_meanwhile_is_saved_as_rasa_saves_it(tracker_db):
    """Replica 0 found no row of the conversation; replica 1 then wrote its first
    turns (the lock did not hold them apart): replica 0's save of its new tracker
    inserts nothing twice, as Rasa's own store does."""
    ours_url, rasas_url = tracker_db
    stores, turns = {}, _turns()
    for name, cls, url in (("ours", CachingSQLTrackerStore, ours_url), ("rasa", MaskingSQLTrackerStore, rasas_url)):
        first, second = _store(cls, url), _store(cls, url)
        assert asyncio.run(first.retrieve("n2")) is None
        asyncio.run(_talk(second, "n2", turns[:2]))
        tracker = DialogueStateTracker("n2", DOMAIN.slots)
        for event in copy.deepcopy(turns[0]):
            tracker.update(event)
        asyncio.run(first.save(tracker))
        stores[name] = first
    assert _rows(ours_url) == _rows(rasas_url)
    assert asyncio.run(stores["ours"].retrieve("n2")).current_state(EventVerbosity.ALL) == asyncio.run(
        stores["rasa"].retrieve("n2")
    ).current_state(EventVerbosity.ALL)


@pytest.mark.postgres
def test_a_turns_insert_is_compiled_once_per_number_of_rows(postgres_url, monkeypatch):
    """SQLAlchemy compiled each turn's many-row INSERT anew (its VALUES are not
    cached); the store compiles the SQL once per kind and number of rows and runs
    it with the rows' values. The rows are Rasa's (the tests above); here: no
    compiling after the first turn of each size, and the statement is one INSERT."""
    store = _store(CachingSQLTrackerStore, postgres_url)
    compiled: list[tuple[str, int]] = []
    original = CachingSQLTrackerStore._compiled

    def counting(self, kind, count):
        compiled.append((kind, count))
        return original(self, kind, count)

    monkeypatch.setattr(CachingSQLTrackerStore, "_compiled", counting)
    turns = _turns()
    try:
        asyncio.run(_talk(store, "c1", turns))
        asyncio.run(_talk(store, "c2", turns))
        sizes = {("insert", n) for n in {len(turn) for turn in turns[1:]}}
        assert set(compiled) <= {("insert_if_absent", len(turns[0])), *sizes}
        assert len(compiled) == len(set(compiled))  # each once, for both conversations
        assert all(store._sql[key] is not None for key in compiled)  # none fell back to SQLAlchemy's statement
        statements = _counting(store)
        asyncio.run(_talk(store, "c1", turns[:1]))
        assert [s.lstrip().split()[0].upper() for s in statements] == ["SELECT", "INSERT"]
    finally:
        store._autocommit.dispose()
        store.engine.dispose()


# What a turn leaves with the Redis lock (components.lock_store, `_Written`): the
# replica taking the next message applies the rows the previous turn wrote
# without asking PostgreSQL, and asks whenever what was left cannot be trusted.

REDIS_DB = 8


@pytest.fixture
def locks():
    """A Redis lock store per replica, sharing one Redis (as the replicas do)."""
    import redis
    from rasa.utils.endpoints import EndpointConfig

    from components.lock_store import AtomicRedisLockStore
    from tests.services import unavailable

    try:
        redis.Redis(db=REDIS_DB, socket_timeout=2).ping()
    except redis.RedisError:
        unavailable("redis", "Redis is not reachable on 127.0.0.1:6379")
    config = EndpointConfig(url="127.0.0.1", port=6379, db=REDIS_DB, key_prefix=f"t{uuid.uuid4().hex[:8]}")
    return [AtomicRedisLockStore(endpoint_config=config) for _ in range(3)]


async def _locked_turns(replicas, sender: str, turns, order) -> list[dict]:
    """Each turn as Rasa's processor does it, under the conversation's lock of the
    replica `order` names for it (get or create, add the turn's events, save)."""
    seen = []
    for turn, i in zip(turns, order, strict=True):
        store, lock = replicas[i]
        async with lock.lock(sender, wait_time_in_seconds=0.01):
            tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
            seen.append(tracker.current_state(EventVerbosity.ALL))
            for event in copy.deepcopy(turn):
                tracker.update(event)
            await store.save(tracker)
    return seen


def _kinds(statements: list[str]) -> list[str]:
    return [s.lstrip().split()[0].upper() for s in statements]


def test_turns_under_the_redis_lock_see_what_rasa_gives_without_asking_what_is_new(tracker_db, locks):
    """Three replicas taking a conversation's turns in every order (the same one
    twice, alternating, one joining late, one restarted): each turn sees the tracker
    Rasa's store gives, the rows are Rasa's, and a turn whose replica is told by the
    lock what was written since asks the database nothing (a new session, and a
    replica that knows nothing of the conversation, are read as before)."""
    ours_url, rasas_url = tracker_db
    broker = Collected()  # the replicas stream to one broker
    replicas = [(_store(CachingSQLTrackerStore, ours_url, broker), lock) for lock in locks]
    theirs = _store(MaskingSQLTrackerStore, rasas_url, Collected())
    turns = _turns()
    order = ([0, 1, 0, 0, 1, 1, 0, 1, 2, 0, 1, 2, 2, 1] * 10)[: len(turns) - 2] + [2, 1]
    half = len(turns) // 2
    seen = asyncio.run(_locked_turns(replicas, "r1", turns[:half], order[:half]))
    replicas[0] = (_store(CachingSQLTrackerStore, ours_url, broker), locks[0])  # restarted: nothing kept
    seen += asyncio.run(_locked_turns(replicas, "r1", turns[half:], order[half:]))
    assert seen == asyncio.run(_talk_as_rasa(theirs, "r1", turns))
    assert _rows(ours_url) == _rows(rasas_url)
    # replicas that each took one of the latest two turns: no query
    statements = [_counting(store) for store, _ in replicas]
    asyncio.run(_locked_turns(replicas, "r1", turns[1:5], [2, 1, 1, 2]))
    write = ["INSERT"] if replicas[0][0]._postgres else ["INSERT", "SELECT"]  # SQLite: no RETURNING
    assert [_kinds(s) for s in statements] == [[], write * 2, write * 2]
    asyncio.run(_talk_as_rasa(theirs, "r1", turns[1:5]))
    assert _rows(ours_url) == _rows(rasas_url)
    assert broker.published == theirs.event_broker.published


def test_a_new_conversation_is_read_from_what_its_first_turn_left(tracker_db, locks):
    """The first message on one replica, the second on another that never saw the
    conversation: the second reads it from what the first left (no query), as Rasa gives it."""
    ours_url, rasas_url = tracker_db
    replicas = [(_store(CachingSQLTrackerStore, ours_url), lock) for lock in locks[:2]]
    theirs = _store(MaskingSQLTrackerStore, rasas_url)
    turns = _turns()[:4]
    seen = asyncio.run(_locked_turns(replicas, "r2", turns[:1], [0]))
    statements = _counting(replicas[1][0])
    seen += asyncio.run(_locked_turns(replicas, "r2", turns[1:], [1, 0, 1]))
    assert seen == asyncio.run(_talk_as_rasa(theirs, "r2", turns))
    assert _rows(ours_url) == _rows(rasas_url)
    if replicas[1][0]._postgres:
        assert _kinds(statements) == ["INSERT", "INSERT"]


def test_writes_the_lock_did_not_see_are_never_missed(tracker_db, locks):
    """What was left with the lock is not trusted after: a save outside the lock
    (replica 1), a turn that died after writing (its ticket expired, nothing
    released), a turn of a previous version's replica (Rasa's lock and store), a
    tracker replaced through the HTTP API. Each next turn sees what Rasa gives."""
    from rasa.core.lock_store import RedisLockStore

    ours_url, rasas_url = tracker_db
    replicas = [(_store(CachingSQLTrackerStore, ours_url), lock) for lock in locks[:2]]
    theirs = _store(MaskingSQLTrackerStore, rasas_url)
    turns = _turns()
    sender = "r3"
    expected = asyncio.run(_talk_as_rasa(theirs, sender, turns[:9]))
    seen = asyncio.run(_locked_turns(replicas, sender, turns[:2], [0, 1]))
    # a save outside the lock, on replica 0 (which holds the latest turn)
    seen += asyncio.run(_talk_as_rasa(replicas[0][0], sender, turns[2:3]))
    seen += asyncio.run(_locked_turns(replicas, sender, turns[3:4], [1]))

    # replica 0 takes the lock, writes its turn and dies before releasing it
    async def dies():
        held = replicas[0][1].lock(sender, lock_lifetime=0.3, wait_time_in_seconds=0.01)
        await held.__aenter__()
        tracker = await replicas[0][0].get_or_create_tracker(sender, append_action_listen=False)
        seen.append(tracker.current_state(EventVerbosity.ALL))
        for event in copy.deepcopy(turns[4]):
            tracker.update(event)
        await replicas[0][0].save(tracker)
        return held

    async def then():
        dead = await asyncio.create_task(dies())
        await asyncio.sleep(0.5)  # its ticket expires
        seen.extend(await _locked_turns(replicas, sender, turns[5:6], [1]))
        return dead

    asyncio.run(then())
    # a replica of the previous version: Rasa's lock (rewriting the lock) and Rasa's store
    previous = RedisLockStore(host="127.0.0.1", port=6379, db=REDIS_DB, key_prefix=locks[0].key_prefix[:-6])
    assert previous.key_prefix == locks[0].key_prefix
    asyncio.run(_locked_turns([(_store(MaskingSQLTrackerStore, ours_url), previous)], sender, turns[6:7], [0]))
    seen.append(expected[6])  # (what that replica saw is Rasa's own)
    seen += asyncio.run(_locked_turns(replicas, sender, turns[7:9], [0, 1]))
    assert seen == expected
    assert _rows(ours_url) == _rows(rasas_url)

    # the tracker read and replaced under the lock (the HTTP API): the next turn reads it again
    async def replace(store):
        await store.retrieve(sender)
        # the session as stored and one more turn, as new objects (Rasa's save then inserts that turn)
        events = copy.deepcopy([event for turn in turns[:10] for event in turn])
        await store.save(DialogueStateTracker.from_events(sender, events, DOMAIN.slots))

    async def replace_locked(store, lock):
        async with lock.lock(sender):
            await replace(store)

    asyncio.run(replace_locked(*replicas[0]))
    asyncio.run(replace(theirs))
    after = asyncio.run(_locked_turns(replicas, sender, turns[10:12], [1, 0]))  # 1 wrote the turn before
    assert after == asyncio.run(_talk_as_rasa(theirs, sender, turns[10:12]))
    assert _rows(ours_url) == _rows(rasas_url)


def test_what_a_turn_leaves_reads_back_and_stays_small():
    """`_Written`: its text reads back as it was; anything else reads as nothing;
    the oldest turns are dropped beyond two turns or 16,000 characters."""
    from components.tracker_store import _Written

    written = _Written.at(0).followed_by(['{"event": "a"}', '{"event": "b"}'], 7).followed_by(['{"event": "c"}'], 9)
    assert written.after(0) == ['{"event": "a"}', '{"event": "b"}', '{"event": "c"}']
    assert written.after(7) == ['{"event": "c"}'] and written.after(9) == [] and written.after(8) is None
    assert _Written.decode(written.encode()) == written
    assert _Written.at(5, written) == _Written(5, [], [(5, 0)]) and _Written.at(9, written) is written
    for text in ("", "rows-v1 9 0:0", "rows-v2 9 0:0 7:2 9:4\na\nb\nc", "rows-v2 9 7:1 9:2\na\nb", "rows-v2 x 0:0"):
        assert _Written.decode(text) is None, text
    later = written.followed_by(['{"event": "d"}'], 12)
    assert later.after(0) is None and later.after(7) == ['{"event": "c"}', '{"event": "d"}']
    big = later.followed_by(["x" * 16_001], 20)
    assert big.marks == [(20, 0)] and big.after(12) is None
