"""Read-back of exact terms, an explicit yes, and one transaction that records the agreement."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.common import (
    contact_values,
    conversation,
    fmt_for,
    logger,
    policy_for,
    render,
    settings,
    store,
    today_for,
    verified_account,
)
from actions.offers import utter_offer_menu
from bot import negotiation, plans
from bot.clock import utcnow
from bot.payments import payment_link
from bot.store import AgreementProposal, OpenAgreementExists

FORM_SLOTS = ("promise_date", "plan_months", "plan_monthly_amount", "first_payment_date")


def _clear_form_slots() -> list:
    return [SlotSet(name, None) for name in FORM_SLOTS]


def read_back(dispatcher, tracker, domain, proposal: AgreementProposal) -> list:
    """Say the exact terms and wait for an explicit yes."""
    account = verified_account(tracker)
    fmt = fmt_for(tracker, account)
    if proposal.kind == "pay_now":
        dispatcher.utter_message(response="utter_confirm_pay_now", amount=fmt.money(proposal.total_amount))
    elif proposal.kind == "promise_to_pay":
        due, amount = proposal.instalments[0]
        dispatcher.utter_message(response="utter_confirm_promise", amount=fmt.money(amount), date=fmt.date(due))
    else:
        amounts = [a for _, a in proposal.instalments]
        regular, final = amounts[0], amounts[-1]
        if final == regular:
            schedule = render(domain, "utter_schedule_equal", fmt.lang, count=len(amounts), amount=fmt.money(regular))
        else:
            schedule = render(
                domain,
                "utter_schedule_with_final",
                fmt.lang,
                count=len(amounts) - 1,
                amount=fmt.money(regular),
                final_amount=fmt.money(final),
            )
        dispatcher.utter_message(
            response="utter_confirm_plan",
            count=len(amounts),
            schedule=schedule,
            total=fmt.money(proposal.total_amount),
            first_date=fmt.date(proposal.instalments[0][0]),
        )
    return [SlotSet("pending_agreement", proposal.to_json()), SlotSet("awaiting_confirmation", True)]


class ActionProposePayNow(Action):
    def name(self) -> str:
        return "action_propose_pay_now"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if account is None:
            dispatcher.utter_message(response="utter_verify_first")
            return []
        proposal = negotiation.pay_now_proposal(account, today_for(account))
        return _clear_form_slots() + read_back(dispatcher, tracker, domain, proposal)


class ActionProposePromise(Action):
    def name(self) -> str:
        return "action_propose_promise"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        chosen = tracker.get_slot("promise_date")
        if account is None or not chosen:
            return _clear_form_slots() + utter_offer_menu(dispatcher, tracker, domain)
        proposal = negotiation.promise_proposal(account, date.fromisoformat(chosen))
        return _clear_form_slots() + read_back(dispatcher, tracker, domain, proposal)


class ActionProposePlan(Action):
    def name(self) -> str:
        return "action_propose_plan"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        months, first = tracker.get_slot("plan_months"), tracker.get_slot("first_payment_date")
        if account is None or not months or not first:
            return _clear_form_slots() + utter_offer_menu(dispatcher, tracker, domain)
        policy = policy_for(account)
        first_date = date.fromisoformat(first)
        monthly = tracker.get_slot("plan_monthly_amount")
        if monthly:
            counter = plans.counter_offer(
                account.overdue_amount, account.currency, plans.quantize(Decimal(monthly), account.currency), policy, first_date
            )
            plan = counter.plan if counter.status == plans.FITS else None
            source = "borrower_amount"
        else:
            plan = negotiation.plan_for_months(account, policy, int(months), first_date)
            source = "menu"
        if plan is None:
            return _clear_form_slots() + utter_offer_menu(dispatcher, tracker, domain)
        proposal = negotiation.plan_proposal(plan, source=source)
        return _clear_form_slots() + read_back(dispatcher, tracker, domain, proposal)


class ActionRecordAgreement(Action):
    """The borrower said yes: record what was read back, exactly once."""

    def name(self) -> str:
        return "action_record_agreement"

    async def run(self, dispatcher, tracker, domain):
        pending = tracker.get_slot("pending_agreement")
        account = verified_account(tracker)
        if not pending or account is None or tracker.get_intent_of_latest_message() != "affirm":
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        proposal = AgreementProposal.from_json(pending)
        fmt = fmt_for(tracker, account)
        try:
            recorded = store().record_agreement(
                account.loan_ref,
                proposal,
                idempotency_key=proposal.terms["idempotency_key"],
                **conversation(tracker),
            )
        except OpenAgreementExists as exists:
            dispatcher.utter_message(
                response="utter_agreement_exists", agreement_ref=exists.agreement.agreement_ref, **contact_values()
            )
            return [SlotSet("pending_agreement", None), SlotSet("awaiting_confirmation", False)]
        except Exception:  # the database is down or refused: say so, keep the proposal for a retry
            logger.exception("recording an agreement failed")
            dispatcher.utter_message(response="utter_agreement_not_recorded", **contact_values())
            return []
        agreement = recorded.agreement
        if not recorded.created:
            dispatcher.utter_message(response="utter_agreement_already_recorded", agreement_ref=agreement.agreement_ref)
            return [SlotSet("awaiting_confirmation", False)]
        dispatcher.utter_message(
            response="utter_agreement_recorded",
            kind=render(domain, f"utter_kind_{agreement.kind}", fmt.lang),
            agreement_ref=agreement.agreement_ref,
        )
        if agreement.kind == "pay_now":
            s = settings()
            url = payment_link(
                loan_ref=account.loan_ref,
                amount=agreement.total_amount,
                currency=agreement.currency,
                url_template=s.payment_url_template,
                secret=s.payment_link_secret,
                ttl_minutes=s.payment_link_ttl_minutes,
                now=utcnow(),
            )
            dispatcher.utter_message(
                response="utter_payment_link", payment_url=url, valid_hours=s.payment_link_ttl_minutes // 60
            )
        dispatcher.utter_message(response="utter_anything_else")
        # The recorded proposal stays, so a repeated "yes" is answered with the same reference.
        return [SlotSet("awaiting_confirmation", False), SlotSet("agreement_ref", agreement.agreement_ref)]


class ActionRejectProposal(Action):
    """A "no": withdraw what was read back and offer the options again."""

    def name(self) -> str:
        return "action_reject_proposal"

    async def run(self, dispatcher, tracker, domain):
        if tracker.get_slot("awaiting_confirmation"):
            dispatcher.utter_message(response="utter_proposal_withdrawn")
            events = [SlotSet("pending_agreement", None), SlotSet("awaiting_confirmation", False)]
            return events + _clear_form_slots() + utter_offer_menu(dispatcher, tracker, domain)
        if tracker.get_slot("verified"):
            dispatcher.utter_message(response="utter_goodbye")
        else:
            dispatcher.utter_message(response="utter_how_can_i_help")
        return []
