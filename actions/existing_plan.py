"""Questions about, and changes to, an arrangement the borrower already has."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk.events import SlotSet

from actions.common import (
    GuardedFormValidation,
    SafeAction,
    SafeFormValidation,
    fmt_for,
    policy_for,
    reject,
    render,
    settings,
    stuck,
    today_for,
    verified_account,
)
from actions.guards import verified_account_required
from actions.offering import ask_for_instalment_date, read_back
from actions.presenters import date_problem
from bot.domain import plans
from bot.domain.parsing import parse_payment_date
from bot.services import negotiation


def _remaining(agreement):
    return [i for i in agreement.instalments if i.status == "scheduled"]


class ActionPlanStatus(SafeAction):
    """ "When is my next payment?" / "How much is left on my plan?" from the store."""

    def name(self) -> str:
        return "action_plan_status"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        agreement = account.open_agreement
        remaining = _remaining(agreement) if agreement else []
        if not remaining:
            dispatcher.utter_message(response="utter_no_active_plan")
            return []
        fmt = fmt_for(tracker, account)
        dispatcher.utter_message(
            response="utter_plan_status",
            kind=render(domain, f"utter_kind_{agreement.kind}", fmt.lang),
            agreement_ref=agreement.agreement_ref,
            next_amount=fmt.money(remaining[0].amount),
            next_due_date=fmt.date(remaining[0].due_date),
            remaining_count=len(remaining),
            remaining_amount=fmt.money(sum(i.amount for i in remaining)),
        )
        return []


class ValidateChangeDateForm(GuardedFormValidation, SafeFormValidation):
    def name(self) -> str:
        return "validate_change_date_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if (
            account is None
            or account.open_agreement is None
            or not _remaining(account.open_agreement)
            or stuck(tracker)
        ):
            return []
        return domain_slots

    def validate_new_payment_date(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = verified_account(tracker)
        text = str(value or "")
        if account is None or text.startswith("/"):
            return {"new_payment_date": None}
        today = today_for(account)
        chosen = parse_payment_date(text, today, settings().date_order)
        if chosen is None:
            if tracker.get_intent_of_latest_message() == "change_payment_date":
                return {"new_payment_date": None}  # "can I change the date?" names no date yet
            return reject(dispatcher, tracker, "new_payment_date", response="utter_date_invalid")
        problem = plans.check_first_due_date(chosen, policy_for(account), today)
        if problem:
            window = plans.first_instalment_window(policy_for(account), today)
            dispatcher.utter_message(**date_problem(fmt_for(tracker, account), problem, chosen, window))
            return reject(dispatcher, tracker, "new_payment_date")
        return {"new_payment_date": chosen.isoformat(), "invalid_answers": 0}


class ActionAskNewPaymentDate(SafeAction):
    def name(self) -> str:
        return "action_ask_new_payment_date"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        return ask_for_instalment_date(dispatcher, tracker, account, "utter_ask_new_payment_date")


class ActionProposeDateChange(SafeAction):
    """Move the remaining instalments to monthly dates from the new date, same amounts."""

    def name(self) -> str:
        return "action_propose_date_change"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        chosen = tracker.get_slot("new_payment_date")
        if account is None or account.open_agreement is None:
            dispatcher.utter_message(response="utter_no_active_plan")
            return [SlotSet("new_payment_date", None)]
        if not chosen:
            return [SlotSet("new_payment_date", None), SlotSet("invalid_answers", 0)]
        proposal = negotiation.reschedule_proposal(account.open_agreement, date.fromisoformat(chosen))
        return [SlotSet("new_payment_date", None), SlotSet("invalid_answers", 0)] + read_back(
            dispatcher, tracker, domain, account, proposal
        )


class ActionProposeCancel(SafeAction):
    def name(self) -> str:
        return "action_propose_cancel"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if account is None or account.open_agreement is None:
            dispatcher.utter_message(response="utter_no_active_plan")
            return []
        proposal = negotiation.cancel_proposal(account.open_agreement)
        return read_back(dispatcher, tracker, domain, account, proposal)
