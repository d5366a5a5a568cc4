"""components/patches/policies.py changes how fast the policies predict, never what.

With the trained model (RASA_MODEL, else the newest in models/), every story of
data/ and tests/stories is replayed event by event, alone and played one after
another into long conversations (so that long_conversations' window is used
too); at every point where Rasa predicts an action, the prediction of the
whole policy graph, RulePolicy's matching rule keys (in the order its
`max(rule_keys, key=len)` meets them) and every policy's dialogue states are
compared with Rasa's own code (the patches of policies.py taken out).

The tests that need the model are marked e2e: scripts/test.sh runs them after
training, with RASA_MODEL set (in the unit stage there is no model yet, and a
skipped equivalence test proves nothing).
"""

from __future__ import annotations

import contextlib
import copy
import random

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from bot.settings import PROJECT_ROOT
from components import patches
from components.patches import long_conversations, policies
from components.patches.long_conversations import prediction_tracker
from tests.e2e.conftest import _model


@contextlib.contextmanager
def rasas_own():
    """policies.py's patches taken out (the others stay), then put back."""
    patches.install()
    for patch in policies.PATCHES:
        owner, name = patches._owner(patch)
        setattr(owner, name, patches._originals[patch.target])
    policies.forget()
    try:
        yield
    finally:
        patches.install()
        policies.forget()


@pytest.fixture(scope="module")
def processor():
    patches.install()
    return Agent.load(str(_model())).processor


@pytest.fixture(scope="module")
def stories():
    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"),
        str(PROJECT_ROOT / "domain.yml"),
        [str(PROJECT_ROOT / "data"), str(PROJECT_ROOT / "tests" / "stories")],
    )
    generator = TrainingDataGenerator(
        importer.get_stories(), importer.get_domain(), augmentation_factor=0, remove_duplicates=False
    )
    return [list(t.events) for t in generator.generate_story_trackers() if not t.is_rule_tracker]


def _policies(processor) -> list:
    found = [node._component for node in processor.graph_runner._instantiated_nodes.values()]
    return [c for c in found if isinstance(c, (RulePolicy, MemoizationPolicy))]


def _observed(processor, tracker: DialogueStateTracker) -> dict:
    """What the policies see and predict for this tracker."""
    policies.forget()
    tracker = long_conversations.clone(tracker)  # (a prediction clears a follow-up action on it)
    seen: dict = {}
    prediction = long_conversations._predict_next_with_tracker(processor, tracker)
    seen["prediction"] = (prediction.policy_name, np.asarray(prediction.probabilities).tolist())
    window = prediction_tracker(tracker)
    found = _policies(processor)
    # what Rasa's graph gives every policy (RuleOnlyDataProvider: the rule policy's)
    rule_only_data = next(p for p in found if isinstance(p, RulePolicy))._get_rule_only_data()
    for policy in found:
        name = type(policy).__name__
        for use_text in (True, False):
            states = policy._prediction_states(window, processor.domain, use_text, rule_only_data=rule_only_data)
            seen[(name, use_text)] = copy.deepcopy(states)
            if isinstance(policy, RulePolicy):
                for table in ("rules", "rules_for_loop_unhappy_path"):
                    seen[(name, use_text, table)] = list(policy._get_possible_keys(policy.lookup[table], states))
    return seen


def _conversations(stories) -> list[list]:
    rng = random.Random(7)
    long_ones = [[copy.deepcopy(e) for part in rng.choices(stories, k=25) for e in part] for _ in range(3)]
    return [*stories, *long_ones]


@pytest.mark.e2e
def test_the_policies_see_and_predict_what_rasas_own_code_gives(processor, stories):
    points = windows = matched_rules = 0
    for number, events in enumerate(_conversations(stories)):
        tracker = DialogueStateTracker(f"story-{number}", processor.domain.slots)
        for event in events:
            if isinstance(event, ActionExecuted) and len(tracker.events) > 1:
                patched = _observed(processor, tracker)
                with rasas_own():
                    own = _observed(processor, tracker)
                assert patched == own, f"conversation {number}, event {len(tracker.events)}"
                points += 1
                windows += prediction_tracker(tracker) is not tracker
                matched_rules += bool(patched[("RulePolicy", False, "rules")])
            tracker.update(event)
    assert points > 1000
    assert windows > 100, "long conversations were windowed"
    assert matched_rules > 300, "rules matched at many points"


@pytest.mark.e2e
def test_states_are_remembered_only_for_the_same_tracker_as_it_is(processor):
    (rule_policy,) = [p for p in _policies(processor) if isinstance(p, RulePolicy)]
    tracker = DialogueStateTracker("remembered", processor.domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    data = rule_policy._get_rule_only_data()
    first = rule_policy._prediction_states(tracker, processor.domain, False, rule_only_data=data)
    first[-1]["changed"] = {"by": "the caller"}  # Rasa's callers change the last state in place
    again = rule_policy._prediction_states(tracker, processor.domain, False, rule_only_data=data)
    assert "changed" not in again[-1]
    tracker.update(ActionExecuted("utter_greet"))
    later = rule_policy._prediction_states(tracker, processor.domain, False, rule_only_data=data)
    with rasas_own():
        assert later == rule_policy._prediction_states(tracker, processor.domain, False, rule_only_data=data)
    assert later != again


def test_a_copy_of_states_is_what_deepcopy_gives_shared_sub_states_included():
    user = {"intent": "affirm", "entities": ("plan_months",)}
    states = [{"prev_action": {"action_name": "action_listen"}, "user": user}, {"user": user, "slots": {"v": (1.0,)}}]
    copied = policies.copy_states(states)
    assert copied == copy.deepcopy(states)
    assert copied[0]["user"] is copied[1]["user"] and copied[0]["user"] is not user
    copied[1]["user"]["intent"] = "deny"
    assert user["intent"] == "affirm" and copied[0]["user"]["intent"] == "deny"  # as in a deep copy
    odd = [{"slots": {"list": [1.0]}}]  # a mutable value: Rasa's deepcopy itself
    assert (
        policies.copy_states(odd) == odd
        and policies.copy_states(odd)[0]["slots"]["list"] is not odd[0]["slots"]["list"]
    )


@pytest.mark.e2e
def test_one_prediction_reads_the_turns_of_the_conversation_once(processor, stories, monkeypatch):
    """MemoizationPolicy and RulePolicy's two passes ask for the dialogue states of
    the same tracker in different ways; the turns are read (the events replayed)
    once for all of them, at every prediction point of a story."""
    read: list[int] = []
    original = policies.turns

    def counting(domain, prior_trackers, omit_unset_slots):
        found = original(domain, prior_trackers, omit_unset_slots)
        read.append(len(found))
        return found

    monkeypatch.setattr(policies, "turns", counting)
    predictions = 0
    for number, events in enumerate(stories[:20]):
        tracker = DialogueStateTracker(f"once-{number}", processor.domain.slots)
        for event in events:
            if isinstance(event, ActionExecuted) and len(tracker.events) > 1:
                policies.forget()
                read.clear()
                long_conversations._predict_next_with_tracker(processor, long_conversations.clone(tracker))
                assert len(read) == 1, f"story {number}, event {len(tracker.events)}: turns read {len(read)} times"
                predictions += 1
            tracker.update(event)
    assert predictions > 50
