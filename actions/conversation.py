"""General conversation: questions answered from the domain, and the two-stage fallback."""

from __future__ import annotations

from actions.common import SafeAction, contact_values

FAQ_INTENTS = (
    "ask_credit_impact",
    "ask_fees_interest",
    "ask_how_to_pay",
    "ask_consequences",
    "ask_why_contacted",
    "ask_data_use",
    "bot_challenge",
)


class ActionAnswerQuestion(SafeAction):
    """Answers a general question; none of the answers reveals anything about an account."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher, tracker, domain):
        intent = tracker.get_intent_of_latest_message()
        if intent not in FAQ_INTENTS:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(response=f"utter_faq_{intent}", **contact_values(tracker))
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_back_to_it")
        return []


def consecutive_misunderstandings(events: list[dict]) -> int:
    """How many of the latest user messages in a row were not understood."""
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionFallback(SafeAction):
    """Two stages: ask to rephrase; if still not understood, offer a person or the options."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher, tracker, domain):
        if consecutive_misunderstandings(tracker.events) >= 2:
            dispatcher.utter_message(response="utter_still_not_understood")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
