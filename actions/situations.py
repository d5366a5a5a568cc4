"""What borrowers say besides "yes, let's pay": disputes, fraud, payment claims,
third parties, opt-outs, and vulnerability or crisis. The conduct rules these
follow are in bot/domain/conduct.py and docs/conduct.md."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk.events import ActiveLoop, SlotSet

from actions.common import (
    GuardedFormValidation,
    SafeAction,
    SafeFormValidation,
    borrower_words,
    channel_identity,
    contact_values,
    conversation,
    fmt_for,
    language,
    reject,
    render,
    settings,
    store,
    today_for,
    verified_account,
)
from actions.guards import verified_account_required
from actions.handoff import hand_off
from bot.domain import formatting
from bot.domain.conduct import detect_vulnerability
from bot.domain.parsing import parse_amount, parse_past_date
from bot.domain.plans import quantize
from bot.domain.privacy import mask_personal_data
from bot.services import situations

STOP_COLLECTING = [
    SlotSet("collection_stopped", True),
    SlotSet("pending_agreement", None),
    SlotSet("awaiting_confirmation", False),
]


class ActionRecordDispute(SafeAction):
    def name(self) -> str:
        return "action_record_dispute"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        words = borrower_words(tracker)
        ctx = conversation(tracker)
        case_ref = situations.record_dispute(store(), account.loan_ref, words, **ctx)
        dispatcher.utter_message(response="utter_dispute_recorded", case_ref=case_ref)
        dispatcher.utter_message(response="utter_dispute_next_steps")
        return STOP_COLLECTING + [SlotSet("reason_code", "dispute")]


class ActionRecordFraudClaim(SafeAction):
    def name(self) -> str:
        return "action_record_fraud_claim"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if account is None:
            store().record_event("fraud_report_unverified", **conversation(tracker))
            dispatcher.utter_message(response="utter_fraud_unverified", **contact_values(tracker))
            return []
        words = borrower_words(tracker)
        ctx = conversation(tracker)
        case_ref = situations.record_fraud_claim(store(), account.loan_ref, words, **ctx)
        dispatcher.utter_message(response="utter_fraud_recorded", case_ref=case_ref)
        hand_off(dispatcher, tracker, "fraud")
        return STOP_COLLECTING + [SlotSet("reason_code", "fraud_not_my_loan")]


class ValidatePaymentClaimForm(GuardedFormValidation, SafeFormValidation):
    """When, how much and how the borrower says they paid."""

    def name(self) -> str:
        return "validate_payment_claim_form"

    def validate_paid_on(self, value: Any, dispatcher, tracker, domain) -> dict:
        paid_on = parse_past_date(str(value or ""), today_for(verified_account(tracker)), settings().date_order)
        if paid_on is None:
            return reject(dispatcher, tracker, "paid_on", response="utter_paid_date_invalid")
        return {"paid_on": paid_on.isoformat(), "invalid_answers": 0}

    def validate_paid_amount(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = verified_account(tracker)
        amount = parse_amount(str(value or ""))
        if amount is None or account is None:
            return reject(dispatcher, tracker, "paid_amount", response="utter_amount_invalid")
        amount = quantize(amount, account.currency)
        if amount <= 0:
            return reject(dispatcher, tracker, "paid_amount", response="utter_amount_not_positive")
        return {"paid_amount": str(amount), "invalid_answers": 0}

    def validate_paid_method(self, value: Any, dispatcher, tracker, domain) -> dict:
        """Free text ("by card 4111 ..."): masked at once, so no slot, case or
        log holds more; never repeated back to the borrower."""
        text = mask_personal_data(" ".join(str(value or "").split()))[:100]
        return {"paid_method": text or None}


class ActionRecordPaymentClaim(SafeAction):
    def name(self) -> str:
        return "action_record_payment_claim"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        paid_on, amount, method = (tracker.get_slot(n) for n in ("paid_on", "paid_amount", "paid_method"))
        if not (paid_on and amount and method):  # the form stopped after two misses; a person was offered
            return [SlotSet("invalid_answers", 0)]
        ctx = conversation(tracker)
        case_ref = situations.record_payment_claim(
            store(),
            account.loan_ref,
            paid_on=date.fromisoformat(paid_on),
            amount=Decimal(amount),
            currency=account.currency,
            method=method,
            **ctx,
        )
        fmt = fmt_for(tracker, account)
        dispatcher.utter_message(
            response="utter_payment_claim_recorded",
            amount=fmt.money(Decimal(amount)),
            date=fmt.date(date.fromisoformat(paid_on)),
            case_ref=case_ref,
        )
        return STOP_COLLECTING + [
            SlotSet("reason_code", "already_paid"),
            SlotSet("paid_on", None),
            SlotSet("paid_amount", None),
            SlotSet("paid_method", None),
        ]


class ActionHandleThirdParty(SafeAction):
    """Someone else is answering: reveal nothing, not even that there is a debt."""

    def name(self) -> str:
        return "action_handle_third_party"

    async def run(self, dispatcher, tracker, domain):
        store().record_event("third_party_contact", **conversation(tracker))
        dispatcher.utter_message(response="utter_third_party", **contact_values(tracker))
        # Whoever verified earlier, the person now typing is not the borrower.
        return [
            SlotSet("verified", False),
            SlotSet("verified_loan_ref", None),
            SlotSet("pending_agreement", None),
            SlotSet("awaiting_confirmation", False),
            ActiveLoop(None),
        ]


class ActionStopContact(SafeAction):
    def name(self) -> str:
        return "action_stop_contact"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        ctx = conversation(tracker)
        if account is None:
            # "STOP" from the number or chat we wrote to (a signed channel identity):
            # honour it for this channel at once; it reveals nothing about the loan.
            identity = channel_identity(tracker)
            loans: list[str] = []
            if identity and ctx["channel"]:
                if identity.kind == "loan_ref":
                    loans = [identity.value]
                else:  # every borrower reached at this number or chat
                    loans = store().loans_at_address(identity.kind, identity.value)
                for loan_ref in loans:
                    store().record_opt_out(
                        loan_ref, ctx["channel"], conversation_id=ctx["conversation_id"], requested_on=ctx["channel"]
                    )
            if loans:
                dispatcher.utter_message(
                    response="utter_opt_out_recorded_channel",
                    channel=formatting.format_channel(ctx["channel"], language(tracker)),
                )
                return []
            store().record_event("opt_out_request_unverified", **ctx)
            dispatcher.utter_message(response="utter_opt_out_unverified", **contact_values(tracker))
            return []
        scope = tracker.get_slot("opt_out_scope")
        if scope not in ("channel", "all"):
            lang = fmt_for(tracker).lang
            dispatcher.utter_message(
                response="utter_ask_opt_out_scope",
                buttons=[
                    {
                        "title": render(domain, "utter_button_opt_out_channel", lang),
                        "payload": '/stop_contact{"opt_out_scope": "channel"}',
                    },
                    {
                        "title": render(domain, "utter_button_opt_out_all", lang),
                        "payload": '/stop_contact{"opt_out_scope": "all"}',
                    },
                ],
            )
            return []
        channel = ctx["channel"] or "web"
        store().record_opt_out(
            account.loan_ref,
            "all" if scope == "all" else channel,
            conversation_id=ctx["conversation_id"],
            requested_on=channel,
        )
        if scope == "all":
            dispatcher.utter_message(response="utter_opt_out_recorded_all")
        else:
            dispatcher.utter_message(
                response="utter_opt_out_recorded_channel",
                channel=formatting.format_channel(channel, language(tracker)),
            )
        return [SlotSet("opt_out_scope", None)]


def handle_vulnerability(dispatcher, tracker, category: str) -> list:
    """Stop collecting, answer with care, give a resource, flag and hand off (FCA FG21/1)."""
    account = verified_account(tracker)
    s, lang = settings(), language(tracker)
    if category == "crisis":
        dispatcher.utter_message(
            response="utter_crisis_support",
            crisis_line=s.text("crisis_line", lang),
            emergency_number=s.text("emergency_number", lang),
        )
        dispatcher.utter_message(response="utter_crisis_followup")
    else:
        dispatcher.utter_message(response="utter_vulnerability_support", debt_advice=s.text("debt_advice", lang))
        dispatcher.utter_message(response="utter_vulnerability_followup", **contact_values(tracker))
    if account is not None:
        store().flag_vulnerable(account.loan_ref, category, **conversation(tracker))
    else:
        store().record_event("vulnerability_disclosed_unverified", category=category, **conversation(tracker))
    hand_off(
        dispatcher,
        tracker,
        "crisis" if category == "crisis" else "vulnerability",
        priority="urgent" if category == "crisis" else "normal",
        tell=False,
    )
    return STOP_COLLECTING + [ActiveLoop(None)]


class ActionHandleVulnerability(SafeAction):
    def name(self) -> str:
        return "action_handle_vulnerability"

    async def run(self, dispatcher, tracker, domain):
        text = tracker.latest_message.get("text") or ""
        category = detect_vulnerability(text)
        if tracker.get_intent_of_latest_message() == "crisis":
            category = "crisis"
        return handle_vulnerability(dispatcher, tracker, category or "other")
