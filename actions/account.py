"""After verification: the debt-collection statement and the account summary."""

from __future__ import annotations

from datetime import datetime

from rasa_sdk.events import SlotSet

from actions.common import (
    SafeAction,
    contact_values,
    conversation,
    fmt_for,
    language,
    product_name,
    render,
    settings,
    store,
    verified_account,
)
from actions.guards import verified_account_required
from actions.outcomes import utter_recent_outcomes
from bot.domain.accounts import AccountView
from bot.domain.formatting import format_datetime


def utter_summary(dispatcher, tracker, domain, account: AccountView) -> None:
    fmt = fmt_for(tracker, account)
    dispatcher.utter_message(
        response="utter_account_summary",
        product=product_name(domain, account.product, fmt.lang),
        loan_ref=account.loan_ref,
        overdue_amount=fmt.money(account.overdue_amount),
        days_past_due=account.days_past_due,
        outstanding_balance=fmt.money(account.outstanding_balance),
        next_due_date=fmt.date(account.next_due_date) if account.next_due_date else "-",
    )


def utter_open_agreement(dispatcher, tracker, domain, account: AccountView) -> None:
    agreement = account.open_agreement
    if agreement is None:
        return
    fmt = fmt_for(tracker, account)
    kind = render(domain, f"utter_kind_{agreement.kind}", fmt.lang)
    upcoming = [i for i in agreement.instalments if i.status == "scheduled"]
    if upcoming:
        dispatcher.utter_message(
            response="utter_existing_agreement",
            kind=kind,
            agreement_ref=agreement.agreement_ref,
            total_amount=fmt.money(agreement.total_amount),
            next_amount=fmt.money(upcoming[0].amount),
            next_due_date=fmt.date(upcoming[0].due_date),
        )
    else:
        dispatcher.utter_message(
            response="utter_existing_agreement_no_schedule",
            kind=kind,
            agreement_ref=agreement.agreement_ref,
            total_amount=fmt.money(agreement.total_amount),
        )


class ActionAccountSummary(SafeAction):
    """Runs when the verification form ends, verified or locked out."""

    def name(self) -> str:
        return "action_account_summary"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if account is None and not tracker.get_slot("verification_locked"):
            return [SlotSet("invalid_answers", 0)]  # the form stopped after two misses; a person was offered
        if account is None:
            until = tracker.get_slot("locked_until")
            until_text = (
                format_datetime(datetime.fromisoformat(until), settings().default_timezone, fmt_for(tracker).lang)
                if until
                else "-"
            )
            dispatcher.utter_message(
                response="utter_verification_locked", locked_until=until_text, **contact_values(tracker)
            )
            return []
        dispatcher.utter_message(
            response="utter_debt_collection_statement", lender_name=settings().text("lender_name", language(tracker))
        )
        utter_summary(dispatcher, tracker, domain, account)
        store().record_disclosure(account.loan_ref, **conversation(tracker))
        collecting = not (account.on_collection_hold or account.vulnerable)
        missed = utter_recent_outcomes(dispatcher, tracker, domain, account, collecting=collecting)
        if account.on_collection_hold:
            dispatcher.utter_message(response="utter_account_on_hold")
            dispatcher.utter_message(response="utter_anything_else")
        elif account.vulnerable:
            dispatcher.utter_message(response="utter_no_collection_now", **contact_values(tracker))
            dispatcher.utter_message(response="utter_anything_else")
        elif account.open_agreement is not None:
            if not missed:
                utter_open_agreement(dispatcher, tracker, domain, account)
            dispatcher.utter_message(response="utter_anything_else")
        elif account.overdue_amount <= 0:
            dispatcher.utter_message(response="utter_nothing_overdue")
            dispatcher.utter_message(response="utter_anything_else")
        else:
            dispatcher.utter_message(response="utter_ask_reason")
            # The answer is read as the reason first (components/step_policy.py).
            return [SlotSet("dialogue_step", "reason")]
        return []


class ActionTellBalance(SafeAction):
    """ "How much do I owe?" from a verified borrower."""

    def name(self) -> str:
        return "action_tell_balance"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        utter_summary(dispatcher, tracker, domain, account)
        if account.open_agreement is not None:
            utter_open_agreement(dispatcher, tracker, domain, account)
        return []
