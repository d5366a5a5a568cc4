"""The borrower asks for a person."""
from __future__ import annotations

from rasa_sdk import Action

from actions.common import contact_values, conversation, store, verified_account


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        store().record_event(
            "handoff_requested", loan_ref=account.loan_ref if account else None, **conversation(tracker)
        )
        dispatcher.utter_message(response="utter_human_contact", **contact_values())
        return []
