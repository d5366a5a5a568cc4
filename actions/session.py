"""Session start: introduce the assistant as the lender's automated assistant."""
from __future__ import annotations

from actions.common import SafeAction

from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from actions.common import conversation, settings, store


class ActionSessionStart(SafeAction):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher, tracker, domain):
        s = settings()
        store().record_event("conversation_started", **conversation(tracker))
        dispatcher.utter_message(response="utter_intro", lender_name=s.lender_name)
        return [
            SessionStarted(),
            SlotSet("lender_name", s.lender_name),
            SlotSet("language", s.default_language),
            ActionExecuted("action_listen"),
        ]
