"""The policies' per-prediction work made cheap, with the same predictions.

Found with cProfile on an in-process `Agent.handle_message` loop over the
benchmark's conversations (docs/deploy.md, issue 18): the policies were about
half of Rasa's CPU time for a message, and two things in them were most of it.

1. RulePolicy's `_get_possible_keys` checks every rule (about 300) against the
   latest dialogue state, then the survivors against the state before, and so
   on, through `_is_rule_applicable`, which parses nothing (the rule's states
   are cached) but reverses the rule's list and converts its lists to tuples on
   every call, twice per prediction and several predictions per message.
   Here each rule's states are compiled once (reversed, lists made tuples, each
   feature classed as "must equal", "must not be set" or "anything"), and for
   the latest state only the rules whose previous action can match are checked
   (rules indexed by the previous action they require; the others are checked
   as before). The set of rule keys returned is built by the same sequence of
   `set(filter(...))` over the same keys in the same order as Rasa's, so even
   the order `max(rule_keys, key=len)` meets them in is the same.
2. RulePolicy asks the tracker for its dialogue states twice per prediction
   (once to match the message's text, once its intent) with the same
   arguments, and each time `tracker.past_states` replays the session's events.
   MemoizationPolicy asks once more, with rule-only turns hidden. What Rasa's
   `Domain.states_for_tracker_history` reads of the tracker before each action
   (`turns`) is now read once for the tracker as it is (the same tracker object,
   events deque, number of events and last event, the same domain), and each
   way of asking is built from those turns by Rasa's own loop (`states_of`),
   each caller getting fresh sub-states, as Rasa's callers change the last state
   in place.

Installed by `components.patches.install()` (who calls it: that package's docstring).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME

from components.patches import Patch

# How a feature of a rule's state is checked against the conversation's state
# (Rasa's RulePolicy._does_rule_match_state).
_EQUAL, _UNSET = 0, 1


class _Rule:
    """One rule key compiled: its states latest first, each as
    (has a previous action, [(state type, feature, how, value)])."""

    __slots__ = ("key", "states")

    def __init__(self, key: str) -> None:
        self.key = key
        self.states = []
        for rule_state in reversed(RulePolicy._rule_key_to_state(key)):
            checks = []
            for state_type, rule_sub_state in rule_state.items():
                for feature, value in rule_sub_state.items():
                    if isinstance(value, list):
                        value = tuple(value)  # as Rasa: JSON gave lists for tuples
                    if value == SHOULD_NOT_BE_SET:
                        checks.append((state_type, feature, _UNSET, value))
                    elif value:
                        checks.append((state_type, feature, _EQUAL, value))
                    # a falsy value is checked by nothing in Rasa's loop
            self.states.append((bool(rule_state.get(PREVIOUS_ACTION)), checks))

    def applicable(self, turn_index: int, conversation_state: dict) -> bool:
        """Rasa's `RulePolicy._is_rule_applicable` for this rule."""
        if turn_index >= len(self.states):
            return True
        rule_has_previous_action, checks = self.states[turn_index]
        has_previous_action = bool(conversation_state.get(PREVIOUS_ACTION))
        if not rule_has_previous_action and not has_previous_action:
            return True
        if not rule_has_previous_action or not has_previous_action:
            return False
        for state_type, feature, how, value in checks:
            found = conversation_state.get(state_type, {}).get(feature)
            if how == _EQUAL:
                if found != value:
                    return False
            elif found and found != SHOULD_NOT_BE_SET:
                return False
        return True

    def required_previous_action(self) -> str | None:
        """The previous action name the latest state must have, if the rule requires one."""
        if not self.states:
            return None
        rule_has_previous_action, checks = self.states[0]
        if not rule_has_previous_action:
            return None
        for state_type, feature, how, value in checks:
            if state_type == PREVIOUS_ACTION and feature == ACTION_NAME and how == _EQUAL and isinstance(value, str):
                return value
        return None


class _CompiledLookup:
    """The rules of one lookup table: compiled, and indexed for the latest state."""

    def __init__(self, lookup: dict[str, Any]) -> None:
        self.keys = frozenset(lookup)
        self.rules = {key: _Rule(key) for key in lookup}
        self.by_previous_action: dict[str, list[_Rule]] = defaultdict(list)
        self.unindexed: list[_Rule] = []
        for rule in self.rules.values():
            required = rule.required_previous_action()
            if required is None:
                self.unindexed.append(rule)
            else:
                self.by_previous_action[required].append(rule)

    def applicable_to_latest(self, state: dict) -> set[str]:
        """The keys of the rules applicable at turn 0 (the latest state)."""
        previous_action = state.get(PREVIOUS_ACTION) or {}
        name = previous_action.get(ACTION_NAME) if isinstance(previous_action, dict) else None
        candidates = list(self.unindexed)
        if isinstance(name, str):
            # A rule requiring another previous action fails its "must equal" check.
            candidates += self.by_previous_action.get(name, ())
        return {rule.key for rule in candidates if rule.applicable(0, state)}


# id(lookup) -> (the lookup, its compiled rules); the lookup is held so the id stays its own
_compiled: dict[int, tuple[dict, _CompiledLookup]] = {}


def _compiled_lookup(lookup: dict[str, Any]) -> _CompiledLookup:
    kept = _compiled.get(id(lookup))
    if kept is not None and kept[0] is lookup and kept[1].keys == lookup.keys():
        return kept[1]
    compiled = _CompiledLookup(lookup)
    if len(_compiled) > 16:  # (training makes new lookups; a loaded model has two)
        _compiled.clear()
    _compiled[id(lookup)] = (lookup, compiled)
    return compiled


def _get_possible_keys(self, lookup: dict[str, Any], states: list) -> set[str]:
    """Rasa's `RulePolicy._get_possible_keys`: the same keys, in a set built the same way."""
    compiled = _compiled_lookup(lookup)
    possible_keys = set(lookup.keys())
    for i, state in enumerate(reversed(states)):
        if not possible_keys:
            break  # Rasa's filters over an empty set give an empty set
        if i == 0:
            applicable = compiled.applicable_to_latest(state)
            possible_keys = set(filter(applicable.__contains__, possible_keys))
        else:
            rules = compiled.rules
            possible_keys = set(filter(lambda key: rules[key].applicable(i, state), possible_keys))
    return possible_keys


# The turns last read: (tracker, its events deque, their number, the last event,
# domain, omit_unset_slots) -> turns. Holding them keeps their ids their own.
_remembered: dict[str, Any] = {}

_IMMUTABLE = (str, int, float, bool, type(None))
_RASAS_HISTORY = Domain.states_for_tracker_history


def _immutable(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_immutable(item) for item in value)
    return isinstance(value, _IMMUTABLE)


def copy_states(states: list) -> list:
    """What `copy.deepcopy(states)` gives, cheaply: states and sub-states copied
    (a sub-state shared by two states, as Rasa's rule-only substitution shares
    them, is copied once and stays shared), their immutable values not copied."""
    copied: dict[int, dict] = {}
    result = []
    for state in states:
        if not isinstance(state, dict):
            return copy.deepcopy(states)
        new = copied.get(id(state))
        if new is None:
            new = {}
            for state_type, sub_state in state.items():
                if not isinstance(sub_state, dict) or not all(_immutable(v) for v in sub_state.values()):
                    return copy.deepcopy(states)
                sub_copy = copied.get(id(sub_state))
                if sub_copy is None:
                    sub_copy = copied[id(sub_state)] = dict(sub_state)
                new[state_type] = sub_copy
            copied[id(state)] = new
        result.append(new)
    return result


class Turn(NamedTuple):
    """What Rasa's `Domain.states_for_tracker_history` reads of the tracker before
    one action (or at the end): every way of asking for states is made from these."""

    state: dict  # domain.get_active_state(tracker, omit_unset_slots)
    previous_action: dict | None  # domain._get_prev_action_sub_state(tracker)
    followup: bool  # a follow-up action was set
    loop_turn: bool  # tracker.latest_action_name == tracker.active_loop_name
    hidden: bool  # the action's hide_rule_turn (False at the end)


def turns(domain, prior_trackers: Iterable, omit_unset_slots: bool) -> list[Turn]:
    """The turns of `tracker.generate_all_prior_trackers()` (or of long_conversations'
    continuation of it), read once for every way of asking (Rasa's loop reads them
    again for each; `get_active_state` and the attributes read have no side effects)."""
    found = []
    for tracker, hide_rule_turn in prior_trackers:
        found.append(
            Turn(
                domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots),
                domain._get_prev_action_sub_state(tracker),
                bool(tracker.followup_action),
                tracker.latest_action_name == tracker.active_loop_name,
                hide_rule_turn,
            )
        )
    return found


def states_of(
    domain,
    found: Iterable[Turn],
    ignore_rule_only_turns: bool,
    rule_only_data: dict | None,
    previous: dict | None = None,
    last_ml_action: dict | None = None,
    turn_was_hidden: bool = False,
) -> tuple[list, dict | None, bool]:
    """Rasa 3.6's `Domain.states_for_tracker_history` over these turns (continuing
    from a state before them, the last action memoization saw and whether the last
    turn was hidden: long_conversations' carry); the states, and the last two after
    them. Each state is built from fresh copies of the turn's sub-states, as Rasa's
    loop gets them from `get_active_state`; a sub-state the loop shares between
    states (the last action memoization saw) is one copy shared the same way, and
    nothing a caller changes reaches the turns."""
    copies: dict[int, dict] = {}

    def fresh(sub_state: dict) -> dict:
        copied = copies.get(id(sub_state))
        if copied is None:
            if all(_immutable(value) for value in sub_state.values()):
                copied = dict(sub_state)
            else:
                copied = copy.deepcopy(sub_state)
            copies[id(sub_state)] = copied
        return copied

    states: list = []
    for turn in found:
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                previous_action = turn.previous_action
                last_ml_action = fresh(previous_action) if isinstance(previous_action, dict) else previous_action
            if not turn.followup and not turn.loop_turn:
                turn_was_hidden = turn.hidden
            if turn_was_hidden:
                continue
        state = {state_type: fresh(sub_state) for state_type, sub_state in turn.state.items()}
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            before = states[-1] if states else previous
            if before is not None:
                domain._substitute_rule_only_user_input(state, before)
            if last_ml_action:
                state[PREVIOUS_ACTION] = last_ml_action
        states.append(domain._clean_state(state))
    return states, last_ml_action, turn_was_hidden


_original_create_states = TrackerFeaturizer._create_states


def _create_states(
    tracker,
    domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list:
    """Rasa's `TrackerFeaturizer._create_states` (`tracker.past_states`), made from the
    tracker's turns read once while the tracker is unchanged: RulePolicy's two passes
    and MemoizationPolicy's pass of one prediction replay the events once, not twice."""
    # long_conversations' window tracker continues the states from its own turns
    window = getattr(type(tracker), "states_of_turns", None) is not None
    if (not window and type(tracker) is not DialogueStateTracker) or (
        type(domain).states_for_tracker_history is not _RASAS_HISTORY
    ):
        return _original_create_states(tracker, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    events = tracker.events
    last = events[-1] if events else None
    kept = _remembered.get("turns")
    if not (
        kept is not None
        and kept["tracker"] is tracker
        and kept["events"] is events
        and kept["length"] == len(events)
        and kept["last"] is last
        and kept["domain"] is domain
        and kept["omit_unset_slots"] == omit_unset_slots
    ):
        kept = _remembered["turns"] = {
            "tracker": tracker,
            "events": events,
            "length": len(events),
            "last": last,
            "domain": domain,
            "omit_unset_slots": omit_unset_slots,
            "turns": turns(domain, tracker.generate_all_prior_trackers(), omit_unset_slots),
        }
    if window:
        return tracker.states_of_turns(domain, kept["turns"], omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return states_of(domain, kept["turns"], ignore_rule_only_turns, rule_only_data)[0]


def forget() -> None:
    """Drop the remembered states (tests)."""
    _remembered.clear()


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.core.policies.rule_policy.RulePolicy._get_possible_keys",
        _get_possible_keys,
        "match the rules compiled once and indexed by previous action, not every rule re-parsed each turn",
    ),
    Patch(
        "rasa.core.featurizers.tracker_featurizers.TrackerFeaturizer._create_states",
        staticmethod(_create_states),
        "a tracker's turns read once per prediction for every policy's states, not once per policy pass",
    ),
)
