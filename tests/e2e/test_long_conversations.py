"""Long conversations (components/long_conversations.py, and the in-memory
tracker store that keeps trackers as objects).

The policies predict the same from a long conversation's latest turns as from
the whole of it: long conversations are made of the test stories and training
stories played one after another (forms, slots, rules and memorised turns all
occur); at every point where Rasa predicts an action, the trained model's
prediction from the window must equal its prediction from the whole tracker.

And on the embedded default profile (in-memory tracker store), a borrower
who has talked for a long time still reaches an agreement, and a person
taking over sees the whole conversation.
"""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUtteranceReverted, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from components.patches import long_conversations
from components.patches.long_conversations import prediction_tracker
from tests.e2e.conftest import ROOT, _model, running_servers
from tests.e2e.test_conversations import sender

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def processor():
    return Agent.load(str(_model())).processor


@pytest.fixture(scope="module")
def stories():
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"),
        str(ROOT / "domain.yml"),
        [
            str(ROOT / "data"),
            str(ROOT / "tests" / "test_stories_core.yml"),
            str(ROOT / "tests" / "test_stories_situations.yml"),
        ],
    )
    generator = TrainingDataGenerator(
        importer.get_stories(), importer.get_domain(), augmentation_factor=0, remove_duplicates=False
    )
    return [list(t.events) for t in generator.generate_story_trackers() if not t.is_rule_tracker]


# A misunderstood message: Rasa's default fallback reverts it.
FALLBACK_TURN = [
    UserUttered("blorp", intent={"name": "nlu_fallback", "confidence": 0.2}),
    ActionExecuted("action_default_fallback"),
    BotUttered("Sorry, I didn't quite understand."),
    UserUtteranceReverted(),
    ActionExecuted("action_listen"),
]


def _long_conversation(stories, seed: int, length: int = 40) -> list:
    rng = random.Random(seed)
    parts = rng.choices([*stories, FALLBACK_TURN], k=length)
    return [copy.deepcopy(event) for part in parts for event in part]


def _same(a, b) -> bool:
    return a.policy_name == b.policy_name and np.array_equal(np.asarray(a.probabilities), np.asarray(b.probabilities))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("min_events", [long_conversations.MIN_EVENTS, 20])
def test_the_window_predicts_what_the_whole_conversation_predicts(processor, stories, seed, min_events):
    tracker = DialogueStateTracker("long-conversation", processor.domain.slots)
    windows = 0
    for event in _long_conversation(stories, seed):
        if isinstance(event, ActionExecuted) and len(tracker.events) > 1:
            window = prediction_tracker(tracker, min_events=min_events)
            if window is not tracker:
                windows += 1
                assert len(window.events) < len(tracker.events)
                whole = long_conversations._original_predict(processor, tracker)
                assert _same(long_conversations._original_predict(processor, window), whole), (
                    f"different prediction at event {len(tracker.events)} (expected {event.action_name})"
                )
        tracker.update(event)
    assert windows > 50, "the conversation was long enough to be windowed many times"


def _rules(domain) -> list:
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    generator = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0, remove_duplicates=False)
    return [t for t in generator.generate() if t.is_rule_tracker]


@pytest.mark.parametrize("seed", [4, 5])
def test_the_window_gives_the_states_of_the_whole_conversation(processor, stories, seed):
    """State by state (slots, form, latest message and action, hidden rule
    turns), what the window gives is the end of what the whole conversation
    gives, each way the policies ask, and reaches back further than any of
    them looks (memoization max_history + 1, the longest rule)."""
    domain = processor.domain
    longest_rule = max(len(t.past_states(domain)) for t in _rules(domain))
    assert max(5, longest_rule) < long_conversations.KEPT_STATES
    rule_only = {"slots": ["awaiting_confirmation"], "active_loops": ["verify_form"]}
    tracker = DialogueStateTracker("long-conversation", domain.slots)
    compared = 0
    for event in _long_conversation(stories, seed, length=30):
        tracker.update(event)
        if not isinstance(event, ActionExecuted):
            continue
        # hide some turns, as rules that no story uses do
        event.hide_rule_turn = len(tracker.events) % 3 == 0
        window = prediction_tracker(tracker, min_events=20)
        if window is tracker:
            continue
        for args in [(False, False, None), (False, True, None), (False, True, rule_only), (True, True, rule_only)]:
            whole = tracker.past_states(domain, *args)
            part = window.past_states(domain, *args)
            assert len(part) >= long_conversations.KEPT_STATES or len(part) == len(whole)
            assert part == whole[-len(part) :], f"at event {len(tracker.events)} asked {args}"
        compared += 1
    assert compared > 50


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, platform):
    with running_servers(tmp_path_factory.mktemp("embedded"), platform) as started:
        yield started


DOB = "1 June 1980"
QUESTIONS = [
    "will this affect my credit score",
    "what fees will I pay",
    "how can I pay",
    "why are you contacting me",
    "how do you use my data",
    "are you a bot",
]


def test_a_long_conversation_still_reaches_an_agreement(embedded):
    who, ref = sender(), embedded.new_loan()
    embedded.say(who, "hi")
    embedded.say(who, ref)
    assert "you're verified" in embedded.say(who, DOB)
    for i in range(60):
        assert embedded.say(who, QUESTIONS[i % len(QUESTIONS)])
    embedded.say(who, "my hours were cut at work")
    reply = embedded.say(who, "I can pay it in 5 days")
    assert "To confirm: you promise to pay £250.00 by" in reply
    assert "AG-" in embedded.say(who, "yes")
    [agreement] = [a for a in embedded.store.agreements() if a.loan_ref == ref]
    assert agreement.kind == "promise_to_pay"


def test_a_person_taking_over_a_long_conversation_sees_all_of_it(embedded):
    who, ref = sender(), embedded.new_loan()
    embedded.say(who, "hello there")
    embedded.say(who, ref)
    embedded.say(who, DOB)
    # 30 questions: past the window (components/long_conversations.MIN_EVENTS),
    # within the transcript's 100 lines (bot.services.handoff)
    for i in range(30):
        embedded.say(who, QUESTIONS[i % len(QUESTIONS)])
    assert "HO-" in embedded.say(who, "can I speak to a real person please")
    [handoff] = [h for h in embedded.store.handoffs() if h["conversation_id"] == who]
    borrower_lines = [line["text"] for line in handoff["transcript"] if line["from"] == "borrower"]
    assert borrower_lines[:3] == ["hello there", ref, "[withheld: date of birth]"]
    assert borrower_lines[-1] == "can I speak to a real person please" and len(borrower_lines) == 34
