"""Hardship arrangements and settlements (FCA CONC 7 forbearance; policy in collections_policy.yml)."""
from __future__ import annotations

from actions.common import SafeAction

import json

from rasa_sdk.events import SlotSet

from actions.agreements import has_open_agreement, read_back
from actions.common import contact_values, fmt_for, policy_for, render, require_account, today_for
from actions.offers import collection_blocked
from bot.domain import plans
from bot.services import negotiation
from bot.domain.formatting import format_percent


def hardship_buttons(domain, fmt, arrangements) -> list[dict]:
    buttons = []
    for a in arrangements:
        values = {"months": a.plan.months, "amount": fmt.money(a.plan.instalment_amount)}
        if a.holiday_months:
            title = render(domain, "utter_button_hardship_holiday", fmt.lang, holiday_months=a.holiday_months, **values)
        else:
            title = render(domain, "utter_button_hardship_reduced", fmt.lang, **values)
        buttons.append({"title": title, "payload": "/request_hardship" + json.dumps({"holiday_months": str(a.holiday_months)})})
    return buttons


class ActionOfferHardship(SafeAction):
    """Lists hardship arrangements, or reads back the one the borrower picked."""

    def name(self) -> str:
        return "action_offer_hardship"

    async def run(self, dispatcher, tracker, domain):
        account = require_account(dispatcher, tracker)
        if account is None:
            return []
        if has_open_agreement(dispatcher, tracker, account) or collection_blocked(dispatcher, tracker, account):
            return []
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
            dispatcher.utter_message(response="utter_hardship_options", buttons=hardship_buttons(domain, fmt, arrangements))
            return [SlotSet("holiday_months", None)]
        proposal = negotiation.hardship_proposal(picked)
        return [SlotSet("holiday_months", None)] + read_back(dispatcher, tracker, domain, proposal)


def settlement_for(account, improved: bool):
    return plans.settlement_offer(
        account.outstanding_balance,
        account.currency,
        account.days_past_due,
        policy_for(account),
        today_for(account),
        improved=improved,
    )


class ActionOfferSettlement(SafeAction):
    """A one-off discounted settlement of the whole balance, for accounts past the policy threshold."""

    def name(self) -> str:
        return "action_offer_settlement"

    async def run(self, dispatcher, tracker, domain):
        account = require_account(dispatcher, tracker)
        if account is None:
            return []
        if has_open_agreement(dispatcher, tracker, account) or collection_blocked(dispatcher, tracker, account):
            return []
        offer = settlement_for(account, improved=False)
        if offer is None:
            dispatcher.utter_message(response="utter_settlement_unavailable")
            return []
        return [SlotSet("settlement_improved", False)] + read_back(
            dispatcher, tracker, domain, negotiation.settlement_proposal(offer, improved=False)
        )


def settlement_values(fmt, offer) -> dict:
    return {
        "amount": fmt.money(offer.amount),
        "date": fmt.date(offer.pay_by),
        "discount": format_percent(offer.discount, fmt.lang),
        "outstanding_balance": fmt.money(offer.outstanding_balance),
    }
