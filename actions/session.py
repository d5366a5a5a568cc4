"""Session start: introduce the assistant as the lender's automated assistant."""
from __future__ import annotations

from actions.common import SafeAction

from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from actions.common import conversation, identified_loan_ref, settings, store


class ActionSessionStart(SafeAction):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher, tracker, domain):
        s = settings()
        lender_name = s.text("lender_name", s.default_language)
        store().record_event("conversation_started", **conversation(tracker))
        dispatcher.utter_message(response="utter_intro", lender_name=lender_name)
        events = [
            SessionStarted(),
            SlotSet("lender_name", lender_name),
            SlotSet("language", s.default_language),
        ]
        # A signed widget login or a signed SMS/Telegram sender is the first
        # factor: the verification form then asks only for the date of birth.
        loan_ref = identified_loan_ref(tracker)
        if loan_ref:
            events.append(SlotSet("loan_ref", loan_ref))
        return events + [ActionExecuted("action_listen")]
