"""Per-message work that does not grow with the length of the conversation.

Rasa 3.6 does two things on every message whose cost grows with the number of
events in the session (found with py-spy at turn 300 of one conversation):

1. Each policy prediction recomputes the dialogue state of every past turn:
   RulePolicy and MemoizationPolicy call `tracker.past_states`, which replays
   all events, several times per prediction and several predictions per turn.
2. Each custom-action call carries every event of the session, serialised by
   Rasa and parsed again by the action server.

(The third, the in-memory tracker store round-tripping the whole tracker
through JSON, is handled in `components/tracker_store.py`.)

For 1: `prediction_tracker` hands the policies a `_WindowTracker` holding
only the latest turns. Its history starts from a `_Snapshot` of the
conversation where the window starts: the tracker's state there, and, for
each way `past_states` is asked for, how the states before it ended (the
last few states, and what Rasa's `Domain.states_for_tracker_history` carries
from turn to turn: the last action memoization saw, whether the last turn was
a hidden rule turn). `past_states` continues from there over the window, so
its end — as far back as policies look, and further — is state for state what
the whole tracker gives (tests/e2e/test_long_conversations.py checks this at
every turn of long conversations, and that predictions are the same).

The window starts at a message of the borrower, with no form active before
it and no revert in its turn, so nothing in the window (a form's repeated
turns, a reverted message, which Rasa's `applied_events` folds away) reaches
back across its start; a window holding a new session is not used. The
snapshot is kept on the tracker (and by the in-memory store with it) and moves
forward every few turns, continuing from the last one.

For 2: an action call carries the events of the window (at least
WINDOW_TURNS messages of the borrower: the current turn, and the two
misunderstood messages the fallback counts), except for the actions that hand
the conversation to a person (`FULL_HISTORY_ACTIONS`), whose transcript is the
whole session. Slots, the latest message and the active form travel as before.

Installed by `components.patches.install()` (who calls it: that package's docstring).
"""

from __future__ import annotations

import copy
import copyreg
import dataclasses
import json
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from components.patches import Patch
from components.patches.policies import copy_states, states_of, turns

# The window holds at least this many messages of the borrower.
WINDOW_TURNS = 3
# Below this many events the whole tracker is used; once the window holds
# this many, its start moves forward.
MIN_EVENTS = 60
# States kept from before the window: more than any policy looks back
# (memoization max_history + 1 = 5, the longest rule 6 — checked by tests).
KEPT_STATES = 10

# Their transcript (bot.services.handoff.transcript_from_events) is the whole session.
FULL_HISTORY_ACTIONS = frozenset(
    {
        "action_request_human",
        "action_record_fraud_claim",
        "action_handle_vulnerability",
    }
)

SNAPSHOT = "_window_snapshot"

_T = TypeVar("_T")


def clone(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A copy that shares the (never modified) event objects: updating the copy
    leaves the original as it was. Much cheaper than `tracker.copy()`, which
    replays every event."""
    new = copy.copy(tracker)
    new.events = deque(tracker.events, maxlen=tracker.events.maxlen)
    new.slots = {name: copy_slot(slot) for name, slot in tracker.slots.items()}
    if tracker.active_loop is not None:
        new.active_loop = dataclasses.replace(tracker.active_loop)
    if tracker.latest_action is not None:
        new.latest_action = dict(tracker.latest_action)
    return new


def copy_slot(slot: _T) -> _T:
    """`copy.copy(slot)` for a slot class that copies by the default protocol (a
    new instance of its class with the same attribute dict), done directly: 3 to 4
    times cheaper, and a tracker has some forty slots, copied several times a message."""
    cls = type(slot)
    plain = _PLAIN_COPY.get(cls)
    if plain is None:
        plain = _PLAIN_COPY[cls] = _copies_plainly(cls)
    if not plain:
        return copy.copy(slot)
    new = object.__new__(cls)  # (cls.__new__ is object's: no __getnewargs__, a plain class)
    new.__dict__.update(slot.__dict__)
    return new


_PLAIN_COPY: dict[type, bool] = {}


def _copies_plainly(cls: type) -> bool:
    """Whether `copy.copy` of an instance is `cls.__new__(cls)` given the instance's
    `__dict__` (Python 3.10's default: `object.__reduce_ex__(4)`, then `_reconstruct`)."""
    if cls in copy._copy_dispatch or cls in copyreg.dispatch_table or issubclass(cls, type):  # type: ignore[attr-defined]
        return False
    custom = ("__copy__", "__getstate__", "__setstate__", "__getnewargs__", "__getnewargs_ex__")
    if any(hasattr(cls, name) for name in custom):
        return False
    if cls.__reduce_ex__ is not object.__reduce_ex__ or cls.__reduce__ is not object.__reduce__:
        return False
    if cls.__new__ is not object.__new__:
        return False
    # no slot values besides the dict (what the reduction would add as a slot state)
    return not copyreg._slotnames(cls) and hasattr(cls, "__dict__")  # type: ignore[attr-defined]


def _empty_clone(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """`clone` without the events: the state to continue from."""
    events, tracker.events = tracker.events, deque(maxlen=tracker.events.maxlen)
    try:
        return clone(tracker)
    finally:
        tracker.events = events


@dataclass
class _Carry:
    """How `Domain.states_for_tracker_history` ended after some events."""

    states: list  # the last KEPT_STATES states
    last_ml_action: dict | None = None
    turn_was_hidden: bool = False


def _variant(omit_unset_slots: bool, ignore_rule_only_turns: bool, rule_only_data: dict | None) -> tuple:
    return omit_unset_slots, ignore_rule_only_turns, json.dumps(rule_only_data, sort_keys=True, default=str)


def _states(
    domain,
    prior_trackers: Iterable,
    carry: _Carry,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict | None,
) -> tuple[list, _Carry]:
    """Rasa 3.6's `Domain.states_for_tracker_history`, continued from `carry`:
    the new states, and the carry after them."""
    found = turns(domain, prior_trackers, omit_unset_slots)
    return _states_of_turns(domain, found, carry, ignore_rule_only_turns, rule_only_data)


def _states_of_turns(
    domain, found: list, carry: _Carry, ignore_rule_only_turns: bool, rule_only_data: dict | None
) -> tuple[list, _Carry]:
    """`_states` of turns already read (policies.turns)."""
    previous = carry.states[-1] if carry.states else None
    states, last_ml_action, turn_was_hidden = states_of(
        domain, found, ignore_rule_only_turns, rule_only_data, previous, carry.last_ml_action, carry.turn_was_hidden
    )
    kept = (carry.states + states)[-KEPT_STATES:]
    return states, _Carry(kept, last_ml_action, turn_was_hidden)


def _applied(events: Iterable[Event]) -> list[Event]:
    """Rasa's `applied_events` of these events alone."""
    holder = DialogueStateTracker.__new__(DialogueStateTracker)
    holder.events = deque(events)
    return DialogueStateTracker.applied_events(holder)


def _prior_trackers(start: DialogueStateTracker, events: Iterable[Event], *, final: bool) -> Iterator:
    """Rasa's `generate_all_prior_trackers`, from `start` (which it updates)."""
    for event in _applied(events):
        if isinstance(event, ActionExecuted):
            yield start, event.hide_rule_turn
        start.update(event)
    if final:
        yield start, False


@dataclass
class _Snapshot:
    """The conversation after its first `index` events."""

    index: int
    state: DialogueStateTracker
    previous: _Snapshot | None = None  # to continue carries from
    carries: dict = field(default_factory=dict)

    def belongs_to(self, events: deque) -> bool:
        return (
            0 < self.index <= len(events)
            and len(self.state.events) == self.index
            and self.state.events[-1] is events[self.index - 1]
        )

    def carry(self, domain, variant: tuple, args: tuple) -> _Carry:
        """How the states before the window end, for this way of asking."""
        key = (id(domain), variant)
        if key not in self.carries:
            before = self.previous
            if before is not None and key in before.carries:
                start, carry, events = (
                    _empty_clone(before.state),
                    before.carries[key],
                    islice(self.state.events, before.index, self.index),
                )
            else:
                start, carry, events = self.state.init_copy(), _Carry([]), islice(self.state.events, 0, self.index)
            _, self.carries[key] = _states(domain, _prior_trackers(start, events, final=False), carry, *args)
        return self.carries[key]


class _WindowTracker(DialogueStateTracker):
    """The latest turns of a conversation, continuing from `_snapshot`."""

    _snapshot: _Snapshot

    def init_copy(self) -> DialogueStateTracker:
        return _empty_clone(self._snapshot.state)

    def past_states(
        self,
        domain,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict | None = None,
    ) -> list:
        found = turns(domain, self.generate_all_prior_trackers(), omit_unset_slots)
        return self.states_of_turns(domain, found, omit_unset_slots, ignore_rule_only_turns, rule_only_data)

    def states_of_turns(
        self,
        domain,
        found: list,
        omit_unset_slots: bool,
        ignore_rule_only_turns: bool,
        rule_only_data: dict | None,
    ) -> list:
        """`past_states` from the window's turns already read (policies.turns)."""
        args = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        carry = self._snapshot.carry(domain, _variant(*args), args)
        states, _ = _states_of_turns(domain, found, carry, ignore_rule_only_turns, rule_only_data)
        return copy_states(carry.states) + states


def _window_start(events: deque, turns: int) -> int | None:
    """The latest message of the borrower with at least `turns` messages from
    it to the end, no form active before it and no revert in its turn."""
    seen_turns = 0
    revert_in_turn = False
    for i in range(len(events) - 1, 0, -1):
        event = events[i]
        if isinstance(event, (SessionStarted, Restarted)):
            return None
        if isinstance(event, (UserUtteranceReverted, ActionReverted)):
            revert_in_turn = True
        elif isinstance(event, UserUttered):
            seen_turns += 1
            if seen_turns >= turns and not revert_in_turn and not _loop_active_before(events, i):
                return i
            revert_in_turn = False
    return None


def _loop_active_before(events: deque, index: int) -> bool:
    for i in range(index - 1, -1, -1):
        event = events[i]
        if isinstance(event, ActiveLoop):
            return event.name is not None
        if isinstance(event, (SessionStarted, Restarted)):
            return False
    return False


def _snapshot_at(tracker: DialogueStateTracker, index: int, kept: _Snapshot | None) -> _Snapshot:
    if kept is not None and kept.index <= index:
        state, previous = clone(kept.state), kept
        kept.previous = None  # only the latest two are kept
        events = islice(tracker.events, kept.index, index)
    else:
        state, previous = tracker.init_copy(), None
        events = islice(tracker.events, 0, index)
    for event in events:
        state.update(event)
    return _Snapshot(index, state, previous)


def prediction_tracker(
    tracker: DialogueStateTracker, *, turns: int = WINDOW_TURNS, min_events: int = MIN_EVENTS
) -> DialogueStateTracker:
    """What the policies see: the whole tracker while the conversation is
    short, else its latest turns continuing from a snapshot."""
    events = tracker.events
    if len(events) < min_events:
        return tracker
    kept = tracker.__dict__.get(SNAPSHOT)
    if kept is not None and (not kept.belongs_to(events) or _new_session_since(events, kept.index)):
        kept = None  # (a new session's states start afresh: nothing to continue)
    if kept is None or len(events) - kept.index >= min_events:
        start = _window_start(events, turns)
        if start is None:
            return tracker
        if kept is None or start != kept.index:
            kept = _snapshot_at(tracker, start, kept)
            if kept.state.active_loop is not None:  # a revert undid the form's end: be safe
                return tracker
            tracker.__dict__[SNAPSHOT] = kept
    window = _WindowTracker.__new__(_WindowTracker)
    window.__dict__.update(tracker.__dict__)
    window.events = deque(islice(events, kept.index, None), maxlen=events.maxlen)
    window._snapshot = kept
    return window


def _new_session_since(events: deque, index: int) -> bool:
    return any(isinstance(e, (SessionStarted, Restarted)) for e in islice(events, index, None))


def replayed_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """What Rasa's `DialogueStateTracker.copy` gives — a new tracker with every
    event replayed — without the replay: `clone`, and the few attributes in
    which a replay differs from the tracker Rasa has been updating."""
    followup = _replayed_followup_action(tracker.events)
    if followup is _UNKNOWN:
        return _original_copy(tracker)
    new = clone(tracker)
    new.followup_action = followup
    new.sender_source = new.model_id = new.assistant_id = None  # not passed on by init_copy
    return new


_UNKNOWN = object()


def _replayed_followup_action(events: deque):
    for event in reversed(events):
        if isinstance(event, FollowupAction):
            return event.action_name
        if isinstance(event, (ActionExecuted, UserUttered)):
            return None
        if isinstance(event, SessionStarted):
            return ACTION_LISTEN_NAME
        if isinstance(event, Restarted):
            return ACTION_SESSION_START_NAME
        if isinstance(event, (UserUtteranceReverted, ActionReverted)):
            return _UNKNOWN  # replayed from what the revert leaves: let Rasa do it
    return ACTION_LISTEN_NAME


_original_copy = DialogueStateTracker.copy


def _copy(self: DialogueStateTracker) -> DialogueStateTracker:
    # Rasa copies the tracker before running each action (and each form's
    # activation). Subclasses (training's trackers) keep Rasa's own copy.
    return replayed_copy(self) if type(self) is DialogueStateTracker else _original_copy(self)


_original_get_last_event_for = DialogueStateTracker.get_last_event_for


def _get_last_event_for(
    self,
    event_type,
    action_names_to_exclude=None,
    skip: int = 0,
    event_verbosity: EventVerbosity = EventVerbosity.APPLIED,
):
    """Rasa's, looking in the window first: the window's applied events are the
    end of the whole conversation's (Rasa asks for the latest user message on
    every message, to see whether the session has expired)."""
    if event_verbosity == EventVerbosity.APPLIED and type(self) is DialogueStateTracker:
        window = prediction_tracker(self)
        if window is not self:
            found = _original_get_last_event_for(window, event_type, action_names_to_exclude, skip, event_verbosity)
            if found is not None:
                return found
    return _original_get_last_event_for(self, event_type, action_names_to_exclude, skip, event_verbosity)


_original_predict = MessageProcessor._predict_next_with_tracker


def _predict_next_with_tracker(self, tracker: DialogueStateTracker):
    if tracker.followup_action:
        return _original_predict(self, tracker)  # no prediction; Rasa clears it on this tracker
    return _original_predict(self, prediction_tracker(tracker))


_original_call_format = RemoteAction._action_call_format


def _action_call_format(self, tracker: DialogueStateTracker, domain) -> dict[str, Any]:
    window = tracker if self.name() in FULL_HISTORY_ACTIONS else prediction_tracker(tracker)
    if window is tracker:
        return _original_call_format(self, tracker, domain)
    result = _original_call_format(self, _WithoutEvents(tracker), domain)
    result["tracker"]["events"] = [event.as_dict() for event in window.events]
    return result


class _WithoutEvents:
    """The tracker, its `current_state` leaving the events out."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self._tracker = tracker

    def current_state(self, event_verbosity: EventVerbosity = EventVerbosity.NONE) -> dict:
        return self._tracker.current_state(EventVerbosity.NONE)

    def __getattr__(self, name: str):
        return getattr(self._tracker, name)


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.core.processor.MessageProcessor._predict_next_with_tracker",
        _predict_next_with_tracker,
        "policies predict from the latest turns continuing from a snapshot, not by replaying the session",
    ),
    Patch(
        "rasa.core.actions.action.RemoteAction._action_call_format",
        _action_call_format,
        "an action call carries the latest turns (a handoff the whole session), not every event",
    ),
    Patch(
        "rasa.shared.core.trackers.DialogueStateTracker.copy",
        _copy,
        "the tracker copy before each action without replaying every event",
    ),
    Patch(
        "rasa.shared.core.trackers.DialogueStateTracker.get_last_event_for",
        _get_last_event_for,
        "find the latest event of a kind in the window first, not in the whole session",
    ),
)
