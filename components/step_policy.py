"""The step comes first (issue 17): a message answering the reason question, the offers
or the read-back is read as an answer to them before it is read as a new topic.

Rules and remembered stories choose the next action from the intent alone, so at a
read-back "that's not right" filed a dispute and "fine, thanks" got "you're welcome".
This policy reads the message with `bot.domain.steps` while the assistant is waiting
for a yes (`awaiting_confirmation`) or has just asked why the payment was missed or
shown the options (`dialogue_step` "reason" / "offers" set in its last reply), and
outranks the rules only when the message answers the step:
- at the reason question, the borrower's own words → action_record_reason;
- a clear yes / no → action_record_agreement / action_reject_proposal, as before;
- any other answer (a change, a worry, "not now", "the first one", a doubt) →
  action_step_answer, which acts on it (actions/steps.py);
- a new subject (a crisis, a person, a question, an unambiguous dispute) → no
  prediction: the rules handle it, and after a question is answered the step is
  asked again (action_back_to_step; the reason question stays open unasked);
- a language asked for ("English please", "请说中文") → action_choose_language, then
  the step again in that language (the reason question asked again too).
After the feedback question (issue 14 §5, `feedback_step` set in the last reply), a
rating or a skip → action_record_feedback (bot.domain.feedback); anything else is left
to the rules, so the question never traps the borrower.
Outside those steps it asks first before a consequential request (a dispute, a fraud
claim, an opt-out, a cancellation) that the classifier is not sure of and the words do
not make plain.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.domain import feedback, steps
from bot.domain.clock import utcnow
from bot.domain.language_choice import CHOOSE_LANGUAGE as CHOOSE_LANGUAGE_INTENT
from components import patches

patches.install()

STEP_ANSWER = "action_step_answer"
BACK_TO_STEP = "action_back_to_step"
RECORD_FEEDBACK = "action_record_feedback"
# A language asked for at a step: said in it, then the step again in it (actions/language.py).
CHOOSE_LANGUAGE = "action_choose_language"
AFTER_THESE_LISTEN = frozenset(
    {STEP_ANSWER, BACK_TO_STEP, "action_record_agreement", "action_reject_proposal", "action_record_reason"}
) | {RECORD_FEEDBACK}
# After these, the step the borrower was answering is asked again.
ANSWERS_TO_QUESTIONS = frozenset(
    {"action_answer_question", "action_tell_balance", "utter_smalltalk", "utter_out_of_scope", CHOOSE_LANGUAGE}
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True)
class StepFirstPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 5}  # above RulePolicy (4): it speaks only when the step decides

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__({**self.get_default_config(), **config}, model_storage, resource, execution_context)

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: the reading is bot.domain.steps

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = next_action(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)


def next_action(tracker: DialogueStateTracker) -> str | None:
    """The action the step decides, or None to leave the turn to the rules."""
    if tracker.active_loop_name:
        return None
    latest = tracker.latest_action_name
    if latest in AFTER_THESE_LISTEN:
        # Also when this policy chose them for a message whose intent no rule pairs them with.
        return ACTION_LISTEN_NAME
    if latest != ACTION_LISTEN_NAME and not (latest or "").endswith("_form") and _answered_by_step(tracker):
        # The step's answer handed on (FollowupAction: a deferral, pay now, hardship options,
        # a person): that action ends the turn; no rule pairs it with this message's intent.
        return ACTION_LISTEN_NAME
    step = _step_shown(tracker)
    if latest in ANSWERS_TO_QUESTIONS:
        return BACK_TO_STEP if step else None
    if latest != ACTION_LISTEN_NAME:
        return None
    message = tracker.latest_message
    if message is None:
        return None
    text = message.text or ""
    ranking = [(r.get("name"), float(r.get("confidence") or 0)) for r in message.parse_data.get("intent_ranking") or []]
    if not ranking and message.intent:
        ranking = [(message.intent.get("name"), float(message.intent.get("confidence") or 0))]
    if feedback.answers_question(text, _set_in_last_reply(tracker, "feedback_step"), ranking):
        return RECORD_FEEDBACK
    goes_back = bool(ranking) and ranking[0][0] == "go_back" and bool(tracker.get_slot("verified"))
    if goes_back and step is None:
        return BACK_TO_STEP
    if step == steps.READ_BACK:
        restated = steps.restated_numbers(tracker.get_slot("pending_agreement"), utcnow().date())
        reading = steps.read_at_read_back(text, ranking, restated)
        if _asks_for_language(reading):
            return CHOOSE_LANGUAGE
        if goes_back and reading.meaning in (steps.UNCLEAR, steps.TOPIC):
            return BACK_TO_STEP
        if reading.meaning == steps.YES:
            return "action_record_agreement"
        if reading.meaning == steps.NO:
            return "action_reject_proposal"
        return None if reading.meaning == steps.TOPIC else STEP_ANSWER
    if step == steps.OFFERS:
        reading = steps.read_at_offers(text, ranking)
        if _asks_for_language(reading):
            return CHOOSE_LANGUAGE
        meaning = reading.meaning
        if meaning == steps.TOPIC:
            return BACK_TO_STEP if goes_back else None
        return STEP_ANSWER
    if step == steps.REASON_STEP:
        reading = steps.read_at_reason(text, ranking)
        if _asks_for_language(reading):
            return CHOOSE_LANGUAGE
        meaning = reading.meaning
        if meaning == steps.REASON:
            return "action_record_reason"
        if meaning in (steps.TOPIC, steps.UNCLEAR):
            return BACK_TO_STEP if goes_back else None
        return STEP_ANSWER
    if tracker.get_slot("verified") and steps.consequential_unclear(text, ranking):
        return STEP_ANSWER
    return None


def _asks_for_language(reading: steps.Reading) -> bool:
    """A language asked for at a step ("English please", also when the classifier took a
    bare "中文" for something else): the choice, then the step again."""
    return reading.meaning == steps.TOPIC and reading.intent == CHOOSE_LANGUAGE_INTENT


def _step_shown(tracker: DialogueStateTracker) -> str | None:
    if tracker.get_slot("awaiting_confirmation"):
        return steps.READ_BACK
    shown = _set_in_last_reply(tracker, "dialogue_step")
    return shown if shown in (steps.OFFERS, steps.REASON_STEP) else None


def _answered_by_step(tracker: DialogueStateTracker) -> bool:
    """Whether this turn's first action was the step's answer (action_step_answer)."""
    first = None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return first == STEP_ANSWER
        if isinstance(event, ActionExecuted):
            first = event.action_name
    return False


def _set_in_last_reply(tracker: DialogueStateTracker, slot: str) -> Any:
    """The value the assistant's reply before the latest message gave `slot`, if any
    (the same reading as actions.steps.set_in_last_reply)."""
    users = 0
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            users += 1
            if users == 2:
                return None
        elif users == 1 and isinstance(event, SlotSet) and event.key == slot:
            return event.value
    return None
