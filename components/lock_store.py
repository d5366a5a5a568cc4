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

Selected in Rasa's endpoints as
`lock_store: {type: components.lock_store.AtomicRedisLockStore, ...}`
(`python -m bot endpoints` writes it when LOCK_STORE_URL is set).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

from components import patches

patches.install()  # Rasa loads this module before the first message (components/patches)

T = TypeVar("T")


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config=None, **kwargs) -> None:
        if endpoint_config is not None:  # loaded by module path from the endpoints file
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
            kwargs.pop("type", None)
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

    def first_delivery(self, delivery_id: str, remember_seconds: int) -> bool:
        """True the first time any replica sees this platform message id (webhook
        retries carry the same one); one atomic SET NX, kept for a while."""
        return bool(self.red.set(f"{self.key_prefix}delivery:{delivery_id}", 1, nx=True, ex=remember_seconds))

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except redis.RedisError as exc:
            raise LockError(f"Error while acquiring lock: {type(exc).__name__}") from None

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: None)  # drops expired tickets

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # The lock is deleted by the same transaction once no ticket is left.
        self.finish_serving(conversation_id, ticket_number)
