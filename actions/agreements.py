"""Read-back of exact terms, an explicit yes, and one transaction that records the agreement."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rasa_sdk.events import SlotSet

from actions.common import (
    SafeAction,
    contact_values,
    conversation,
    fmt_for,
    logger,
    policy_for,
    read_back_reading,
    render,
    settings,
    store,
    today_for,
    verified_account,
)
from actions.feedback import ask_or_carry_on
from actions.guards import collection_allowed, no_open_agreement, verified_account_required
from actions.offering import (
    clear_form_slots,
    form_completed,
    proposal_settled,
    read_back,
    settlement_for,
    utter_offer_menu,
)
from actions.offers import say_amount_per_month
from bot.domain import conduct, plans
from bot.domain.accounts import AccountView
from bot.domain.agreements import (
    AgreementProposal,
    AgreementView,
    AmendAgreement,
    CancelAgreement,
    OpenAgreementExists,
)
from bot.domain.clock import utcnow
from bot.domain.payment_links import payment_link
from bot.services import negotiation
from bot.services.agreements import carry_out


class ActionProposePayNow(SafeAction):
    def name(self) -> str:
        return "action_propose_pay_now"

    @verified_account_required
    @no_open_agreement(stop_with=clear_form_slots)
    @collection_allowed(stop_with=clear_form_slots)
    async def run(self, dispatcher, tracker, domain, account):
        proposal = negotiation.pay_now_proposal(account, today_for(account))
        return clear_form_slots() + read_back(dispatcher, tracker, domain, account, proposal)


class ActionProposePromise(SafeAction):
    def name(self) -> str:
        return "action_propose_promise"

    @form_completed("promise_date")
    @no_open_agreement(stop_with=clear_form_slots)
    @collection_allowed(stop_with=clear_form_slots)
    async def run(self, dispatcher, tracker, domain, account):
        proposal = negotiation.promise_proposal(account, date.fromisoformat(tracker.get_slot("promise_date")))
        return clear_form_slots() + read_back(dispatcher, tracker, domain, account, proposal)


class ActionProposePlan(SafeAction):
    def name(self) -> str:
        return "action_propose_plan"

    @form_completed("plan_months", "first_payment_date")
    @no_open_agreement(stop_with=clear_form_slots)
    @collection_allowed(stop_with=clear_form_slots)
    async def run(self, dispatcher, tracker, domain, account):
        policy = policy_for(account)
        first_date = date.fromisoformat(tracker.get_slot("first_payment_date"))
        monthly = tracker.get_slot("plan_monthly_amount")
        if monthly:
            # The same counter-offer the borrower was told about: their plan, or the nearest that fits.
            counter = plans.counter_offer(
                account.overdue_amount, account.currency, Decimal(monthly), policy, first_date
            )
            plan = counter.plan
            source = "borrower_amount" if counter.status == plans.FITS else "nearest_to_borrower_amount"
        else:
            plan = negotiation.plan_for_months(account, policy, int(tracker.get_slot("plan_months")), first_date)
            source = "menu"
        if plan is None:
            return clear_form_slots() + await utter_offer_menu(dispatcher, tracker, domain)
        say_amount_per_month(dispatcher, tracker, account)  # a weekly or fortnightly figure, as a month
        proposal = negotiation.plan_proposal(plan, source=source)
        return clear_form_slots() + read_back(dispatcher, tracker, domain, account, proposal)


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
        answer = read_back_reading(tracker).meaning
        if not conduct.agreement_confirmed(answer, read_back_given=True):
            dispatcher.utter_message(response="utter_nothing_to_confirm")
            return []
        operation = AgreementProposal.from_json(pending).operation
        fmt = fmt_for(tracker, account)
        try:
            confirmed = carry_out(store(), operation, loan_ref=account.loan_ref, **conversation(tracker))
        except OpenAgreementExists as exists:
            dispatcher.utter_message(
                response="utter_agreement_exists",
                agreement_ref=exists.agreement.agreement_ref,
                **contact_values(tracker),
            )
            return proposal_settled()
        except Exception as exc:  # the database is down or refused: say so, keep the proposal for a retry
            # The exception text can hold SQL parameters (personal data): log only its type.
            logger.error("recording an agreement failed: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_agreement_not_recorded", **contact_values(tracker))
            return []
        if isinstance(operation, CancelAgreement):
            # Said whether or not the store still had it open: either way it no longer stands.
            dispatcher.utter_message(response="utter_agreement_cancelled", agreement_ref=operation.agreement_ref)
            return proposal_settled()
        agreement = confirmed.agreement
        assert agreement is not None  # only a cancellation leaves no agreement standing
        if not confirmed.created:
            dispatcher.utter_message(response="utter_agreement_already_recorded", agreement_ref=agreement.agreement_ref)
            return [SlotSet("awaiting_confirmation", False)]
        if isinstance(operation, AmendAgreement):
            dispatcher.utter_message(response="utter_agreement_amended", agreement_ref=agreement.agreement_ref)
        else:
            dispatcher.utter_message(
                response="utter_agreement_recorded",
                kind=render(domain, f"utter_kind_{agreement.kind}", fmt.lang),
                agreement_ref=agreement.agreement_ref,
            )
        if confirmed.needs_payment_link:
            _utter_payment_link(dispatcher, account, agreement)
        resolved = "amended" if isinstance(operation, AmendAgreement) else agreement.kind
        # The one optional feedback question (issue 14 §5), or "anything else?".
        asked = ask_or_carry_on(
            dispatcher, tracker, account, agreement_ref=agreement.agreement_ref, resolved_kind=resolved
        )
        # The recorded proposal stays, so a repeated "yes" is answered with the same reference.
        return [SlotSet("awaiting_confirmation", False), SlotSet("agreement_ref", agreement.agreement_ref), *asked]


def _utter_payment_link(dispatcher, account: AccountView, agreement: AgreementView) -> None:
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


class ActionRejectProposal(SafeAction):
    """A "no": withdraw what was read back and offer the options again."""

    def name(self) -> str:
        return "action_reject_proposal"

    async def run(self, dispatcher, tracker, domain):
        if tracker.get_slot("awaiting_confirmation"):
            pending = tracker.get_slot("pending_agreement")
            proposal = AgreementProposal.from_json(pending) if pending else None
            if proposal is not None and proposal.kind == "settlement" and not proposal.terms.get("improved"):
                return self._improve_settlement(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_proposal_withdrawn")
            if proposal is not None and isinstance(proposal.operation, (AmendAgreement, CancelAgreement)):
                # "No, keep it": the existing arrangement stays as it is.
                dispatcher.utter_message(response="utter_anything_else")
                return proposal_settled()
            return proposal_settled() + clear_form_slots() + await utter_offer_menu(dispatcher, tracker, domain)
        if tracker.get_slot("verified"):
            dispatcher.utter_message(response="utter_goodbye")
        else:
            dispatcher.utter_message(response="utter_how_can_i_help")
        return []

    def _improve_settlement(self, dispatcher, tracker, domain):
        """The policy allows one better settlement offer after a first no."""
        account = verified_account(tracker)
        assert account is not None  # a settlement was read back to a verified borrower
        offer = settlement_for(account, improved=True)
        if offer is None:
            dispatcher.utter_message(response="utter_proposal_withdrawn")
            return proposal_settled()
        proposal = negotiation.settlement_proposal(offer, improved=True)
        return [SlotSet("settlement_improved", True)] + read_back(dispatcher, tracker, domain, account, proposal)
