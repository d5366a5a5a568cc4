"""The borrower's feedback (issue 14 §5): one optional question when a conversation
resolved, and the answer filed.

`ask_or_carry_on` is called by action_record_agreement once an agreement is recorded
or changed: the question (buttons 1-5 and "skip", in the borrower's language, which
also says anything else is welcome) in place of "anything else?", when
bot.domain.feedback.may_ask allows it. The reply sets `feedback_step`, so the next
message is read as an answer first (components/step_policy.py): a rating or a skip
comes here (action_record_feedback); anything else goes on as normal. Nothing here may
stop the conversation: a store that fails only means no question, or no row.
"""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.common import SafeAction, conversation, language, latest_text, logger, settings, store, verified_account
from bot.domain import feedback
from bot.domain.accounts import AccountView
from bot.services import feedback as feedback_service

VULNERABILITY_INTENTS = frozenset({"crisis", "disclose_vulnerability"})
VULNERABILITY_ACTIONS = frozenset({"action_handle_vulnerability"})


def crisis_in_conversation(tracker) -> bool:
    """A crisis or vulnerability disclosure anywhere in the events the action server sees
    (the `collection_stopped` slot covers the whole conversation; this is a second look)."""
    for event in tracker.events or []:
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in VULNERABILITY_INTENTS:
                return True
        elif event.get("event") == "action" and event.get("name") in VULNERABILITY_ACTIONS:
            return True
    return False


def ask_or_carry_on(dispatcher, tracker, account: AccountView, *, agreement_ref: str, resolved_kind: str) -> list:
    """The feedback question if it may be asked now, else "anything else?"."""
    allowed = feedback.may_ask(
        enabled=settings().feedback_question,
        verified=bool(tracker.get_slot("verified")),
        resolved_kind=resolved_kind,
        already_asked=bool(tracker.get_slot("feedback_ref")),
        collection_stopped=bool(tracker.get_slot("collection_stopped")),
        vulnerable=account.vulnerable,
        crisis_in_conversation=crisis_in_conversation(tracker),
    )
    if not allowed:
        dispatcher.utter_message(response="utter_anything_else")
        return []
    ctx = conversation(tracker)
    try:
        ref = feedback_service.ask(
            store(),
            account.loan_ref,
            agreement_ref=agreement_ref,
            conversation_id=ctx["conversation_id"],
            channel=ctx["channel"],
            language=language(tracker),
        )
    except Exception as exc:  # never in the way: no row, no question
        logger.error("recording the feedback question failed: %s", type(exc).__name__)
        dispatcher.utter_message(response="utter_anything_else")
        return []
    dispatcher.utter_message(response="utter_feedback_question")
    return [SlotSet("feedback_ref", ref), SlotSet("feedback_step", feedback.ASKED)]


class ActionRecordFeedback(SafeAction):
    """The borrower answered the feedback question (components/step_policy.py sends only
    answers here): a rating, with any words as the comment, or a skip; a number outside
    1-5 gets the scale once."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher, tracker, domain):
        ref = tracker.get_slot("feedback_ref")
        if verified_account(tracker) is None or not ref:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return [SlotSet("feedback_step", None)]
        reading = feedback.read_answer(latest_text(tracker))
        if reading.kind == feedback.OUT_OF_RANGE:
            dispatcher.utter_message(response="utter_feedback_scale")
            return [SlotSet("feedback_step", feedback.ASKED_AGAIN)]
        if not reading.answers:
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("feedback_step", None)]
        ctx = conversation(tracker)
        try:
            feedback_service.answer(
                store(), ref, reading, conversation_id=ctx["conversation_id"], channel=ctx["channel"]
            )
        except Exception as exc:  # the borrower is thanked all the same; the team sees the log
            logger.error("recording feedback failed: %s", type(exc).__name__)
        if reading.kind == feedback.SKIP:
            dispatcher.utter_message(response="utter_feedback_skipped")
        elif reading.comment:
            dispatcher.utter_message(response="utter_feedback_thanks_comment")
        else:
            dispatcher.utter_message(response="utter_feedback_thanks")
        return [SlotSet("feedback_step", None)]
