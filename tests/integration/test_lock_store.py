"""The conversation lock shared by Rasa replicas (real Redis)."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from components.lock_store import AtomicRedisLockStore
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
        await asyncio.gather(*(message(replicas[n % 4], n) for n in range(20)))

    asyncio.run(main())
    assert sorted(served) == list(range(20)) and max(overlaps) == 1


def test_a_repeated_delivery_is_seen_once_across_replicas(replicas):
    """Four replicas receive the same webhook retry at once: exactly one handles it."""
    delivery = f"twilio:SM{uuid.uuid4().hex}"
    firsts: list[bool] = []
    threads = [threading.Thread(target=lambda s=s: firsts.append(s.first_delivery(delivery, 60))) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(firsts) == [False, False, False, True]
    assert replicas[0].first_delivery(f"twilio:SM{uuid.uuid4().hex}", 60) is True


def test_repeated_deliveries_in_one_process_without_redis():
    from types import SimpleNamespace

    from channels.text_options import first_delivery

    agent = SimpleNamespace(lock_store=object())  # Rasa's in-memory lock store has no first_delivery
    message_id = uuid.uuid4().hex
    assert first_delivery(agent, "telegram", message_id) is True
    assert first_delivery(agent, "telegram", message_id) is False
    assert first_delivery(agent, "twilio", message_id) is True  # ids are per channel
    assert first_delivery(agent, "telegram", None) is True  # nothing to recognise it by
