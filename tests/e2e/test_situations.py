"""Every borrower situation end to end over REST, against the real servers and database."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_conversations import sender

pytestmark = pytest.mark.e2e
DOB = "1 June 1980"
NO_ACCOUNT_DETAILS = re.compile(r"[£$¥€]|\bLN-\d|overdue|balance|debt|days past due")


def verified(servers, **loan) -> tuple[str, str]:
    ref = servers.new_loan(**loan)
    who = sender()
    servers.say(who, "hi")
    servers.say(who, ref)
    assert "you're verified" in servers.say(who, DOB)
    return who, ref


def test_hardship_leads_to_a_payment_holiday_without_pressure(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "I lost my job two weeks ago")
    assert "sorry to hear you've lost your job" in reply
    assert "No payments for 1 month(s)" in reply
    assert "[Pay £250.00 now]" not in reply  # no push for one large payment
    reply = servers.say(who, '/request_hardship{"holiday_months": "2"}')
    assert "To confirm: no payments until" in reply
    reply = servers.say(who, "yes")
    assert "hardship arrangement" in reply
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == ref]
    assert agreement.kind == "hardship_deferral" and agreement.terms["holiday_months"] == 2
    assert sum(i.amount for i in agreement.instalments) == agreement.total_amount


def test_dispute_records_a_case_and_holds_collection(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "I don't owe this, the amount is wrong")
    assert "recorded your dispute (CS-" in reply and "in writing" in reply
    reply = servers.say(who, "can I pay over 6 months")
    assert "won't ask you for" in reply and "monthly payments of" not in reply
    [case] = servers.store.cases(ref)
    assert case["kind"] == "dispute" and case["status"] == "open"
    assert case["details"]["dispute_kind"] == "wrong_amount"
    assert servers.store.loan_report(ref)["status"] == "on_hold"
    # A new conversation about the same loan is told it is on hold, with no offer.
    other = sender()
    servers.say(other, "hi")
    servers.say(other, ref)
    reply = servers.say(other, DOB)
    assert "on hold" in reply and "what made it hard" not in reply


def test_fraud_claim_stops_collection_and_hands_off(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "this isn't my loan, someone used my identity")
    assert "possible fraud (CS-" in reply
    assert [c["kind"] for c in servers.store.cases(ref)] == ["fraud_claim"]
    assert any(h["reason"] == "fraud" and h["conversation_id"] == who for h in servers.store.handoffs())
    assert "won't ask" in servers.say(who, "I'll pay it now") or "on hold" in servers.say(who, "I'll pay it now")


def test_not_my_loan_before_verification_reveals_nothing(servers):
    who = sender()
    reply = servers.say(who, "I never took out a loan with you, this is fraud")
    assert "can't discuss any account" in reply
    assert not NO_ACCOUNT_DETAILS.search(reply)


def test_already_paid_records_a_payment_claim_and_asks_for_nothing(servers):
    who, ref = verified(servers)
    assert "When did you make the payment" in servers.say(who, "I already paid this last week")
    assert "how much" in servers.say(who, "last friday").lower()
    assert "How did you pay" in servers.say(who, "250")
    reply = servers.say(who, "bank transfer")
    assert "passed your payment of £250.00" in reply and "bank transfer" not in reply  # never echoed
    [case] = servers.store.cases(ref)
    assert case["kind"] == "payment_claim" and case["details"]["amount"] == "250.00"
    assert case["details"]["method"] == "bank transfer"
    assert "monthly payments of" not in servers.say(who, "can I pay over 6 months")


def test_someone_else_answering_learns_nothing(servers):
    servers.new_loan()
    who = sender()
    servers.say(who, "hi")
    reply = servers.say(who, "this is his wife, he's in hospital")
    assert "only speak to the account holder" in reply
    assert not NO_ACCOUNT_DETAILS.search(reply.replace("0800 123 4567", ""))
    events = [e for e in servers.store.audit_events() if e["event_type"] == "third_party_contact"]
    assert any(e["conversation_id"] == who for e in events)
    # Even after a verification, a third party taking over resets it.
    who2, _ref2 = verified(servers)
    servers.say(who2, "I'm his brother actually, he can't come to the phone")
    reply = servers.say(who2, "how much does he owe")
    assert "can't share any account details" in reply and "£" not in reply


def test_stop_contacting_me_records_the_opt_out(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "please stop texting me")
    assert "[This channel only]" in reply and "[All channels]" in reply
    reply = servers.say(who, '/stop_contact{"opt_out_scope": "all"}')
    assert "won't contact you on any channel" in reply
    assert servers.store.account(ref).opted_out_channels == ("all",)


@pytest.mark.parametrize(
    "message",
    [
        "I want to end it all",
        "honestly I don't want to be here anymore",
        "I've been thinking about killing myself",
        "everyone would be better off without me",
        "i cant go on like this",
        "what's the point in living",
        "i want to die",
        "I might as well take my own life",
    ],
)
def test_crisis_language_is_recognised_and_answered_with_care(servers, message):
    who = sender()
    servers.say(who, "hi")
    reply = servers.say(who, message)
    assert "116 123" in reply and "stopped everything about payments" in reply
    assert not NO_ACCOUNT_DETAILS.search(reply)
    assert any(h["conversation_id"] == who and h["priority"] == "urgent" for h in servers.store.handoffs())


def test_crisis_after_verification_flags_the_borrower_and_stops_collecting(servers):
    who, ref = verified(servers)
    servers.say(who, "can I pay over 6 months")
    reply = servers.say(who, "I just want to end it all")
    assert "116 123" in reply
    assert servers.store.account(ref).vulnerable
    assert "monthly payments of" not in servers.say(who, "can I pay over 3 months")
    [handoff] = [h for h in servers.store.handoffs() if h["conversation_id"] == who]
    assert handoff["priority"] == "urgent"
    assert all("1980" not in line["text"] and "June" not in line["text"] for line in handoff["transcript"])


def test_vulnerability_is_flagged_with_free_advice_and_a_person(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "I have a gambling problem and I can't cope")
    assert "MoneyHelper" in reply and "stopped talking about payments" in reply
    assert servers.store.account(ref).vulnerable


def test_asking_for_a_person_queues_the_conversation(servers):
    who, _ref = verified(servers)
    reply = servers.say(who, "can I speak to a real person please")
    assert "asked a member of our team" in reply and "HO-" in reply and "reply by" in reply
    [handoff] = [h for h in servers.store.handoffs() if h["conversation_id"] == who]
    assert handoff["reason"] == "requested"
    assert any(line["text"] == "[withheld: date of birth]" for line in handoff["transcript"])


def test_existing_plan_status_date_change_and_cancel(servers):
    who = sender()
    servers.say(who, "hi")
    servers.say(who, "LN-10008")
    reply = servers.say(who, "25 December 1992")
    assert "already have an active payment plan" in reply
    reply = servers.say(who, "when is my next payment")
    assert "the next payment is £100.00" in reply and "3 payment(s) left" in reply
    reply = servers.say(who, "can I change the date of my payment to in 20 days")
    assert "will start on" in reply
    reply = servers.say(who, "yes")
    assert "new reference is AG-" in reply
    agreements = [a for a in servers.store.agreements() if a.loan_ref == "LN-10008"]
    assert [a.status for a in agreements] == ["amended", "active"]
    reply = servers.say(who, "I want to cancel my plan")
    assert "cancel" in reply
    servers.say(who, "yes")
    agreements = [a for a in servers.store.agreements() if a.loan_ref == "LN-10008"]
    assert agreements[-1].status == "cancelled"


def test_settlement_improves_once_then_is_recorded(servers):
    who, ref = verified(servers, overdue="1500.00", outstanding="2000.00", days_past_due=120)
    reply = servers.say(who, "can I settle the account for less")
    assert "£1,800.00" in reply and "10%" in reply
    reply = servers.say(who, "no")
    assert "£1,500.00" in reply and "25%" in reply
    reply = servers.say(who, "yes")
    assert "settlement" in reply and "pay.acme-lending.example" in reply
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == ref]
    assert agreement.kind == "settlement" and str(agreement.total_amount) in ("1500.00", "1500")


def test_settlement_is_not_offered_before_the_threshold(servers):
    who, _ = verified(servers, days_past_due=30)
    assert "isn't available" in servers.say(who, "can I settle for less")


def test_questions_are_answered_and_a_form_resumes(servers):
    who, _ = verified(servers)
    assert "credit reference agencies" in servers.say(who, "will this affect my credit score?")
    assert "only pay through our own channels" in servers.say(who, "how can I pay you")
    assert "Over how many months" in servers.say(who, "I'd like a payment plan")
    reply = servers.say(who, "will interest keep going up while I'm on a plan")
    assert "late-payment fees" in reply and "Back to where we were" in reply
    assert "first payment" in servers.say(who, "6 months")


def test_corrections_and_changing_ones_mind(servers):
    who, ref = verified(servers, overdue="900.00")
    servers.say(who, '/choose_plan{"plan_months": "6"}')
    servers.say(who, "in 10 days")
    reply = servers.say(who, "no wait - 12 months")
    assert "first payment" in reply or "To confirm: 12 monthly payments" in reply
    if "first payment" in reply:
        reply = servers.say(who, "in 10 days")
    assert "To confirm: 12 monthly payments" in reply
    servers.say(who, "yes")
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == ref]
    assert len(agreement.instalments) == 12


def test_small_talk_insults_out_of_scope_and_fallback(servers):
    who = sender()
    servers.say(who, "hi")
    assert "rather speak to a person" in servers.say(who, "you are useless")
    assert "can't help with that here" in servers.say(who, "what's the weather like tomorrow")
    first = servers.say(who, "qwxz vbnm plok")
    second = servers.say(who, "zzkq wvvx")
    assert "put that another way" in first or "loan reference" in first
    assert "[Talk to a person]" in second or "loan reference" in second


def test_the_same_question_is_never_asked_more_than_twice(servers):
    who, _ = verified(servers)
    servers.say(who, '/choose_plan{"plan_months": "6"}')
    servers.say(who, "whenever")
    reply = servers.say(who, "at some point")
    assert "going round in circles" in reply
    assert "When would you like the first payment" not in reply
