"""Why the payment was missed: record the code and the borrower's words, answer with empathy."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.common import (
    SafeAction,
    borrower_words,
    contact_values,
    conversation,
    intent_ranking,
    latest_text,
    store,
)
from actions.conversation import FAQ_INTENTS
from actions.guards import verified_account_required
from actions.offering import utter_offer_menu
from actions.situations import handle_vulnerability
from bot.domain import steps
from bot.domain.reasons import HARDSHIP_REASONS, INTENT_TO_REASON, NO_COLLECTION_REASONS, reason_for_intent


class ActionRecordReason(SafeAction):
    def name(self) -> str:
        return "action_record_reason"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        intent = tracker.get_intent_of_latest_message()
        words = borrower_words(tracker)
        ranked = intent_ranking(tracker)
        reading = steps.read_at_reason(latest_text(tracker), ranked)
        leaning = next((confidence for name, confidence in ranked if name == intent), 0.0)
        if reading.meaning == steps.REASON and (
            reading.reason not in (None, "other") or intent not in INTENT_TO_REASON or leaning < 0.3
        ):
            # The reason step took the words as the reason (components/step_policy.py), with
            # the code it read in them: "I thought I had paid" is a mistake, not a payment
            # claim, whatever the classifier leaned to.
            code = reading.reason or "other"
        elif intent in INTENT_TO_REASON:
            code = reason_for_intent(intent)
        else:
            code = "other"
        store().record_reason(account.loan_ref, code, words, **conversation(tracker))
        events = [SlotSet("reason_code", code)]
        if code == "bereavement":
            # A bereavement is a vulnerability (FCA FG21/1): no collection today.
            dispatcher.utter_message(response="utter_empathy_bereavement")
            return events + handle_vulnerability(dispatcher, tracker, "bereavement")
        if code in NO_COLLECTION_REASONS:  # normally routed to their own actions; never collect here
            dispatcher.utter_message(response="utter_reason_no_collection", **contact_values(tracker))
            return events + [SlotSet("collection_stopped", True)]
        dispatcher.utter_message(response=f"utter_empathy_{code}")
        if steps.question_after_reason(latest_text(tracker)):
            # "lost my job last month. are you gonna add interest?": their question answered
            # too, by the answer the classifier ranks for it, or honestly by a person
            faq = next((name for name, confidence in ranked[:4] if name in FAQ_INTENTS and confidence >= 0.1), None)
            if faq:
                dispatcher.utter_message(response=f"utter_faq_{faq}", **contact_values(tracker))
            else:
                dispatcher.utter_message(response="utter_step_question_for_a_person")
        if account.open_agreement is None:
            events += await utter_offer_menu(dispatcher, tracker, domain, hardship_first=code in HARDSHIP_REASONS)
        return events
