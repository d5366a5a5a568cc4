"""Read-back of exact terms, an explicit yes, and one transaction that records the agreement."""
from __future__ import annotations

from actions.common import SafeAction

from datetime import date
from decimal import Decimal

from rasa_sdk.events import SlotSet

from actions.common import (
    contact_values,
    conversation,
    fmt_for,
    logger,
    policy_for,
    render,
    require_account,
    settings,
    store,
    stuck,
    today_for,
    verified_account,
)
from actions.offers import collection_blocked, utter_offer_menu
from bot.domain import conduct, plans
from bot.services import negotiation
from bot.domain.clock import utcnow
from bot.domain.payment_links import payment_link
from bot.domain.agreements import AgreementProposal, OpenAgreementExists

FORM_SLOTS = ("promise_date", "plan_months", "plan_monthly_amount", "first_payment_date")


def _clear_form_slots() -> list:
    return [SlotSet(name, None) for name in FORM_SLOTS] + [SlotSet("invalid_answers", 0)]


def _after_incomplete_form(dispatcher, tracker, domain) -> list:
    """A form that ended without its answers: after repeated misunderstandings the borrower
    was already offered a person; otherwise show the options again."""
    if stuck(tracker):
        return []
    return utter_offer_menu(dispatcher, tracker, domain)


def _schedule_text(domain, fmt, amounts) -> str:
    regular, final = amounts[0], amounts[-1]
    if final == regular:
        return render(domain, "utter_schedule_equal", fmt.lang, count=len(amounts), amount=fmt.money(regular))
    return render(
        domain,
        "utter_schedule_with_final",
        fmt.lang,
        count=len(amounts) - 1,
        amount=fmt.money(regular),
        final_amount=fmt.money(final),
    )


def read_back(dispatcher, tracker, domain, proposal: AgreementProposal) -> list:
    """Say the exact terms and wait for an explicit yes."""
    from actions.forbearance import settlement_values

    account = verified_account(tracker)
    fmt = fmt_for(tracker, account)
    operation = proposal.terms.get("operation", "create")
    amounts = [a for _, a in proposal.instalments]
    if operation == "cancel":
        dispatcher.utter_message(response="utter_confirm_cancel", agreement_ref=proposal.terms["cancels"])
    elif operation == "amend":
        dispatcher.utter_message(
            response="utter_confirm_date_change",
            count=len(amounts),
            schedule=_schedule_text(domain, fmt, amounts),
            total=fmt.money(proposal.total_amount),
            first_date=fmt.date(proposal.instalments[0][0]),
        )
    elif proposal.kind == "pay_now":
        dispatcher.utter_message(response="utter_confirm_pay_now", amount=fmt.money(proposal.total_amount))
    elif proposal.kind == "promise_to_pay":
        due, amount = proposal.instalments[0]
        dispatcher.utter_message(response="utter_confirm_promise", amount=fmt.money(amount), date=fmt.date(due))
    elif proposal.kind == "settlement":
        from bot.domain.plans import SettlementOffer

        offer = SettlementOffer(
            outstanding_balance=Decimal(proposal.terms["outstanding_balance"]),
            discount=Decimal(proposal.terms["discount"]),
            amount=proposal.total_amount,
            currency=proposal.currency,
            pay_by=proposal.instalments[0][0],
        )
        response = "utter_settlement_improved" if proposal.terms.get("improved") else "utter_confirm_settlement"
        dispatcher.utter_message(response=response, **settlement_values(fmt, offer))
    elif proposal.kind == "hardship_deferral":
        dispatcher.utter_message(
            response="utter_confirm_hardship",
            first_date=fmt.date(proposal.instalments[0][0]),
            schedule=_schedule_text(domain, fmt, amounts),
            total=fmt.money(proposal.total_amount),
        )
    else:
        dispatcher.utter_message(
            response="utter_confirm_plan",
            count=len(amounts),
            schedule=_schedule_text(domain, fmt, amounts),
            total=fmt.money(proposal.total_amount),
            first_date=fmt.date(proposal.instalments[0][0]),
        )
    return [SlotSet("pending_agreement", proposal.to_json()), SlotSet("awaiting_confirmation", True)]


def has_open_agreement(dispatcher, tracker, account) -> bool:
    """A new arrangement can't be read back while another one is open."""
    if account.open_agreement is None:
        return False
    dispatcher.utter_message(
        response="utter_agreement_exists", agreement_ref=account.open_agreement.agreement_ref, **contact_values(tracker)
    )
    return True


class ActionProposePayNow(SafeAction):
    def name(self) -> str:
        return "action_propose_pay_now"

    async def run(self, dispatcher, tracker, domain):
        account = require_account(dispatcher, tracker)
        if account is None:
            return []
        if has_open_agreement(dispatcher, tracker, account) or collection_blocked(dispatcher, tracker, account):
            return _clear_form_slots()
        proposal = negotiation.pay_now_proposal(account, today_for(account))
        return _clear_form_slots() + read_back(dispatcher, tracker, domain, proposal)


class ActionProposePromise(SafeAction):
    def name(self) -> str:
        return "action_propose_promise"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        chosen = tracker.get_slot("promise_date")
        if account is None or not chosen:
            return _clear_form_slots() + _after_incomplete_form(dispatcher, tracker, domain)
        if has_open_agreement(dispatcher, tracker, account) or collection_blocked(dispatcher, tracker, account):
            return _clear_form_slots()
        proposal = negotiation.promise_proposal(account, date.fromisoformat(chosen))
        return _clear_form_slots() + read_back(dispatcher, tracker, domain, proposal)


class ActionProposePlan(SafeAction):
    def name(self) -> str:
        return "action_propose_plan"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        months, first = tracker.get_slot("plan_months"), tracker.get_slot("first_payment_date")
        if account is None or not months or not first:
            return _clear_form_slots() + _after_incomplete_form(dispatcher, tracker, domain)
        if has_open_agreement(dispatcher, tracker, account) or collection_blocked(dispatcher, tracker, account):
            return _clear_form_slots()
        policy = policy_for(account)
        first_date = date.fromisoformat(first)
        monthly = tracker.get_slot("plan_monthly_amount")
        if monthly:
            # The same counter-offer the borrower was told about: their plan, or the nearest that fits.
            counter = plans.counter_offer(account.overdue_amount, account.currency, Decimal(monthly), policy, first_date)
            plan = counter.plan
            source = "borrower_amount" if counter.status == plans.FITS else "nearest_to_borrower_amount"
        else:
            plan = negotiation.plan_for_months(account, policy, int(months), first_date)
            source = "menu"
        if plan is None:
            return _clear_form_slots() + utter_offer_menu(dispatcher, tracker, domain)
        proposal = negotiation.plan_proposal(plan, source=source)
        return _clear_form_slots() + read_back(dispatcher, tracker, domain, proposal)


class ActionRecordAgreement(SafeAction):
    """The borrower said yes: record what was read back, exactly once."""

    def name(self) -> str:
        return "action_record_agreement"

    async def run(self, dispatcher, tracker, domain):
        pending = tracker.get_slot("pending_agreement")
        account = verified_account(tracker)
        if not pending or account is None:
            dispatcher.utter_message(response="utter_nothing_to_confirm")
            return []
        if not conduct.agreement_confirmed(tracker.get_intent_of_latest_message(), read_back_given=True):
            dispatcher.utter_message(response="utter_nothing_to_confirm")
            return []
        proposal = AgreementProposal.from_json(pending)
        operation = proposal.terms.get("operation", "create")
        ctx = conversation(tracker)
        key = proposal.terms["idempotency_key"]
        fmt = fmt_for(tracker, account)
        try:
            if operation == "cancel":
                store().cancel_agreement(proposal.terms["cancels"], **ctx)
                dispatcher.utter_message(response="utter_agreement_cancelled", agreement_ref=proposal.terms["cancels"])
                return [SlotSet("pending_agreement", None), SlotSet("awaiting_confirmation", False)]
            if operation == "amend":
                recorded = store().amend_agreement(proposal.terms["amends"], proposal, idempotency_key=key, **ctx)
            else:
                recorded = store().record_agreement(account.loan_ref, proposal, idempotency_key=key, **ctx)
        except OpenAgreementExists as exists:
            dispatcher.utter_message(
                response="utter_agreement_exists", agreement_ref=exists.agreement.agreement_ref, **contact_values(tracker)
            )
            return [SlotSet("pending_agreement", None), SlotSet("awaiting_confirmation", False)]
        except Exception as exc:  # the database is down or refused: say so, keep the proposal for a retry
            # The exception text can hold SQL parameters (personal data): log only its type.
            logger.error("recording an agreement failed: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_agreement_not_recorded", **contact_values(tracker))
            return []
        agreement = recorded.agreement
        if not recorded.created:
            dispatcher.utter_message(response="utter_agreement_already_recorded", agreement_ref=agreement.agreement_ref)
            return [SlotSet("awaiting_confirmation", False)]
        if operation == "amend":
            dispatcher.utter_message(response="utter_agreement_amended", agreement_ref=agreement.agreement_ref)
        else:
            dispatcher.utter_message(
                response="utter_agreement_recorded",
                kind=render(domain, f"utter_kind_{agreement.kind}", fmt.lang),
                agreement_ref=agreement.agreement_ref,
            )
        if agreement.kind in ("pay_now", "settlement") and operation == "create":
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


class ActionRejectProposal(SafeAction):
    """A "no": withdraw what was read back and offer the options again."""

    def name(self) -> str:
        return "action_reject_proposal"

    async def run(self, dispatcher, tracker, domain):
        pending = tracker.get_slot("pending_agreement")
        if tracker.get_slot("awaiting_confirmation") and pending:
            proposal = AgreementProposal.from_json(pending)
            if proposal.kind == "settlement" and not proposal.terms.get("improved"):
                return self._improve_settlement(dispatcher, tracker, domain)
        if tracker.get_slot("awaiting_confirmation"):
            dispatcher.utter_message(response="utter_proposal_withdrawn")
            events = [SlotSet("pending_agreement", None), SlotSet("awaiting_confirmation", False)]
            if pending and AgreementProposal.from_json(pending).terms.get("operation") in ("amend", "cancel"):
                # "No, keep it": the existing arrangement stays as it is.
                dispatcher.utter_message(response="utter_anything_else")
                return events
            return events + _clear_form_slots() + utter_offer_menu(dispatcher, tracker, domain)
        if tracker.get_slot("verified"):
            dispatcher.utter_message(response="utter_goodbye")
        else:
            dispatcher.utter_message(response="utter_how_can_i_help")
        return []

    def _improve_settlement(self, dispatcher, tracker, domain):
        """The policy allows one better settlement offer after a first no."""
        from actions.forbearance import settlement_for

        account = verified_account(tracker)
        offer = settlement_for(account, improved=True)
        if offer is None:
            dispatcher.utter_message(response="utter_proposal_withdrawn")
            return [SlotSet("pending_agreement", None), SlotSet("awaiting_confirmation", False)]
        proposal = negotiation.settlement_proposal(offer, improved=True)
        return [SlotSet("settlement_improved", True)] + read_back(dispatcher, tracker, domain, proposal)
