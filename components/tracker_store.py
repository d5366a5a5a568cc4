"""Tracker stores that mask personal data before anything is stored or streamed.

Rasa saves the tracker at the end of each message. These stores save a copy in
which what the borrower typed (and any button that offered their date of
birth) is masked by `bot.privacy`; the actions of the current turn still see
the real text, later turns and the event broker only the masked copy. An
answer given while the verification form asks for the date of birth is masked
whole, as is the `date_of_birth` slot until it holds "checked".

endpoints.yml names one of them (`python -m bot endpoints` does):
`components.tracker_store.MaskingInMemoryTrackerStore` (embedded profile) or
`components.tracker_store.MaskingSQLTrackerStore` (production, same options as
Rasa's SQL store).
"""
from __future__ import annotations

import copy
import re
from collections import deque
from typing import Any, Iterable

import sqlalchemy as sa
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import MASK, install_log_masking, mask_personal_data

install_log_masking()

_KEPT_DOB_VALUES = (None, "checked")


def masked_events(events: Iterable[Event]) -> list[Event]:
    """The events with personal data masked; events with nothing to mask are kept
    as they are. Every turn saves the whole conversation, so the common case (no
    digit in the text) is checked without copying anything."""
    result: list[Event] = []
    asked_for_dob = False
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
        elif isinstance(event, BotUttered) and (event.data or {}).get("buttons"):
            # Only buttons can carry what the borrower typed (the readings of an
            # ambiguous date of birth); the bot's own text is the domain's.
            event = _masked_buttons(event)
        result.append(event)
    return result


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


def _masked_buttons(event: BotUttered) -> Event:
    buttons = event.data["buttons"]
    if not any(_has_digit(str(value)) for button in buttons if isinstance(button, dict) for value in button.values()):
        return event
    masked = _mask_strings(buttons)
    if masked == buttons:
        return event
    return BotUttered(event.text, {**event.data, "buttons": masked}, event.metadata, timestamp=event.timestamp)


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
    """Rasa's in-memory tracker store, storing masked trackers."""

    def __init__(self, domain, event_broker=None, host=None, **kwargs) -> None:
        super().__init__(domain, event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(masked_tracker(tracker))


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
