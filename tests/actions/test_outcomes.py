"""What the account summary says about what became of an arrangement (issue 14):
thanks for a payment received, a completed arrangement, a broken promise or plan,
a missed instalment of the open one, and nothing of the kind while collection is
stopped but the thanks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from actions.account import ActionAccountSummary
from bot.bootstrap import services
from bot.domain.agreements import AgreementProposal
from bot.domain.clock import utcnow
from bot.domain.payments import AgreementRules, IncomingPayment
from tests.actions.support import PHONE, message, money, names, run, tracker, verified


def rules_for(_product):
    return AgreementRules(grace_days=3, missed_to_break_plan=2)


def agree(loans, kind, due_offsets, today, amount="50.00", ref="LN-10001"):
    proposal = AgreementProposal(
        kind=kind,
        total_amount=Decimal(amount) * len(due_offsets),
        currency="GBP",
        instalments=tuple((today + timedelta(days=d), Decimal(amount)) for d in due_offsets),
        terms={"source": "menu"},
    )
    return loans.record_agreement(ref, proposal, idempotency_key=f"k-{kind}-{ref}").agreement


def pay(loans, amount, payment_id="p1", ref="LN-10001", paid_at=None):
    paid_at = paid_at or utcnow() - timedelta(hours=1)
    payment = IncomingPayment(payment_id, ref, paid_at, Decimal(amount), "GBP", "card")
    return loans.record_payment(payment, source="webhook", rules_for=rules_for)


def summary(loan_ref="LN-10001", sender="conv-now"):
    return run(ActionAccountSummary(), tracker(verified(loan_ref), sender=sender))


def test_a_payment_received_is_thanked_with_its_amount_and_date(loans, today):
    pay(loans, "50.00", paid_at=datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9))
    dispatcher, _ = summary()
    thanks = message(dispatcher, "utter_payment_received_thanks")
    assert (thanks["amount"], thanks["date"]) == (money("50.00"), today.strftime("%-d %B %Y"))
    assert names(dispatcher)[:3] == [
        "utter_debt_collection_statement",
        "utter_account_summary",
        "utter_payment_received_thanks",
    ]
    # told once: the next conversation after this one does not thank again
    again, _ = summary(sender="conv-later")
    assert "utter_payment_received_thanks" in names(again)  # no verification was recorded in between
    loans.record_event("verification_passed", loan_ref="LN-10001", conversation_id="conv-later")
    later, _ = summary(sender="conv-after-that")
    assert "utter_payment_received_thanks" not in names(later)


def test_a_completed_arrangement_is_said_with_thanks(loans, today):
    agree(loans, "promise_to_pay", [5], today, amount="250.00")
    pay(loans, "250.00")
    dispatcher, _ = summary()
    assert message(dispatcher, "utter_arrangement_completed")["kind"] == "promise to pay"
    assert names(dispatcher)[-2:] == ["utter_nothing_overdue", "utter_anything_else"]


def test_a_broken_promise_is_said_then_the_reason_is_asked(loans, today):
    agree(loans, "promise_to_pay", [-5], today, amount="250.00")
    loans.review_agreements(rules_for=rules_for)
    dispatcher, _ = summary()
    broken = message(dispatcher, "utter_promise_broken")
    assert (broken["amount"], broken["date"]) == (money("250.00"), (today - timedelta(days=5)).strftime("%-d %B %Y"))
    assert names(dispatcher)[-1] == "utter_ask_reason"


def test_a_broken_plan_says_how_many_payments_were_missed(loans, today):
    agree(loans, "instalment_plan", [-40, -10, 20], today)
    loans.review_agreements(rules_for=rules_for)
    dispatcher, _ = summary()
    plan = message(dispatcher, "utter_plan_broken")
    assert (plan["kind"], plan["count"]) == ("payment plan", 2)


def test_a_missed_instalment_of_the_open_plan_replaces_the_thank_you_for_keeping_to_it(loans, today):
    agreement = agree(loans, "instalment_plan", [-5, 25], today)
    pay(loans, "20.00")
    dispatcher, _ = summary()
    missed = message(dispatcher, "utter_instalment_missed")
    assert (missed["agreement_ref"], missed["amount"], missed["kind"]) == (
        agreement.agreement_ref,
        money("30.00"),
        "payment plan",
    )
    assert "utter_existing_agreement" not in names(dispatcher)
    assert names(dispatcher)[-1] == "utter_anything_else"


def test_within_the_grace_days_the_plan_is_on_track(loans, today):
    agree(loans, "instalment_plan", [-3, 27], today)
    dispatcher, _ = summary()
    assert "utter_instalment_missed" not in names(dispatcher)
    assert "utter_existing_agreement" in names(dispatcher)


def test_on_hold_only_the_thanks_are_said(loans, today):
    agree(loans, "promise_to_pay", [-5], today, amount="250.00")
    loans.review_agreements(rules_for=rules_for)
    pay(loans, "10.00")
    loans.open_case("LN-10001", "dispute", "I don't owe this")
    dispatcher, _ = summary()
    assert "utter_payment_received_thanks" in names(dispatcher)
    assert "utter_promise_broken" not in names(dispatcher)
    assert names(dispatcher)[-2:] == ["utter_account_on_hold", "utter_anything_else"]


def escalate(loans, ref="LN-10006"):
    """Two refusals recorded by the team and a review: the demo's 120-days-past-due loan
    is at its final notice."""
    for _ in range(2):
        loans.record_refusal(ref, by="Sam", note="will not pay")
    policies = services().policies
    loans.review_escalations(
        policy_for=lambda product: policies.for_product(product).escalation, floor_days_past_due=90
    )
    return loans.open_escalation(ref)


def test_the_final_notice_is_given_calmly_with_options_and_free_advice_and_its_period_starts(loans, today):
    escalation = escalate(loans)
    assert escalation is not None and escalation.notified_at is None
    dispatcher, _ = summary("LN-10006", sender="conv-notice")
    notice = message(dispatcher, "utter_final_notice")
    assert notice["review_date"] == (today + timedelta(days=14)).strftime("%-d %B %Y")
    assert notice["days_past_due"] == 120 and notice["product"] == "personal loan"
    assert notice["lender_phone"] == PHONE and "MoneyHelper" in notice["debt_advice"]
    assert names(dispatcher)[-1] == "utter_ask_reason"  # then the usual question: what happened?
    given = loans.open_escalation("LN-10006")
    assert given.notified_at is not None
    [event] = [e for e in loans.audit_events("LN-10006") if e["event_type"] == "final_notice_given"]
    assert (event["conversation_id"], event["details"]["how"]) == ("conv-notice", "conversation")
    # said again in a later conversation, with the same date: the period started once
    again, _ = summary("LN-10006", sender="conv-again")
    assert message(again, "utter_final_notice")["review_date"] == notice["review_date"]


def test_in_review_the_borrower_hears_that_a_plan_still_stops_it(loans):
    escalation = escalate(loans)
    loans.record_final_notice(escalation.escalation_ref, how="letter", by="Sam", now=utcnow() - timedelta(days=15))
    policies = services().policies
    loans.review_escalations(
        policy_for=lambda product: policies.for_product(product).escalation, floor_days_past_due=90
    )
    dispatcher, _ = summary("LN-10006")
    assert "utter_escalation_in_review" in names(dispatcher)
    assert "utter_final_notice" not in names(dispatcher)


def test_no_final_notice_to_a_vulnerable_borrower(loans):
    escalate(loans)
    loans.flag_vulnerable("LN-10006", "illness")
    dispatcher, _ = summary("LN-10006")
    assert "utter_final_notice" not in names(dispatcher)
