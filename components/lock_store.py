"""Rasa's Redis ticket lock, made safe across replicas.

Rasa 3.6's RedisLockStore reads the conversation's lock, changes it in Python
and writes it back, with nothing stopping two replicas from doing so at once.
Two messages of one conversation arriving on two replicas can then draw the
same ticket number, or one replica deletes the lock ("no one is waiting")
just after the other added a ticket — that message then fails with
"Could not acquire lock" and gets no answer (seen in
tests/e2e/test_production.py). Here every change to a lock is one optimistic
Redis transaction (WATCH / MULTI / EXEC, retried on conflict), and a lock is
deleted only in the same transaction that finds it empty.

Both lock stores here also bound each conversation's queue: Rasa lets any
number of messages of one conversation wait for its lock, and a ticket's
lifetime (60 s) runs from the moment it is issued, so a burst of messages left
most of them expiring in the queue, unprocessed, with `200 []` for an answer.
Here a message that finds `max_queued_messages` others of its conversation
waiting is refused before anything is done (`ConversationBusy`); the channels
answer it with 429 and Retry-After.

Selected in Rasa's endpoints (`python -m bot endpoints` writes them) as
`lock_store: {type: components.lock_store.AtomicRedisLockStore, ...}` when
LOCK_STORE_URL is set, else `components.lock_store.BoundedInMemoryLockStore`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, RedisLockStore

from components import patches

patches.install()  # Rasa loads this module before the first message (components/patches)

T = TypeVar("T")

MAX_QUEUED_MESSAGES = 10  # waiting behind the one being answered; nobody types faster than that
SECONDS_PER_QUEUED_MESSAGE = 2  # for Retry-After: about what a turn takes under load


class ConversationBusy(LockError):
    """Too many messages of this conversation are waiting: this one was refused
    before anything was done with it, and can be sent again after `retry_after` seconds."""

    def __init__(self, queued: int) -> None:
        super().__init__(f"{queued} messages of this conversation are already waiting")
        self.retry_after = max(1, min(60, queued * SECONDS_PER_QUEUED_MESSAGE))


def issue_within_limit(lock: TicketLock, lifetime: float, max_queued: int) -> int:
    """The next ticket of `lock`, unless `max_queued` tickets are already live."""
    lock.remove_expired_tickets()
    if len(lock.tickets) > max_queued:  # one being served, max_queued waiting
        raise ConversationBusy(len(lock.tickets) - 1)
    return lock.issue_ticket(lifetime)


def _max_queued(endpoint_config, kwargs: dict) -> int:
    """`max_queued_messages` from the endpoints file or the constructor, else the default."""
    if endpoint_config is not None:
        kwargs = {**endpoint_config.kwargs, **kwargs}
    value = int(kwargs.pop("max_queued_messages", MAX_QUEUED_MESSAGES))
    if value < 1:
        raise ValueError("max_queued_messages must be at least 1")
    return value


class BoundedInMemoryLockStore(InMemoryLockStore):
    """Rasa's in-memory lock store (one process) with the queue bound."""

    def __init__(self, endpoint_config=None, **kwargs) -> None:
        self.max_queued = _max_queued(endpoint_config, kwargs)
        super().__init__()

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        lock = self.get_or_create_lock(conversation_id)
        ticket = issue_within_limit(lock, lock_lifetime, self.max_queued)
        self.save_lock(lock)
        return ticket


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config=None, **kwargs) -> None:
        if endpoint_config is not None:  # loaded by module path from the endpoints file
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
            kwargs.pop("type", None)
        self.max_queued = _max_queued(None, kwargs)
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T]) -> T:
        """Apply `change` to the stored lock atomically; delete the lock if it ends empty."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else TicketLock(conversation_id)
                    result = change(lock)
                    lock.remove_expired_tickets()
                    pipe.multi()
                    if lock.tickets:
                        pipe.set(key, lock.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another replica changed the lock first: read it again

    # Platform message ids (webhook retries carry the same one), shared by the
    # replicas: "working" while a turn handles it, "done" once that turn succeeded.
    # A failed turn forgets the id, so the platform's retry is handled.

    def claim_delivery(self, delivery_id: str, working_seconds: int) -> str:
        """ "new" (this replica handles it), "done" (a repeat) or "working" (another turn has it)."""
        key = self._delivery_key(delivery_id)
        while True:
            if self.red.set(key, "working", nx=True, ex=working_seconds):
                return "new"
            state = self.red.get(key)
            if state is not None:
                return "working" if state == b"working" else "done"
            # it expired between the two calls: try to claim it again

    def delivery_done(self, delivery_id: str, remember_seconds: int) -> None:
        self.red.set(self._delivery_key(delivery_id), "done", ex=remember_seconds)

    def delivery_failed(self, delivery_id: str) -> None:
        self.red.delete(self._delivery_key(delivery_id))

    def _delivery_key(self, delivery_id: str) -> str:
        return f"{self.key_prefix}delivery:{delivery_id}"

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: issue_within_limit(lock, lock_lifetime, self.max_queued))
        except redis.RedisError as exc:
            raise LockError(f"Error while acquiring lock: {type(exc).__name__}") from None

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: None)  # drops expired tickets

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # The lock is deleted by the same transaction once no ticket is left.
        self.finish_serving(conversation_id, ticket_number)
