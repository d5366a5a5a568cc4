"""Every borrower message handled once, or refused with a status the sender can act on.

Two ways a message used to be lost:
- Messaging platforms retry a webhook that failed or timed out, carrying the
  same message id. The id was remembered on arrival, so when the first turn
  failed (a 500), the retry was acknowledged and dropped. Now an id is
  "working" while a turn handles it, "done" only once that turn succeeded,
  and forgotten when it failed, so the platform's retry is handled.
- A turn that could not run (the conversation's queue full, its lock lost,
  the tracker store down) was answered `200 []`, as if there were simply
  nothing to say. Now it is refused: 429 with Retry-After when the
  conversation already has `components.lock_store.MAX_QUEUED_MESSAGES`
  waiting, 503 with Retry-After otherwise; nothing of it was processed.

The ids live in the Redis lock store when there is one (shared by the
replicas), else in this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.lock_store import LockError
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import response
from sanic.response import HTTPResponse

from channels.text_options import tracker_for
from components.lock_store import ConversationBusy

logger = logging.getLogger(__name__)

NOT_PROCESSED_RESPONSE = "utter_message_not_processed"

DELIVERY_MEMORY_SECONDS = 24 * 3600  # platforms retry within minutes; a day is ample
WORKING_SECONDS = 120  # a turn still "working" after this has died with its replica
RETRY_AFTER_FAILURE_SECONDS = 5


class _DeliveriesInProcess:
    """The lock store's delivery bookkeeping (components.lock_store), in this process."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._states: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._capacity = capacity
        self._guard = threading.Lock()

    def claim_delivery(self, delivery_id: str, working_seconds: int) -> str:
        now = time.monotonic()
        with self._guard:
            while self._states and len(self._states) >= self._capacity:
                self._states.popitem(last=False)
            state, until = self._states.get(delivery_id, ("", 0.0))
            if until > now:
                return state
            self._states[delivery_id] = ("working", now + working_seconds)
            return "new"

    def delivery_done(self, delivery_id: str, remember_seconds: int) -> None:
        with self._guard:
            self._states.pop(delivery_id, None)
            self._states[delivery_id] = ("done", time.monotonic() + remember_seconds)

    def delivery_failed(self, delivery_id: str) -> None:
        with self._guard:
            self._states.pop(delivery_id, None)


_IN_PROCESS = _DeliveriesInProcess()


@dataclass
class Delivery:
    """One platform message, claimed for handling: `state` is "new" (handle it),
    "done" (a repeat of a handled message: acknowledge it) or "working" (a turn
    is handling it right now: ask the platform to retry later)."""

    book: Any
    delivery_id: str | None
    state: str

    def succeeded(self) -> None:
        if self.delivery_id and self.state == "new":
            self._safely(self.book.delivery_done, self.delivery_id, DELIVERY_MEMORY_SECONDS)

    def failed(self) -> None:
        if self.delivery_id and self.state == "new":
            self._safely(self.book.delivery_failed, self.delivery_id)

    @staticmethod
    def _safely(call: Callable[..., None], *args: Any) -> None:
        try:
            call(*args)
        except Exception as exc:  # Redis down: at worst a retry is handled again
            logger.error("could not update a delivery record (%s)", type(exc).__name__)


def claim_delivery(agent: Any, channel: str, message_id: str | None) -> Delivery:
    """Claim a platform message by its id (a message without one is always new)."""
    book: Any = getattr(agent, "lock_store", None)
    if not hasattr(book, "claim_delivery"):
        book = _IN_PROCESS
    if not message_id:
        return Delivery(book, None, "new")
    delivery_id = f"{channel}:{message_id}"
    try:
        return Delivery(book, delivery_id, book.claim_delivery(delivery_id, WORKING_SECONDS))
    except Exception as exc:  # Redis down: handle the message rather than lose it
        logger.error("could not check for a repeated delivery (%s)", type(exc).__name__)
        return Delivery(book, None, "new")


@dataclass(frozen=True)
class Refusal:
    """Why a message was not processed, and when to send it again."""

    status: int
    retry_after: int
    error: str

    def as_json(self) -> HTTPResponse:
        return response.json(
            {"error": self.error, "retry_after": self.retry_after},
            status=self.status,
            headers={"Retry-After": str(self.retry_after)},
        )

    def as_text(self) -> HTTPResponse:
        return response.text(self.error, status=self.status, headers={"Retry-After": str(self.retry_after)})


BUSY = "too many messages of this conversation are waiting; nothing was done with this one, send it again later"
NOT_PROCESSED = "the message could not be processed; nothing was done with it, send it again later"
IN_PROGRESS = "this message is being handled; send it again later if no answer comes"


def in_progress() -> Refusal:
    return Refusal(503, RETRY_AFTER_FAILURE_SECONDS, IN_PROGRESS)


async def run_turn(agent: Any, turn: Callable[[], Awaitable[Any]], channel: str) -> Refusal | None:
    """Run one borrower turn; None when it was processed, else why not.

    The caller has not answered the sender yet, so a refusal reaches them."""
    if agent is None or not agent.is_ready():
        logger.error("%s: a message arrived before the model was loaded (503)", channel)
        return Refusal(503, RETRY_AFTER_FAILURE_SECONDS, NOT_PROCESSED)
    try:
        await turn()
    except ConversationBusy as busy:
        logger.warning("%s: a message was refused, its conversation's queue is full (429)", channel)
        return Refusal(429, busy.retry_after, BUSY)
    except LockError:
        logger.error("%s: a message waited too long for its conversation (503)", channel)
        return Refusal(503, RETRY_AFTER_FAILURE_SECONDS, NOT_PROCESSED)
    except Exception as exc:  # the exception's text may quote the message: only its type is logged
        logger.error("%s: a message could not be processed (%s; 503)", channel, type(exc).__name__)
        return Refusal(503, RETRY_AFTER_FAILURE_SECONDS, NOT_PROCESSED)
    return None


async def refusal_text(agent: Any, conversation_id: str, channel: str) -> str | None:
    """What the widget shows for a refused message: `utter_message_not_processed`
    in the borrower's language (the conversation's `language` slot, when the
    tracker store can be read), rendered outside the conversation."""
    if agent is None or getattr(agent, "nlg", None) is None:
        return None
    tracker = await tracker_for(agent, conversation_id)
    if tracker is None:
        tracker = DialogueStateTracker(conversation_id, agent.domain.slots if agent.domain else [])
    try:
        generated = await agent.nlg.generate(NOT_PROCESSED_RESPONSE, tracker, channel)
    except Exception as exc:
        logger.error("could not render %s (%s)", NOT_PROCESSED_RESPONSE, type(exc).__name__)
        return None
    return (generated or {}).get("text")
