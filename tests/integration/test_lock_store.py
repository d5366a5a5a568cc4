"""The conversation lock shared by Rasa replicas (real Redis)."""

from __future__ import annotations

import threading
import uuid

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
