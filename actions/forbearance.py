"""Hardship arrangements and settlements (FCA CONC 7 forbearance; policy in collections_policy.yml)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from rasa_sdk.events import SlotSet

from actions.common import Fmt, SafeAction, contact_values, fmt_for, policy_for, render, today_for
from actions.guards import collection_allowed, no_open_agreement, verified_account_required
from actions.offering import options_shown, proposal_settled, read_back, settlement_for, utter_offer_menu
from actions.presenters import hardship_buttons
from bot.domain import plans
from bot.domain.accounts import AccountView
from bot.services import negotiation

PERSON_PAYLOAD = "/request_human"


# ---------------------------------------------------------------- what fits the borrower's figure


def affordable_buttons(domain: dict, fmt: Fmt, options: plans.AffordableOptions) -> list[dict]:
    """Hardship plans at or under the borrower's figure, then payment holidays, then a person."""
    buttons = [_arrangement_button(domain, fmt, a) for a in (*options.plans, *options.holidays)]
    buttons.append({"title": render(domain, "utter_button_talk_to_person", fmt.lang), "payload": PERSON_PAYLOAD})
    return buttons


def _arrangement_button(domain: dict, fmt: Fmt, arrangement: plans.HardshipArrangement) -> dict:
    plan = arrangement.plan
    holiday = arrangement.holiday_months
    if plan.final_amount < plan.instalment_amount:  # at the borrower's figure: a smaller last payment
        name = "utter_button_hardship_holiday_with_final" if holiday else "utter_button_hardship_reduced_with_final"
        values: dict = {
            "count": plan.months - 1,
            "amount": fmt.money(plan.instalment_amount),
            "final_amount": fmt.money(plan.final_amount),
        }
    else:
        name = "utter_button_hardship_holiday" if holiday else "utter_button_hardship_reduced"
        values = {"months": plan.months, "amount": fmt.money(plan.instalment_amount)}
    if holiday:
        values["holiday_months"] = holiday
    entities = {"holiday_months": str(holiday)}
    if arrangement.at_amount is not None:
        entities["hardship_amount"] = str(arrangement.at_amount)
    return {"title": render(domain, name, fmt.lang, **values), "payload": "/request_hardship" + json.dumps(entities)}


def utter_what_fits(
    dispatcher, tracker, domain, account: AccountView, options: plans.AffordableOptions, response: str, **values
) -> list[dict]:
    """The borrower named a monthly figure no standard plan fits: what fits it, as buttons,
    never a plan at more a month than they said (FCA CONC 7.3). `response` explains why
    (below the minimum, or too long); when no hardship plan fits either, it is said kindly
    and a payment holiday and a person are offered instead. Returns the buttons shown."""
    fmt = fmt_for(tracker, account)
    buttons = affordable_buttons(domain, fmt, options)
    if not options.plans:
        response = "utter_counter_offer_nothing_fits" if options.holidays else "utter_counter_offer_none"
        values = {"amount": values["amount"], **contact_values(tracker)}
    dispatcher.utter_message(response=response, buttons=buttons, **values)
    return buttons


# ---------------------------------------------------------------- hardship arrangements


def _picked(
    account: AccountView, arrangements: Sequence[plans.HardshipArrangement], holiday: object, amount: object
) -> plans.HardshipArrangement | None:
    """The arrangement a button named: the policy's by its holiday, or a plan at the
    borrower's own figure (checked against the hardship policy again)."""
    if amount is None:
        return next((a for a in arrangements if str(a.holiday_months) == str(holiday)), None)
    try:
        figure, months = Decimal(str(amount)), int(str(holiday))
    except (InvalidOperation, ValueError):
        return None
    if not figure.is_finite() or figure <= 0:
        return None
    return plans.hardship_plan_at(
        account.overdue_amount, account.currency, figure, policy_for(account), today_for(account), months
    )


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
        done = [SlotSet("holiday_months", None), SlotSet("hardship_amount", None)]
        if tracker.get_slot("awaiting_confirmation"):
            # "i need the hardship option, not this" at a read-back: those terms no longer wait
            # for a yes, or a "yes" to a hardship option would record them
            done = proposal_settled() + done
        picked = _picked(account, arrangements, tracker.get_slot("holiday_months"), tracker.get_slot("hardship_amount"))
        if picked is not None:
            return done + read_back(dispatcher, tracker, domain, account, negotiation.hardship_proposal(picked))
        if not arrangements:
            dispatcher.utter_message(response="utter_hardship_unavailable", **contact_values(tracker))
            return done
        buttons = hardship_buttons(domain, fmt, arrangements)
        dispatcher.utter_message(response="utter_hardship_options", buttons=buttons)
        return done + options_shown(buttons)


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
            # No dead end: what policy does allow, on screen again.
            dispatcher.utter_message(response="utter_settlement_unavailable")
            return await utter_offer_menu(dispatcher, tracker, domain)
        return [SlotSet("settlement_improved", False)] + read_back(
            dispatcher, tracker, domain, account, negotiation.settlement_proposal(offer, improved=False)
        )
