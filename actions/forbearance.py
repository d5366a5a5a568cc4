"""Hardship arrangements and settlements (FCA CONC 7 forbearance; policy in collections_policy.yml)."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.common import SafeAction, contact_values, fmt_for, policy_for, today_for
from actions.guards import collection_allowed, no_open_agreement, verified_account_required
from actions.offering import read_back, settlement_for
from actions.presenters import hardship_buttons
from bot.domain import plans
from bot.services import negotiation


class ActionOfferHardship(SafeAction):
    """Lists hardship arrangements, or reads back the one the borrower picked."""

    def name(self) -> str:
        return "action_offer_hardship"

    @verified_account_required
    @no_open_agreement
    @collection_allowed
    async def run(self, dispatcher, tracker, domain, account):
        fmt = fmt_for(tracker, account)
        arrangements = plans.hardship_options(
            account.overdue_amount, account.currency, policy_for(account), today_for(account)
        )
        if not arrangements:
            dispatcher.utter_message(response="utter_hardship_unavailable", **contact_values(tracker))
            return []
        chosen = tracker.get_slot("holiday_months")
        picked = next((a for a in arrangements if str(a.holiday_months) == str(chosen)), None)
        if picked is None:
            dispatcher.utter_message(
                response="utter_hardship_options", buttons=hardship_buttons(domain, fmt, arrangements)
            )
            return [SlotSet("holiday_months", None)]
        proposal = negotiation.hardship_proposal(picked)
        return [SlotSet("holiday_months", None)] + read_back(dispatcher, tracker, domain, account, proposal)


class ActionOfferSettlement(SafeAction):
    """A one-off discounted settlement of the whole balance, for accounts past the policy threshold."""

    def name(self) -> str:
        return "action_offer_settlement"

    @verified_account_required
    @no_open_agreement
    @collection_allowed
    async def run(self, dispatcher, tracker, domain, account):
        offer = settlement_for(account, improved=False)
        if offer is None:
            dispatcher.utter_message(response="utter_settlement_unavailable")
            return []
        return [SlotSet("settlement_improved", False)] + read_back(
            dispatcher, tracker, domain, account, negotiation.settlement_proposal(offer, improved=False)
        )
