"""Rasa's Redis ticket lock, made safe across replicas.

Rasa 3.6's RedisLockStore reads the conversation's lock, changes it in Python
and writes it back, with nothing stopping two replicas from doing so at once.
Two messages of one conversation arriving on two replicas can then draw the
same ticket number, or one replica deletes the lock ("no one is waiting")
just after the other added a ticket — that message then fails with
"Could not acquire lock" and gets no answer (seen in
tests/e2e/test_production.py). Here every change to a lock is one Lua script,
which Redis runs atomically, and a lock is deleted only by the script that
finds it empty. A script is also one round trip: a message that finds nobody
ahead of it costs two (its ticket, which tells it it is served; its release),
where Rasa's lock took four and the optimistic transactions (WATCH / GET /
MULTI-EXEC) of the previous version seven, each with the replica's event loop
stopped (issue 18: 13% of the replica's event loop under load). `lock` (every
message) sends its two scripts through an asyncio client, so the event loop
serves other conversations while Redis answers. The lock keeps
Rasa's JSON, so replicas running the previous version during a rolling update
share it safely (a script is atomic, and WATCH sees what it changed).

The Redis lock also carries, from one turn of a conversation to the next, what
the tracker store knows of the rows the latest turns wrote (`Turn`; see the
comment above it), so that a replica need not ask PostgreSQL what is new.

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

import asyncio
import json
import secrets
import time
import weakref
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    RedisLockStore,
)

from components import patches

patches.install()  # Rasa loads this module before the first message (components/patches)

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


# What a turn leaves with the conversation's lock for the next one: the tracker
# store's account of the rows it wrote (components.tracker_store), so that the
# replica taking the next message can tell without asking PostgreSQL whether
# anybody wrote since it last saw the conversation, and what. The lock store only
# carries it: a turn served at once takes it from the lock (`Turn.taken`), the
# lock no longer holding it from then on, so a turn that dies half-way leaves
# nothing to be trusted; the release leaves the turn's own account (`Turn.state`)
# with the lock when no other message of the conversation waits. The text itself
# is kept under a key of its own (`left:<lock key>`, which the scripts pass through
# without parsing it), and the lock names it by a token of the release that left
# it; any change to the lock by other code (Rasa's own lock store, the previous
# version of these scripts during a rolling update) rewrites the lock without the
# token, and what is under the other key is then never handed out.
TRACKER_SECONDS = 3600  # how long an idle conversation's account is kept in Redis
MAX_TRACKER_CHARS = 256_000  # a larger account is not left (the next turn asks PostgreSQL)
LEFT_PREFIX = "left:"


@dataclass
class Turn:
    """The message (or HTTP API call) holding a conversation's lock in this task."""

    conversation_id: str
    taken: str | None  # what the previous holder left with the lock, if this turn was served at once
    state: Any = None  # what to leave with the lock: an object with `encode() -> str`, or None
    owner: Any = None  # the tracker store that reads and writes `state`


_TURN: ContextVar[Turn | None] = ContextVar("conversation_turn", default=None)


def current_turn(conversation_id: str) -> Turn | None:
    """The turn holding this conversation's lock in the running task, if any."""
    turn = _TURN.get()
    return turn if turn is not None and turn.conversation_id == conversation_id else None


_VERSIONED: weakref.WeakSet[AtomicRedisLockStore] = weakref.WeakSet()


async def forget_tracker(conversation_id: str) -> None:
    """Drop what a turn left with the conversation's lock, in every Redis lock
    store of this process: the tracker store wrote it outside a turn (not under
    the lock), so the account no longer holds."""
    for store in list(_VERSIONED):
        try:
            await store._release_async(conversation_id, -1)
        except redis.RedisError:  # then nobody can take it either until Redis is back, or it expires
            pass


# The live tickets of a lock (Rasa's JSON: each ticket a JSON string of its own),
# the expired ones dropped: ticket `expires` at or after `now` (Rasa's
# Ticket.has_expired is now > expires). Shared by both scripts. `store` writes
# the lock without what a turn left with it (`left`).
_LIVE_TICKETS = """
local now = tonumber(ARGV[2])
local numbers, tickets = {}, {}
local token = false
local raw = redis.call('GET', KEYS[1])
if raw then
  local stored = cjson.decode(raw)
  if type(stored.tracker) == 'string' then token = stored.tracker end
  for _, text in ipairs(stored.tickets or {}) do
    local ticket = cjson.decode(text)
    if tonumber(ticket.expires) >= now then
      numbers[#numbers + 1] = tonumber(ticket.number)
      tickets[#tickets + 1] = text
    end
  end
end
local function store()
  if #tickets == 0 then
    redis.call('DEL', KEYS[1])
    return nil
  end
  local lock = cjson.encode({conversation_id = ARGV[1], tickets = tickets})
  redis.call('SET', KEYS[1], lock)
  return lock
end
"""

# KEYS: the lock, what is left with it. ARGV: conversation id, now, lifetime, max
# queued. {ticket, the lock as stored, what the previous turn left if this ticket
# is served at once}, or {-1, the number waiting} when max queued are already
# waiting (nothing changed). The lock is stored without what was left: only the
# turn served at once takes it.
_ISSUE = (
    _LIVE_TICKETS
    + """
if #tickets > tonumber(ARGV[4]) then
  return {-1, #tickets - 1}
end
local number = 0
if #numbers > 0 then number = numbers[#numbers] + 1 end
tickets[#tickets + 1] = string.format('{"number": %d, "expires": %.6f}', number, now + tonumber(ARGV[3]))
local lock = store()
if token then
  local left = redis.call('GET', KEYS[2])
  redis.call('DEL', KEYS[2])
  local head = token .. '\\n'
  if #tickets == 1 and left and string.sub(left, 1, #head) == head then
    return {number, lock, string.sub(left, #head + 1)}
  end
end
return {number, lock}
"""
)

# KEYS: the lock, what is left with it. ARGV: conversation id, now, the ticket to
# remove (-1: none, only the expired ones), what the turn leaves for the next ("":
# nothing), for how many seconds, the release's token. Left only when no ticket is
# left (else the lock is stored without it).
_RELEASE = (
    _LIVE_TICKETS
    + """
local gone = tonumber(ARGV[3])
for i = #numbers, 1, -1 do
  if numbers[i] == gone then
    table.remove(numbers, i)
    table.remove(tickets, i)
  end
end
if token then redis.call('DEL', KEYS[2]) end
if #tickets == 0 and ARGV[4] and ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[6] .. '\\n' .. ARGV[4], 'EX', tonumber(ARGV[5]))
  redis.call('SET', KEYS[1], '{"conversation_id": ' .. cjson.encode(ARGV[1]) .. ', "tickets": [], "tracker": '
    .. cjson.encode(ARGV[6]) .. '}', 'EX', tonumber(ARGV[5]))
  return 0
end
store()
return #tickets
"""
)


def _left_by(turn: Turn) -> str:
    """What a turn leaves with the lock ("" for nothing)."""
    if turn.state is None:
        return ""
    try:
        text = turn.state.encode()
    except Exception:  # whatever went wrong, the next turn asks PostgreSQL
        return ""
    return text if len(text) <= MAX_TRACKER_CHARS else ""


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config=None, **kwargs) -> None:
        if endpoint_config is not None:  # loaded by module path from the endpoints file
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
            kwargs.pop("type", None)
        self.max_queued = _max_queued(None, kwargs)
        super().__init__(**kwargs)
        self._issue_script = self.red.register_script(_ISSUE)
        self._release_script = self.red.register_script(_RELEASE)
        # `lock` (every message) talks to Redis through an asyncio client on the
        # replica's event loop, which serves other conversations while Redis
        # answers; the same connection settings as Rasa's client, one per loop.
        ssl = bool(kwargs.get("use_ssl", False))
        self._async_options = {
            "host": kwargs.get("host", "localhost"),
            "port": int(kwargs.get("port", 6379)),
            "db": int(kwargs.get("db", 1)),
            "username": kwargs.get("username"),
            "password": kwargs.get("password"),
            "socket_timeout": kwargs.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS),
            "ssl": ssl,
            **({key: kwargs.get(key) for key in ("ssl_certfile", "ssl_keyfile", "ssl_ca_certs")} if ssl else {}),
        }
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple] = weakref.WeakKeyDictionary()
        self._releasing: set[asyncio.Future] = set()  # releases of cancelled turns' tickets
        _VERSIONED.add(self)

    def async_red(self) -> redis.asyncio.Redis:
        """The asyncio client of the running event loop (made on first use)."""
        return self._async_scripts()[0]

    def _async_scripts(self) -> tuple:
        loop = asyncio.get_running_loop()
        found = self._async_clients.get(loop)
        if found is None:
            client = redis.asyncio.Redis(**self._async_options)
            found = (client, client.register_script(_ISSUE), client.register_script(_RELEASE))
            self._async_clients[loop] = found
        return found

    def _keys(self, conversation_id: str) -> list[str]:
        """The lock's key, and the key of what a turn left with it."""
        return [self.key_prefix + conversation_id, LEFT_PREFIX + self.key_prefix + conversation_id]

    def _issue_args(self, conversation_id: str, lock_lifetime: float) -> dict:
        return {
            "keys": self._keys(conversation_id),
            "args": [conversation_id, repr(time.time()), repr(float(lock_lifetime)), self.max_queued],
        }

    def _issued(self, answer: list) -> tuple[int, TicketLock, str | None]:
        number, stored = answer[0], answer[1]
        if number < 0:
            raise ConversationBusy(int(stored))
        left = answer[2].decode() if len(answer) > 2 else None
        return int(number), TicketLock.from_dict(json.loads(stored)), left

    def _issue(self, conversation_id: str, lock_lifetime: float) -> tuple[int, TicketLock]:
        """A new ticket and the lock with it, in one round trip."""
        try:
            answer = self._issue_script(**self._issue_args(conversation_id, lock_lifetime))
        except redis.RedisError as exc:
            raise LockError(f"Error while acquiring lock: {type(exc).__name__}") from None
        return self._issued(answer)[:2]

    async def _issue_async(self, conversation_id: str, lock_lifetime: float) -> tuple[int, TicketLock, str | None]:
        """`_issue` on the event loop; also what the previous turn left, if this ticket is served at once."""
        try:
            answer = await self._async_scripts()[1](**self._issue_args(conversation_id, lock_lifetime))
        except redis.RedisError as exc:
            raise LockError(f"Error while acquiring lock: {type(exc).__name__}") from None
        return self._issued(answer)

    def _release(self, conversation_id: str, ticket_number: int) -> None:
        self._release_script(keys=self._keys(conversation_id), args=[conversation_id, repr(time.time()), ticket_number])

    async def _release_async(self, conversation_id: str, ticket_number: int, leave: str = "") -> None:
        await self._async_scripts()[2](
            keys=self._keys(conversation_id),
            args=[conversation_id, repr(time.time()), ticket_number, leave, TRACKER_SECONDS, secrets.token_hex(8)],
        )

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's `LockStore.lock`, without asking Redis again when the ticket just
        issued is the one served (nobody ahead of this message); both round trips
        awaited on the event loop."""
        # Both round trips are shielded: a turn cancelled while Redis answers (its
        # client went away) still releases its ticket, which would otherwise
        # hold the conversation until it expires.
        issuing = asyncio.ensure_future(self._issue_async(conversation_id, lock_lifetime))
        try:
            ticket, lock, left = await asyncio.shield(issuing)
        except asyncio.CancelledError:
            issuing.add_done_callback(lambda done: self._release_later(conversation_id, done))
            raise
        turn = Turn(conversation_id, left)
        holding = _TURN.set(turn)
        try:
            if not lock.is_locked(ticket):
                yield lock
            else:
                yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            try:
                _TURN.reset(holding)
            except ValueError:  # closed from another context (garbage collection)
                pass
            leave = _left_by(turn)
            # the lock goes with its last ticket (and stays with what the turn left, if it left something)
            await asyncio.shield(self._release_async(conversation_id, ticket, leave))

    def _release_later(self, conversation_id: str, issued: asyncio.Future) -> None:
        """Release a ticket issued for a turn that was cancelled before it got it."""
        if not issued.cancelled() and issued.exception() is None:
            release = asyncio.ensure_future(self._release_async(conversation_id, issued.result()[0]))
            self._releasing.add(release)  # kept until done
            release.add_done_callback(self._releasing.discard)

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
        return self._issue(conversation_id, lock_lifetime)[0]

    def update_lock(self, conversation_id: str) -> None:
        self._release(conversation_id, -1)  # drops expired tickets

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._release(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # The lock is deleted by the same script once no ticket is left.
        self.finish_serving(conversation_id, ticket_number)
