"""Tracker stores that mask personal data before anything is stored or streamed.

Rasa saves the tracker at the end of each message. These stores save a copy in
which what the borrower typed (and any button that offered their date of
birth, and the bot's own text, should it ever quote the borrower) is masked by
`bot.domain.privacy`; the actions of the current turn still see the real
text, later turns and the event broker only the masked copy. An
answer given while the verification form asks for the date of birth is masked
whole, as is the `date_of_birth` slot until it holds "checked".

endpoints.yml names one of them (`python -m bot endpoints` does):
`components.tracker_store.MaskingInMemoryTrackerStore` (embedded profile) or
`components.tracker_store.CachingSQLTrackerStore` (production, same options as
Rasa's SQL store, plus `cache_size`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.domain.privacy import MASK, install_log_masking, mask_personal_data
from components import patches
from components.lock_store import Turn, current_turn, forget_tracker
from components.patches.long_conversations import SNAPSHOT, clone

logger = logging.getLogger(__name__)

install_log_masking()
patches.install()  # Rasa loads this module before the first message (components/patches)

_KEPT_DOB_VALUES = (None, "checked")


def masked_events(events: Iterable[Event]) -> list[Event]:
    """The events with personal data masked; events with nothing to mask are kept
    as they are. The common case (no digit in the text) is checked without
    copying anything."""
    return mask_events(events)[0]


def mask_events(events: Iterable[Event], asked_for_dob: bool = False) -> tuple[list[Event], bool]:
    """`masked_events`, continuing from events before these (`asked_for_dob`:
    the latest form question among them was the date of birth); also returns
    whether it is after these."""
    result: list[Event] = []
    for event in events:
        if isinstance(event, SlotSet):
            if event.key == "requested_slot":
                asked_for_dob = event.value == "date_of_birth"
            elif event.key == "date_of_birth" and event.value not in _KEPT_DOB_VALUES and event.value != MASK:
                event = SlotSet("date_of_birth", MASK, timestamp=event.timestamp, metadata=event.metadata)
            elif isinstance(event.value, str) and _has_digit(event.value):
                masked = mask_personal_data(event.value)
                if masked != event.value:
                    event = SlotSet(event.key, masked, timestamp=event.timestamp, metadata=event.metadata)
        elif isinstance(event, UserUttered):
            event = _masked_user_message(event, whole=asked_for_dob)
        elif isinstance(event, BotUttered):
            # The bot's text is the domain's and never repeats what the borrower
            # typed; masked all the same, should a response ever quote it. Its
            # buttons can carry the readings of an ambiguous date of birth.
            event = _masked_bot_message(event)
        result.append(event)
    return result, asked_for_dob


def masked_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A shallow copy of the tracker whose events are masked (same number of
    events, so Rasa's stores still find which ones are new)."""
    masked = copy.copy(tracker)
    masked.events = deque(masked_events(tracker.events), maxlen=tracker.events.maxlen)
    return masked


def _masked_user_message(event: UserUttered, *, whole: bool) -> Event:
    text = event.text or ""
    if whole and text and text != MASK and not text.startswith("/"):  # a typed date of birth, in any form
        masked_text = MASK
    elif _has_digit(text):
        masked_text = mask_personal_data(text)
        if masked_text == text:
            return event
    else:
        return event
    data = event.as_dict()
    data["text"] = masked_text
    parse_data = dict(data.get("parse_data") or {})
    parse_data["text"] = masked_text
    parse_data["entities"] = [] if masked_text == MASK else _mask_strings(parse_data.get("entities") or [])
    data["parse_data"] = parse_data
    return Event.from_parameters(data)


def _masked_bot_message(event: BotUttered) -> Event:
    buttons = (event.data or {}).get("buttons")
    masked_buttons = buttons
    if buttons and any(
        _has_digit(str(value)) for button in buttons if isinstance(button, dict) for value in button.values()
    ):
        masked_buttons = _mask_strings(buttons)
    masked_text = mask_personal_data(event.text) if event.text and _has_digit(event.text) else event.text
    if masked_text == event.text and masked_buttons == buttons:
        return event
    data = {**event.data, "buttons": masked_buttons} if masked_buttons != buttons else event.data
    return BotUttered(masked_text, data, event.metadata, timestamp=event.timestamp)


_DIGIT = re.compile(r"\d")


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


def _mask_strings(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, dict):
        return {key: _mask_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_strings(item) for item in value]
    return value


class MaskingInMemoryTrackerStore(InMemoryTrackerStore):
    """Rasa's in-memory tracker store, storing masked trackers — as objects.

    Rasa's own store keeps each tracker as JSON: every message serialises the
    whole conversation and reads it back by replaying every event, work that
    grows with the conversation. This one keeps the masked tracker object and
    adds each turn's new events to it (masked, by `update`, so its state is
    exactly what replaying the masked events gives); `retrieve` returns a copy
    sharing the event objects (`patches.long_conversations.clone`). A tracker saved
    that does not continue the stored one (replaced through the HTTP API, say)
    is stored from scratch, as Rasa would.

    One difference from Rasa's store, as in Rasa's SQL store: a retrieved
    tracker's latest message is the borrower's latest message (Rasa's JSON
    store replays only `applied_events`, which fold a form's turns away, so
    there it was the message before the form). Each turn sets it anew.
    """

    def __init__(self, domain, event_broker=None, host=None, **kwargs) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self._conversations: dict[str, _Stored] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        stored = self._conversations.get(tracker.sender_id)
        base = stored.continued_by(tracker) if stored else None
        if base is None:
            events, asked_for_dob = mask_events(tracker.events)
            kept = DialogueStateTracker.from_events(
                tracker.sender_id,
                events,
                self.domain.slots,
                sender_source=tracker.sender_source,
                max_event_history=tracker._max_event_history,
            )
            # as Rasa streams it: what goes beyond the session retrieved before
            offset = len(stored.current_session().events) if stored else 0
            new_events = events[offset:]
        else:
            new_events, asked_for_dob = mask_events(islice(tracker.events, len(base.events), None), base.asked_for_dob)
            kept = clone(base.tracker)
            for event in new_events:
                kept.update(event)
        for name in ("model_id", "assistant_id"):
            setattr(kept, name, getattr(tracker, name))
        snapshot = tracker.__dict__.get(SNAPSHOT)
        if base is not None and snapshot is not None and snapshot.index <= len(base.events):
            kept.__dict__[SNAPSHOT] = snapshot  # of earlier turns, masked already
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        self._conversations[tracker.sender_id] = _Stored(_Version(kept, asked_for_dob))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        stored = self._conversations.get(sender_id)
        return clone(stored.current_session().tracker) if stored else None

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        stored = self._conversations.get(sender_id)
        return clone(stored.full.tracker) if stored else None

    async def keys(self) -> Iterable[str]:
        return self._conversations.keys()

    def serialised(self) -> dict[str, str]:
        """Every stored conversation as Rasa's own store would hold it."""
        return {key: self.serialise_tracker(c.full.tracker) for key, c in self._conversations.items()}


@dataclass
class _Version:
    tracker: DialogueStateTracker
    asked_for_dob: bool

    @property
    def events(self):
        return self.tracker.events


@dataclass
class _Stored:
    """A conversation: all its sessions, and its latest session alone once
    asked for (what `retrieve` gives and what the next save continues)."""

    full: _Version
    _session: _Version | None = None

    def current_session(self) -> _Version:
        if self._session is None:
            self._session = self.full
            starts = [
                i
                for i, e in enumerate(self.full.events)
                if isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME
            ]
            if starts and starts[-1] > 0:
                last = list(islice(self.full.events, starts[-1], None))
                session = DialogueStateTracker.from_events(
                    self.full.tracker.sender_id,
                    last,
                    self.full.tracker.slots.values(),
                    sender_source=self.full.tracker.sender_source,
                    max_event_history=self.full.tracker._max_event_history,
                )
                session.model_id, session.assistant_id = self.full.tracker.model_id, self.full.tracker.assistant_id
                self._session = _Version(session, self.full.asked_for_dob)
        return self._session

    def continued_by(self, tracker: DialogueStateTracker) -> _Version | None:
        """The stored version `tracker` was retrieved from, if it was."""
        for version in (self._session, self.full):
            if version is not None and _continues(tracker.events, version.events):
                return version
        return None


def _continues(events, stored) -> bool:
    """Whether `events` start with exactly the stored event objects."""
    n = len(stored)
    if len(events) < n:
        return False
    if n == 0:
        return True
    # retrieve() shares the stored event objects; the ends are enough to tell.
    return events[n - 1] is stored[n - 1] and events[0] is stored[0]


class MaskingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, storing masked trackers.

    It also finds the current session by the position of its
    `action_session_start`, as the in-memory store does. Rasa's own SQL store
    starts it at the `session_started` event's timestamp, which is later than
    the greeting that `action_session_start` utters, so the greeting (the
    "automated assistant, may be recorded" statement) was dropped from every
    retrieved conversation.
    """

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(masked_tracker(tracker))

    def _event_query(self, session, sender_id: str, fetch_events_from_all_sessions: bool):
        query = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            session_start = (
                session.query(sa.func.max(self.SQLEvent.id))
                .filter(
                    self.SQLEvent.sender_id == sender_id,
                    self.SQLEvent.type_name == ActionExecuted.type_name,
                    self.SQLEvent.action_name == ACTION_SESSION_START_NAME,
                )
                .scalar_subquery()
            )
            query = query.filter(sa.or_(session_start.is_(None), self.SQLEvent.id >= session_start))
        return query.order_by(self.SQLEvent.id)


class CachingSQLTrackerStore(MaskingSQLTrackerStore):
    """`MaskingSQLTrackerStore` whose cost per message does not grow with the session.

    Rasa's SQL store, on every message, reads and replays every event of the
    session to retrieve the tracker, then on save reads and replays them all
    again (to find what to stream to the event broker) and counts them (to
    find which ones are new), and inserts the new events one statement each.

    This one keeps each recent conversation's latest session as a tracker
    object in the replica's memory (at most `cache_size`, least recently used
    dropped first), as the in-memory store does, with the id of the latest
    event row it holds. Rasa's lock store lets one replica at a time work on a
    conversation, so before reusing a kept tracker, one indexed query asks for
    the rows of that conversation from that id on: the row itself back and
    nothing after it means nobody wrote since; rows after it (the conversation
    went to another replica meanwhile) are deserialised and applied, only
    those; the row missing (the conversation was deleted or archived) or a new
    session among the new rows means the session is read again as Rasa reads
    it. A save inserts the turn's new (masked) events in one statement, which
    returns their ids, outside any explicit transaction (one round trip on
    PostgreSQL). The kept tracker is updated with the events as they read back
    from their JSON, so it is the tracker Rasa's own store would give, event
    for event (tests/integration/test_sql_tracker_store.py). A conversation
    the retrieve found no row of (a new borrower: Rasa's `create_tracker` saves
    it at once, then the first turn saves it again) is saved the same way, its
    first statement inserting only while the conversation has no row, and the
    tracker `create_tracker` returns is the kept one, so neither save is Rasa's
    (a count and one INSERT per event, with the event loop stopped).

    Within a turn holding the Redis lock (`components.lock_store.Turn`), the
    query is skipped when what the previous turns left with the lock says what
    was written since the kept row (`_Written`; docs/deploy.md, issue 18 §9).

    A saved tracker that does not continue the kept one (replaced through the
    HTTP API, say) is saved as Rasa's store saves it, and read again next time.
    `retrieve_full_tracker` (every session: the HTTP API, the team console) is
    Rasa's, uncached.
    """

    def __init__(
        self, domain=None, *args: Any, cache_size: int = 10_000, synchronous_commit: str = "on", **kwargs: Any
    ) -> None:
        if str(synchronous_commit).lower() not in SYNCHRONOUS_COMMIT:
            raise ValueError(f"synchronous_commit must be one of {', '.join(SYNCHRONOUS_COMMIT)}")
        super().__init__(domain, *args, **kwargs)
        self.cache_size = int(cache_size)
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        # Conversations the latest retrieve found no row of: their first save
        # inserts every event the way a turn's save does (see `_save_new`).
        self._absent: OrderedDict[str, None] = OrderedDict()
        self._postgres = self.engine.dialect.name == "postgresql"
        # One statement needs no transaction around it: no BEGIN / COMMIT round
        # trips. Its own pool, so no connection switches mode at each checkout.
        # `synchronous_commit` applies to these connections only, which write
        # each turn's events (docs/deploy.md: what "off" risks).
        engine_kwargs = create_engine_kwargs(self.engine.url)
        if self._postgres and str(synchronous_commit).lower() != "on":
            options = f"-c synchronous_commit={str(synchronous_commit).lower()}"
            engine_kwargs["connect_args"] = {**engine_kwargs.get("connect_args", {}), "options": options}
        self._autocommit = (
            sa.create_engine(self.engine.url, isolation_level="AUTOCOMMIT", **engine_kwargs)
            if self._postgres
            else self.engine
        )
        self._table = self.SQLEvent.__table__
        # PostgreSQL: each INSERT's SQL by its kind and number of rows (see `_compiled`)
        self._sql: dict[tuple[str, int], _Compiled | None] = {}
        self._ensure_index()

    def _ensure_index(self) -> None:
        """Rasa indexes `sender_id` alone; each turn's queries look up (sender_id, id)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {_INDEX} ON events (sender_id, id)"))
        except sa.exc.SQLAlchemyError as exc:  # another replica creating it at the same moment
            logger.warning("tracker store: index %s not created (%s)", _INDEX, type(exc).__name__)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        kept = await self._current(sender_id)
        return clone(kept.tracker) if kept else None

    async def create_tracker(self, sender_id: str, append_action_listen: bool = True) -> DialogueStateTracker:
        """Rasa's `create_tracker` (after a retrieve found nothing), returning the
        tracker as kept, so that the turn's save continues it."""
        tracker = await super().create_tracker(sender_id, append_action_listen)
        kept = self._kept.get(sender_id)
        if kept is not None and len(kept.tracker.events) == len(tracker.events):
            return clone(kept.tracker)
        return tracker

    # The database is waited for in a thread: the replica's event loop goes on
    # with other conversations meanwhile (psycopg2 releases the GIL while it
    # waits). What is kept is changed on the event loop only.

    async def _current(self, sender_id: str) -> _Kept | None:
        self._absent.pop(sender_id, None)
        turn = self._turn(sender_id)
        known = None
        if turn is not None:
            known = self._known(turn)
            turn.state = None  # set again below once the conversation's latest row is known
            kept = self._from_known(sender_id, known) if known is not None else None
            if kept is not None:
                self._keep(sender_id, kept)
                turn.state = known
                return kept
        kept = self._kept.get(sender_id)
        if kept is not None:
            rows = await asyncio.to_thread(self._rows_from, sender_id, kept.last_id)
            if rows and rows[0][0] == kept.last_id:
                if len(rows) > 1:  # another replica answered since
                    kept = kept.followed_by([Event.from_parameters(json.loads(r[1])) for r in rows[1:]], rows[-1][0])
                if kept is not None:
                    self._keep(sender_id, kept)
                    if turn is not None:
                        turn.state = _Written.at(kept.last_id, known)
                    return kept
            self._kept.pop(sender_id, None)
        found = await asyncio.to_thread(self._session_rows, sender_id)
        if not found:
            self._absent[sender_id] = None
            while len(self._absent) > self.cache_size:
                self._absent.popitem(last=False)
            if turn is not None:
                turn.state = _Written.at(0, known)
        if not found or self.domain is None:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(data) for _, data in found], self.domain.slots)
        kept = _Kept(tracker, found[-1][0], _asked_for_dob(tracker.events))
        self._keep(sender_id, kept)
        if turn is not None:
            turn.state = _Written.at(kept.last_id, known)
        return kept

    # What a turn knows without asking PostgreSQL. The Redis lock lets one turn
    # at a time hold a conversation; each turn leaves with the lock what it knows
    # of the conversation's rows (`_Written`: the latest row before it, the rows it
    # wrote and the latest row after them), and the next turn served takes it
    # (components.lock_store). A turn that finds nothing left (the first message
    # after an hour, a turn that had to wait, a turn before it that failed, a save
    # made outside the lock, a replica of the previous version) asks PostgreSQL.

    def _turn(self, sender_id: str) -> Turn | None:
        """This task's turn holding the conversation's lock, if this store is its tracker store."""
        turn = current_turn(sender_id)
        if turn is None:
            return None
        if turn.owner is None:
            turn.owner = self
        elif turn.owner is not self:  # another store in the same turn: what it knows is no longer enough
            turn.owner, turn.state = _NOBODY, None
            return None
        return turn

    @staticmethod
    def _known(turn: Turn) -> _Written | None:
        """What is known of the conversation's rows in this turn."""
        if turn.state is not None:
            return turn.state
        taken, turn.taken = turn.taken, None
        return _Written.decode(taken) if taken else None

    def _from_known(self, sender_id: str, known: _Written) -> _Kept | None:
        """The latest session from what the turn knows and what is kept, or None (ask PostgreSQL)."""
        kept = self._kept.get(sender_id)
        if kept is not None and kept.last_id == known.last:  # nobody wrote since
            return kept
        if self.domain is None:
            return None
        data = known.after(kept.last_id) if kept is not None else None
        if not data:  # the conversation's every row, if that is known
            kept, data = None, known.after(0)
            if not data:
                return None
        found = [json.loads(text) for text in data]
        start = max((i for i, row in enumerate(found) if _starts_session_row(row)), default=None)
        if kept is not None and start is None:  # other replicas answered since
            return kept.followed_by([Event.from_parameters(row) for row in found], known.last)
        # a new session among them, or the conversation's every row: its latest session,
        # as `_session_rows` reads it
        tracker = DialogueStateTracker.from_dict(sender_id, found[start or 0 :], self.domain.slots)
        return _Kept(tracker, known.last, _asked_for_dob(tracker.events))

    def _rows_from(self, sender_id: str, first_id: int) -> list[tuple[int, str]]:
        t = self._table
        query = sa.select(t.c.id, t.c.data).where(t.c.sender_id == sender_id, t.c.id >= first_id).order_by(t.c.id)
        with self._autocommit.connect() as conn:
            return [(row.id, row.data) for row in conn.execute(query)]

    def _session_rows(self, sender_id: str) -> list[tuple[int, str]]:
        """The latest session's rows, as Rasa's store reads them."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            return [(row.id, row.data) for row in rows]

    def _keep(self, sender_id: str, kept: _Kept) -> None:
        self._kept[sender_id] = kept
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        kept = self._kept.get(tracker.sender_id)
        absent = self._absent.pop(tracker.sender_id, False) is None
        if kept is None and absent and self.domain is not None:
            if not tracker.events:  # Rasa's processor creates it empty: Rasa's save writes nothing
                self._absent[tracker.sender_id] = None
                return
            if await self._save_new(tracker):
                return
        if kept is None or not _continues(tracker.events, kept.tracker.events):
            self._kept.pop(tracker.sender_id, None)
            await self._unknown(tracker.sender_id)
            await super().save(tracker)  # as Rasa saves it; read again next time
            self._kept.pop(tracker.sender_id, None)
            return
        new_events, asked_for_dob = mask_events(islice(tracker.events, len(kept.tracker.events), None), kept.asked)
        if not new_events:
            return
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        rows = [self._row(tracker.sender_id, event) for event in new_events]
        known = await self._writing(tracker.sender_id, kept.last_id)
        last_id = await asyncio.to_thread(self._insert, tracker.sender_id, rows)
        self._written(tracker.sender_id, known, rows, last_id)
        stored = [Event.from_parameters(json.loads(row["data"])) for row in rows]  # as Rasa reads them back
        if any(_starts_session(event) for event in stored):
            start = max(i for i, event in enumerate(stored) if _starts_session(event))
            session = DialogueStateTracker.from_events(tracker.sender_id, stored[start:], self.domain.slots)
            self._keep(tracker.sender_id, _Kept(session, last_id, _asked_for_dob(session.events)))
            return
        updated = clone(kept.tracker)
        for event in stored:
            updated.update(event)
        snapshot = tracker.__dict__.get(SNAPSHOT)
        if snapshot is not None and snapshot.index <= len(kept.tracker.events):
            updated.__dict__[SNAPSHOT] = snapshot  # of earlier turns, masked already
        self._keep(tracker.sender_id, _Kept(updated, last_id, asked_for_dob))

    async def _save_new(self, tracker: DialogueStateTracker) -> bool:
        """The first save of a conversation the latest retrieve found no row of
        (Rasa's `create_tracker`, then the first turn's save): its masked events
        inserted in one statement, only if the conversation still has no row
        (else False, nothing done), then kept. Rasa's save would find no event
        stored and insert and stream them all, as this does."""
        new_events = masked_events(tracker.events)
        if not new_events:
            return False
        rows = [self._row(tracker.sender_id, event) for event in new_events]
        known = await self._writing(tracker.sender_id, 0)
        last_id = await asyncio.to_thread(self._insert_new, tracker.sender_id, rows)
        if last_id is None:
            return False
        self._written(tracker.sender_id, known, rows, last_id)
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        stored = [Event.from_parameters(json.loads(row["data"])) for row in rows]  # as Rasa reads them back
        start = max((i for i, event in enumerate(stored) if _starts_session(event)), default=0)
        session = DialogueStateTracker.from_events(tracker.sender_id, stored[start:], self.domain.slots)
        self._keep(tracker.sender_id, _Kept(session, last_id, _asked_for_dob(session.events)))
        return True

    async def _writing(self, sender_id: str, last_id: int) -> _Written | None:
        """Before this store writes the conversation's rows after its row `last_id`
        (0: it has none): what the turn knows of them, if it knows that row is the
        latest. Until the write is done the turn knows nothing (a write that fails
        may have happened); a write outside a turn drops what was left with the lock."""
        turn = self._turn(sender_id)
        if turn is None:
            if current_turn(sender_id) is None:
                await forget_tracker(sender_id)
            return None
        known, turn.state = turn.state, None
        return known if known is not None and known.last == last_id else None

    def _written(self, sender_id: str, known: _Written | None, rows: list[dict[str, Any]], last_id: int) -> None:
        """After the rows were written, the last of them `last_id`: what the turn now knows."""
        turn = self._turn(sender_id)
        if turn is not None and known is not None:
            data = [row["data"] for row in rows]
            if not any("\n" in text for text in data):  # json.dumps writes none; one row a line
                turn.state = known.followed_by(data, last_id)

    async def _unknown(self, sender_id: str) -> None:
        """Before a write this store cannot account for row by row (Rasa's own save)."""
        turn = self._turn(sender_id)
        if turn is not None:
            turn.state = None
        elif current_turn(sender_id) is None:
            await forget_tracker(sender_id)

    def _row(self, sender_id: str, event: Event) -> dict[str, Any]:
        """The columns Rasa's store writes for an event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _insert(self, sender_id: str, rows: list[dict[str, Any]]) -> int:
        """Insert the rows in order; the id of the last one."""
        t = self._table
        if self._postgres:  # one statement, one round trip, the ids returned
            with self._autocommit.connect() as conn:
                ids = self._execute(conn, "insert", sender_id, rows).scalars().all()
            return max(ids)
        with self.engine.begin() as conn:
            conn.execute(t.insert(), rows)
            return conn.execute(sa.select(sa.func.max(t.c.id)).where(t.c.sender_id == sender_id)).scalar_one()

    def _insert_new(self, sender_id: str, rows: list[dict[str, Any]]) -> int | None:
        """`_insert`, only if the conversation has no row yet (else None, nothing inserted)."""
        t = self._table
        if self._postgres:  # still one statement
            with self._autocommit.connect() as conn:
                ids = self._execute(conn, "insert_if_absent", sender_id, rows).scalars().all()
            return max(ids) if ids else None
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.c.id).where(t.c.sender_id == sender_id).limit(1)).first():
                return None
            conn.execute(t.insert(), rows)
            return conn.execute(sa.select(sa.func.max(t.c.id)).where(t.c.sender_id == sender_id)).scalar_one()

    def _execute(self, conn: Any, kind: str, sender_id: str, rows: list[dict[str, Any]]) -> Any:
        """Run the INSERT of this kind ("insert": `_inserting`, "insert_if_absent":
        `_insert_if_absent`) for these rows. SQLAlchemy compiles a many-row INSERT
        anew for every statement (its VALUES are not cached): about 6% of the
        replica's CPU a message. The SQL for a kind and number of rows is compiled
        once, as SQLAlchemy compiles it, and run with the rows' values as
        SQLAlchemy would bind them (these columns' types convert nothing on
        psycopg2: checked, else the statement is run as it is)."""
        key = (kind, len(rows))
        if key not in self._sql:
            if len(self._sql) >= _MAX_COMPILED:
                self._sql.clear()
            self._sql[key] = self._compiled(kind, len(rows))
        compiled = self._sql[key]
        if compiled is None:
            return conn.execute(_STATEMENTS[kind](self._table, sender_id, rows))
        values: dict[str, Any] = dict(compiled.constants)
        for name, i, column in compiled.binds:
            values[name] = sender_id if i is None else rows[i][column]
        return conn.exec_driver_sql(compiled.sql, values)

    def _compiled(self, kind: str, count: int) -> _Compiled | None:
        """The statement for `count` rows compiled, and which value each of its parameters takes."""
        dialect = self._autocommit.dialect
        t = self._table
        if dialect.paramstyle != "pyformat" or any(
            t.c[n].type.dialect_impl(dialect).bind_processor(dialect) is not None for n in _COLUMNS
        ):
            return None
        marks = [{n: _Mark(i, n) for n in _COLUMNS} for i in range(count)]
        compiled = _STATEMENTS[kind](t, _Mark(None, "sender_id"), marks).compile(dialect=dialect)
        binds, constants = [], {}
        for name, value in compiled.params.items():
            if isinstance(value, _Mark):
                binds.append((name, value.row, value.column))
            elif kind == "insert_if_absent" and type(value) is int:
                constants[name] = value  # a row's position (0, 1, ...): the same in every statement
            else:
                return None
        return _Compiled(compiled.string, binds, constants)


@dataclass(frozen=True)
class _Compiled:
    """An INSERT's SQL, and its parameters: (name, row index or None for the
    conversation, column) for the rows' values, name -> value for the constants."""

    sql: str
    binds: list[tuple[str, int | None, str]]
    constants: dict[str, int]


class _Mark:
    """A placeholder value: which row and column a compiled parameter takes."""

    __slots__ = ("column", "row")

    def __init__(self, row: int | None, column: str) -> None:
        self.row, self.column = row, column


def _inserting(t: sa.Table, sender_id: Any, rows: list[dict[str, Any]]) -> Any:
    """INSERT the rows in order, RETURNING their ids: one statement."""
    return t.insert().values(rows).returning(t.c.id)


def _insert_if_absent(t: sa.Table, sender_id: str, rows: list[dict[str, Any]]) -> Any:
    """INSERT the rows (in order) SELECTed from VALUES only where the
    conversation has no row yet, RETURNING their ids: one statement."""
    names = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
    given = sa.values(*(sa.column(n, t.c[n].type) for n in names), sa.column("position", sa.Integer), name="given")
    given = given.data([(*(row[n] for n in names), i) for i, row in enumerate(rows)])
    stored = sa.select(t.c.id).where(t.c.sender_id == sender_id).exists()
    chosen = sa.select(*(given.c[n] for n in names)).where(~stored).order_by(given.c.position)
    return t.insert().from_select(list(names), chosen).returning(t.c.id)


_STATEMENTS = {"insert": _inserting, "insert_if_absent": _insert_if_absent}
_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
_MAX_COMPILED = 256
_INDEX = "ix_events_sender_id_id"
SYNCHRONOUS_COMMIT = ("on", "off", "local", "remote_write", "remote_apply")  # PostgreSQL's values


@dataclass
class _Written:
    """What a turn knows of a conversation's rows (left with its lock for the next
    turn): the id of its latest row (`last`), the `data` column of the rows the
    latest turns wrote, in order, and `marks`: (id, i), the rows after row `id`
    are `data[i:]`, oldest first, the last mark (last, len(data)); a mark of id 0
    means that the conversation had no row before `data[i:]`."""

    last: int
    data: list[str]
    marks: list[tuple[int, int]]

    @classmethod
    def at(cls, last: int, known: _Written | None = None) -> _Written:
        """Row `last` is the latest (0: the conversation has none), as read from the
        database: what was `known` still holds if it ends there, else nothing is known
        of earlier rows."""
        if known is not None and known.last == last:
            return known
        return cls(last, [], [(last, 0)])

    def after(self, row_id: int) -> list[str] | None:
        """The data of the rows after row `row_id`, if known."""
        for mark, i in self.marks:
            if mark == row_id:
                return self.data[i:]
        return None

    def followed_by(self, data: list[str], last: int) -> _Written:
        """And then these rows, the last of them `last`; the oldest turns dropped
        beyond `_MAX_TURNS_LEFT` turns or `_MAX_CHARS_LEFT` characters."""
        written = _Written(last, self.data + data, [*self.marks, (last, len(self.data) + len(data))])
        while len(written.marks) > 1 and (
            len(written.marks) > _MAX_TURNS_LEFT + 1 or sum(map(len, written.data)) > _MAX_CHARS_LEFT
        ):
            cut = written.marks[1][1]
            written = _Written(last, written.data[cut:], [(m, i - cut) for m, i in written.marks[1:]])
        return written

    def encode(self) -> str:
        marks = " ".join(f"{m}:{i}" for m, i in self.marks)
        return "\n".join([f"{_WRITTEN_FORMAT} {self.last} {marks}", *self.data])

    @classmethod
    def decode(cls, text: str) -> _Written | None:
        """`encode`'s text read back; None for anything else."""
        head, *data = text.split("\n")
        parts = head.split(" ")
        if len(parts) < 3 or parts[0] != _WRITTEN_FORMAT:
            return None
        try:
            last = int(parts[1])
            marks = [(int(m), int(i)) for m, i in (part.split(":") for part in parts[2:])]
        except ValueError:
            return None
        ids, positions = [m for m, _ in marks], [i for _, i in marks]
        if (
            marks[-1] != (last, len(data))
            or positions[0] != 0
            or any(b <= a for a, b in pairwise(ids))
            or any(b < a for a, b in pairwise(positions))
        ):
            return None
        return cls(last, data, marks)


_MAX_TURNS_LEFT = 2  # the rows of the latest turns left with the lock, at most
_MAX_CHARS_LEFT = 16_000
_WRITTEN_FORMAT = "rows-v2"
_NOBODY = object()  # the owner of a turn two stores wrote in


@dataclass
class _Kept:
    """A conversation's latest session as stored, and the id of its latest row."""

    tracker: DialogueStateTracker
    last_id: int
    asked: bool  # the latest form question of the session was the date of birth

    def followed_by(self, events: list[Event], last_id: int) -> _Kept | None:
        """After rows another replica wrote; None when they start a new session."""
        if any(_starts_session(event) for event in events):
            return None
        tracker = clone(self.tracker)
        for event in events:
            tracker.update(event)
        return _Kept(tracker, last_id, _asked_for_dob(events, self.asked))


def _starts_session(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME


def _starts_session_row(data: dict[str, Any]) -> bool:
    """Whether a row's event is `action_session_start` (as `_event_query` finds it: its columns)."""
    return data.get("event") == ActionExecuted.type_name and data.get("name") == ACTION_SESSION_START_NAME


def _asked_for_dob(events: Iterable[Event], asked: bool = False) -> bool:
    """Whether the latest form question among these events (or before them) was the date of birth."""
    for event in events:
        if isinstance(event, SlotSet) and event.key == "requested_slot":
            asked = event.value == "date_of_birth"
    return asked
