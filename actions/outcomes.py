"""What became of the borrower's arrangements, said with the account summary (issue 14):
thanks for a payment received since they last talked with us, an arrangement completed
or broken, or an instalment of the open one missed. The statuses come from payments
and the policy's grace days (bot.domain.payments); the words from domain.yml/outcomes.yml."""

from __future__ import annotations

from actions.common import (
    contact_values,
    conversation,
    fmt_for,
    language,
    policy_for,
    product_name,
    render,
    settings,
    store,
    today_for,
)
from bot.domain.accounts import AccountView
from bot.domain.clock import local_today, utcnow
from bot.domain.escalation import FINAL_NOTICE, LEGAL_REVIEW, review_date
from bot.domain.payments import MISSED, PROMISE_KINDS, instalment_status


def utter_recent_outcomes(dispatcher, tracker, domain, account: AccountView, *, collecting: bool = True) -> bool:
    """Say what happened since the borrower last talked with us. True when an instalment of
    the open arrangement is missed (said here, in place of the usual "thank you for keeping
    to it"). While collection is stopped (a hold, a vulnerability) only the thanks are said."""
    fmt = fmt_for(tracker, account)
    recent = store().recent_outcomes(account.loan_ref, conversation_id=conversation(tracker)["conversation_id"])
    if recent.last_payment is not None:
        paid_at, amount = recent.last_payment
        dispatcher.utter_message(
            response="utter_payment_received_thanks",
            amount=fmt.money(amount),
            date=fmt.date(local_today(account.timezone, paid_at)),
        )
    if not collecting:
        return False
    if recent.ended_status is not None and recent.ended_kind is not None and account.open_agreement is None:
        kind = render(domain, f"utter_kind_{recent.ended_kind}", fmt.lang)
        if recent.ended_status == "completed":
            dispatcher.utter_message(response="utter_arrangement_completed", kind=kind)
        elif recent.ended_kind in PROMISE_KINDS and recent.ended_missed:
            due, unpaid = recent.ended_missed[0]
            dispatcher.utter_message(response="utter_promise_broken", amount=fmt.money(unpaid), date=fmt.date(due))
        else:
            dispatcher.utter_message(response="utter_plan_broken", kind=kind, count=len(recent.ended_missed))
    _utter_escalation(dispatcher, tracker, domain, account)
    return _utter_missed_instalment(dispatcher, domain, fmt, account)


def _utter_escalation(dispatcher, tracker, domain, account: AccountView) -> None:
    """The final notice, calmly, with the borrower's options and free debt advice (its notice
    period starts now, bot/domain/escalation.py); or that the account is with the team for
    review, which an arrangement still stops."""
    escalation = store().open_escalation(account.loan_ref)
    if escalation is None:
        return
    fmt = fmt_for(tracker, account)
    lang = language(tracker)
    values = {
        "lender_phone": contact_values(tracker)["lender_phone"],
        "debt_advice": settings().text("debt_advice", lang),
    }
    if escalation.stage == FINAL_NOTICE:
        notified = escalation.notified_at or utcnow()
        review = review_date(notified, policy_for(account).escalation.final_notice_days)
        dispatcher.utter_message(
            response="utter_final_notice",
            product=product_name(domain, account.product, fmt.lang),
            days_past_due=account.days_past_due,
            review_date=fmt.date(local_today(account.timezone, review)),
            **values,
        )
        store().record_final_notice(escalation.escalation_ref, how="conversation", **conversation(tracker))
    elif escalation.stage == LEGAL_REVIEW:
        dispatcher.utter_message(response="utter_escalation_in_review", **values)


def _utter_missed_instalment(dispatcher, domain, fmt, account: AccountView) -> bool:
    agreement = account.open_agreement
    if agreement is None:
        return False
    grace = policy_for(account).agreements.grace_days
    today = today_for(account)
    missed = [
        i
        for i in agreement.instalments
        if instalment_status(i.amount, i.paid, i.due_date, today, grace, i.status) == MISSED
    ]
    if not missed:
        return False
    oldest = missed[0]
    dispatcher.utter_message(
        response="utter_instalment_missed",
        kind=render(domain, f"utter_kind_{agreement.kind}", fmt.lang),
        agreement_ref=agreement.agreement_ref,
        amount=fmt.money(oldest.amount - oldest.paid),
        date=fmt.date(oldest.due_date),
    )
    return True
