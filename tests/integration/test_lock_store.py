"""The conversation lock shared by Rasa replicas (real Redis)."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from channels.deliveries import claim_delivery
from components.lock_store import (
    MAX_QUEUED_MESSAGES,
    AtomicRedisLockStore,
    BoundedInMemoryLockStore,
    ConversationBusy,
)
from tests.services import unavailable

REDIS_DB = 8


@pytest.fixture
def replicas():
    try:
        redis.Redis(db=REDIS_DB, socket_timeout=2).ping()
    except redis.RedisError:
        unavailable("redis", "Redis is not reachable on 127.0.0.1:6379")
    config = EndpointConfig(
        url="127.0.0.1", port=6379, db=REDIS_DB, key_prefix="test", type="components.lock_store.AtomicRedisLockStore"
    )
    return [AtomicRedisLockStore(endpoint_config=config) for _ in range(4)]


def test_tickets_are_unique_and_the_lock_goes_when_empty(replicas):
    conversation = f"c-{uuid.uuid4().hex}"
    issued: list[int] = []

    def replica_work(store):
        for _ in range(25):
            ticket = store.issue_ticket(conversation, 60)
            issued.append(ticket)
            store.cleanup(conversation, ticket)

    threads = [threading.Thread(target=replica_work, args=(s,)) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(issued) == 100
    assert replicas[0].get_lock(conversation) is None  # nothing left behind


def test_a_waiting_ticket_keeps_the_lock_alive(replicas):
    """Replica A finishes while replica B waits: A must not delete B's lock."""
    a, b = replicas[:2]
    conversation = f"c-{uuid.uuid4().hex}"
    first = a.issue_ticket(conversation, 60)
    second = b.issue_ticket(conversation, 60)
    assert second == first + 1
    a.cleanup(conversation, first)
    lock = b.get_lock(conversation)
    assert lock is not None and not lock.is_locked(second)
    b.cleanup(conversation, second)
    assert b.get_lock(conversation) is None


def test_concurrent_messages_are_served_one_at_a_time(replicas):
    import asyncio

    conversation = f"c-{uuid.uuid4().hex}"
    inside, overlaps, served = [0], [], []

    async def message(store, n):
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            inside[0] += 1
            overlaps.append(inside[0])
            await asyncio.sleep(0.005)
            served.append(n)
            inside[0] -= 1

    async def main():
        await asyncio.gather(*(message(replicas[n % 4], n) for n in range(MAX_QUEUED_MESSAGES + 1)))

    asyncio.run(main())
    assert sorted(served) == list(range(MAX_QUEUED_MESSAGES + 1)) and max(overlaps) == 1


@pytest.mark.parametrize("kind", ["redis", "in-memory"])
def test_a_full_queue_refuses_the_next_message_before_doing_anything(replicas, kind):
    """One message being answered and MAX_QUEUED_MESSAGES waiting: the next is
    refused with a Retry-After, across replicas; once one is served, one more fits."""
    stores = replicas if kind == "redis" else [BoundedInMemoryLockStore()] * 2
    conversation = f"c-{uuid.uuid4().hex}"
    tickets = [stores[n % len(stores)].issue_ticket(conversation, 60) for n in range(MAX_QUEUED_MESSAGES + 1)]
    with pytest.raises(ConversationBusy) as refused:
        stores[1].issue_ticket(conversation, 60)
    assert refused.value.retry_after == MAX_QUEUED_MESSAGES * 2
    assert len(stores[0].get_lock(conversation).tickets) == MAX_QUEUED_MESSAGES + 1  # nothing added
    stores[0].cleanup(conversation, tickets[0])
    assert stores[1].issue_ticket(conversation, 60) == tickets[-1] + 1
    # other conversations are not affected: their first ticket is 0
    assert stores[0].issue_ticket(f"c-{uuid.uuid4().hex}", 60) == 0


def test_the_queue_bound_comes_from_the_endpoints_file():
    config = EndpointConfig(type="components.lock_store.BoundedInMemoryLockStore", max_queued_messages=2)
    store = BoundedInMemoryLockStore(endpoint_config=config)
    for _ in range(3):
        store.issue_ticket("c", 60)
    with pytest.raises(ConversationBusy):
        store.issue_ticket("c", 60)
    with pytest.raises(ValueError):
        BoundedInMemoryLockStore(max_queued_messages=0)


def test_a_repeated_delivery_is_claimed_once_across_replicas(replicas):
    """Four replicas receive the same webhook retry at once: exactly one handles it;
    the others see it "working" until it succeeded, then "done"."""
    delivery = f"twilio:SM{uuid.uuid4().hex}"
    claims: list[str] = []
    threads = [threading.Thread(target=lambda s=s: claims.append(s.claim_delivery(delivery, 60))) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claims) == ["new", "working", "working", "working"]
    replicas[0].delivery_done(delivery, 60)
    assert replicas[1].claim_delivery(delivery, 60) == "done"
    assert replicas[0].claim_delivery(f"twilio:SM{uuid.uuid4().hex}", 60) == "new"


def test_a_failed_turn_lets_the_retry_through(replicas):
    """Remembered only after success: the retry of a message whose turn failed is handled."""
    delivery = f"twilio:SM{uuid.uuid4().hex}"
    assert replicas[0].claim_delivery(delivery, 60) == "new"
    replicas[0].delivery_failed(delivery)
    assert replicas[1].claim_delivery(delivery, 60) == "new"


@pytest.mark.parametrize("kind", ["redis", "in-process"])
def test_deliveries_through_the_channels_helper(replicas, kind):
    from types import SimpleNamespace

    # Rasa's own in-memory lock store has no delivery records: this process keeps them.
    agent = SimpleNamespace(lock_store=replicas[0] if kind == "redis" else object())
    message_id = uuid.uuid4().hex
    first = claim_delivery(agent, "telegram", message_id)
    assert first.state == "new"
    assert claim_delivery(agent, "telegram", message_id).state == "working"
    assert claim_delivery(agent, "twilio", message_id).state == "new"  # ids are per channel
    first.failed()
    retry = claim_delivery(agent, "telegram", message_id)
    assert retry.state == "new"
    retry.succeeded()
    assert claim_delivery(agent, "telegram", message_id).state == "done"
    assert claim_delivery(agent, "telegram", None).state == "new"  # nothing to recognise it by


class _Counting:
    """The store's own Redis clients (Rasa's, and the asyncio one of the running
    event loop), counting the commands they send (each one a round trip)."""

    def __init__(self, store: AtomicRedisLockStore) -> None:
        self.sent: list[str] = []
        client, async_client = store.red, store.async_red()
        send, send_async = client.execute_command, async_client.execute_command

        def counted(*args, **kwargs):
            self.sent.append(str(args[0]))
            return send(*args, **kwargs)

        async def counted_async(*args, **kwargs):
            self.sent.append(str(args[0]))
            return await send_async(*args, **kwargs)

        client.execute_command = counted  # the real clients still do the work
        async_client.execute_command = counted_async


def test_a_message_nobody_is_ahead_of_costs_two_round_trips(replicas):
    """Its ticket (which says it is served) and its release: one script each, where
    Rasa's lock took four commands and the WATCH / MULTI version seven."""
    import asyncio

    store = replicas[0]

    async def message(conversation):
        async with store.lock(conversation, wait_time_in_seconds=0.01) as lock:
            assert not lock.is_locked(0)

    conversation = f"c-{uuid.uuid4().hex}"

    async def main():
        await message(f"c-{uuid.uuid4().hex}")  # Redis has the scripts from now on
        counting = _Counting(store)
        await message(conversation)
        return counting.sent

    assert asyncio.run(main()) == ["EVALSHA", "EVALSHA"]
    assert store.get_lock(conversation) is None  # released and gone


def test_a_message_behind_another_waits_its_turn(replicas):
    """The second message of a conversation waits (Rasa's polling) until the first is
    released on another replica, then is served."""
    import asyncio

    a, b = replicas[:2]
    conversation = f"c-{uuid.uuid4().hex}"
    order: list[str] = []

    async def first():
        async with a.lock(conversation, wait_time_in_seconds=0.01):
            await asyncio.sleep(0.2)
            order.append("first")

    async def second():
        await asyncio.sleep(0.05)
        async with b.lock(conversation, wait_time_in_seconds=0.01):
            order.append("second")

    async def main():
        await asyncio.gather(first(), second())

    asyncio.run(main())
    assert order == ["first", "second"]
    assert a.get_lock(conversation) is None


def test_the_lock_keeps_rasas_format_both_ways(replicas):
    """A lock written by Rasa's own code (a replica of the previous version during a
    rolling update) is continued by the scripts, expired tickets dropped, and what the
    scripts write is read back by Rasa's TicketLock."""
    import time

    from rasa.core.lock import Ticket, TicketLock

    store = replicas[0]
    conversation = f"c-{uuid.uuid4().hex}"
    now = time.time()
    written = TicketLock(conversation)
    written.tickets.extend([Ticket(4, now - 1), Ticket(5, now + 60)])  # 4 has expired
    store.red.set(store.key_prefix + conversation, written.dumps())
    ticket = store.issue_ticket(conversation, 30)
    assert ticket == 6
    lock = store.get_lock(conversation)
    assert [t.number for t in lock.tickets] == [5, 6]
    assert lock.tickets[1].expires == pytest.approx(now + 30, abs=5)
    assert lock.conversation_id == conversation and lock.is_locked(6) and not lock.is_locked(5)
    store.finish_serving(conversation, 5)
    assert not store.get_lock(conversation).is_locked(6)
    store.cleanup(conversation, 6)
    assert store.red.get(store.key_prefix + conversation) is None


def test_update_lock_drops_expired_tickets_and_the_lock_with_them(replicas):
    import time

    from rasa.core.lock import Ticket, TicketLock

    store = replicas[0]
    conversation = f"c-{uuid.uuid4().hex}"
    stale = TicketLock(conversation)
    stale.tickets.append(Ticket(0, time.time() - 1))
    store.red.set(store.key_prefix + conversation, stale.dumps())
    store.update_lock(conversation)
    assert store.red.get(store.key_prefix + conversation) is None
    assert store.issue_ticket(conversation, 60) == 0  # numbering starts again


def test_redis_down_is_a_lock_error():
    import asyncio

    from rasa.core.lock_store import LockError

    store = AtomicRedisLockStore(host="127.0.0.1", port=1, db=REDIS_DB, socket_timeout=1)
    with pytest.raises(LockError):
        store.issue_ticket("c", 60)

    async def message():
        async with store.lock("c", 60):
            pass

    with pytest.raises(LockError):  # a message's lock, through the asyncio client
        asyncio.run(message())


def test_a_turn_cancelled_while_its_ticket_is_issued_leaves_no_ticket_behind(replicas):
    """A turn cancelled (its client went away) while Redis issues its ticket: the
    ticket is released once issued, so the conversation's next message is served."""
    import asyncio

    store = replicas[0]
    conversation = f"c-{uuid.uuid4().hex}"

    async def main():
        async def message():
            async with store.lock(conversation, wait_time_in_seconds=0.01):
                pass

        turn = asyncio.ensure_future(message())
        await asyncio.sleep(0)  # the ticket's script is on its way to Redis
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn
        await asyncio.sleep(0.2)  # the release that follows the issue
        assert store.get_lock(conversation) is None
        async with store.lock(conversation, wait_time_in_seconds=0.01) as lock:
            return [t.number for t in lock.tickets]

    assert asyncio.run(main()) == [0]  # numbered from 0 again: the cancelled turn's lock went
    assert store.get_lock(conversation) is None


def test_what_a_turn_leaves_goes_to_the_next_turn_served_at_once_only(replicas):
    """What a turn leaves with the lock (the tracker store's account of its rows,
    components.tracker_store) is handed to the next turn if nobody is ahead of it,
    and taken from the lock then: a second turn, or a turn that had to wait, gets
    nothing. A turn released while another waits leaves nothing. Rasa's TicketLock
    still reads the lock; the lock goes after TRACKER_SECONDS idle."""
    import asyncio

    from rasa.core.lock import TicketLock

    from components.lock_store import LEFT_PREFIX, TRACKER_SECONDS, Turn, current_turn

    a, b = replicas[:2]
    conversation = f"c-{uuid.uuid4().hex}"
    handed: list = []

    class Left:
        def __init__(self, text):
            self.text = text

        def encode(self):
            return self.text

    async def turn(store, leave=None, hold=0.0, wait=0.0):
        await asyncio.sleep(wait)
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            current = current_turn(conversation)
            assert isinstance(current, Turn) and current_turn("another") is None
            handed.append(current.taken)
            await asyncio.sleep(hold)
            if leave is not None:
                current.state = Left(leave)
        assert current_turn(conversation) is None

    async def main():
        await turn(a, leave="one\n{}")
        key = a.key_prefix + conversation
        assert TicketLock.from_dict(json.loads(a.red.get(key))).tickets == deque()
        assert 0 < a.red.ttl(key) <= TRACKER_SECONDS
        await turn(b, leave="two")
        assert a.red.exists(LEFT_PREFIX + key) and 0 < a.red.ttl(LEFT_PREFIX + key) <= TRACKER_SECONDS
        await turn(a)  # leaves nothing
        assert not a.red.exists(LEFT_PREFIX + key)  # taken
        await turn(b)
        await turn(a, leave="three")
        # a turn behind another: it gets nothing, and the first leaves nothing while it waits
        await asyncio.gather(turn(a, leave="four", hold=0.1), turn(b, wait=0.03))
        await turn(a)

    asyncio.run(main())
    assert handed == [None, "one\n{}", "two", None, None, "three", None, None]
    assert a.get_lock(conversation) is None


def test_what_was_left_is_dropped_by_any_other_change_to_the_lock(replicas):
    """A ticket issued by Rasa's own code (a replica of the previous version) or by
    `issue_ticket`, and `forget_tracker` (a write outside any turn): the next turn
    gets nothing."""
    import asyncio

    from rasa.core.lock_store import RedisLockStore

    from components.lock_store import current_turn, forget_tracker

    store = replicas[0]
    previous = RedisLockStore(host="127.0.0.1", port=6379, db=REDIS_DB, key_prefix="test")
    conversation = f"c-{uuid.uuid4().hex}"

    class Left:
        def encode(self):
            return "left"

    async def turn():
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            taken = current_turn(conversation).taken
            current_turn(conversation).state = Left()
            return taken

    async def main():
        found = [await turn()]
        ticket = previous.issue_ticket(conversation, 60)
        previous.cleanup(conversation, ticket)
        found.append(await turn())
        store.cleanup(conversation, store.issue_ticket(conversation, 60))
        found.append(await turn())
        await forget_tracker(conversation)
        found.append(await turn())
        # what is under the other key without the lock naming it (a lock rewritten by other code)
        lock = json.loads(store.red.get(store.key_prefix + conversation))
        store.red.set(store.key_prefix + conversation, json.dumps({**lock, "tracker": "another"}))
        found.append(await turn())
        found.append(await turn())
        return found

    assert asyncio.run(main()) == [None, None, None, None, None, "left"]
