"""The in-memory tracker store that keeps trackers as objects gives what
Rasa's own (JSON) store gave, masked; action calls of a long conversation
carry its latest turns, and a handoff the whole session.

Predictions from a long conversation's window are checked against the whole
conversation with the trained model in tests/e2e/test_long_conversations.py.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bot.domain.privacy import MASK
from bot.settings import PROJECT_ROOT
from components import patches
from components.patches import long_conversations
from components.patches.long_conversations import FULL_HISTORY_ACTIONS, prediction_tracker
from components.tracker_store import MaskingInMemoryTrackerStore, masked_tracker

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


class Collected(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


class RasasOwnStore(InMemoryTrackerStore):
    """What the embedded profile did before: Rasa's JSON store, saving masked
    trackers. Read back event by event, as Rasa's SQL store and the live
    tracker do (Rasa's in-memory store replays only `applied_events`, so after
    a form its latest message is the one before the form)."""

    async def save(self, tracker):
        await super().save(masked_tracker(tracker))

    def deserialise_tracker(self, sender_id, serialised):
        return DialogueStateTracker.from_dict(sender_id, json.loads(serialised)["events"], self.domain.slots)


def _turns() -> list[list]:
    """Turns of a conversation: verification by date of birth (masked when
    stored), a form, small talk, a reverted message, a new session."""
    now = time.time()
    turns = [
        [
            ActionExecuted("action_session_start", timestamp=now),
            SessionStarted(timestamp=now),
            ActionExecuted("action_listen"),
        ],
        [
            UserUttered("hi it's LN-10001", {"name": "greet", "confidence": 1.0}),
            ActionExecuted("verify_form"),
            ActiveLoop("verify_form"),
            SlotSet("requested_slot", "date_of_birth"),
            BotUttered("What is your date of birth?"),
            ActionExecuted("action_listen"),
        ],
        [
            UserUttered("12 March 1985", {"name": "inform", "confidence": 0.9}),
            ActionExecuted("verify_form"),
            SlotSet("date_of_birth", "12 March 1985"),
            SlotSet("verified", True),
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            BotUttered("Thanks, you're verified."),
            ActionExecuted("action_listen"),
        ],
    ]
    for i in range(40):
        turns.append(
            [
                UserUttered(f"question {i} about my card 4111 1111 1111 1111", {"name": "ask_fees", "confidence": 0.9}),
                ActionExecuted("action_answer_question", hide_rule_turn=True),
                BotUttered(f"answer {i}"),
                ActionExecuted("action_listen", hide_rule_turn=True),
            ]
        )
        if i == 20:
            turns.append(
                [
                    UserUttered("blorp", {"name": "nlu_fallback", "confidence": 0.2}),
                    ActionExecuted("action_default_fallback"),
                    BotUttered("Sorry?"),
                    UserUtteranceReverted(),
                    ActionExecuted("action_listen"),
                ]
            )
    later = now + 10
    turns.append(
        [
            ActionExecuted("action_session_start", timestamp=later),
            SessionStarted(timestamp=later),
            SlotSet("verified", True),
            ActionExecuted("action_listen"),
        ]
    )
    turns += [
        [
            UserUttered(f"again {i}", {"name": "ask_fees", "confidence": 0.9}),
            ActionExecuted("action_answer_question"),
            BotUttered(f"answer {i}"),
            ActionExecuted("action_listen"),
        ]
        for i in range(30)
    ]
    return turns


async def _talk(store, sender: str, turns) -> list[dict]:
    """Each turn as Rasa does it: retrieve, add the turn's events, save.
    What is retrieved before each turn, as the action server would see it."""
    seen = []
    for turn in turns:
        tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
        seen.append(tracker.current_state(EventVerbosity.ALL))
        for event in copy.deepcopy(turn):
            tracker.update(event)
        await store.save(tracker)
    return seen


def test_the_object_store_gives_what_rasas_json_store_gave():
    ours, theirs = MaskingInMemoryTrackerStore(DOMAIN, Collected()), RasasOwnStore(DOMAIN, Collected())
    turns = _turns()
    assert asyncio.run(_talk(ours, "b1", turns)) == asyncio.run(_talk(theirs, "b1", turns))
    assert ours.event_broker.published == theirs.event_broker.published
    full, their_full = asyncio.run(ours.retrieve_full_tracker("b1")), asyncio.run(theirs.retrieve_full_tracker("b1"))
    assert full.current_state(EventVerbosity.ALL) == their_full.current_state(EventVerbosity.ALL)


def test_stored_conversations_are_masked_and_cannot_be_changed_through_a_retrieved_copy():
    store = MaskingInMemoryTrackerStore(DOMAIN)
    asyncio.run(_talk(store, "b2", _turns()[:5]))
    stored = asyncio.run(store.retrieve("b2"))
    texts = [e.text for e in stored.events if isinstance(e, UserUttered)]
    assert texts[1] == MASK and "4111" not in " ".join(texts)
    assert stored.get_slot("date_of_birth") == MASK
    stored.update(SlotSet("verified", False))
    stored.update(UserUttered("not saved"))
    again = asyncio.run(store.retrieve("b2"))
    assert again.get_slot("verified") is True and len(again.events) == len(stored.events) - 2


def test_a_tracker_that_does_not_continue_the_stored_one_replaces_it():
    store = MaskingInMemoryTrackerStore(DOMAIN)
    asyncio.run(_talk(store, "b3", _turns()[:4]))
    replacement = DialogueStateTracker.from_events(
        "b3", [ActionExecuted("action_listen"), UserUttered("my card is 4111 1111 1111 1111")], DOMAIN.slots
    )
    asyncio.run(store.save(replacement))
    stored = asyncio.run(store.retrieve("b3"))
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == [f"my card is {MASK}"]


def _long_tracker() -> DialogueStateTracker:
    tracker = DialogueStateTracker("b4", DOMAIN.slots)
    for turn in _turns()[:40]:
        for event in copy.deepcopy(turn):
            tracker.update(event)
    tracker.update(UserUttered("what fees will I pay", {"name": "ask_fees", "confidence": 0.9}))
    return tracker


def _call(action: str, tracker: DialogueStateTracker) -> dict:
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=True)
    return RemoteAction(action, endpoint)._action_call_format(tracker, DOMAIN)


@pytest.fixture(autouse=True)
def installed():
    patches.install()


def test_an_action_call_of_a_long_conversation_carries_its_latest_turns():
    tracker = _long_tracker()
    call = _call("action_answer_question", tracker)
    events = call["tracker"]["events"]
    assert len(events) < long_conversations.MIN_EVENTS < len(tracker.events)
    assert events == [e.as_dict() for e in prediction_tracker(tracker).events]
    users = [e for e in events if e["event"] == "user"]
    assert len(users) >= long_conversations.WINDOW_TURNS and users[-1]["text"] == "what fees will I pay"
    whole = tracker.current_state(EventVerbosity.ALL)
    assert {k: v for k, v in call["tracker"].items() if k != "events"} == {
        k: v for k, v in whole.items() if k != "events"
    }


@pytest.mark.parametrize("action", sorted(FULL_HISTORY_ACTIONS))
def test_a_handoff_call_carries_the_whole_session(action):
    tracker = _long_tracker()
    assert _call(action, tracker)["tracker"]["events"] == [e.as_dict() for e in tracker.events]


def test_a_short_conversation_is_sent_whole():
    tracker = DialogueStateTracker.from_events("b5", [ActionExecuted("action_listen"), UserUttered("hi")], DOMAIN.slots)
    assert len(_call("action_answer_question", tracker)["tracker"]["events"]) == 2


def _every_prefix():
    tracker = DialogueStateTracker("b6", DOMAIN.slots)
    tracker.model_id = "model-1"
    extra = [
        [FollowupAction("action_offer_options")],
        [ActionExecuted("action_offer_options")],
        [Restarted()],
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
    ]
    for turn in _turns()[:30] + extra + _turns()[30:40]:
        for event in copy.deepcopy(turn):
            tracker.update(event)
            yield tracker


def test_a_copy_is_what_rasas_replaying_copy_gives():
    for tracker in _every_prefix():
        if isinstance(tracker.events[-1], FollowupAction):
            tracker.clear_followup_action()  # as Rasa's processor does when it runs it
        ours, theirs = long_conversations.replayed_copy(tracker), long_conversations._original_copy(tracker)
        assert ours.current_state(EventVerbosity.ALL) == theirs.current_state(EventVerbosity.ALL)
        for attribute in ("followup_action", "latest_bot_utterance", "model_id", "sender_source", "_paused"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
        ours.update(SlotSet("verified", not tracker.get_slot("verified")))
        assert ours.get_slot("verified") != tracker.get_slot("verified")  # the copy is its own


def test_the_latest_event_of_a_kind_is_found_as_rasa_finds_it():
    original = long_conversations._original_get_last_event_for
    asked = [
        (UserUttered, None, 0),
        (UserUttered, None, 2),
        (ActionExecuted, ["action_listen"], 0),
        (BotUttered, None, 1),
        (SlotSet, None, 0),
        (ActiveLoop, None, 0),
    ]
    for tracker in _every_prefix():
        for event_type, excluded, skip in asked:
            assert tracker.get_last_event_for(event_type, excluded, skip) == original(
                tracker, event_type, excluded, skip
            )


class _CopiesItself:
    def __init__(self) -> None:
        self.value = [1]

    def __copy__(self):
        new = _CopiesItself()
        new.value = list(self.value)
        return new


class _Slotted:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 1


def test_a_slot_is_copied_as_copy_copy_copies_it():
    """`clone` copies some forty slots several times a message: each as `copy.copy`
    would (a new object of its class sharing the attribute values), without its cost;
    a class with its own way of copying is left to `copy.copy`."""
    tracker = DialogueStateTracker("slots", DOMAIN.slots)
    tracker.update(SlotSet("language", "zh"))
    for slot in tracker.slots.values():
        theirs, ours = copy.copy(slot), long_conversations.copy_slot(slot)
        assert type(ours) is type(slot) and ours is not slot
        assert vars(ours) == vars(theirs) and all(vars(ours)[k] is vars(slot)[k] for k in vars(slot))
        ours.value = "changed"
        assert slot.value != "changed"
    assert len({type(s) for s in tracker.slots.values()}) > 2
    assert all(long_conversations._PLAIN_COPY[type(s)] for s in tracker.slots.values())
    odd = _CopiesItself()
    assert long_conversations.copy_slot(odd).value is not odd.value  # its own __copy__ ran
    assert long_conversations.copy_slot(_Slotted()).value == 1
    assert not long_conversations._PLAIN_COPY[_CopiesItself] and not long_conversations._PLAIN_COPY[_Slotted]
    cloned = long_conversations.clone(tracker)
    assert cloned.current_state(EventVerbosity.ALL) == tracker.current_state(EventVerbosity.ALL)
    cloned.update(SlotSet("language", "en"))
    assert tracker.get_slot("language") == "zh"
