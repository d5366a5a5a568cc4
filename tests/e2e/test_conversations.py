"""Whole conversations over the REST channel against the real servers; the database is checked after."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest

from bot.domain.payment_links import verify_payment_token
from bot.settings import DEV_SECRET

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def verify(servers, who: str, loan_ref: str, dob: str) -> str:
    assert "loan reference" in servers.say(who, "hi")
    assert "date of birth" in servers.say(who, loan_ref)
    return servers.say(who, dob)


def agreements_for(servers, loan_ref: str):
    return [a for a in servers.store.agreements() if a.loan_ref == loan_ref]


def test_intro_says_it_is_the_lenders_automated_assistant(servers):
    reply = servers.say(sender(), "hello")
    assert "Acme Lending's automated assistant" in reply


def test_happy_path_to_an_instalment_plan(servers):
    who = sender()
    reply = verify(servers, who, "LN-10001", "12 March 1985")
    assert "you're verified" in reply
    assert "contacting you about a debt" in reply
    assert "£250.00 overdue" in reply and "12 days past due" in reply and "£3,200.00" in reply
    assert "what made it hard" in reply

    reply = servers.say(who, "my car broke down and the repair took everything")
    assert "Unexpected bills can throw anyone's budget off" in reply
    assert "[Pay £250.00 now]" in reply
    assert re.search(r"\[6 monthly payments of £41\.66\]", reply)

    reply = servers.say(who, '/choose_plan{"plan_months": "6"}')
    assert "When would you like the first payment" in reply
    reply = servers.say(who, "in 10 days")
    assert "To confirm: 6 monthly payments" in reply
    assert "5 payments of £41.66 and a final payment of £41.70" in reply
    assert "£250.00 in total" in reply
    assert agreements_for(servers, "LN-10001") == []  # nothing before the explicit yes

    reply = servers.say(who, "yes")
    ref = re.search(r"reference is (AG-[A-Z0-9]{8})", reply).group(1)
    [agreement] = agreements_for(servers, "LN-10001")
    assert agreement.agreement_ref == ref and agreement.kind == "instalment_plan"
    assert len(agreement.instalments) == 6
    assert sum(i.amount for i in agreement.instalments) == Decimal("250.00")
    assert agreement.channel == "rest"

    # A retried "yes" never creates a second agreement.
    reply = servers.say(who, "yes")
    assert f"already recorded; your reference is {ref}" in reply
    assert len(agreements_for(servers, "LN-10001")) == 1

    report = servers.store.loan_report("LN-10001")
    assert report["reasons"][-1]["reason_code"] == "unexpected_expense"
    assert report["reasons"][-1]["borrower_words"] == "my car broke down and the repair took everything"
    events = [e["event_type"] for e in report["audit_events"]]
    assert {"verification_passed", "disclosure_given", "reason_recorded", "agreement_created"} <= set(events)


def test_counter_offer_of_a_monthly_amount(servers):
    who = sender()
    verify(servers, who, "ln10002", "4 July 1990")
    servers.say(who, "my hours got cut at work")
    reply = servers.say(who, "I can do 100 a month")
    assert "£100.00 a month works" in reply and "5 payments" in reply
    reply = servers.say(who, "in 7 days")
    assert "To confirm: 5 monthly payments" in reply and "4 payments of £100.00 and a final payment of £80.00" in reply
    servers.say(who, "yes")
    [agreement] = agreements_for(servers, "LN-10002")
    assert [i.amount for i in agreement.instalments] == [Decimal("100.00")] * 4 + [Decimal("80.00")]


def test_below_the_minimum_offers_what_fits_the_figure_never_more(servers):
    """Affordability first (FCA CONC 7.3): 25 a month, under the £30.00 minimum, is met
    with what fits it -- never a plan at more a month -- and nothing is recorded until
    the borrower picks one and says yes. A fortnightly figure is read back as a month."""
    who = sender()
    ref = servers.new_loan(overdue="480.00")
    verify(servers, who, ref, "1 June 1980")
    servers.say(who, "my hours got cut at work")
    reply = servers.say(who, "I can only afford 25 a month")
    assert "won't ask you for more than £25.00 a month" in reply
    assert "[Smaller payments: 19 monthly payments of £25.00 and a final £5.00]" in reply
    assert "[Smaller payments: 24 monthly payments of £20.00]" in reply
    assert "[No payments for 1 month(s), then 24 monthly payments of £20.00]" in reply
    assert "[Talk to a person]" in reply
    assert max(Decimal(a.replace(",", "")) for a in re.findall(r"£([\d,]+\.\d\d)", reply)) <= Decimal("30.00")
    assert "To confirm" not in reply
    assert agreements_for(servers, ref) == []

    reply = servers.say(who, "40 every fortnight")
    assert "£40.00 every two weeks is about £86.66 a month" in reply
    assert "£86.66 a month works" in reply and "6 payments" in reply
    reply = servers.say(who, "in 7 days")
    said, confirm = reply.index("about £86.66 a month"), reply.index("To confirm")
    assert said < confirm
    assert "5 payments of £86.66 and a final payment of £46.70" in reply
    assert agreements_for(servers, ref) == []
    servers.say(who, "yes")
    [agreement] = agreements_for(servers, ref)
    assert max(i.amount for i in agreement.instalments) == Decimal("86.66")
    assert sum(i.amount for i in agreement.instalments) == Decimal("480.00")


def test_the_plan_at_the_borrowers_own_figure_is_picked_and_recorded(servers):
    who = sender()
    ref = servers.new_loan(overdue="480.00")
    verify(servers, who, ref, "1 June 1980")
    servers.say(who, "I lost my job")
    reply = servers.say(who, "i can do 25 a month")
    assert "[Smaller payments: 19 monthly payments of £25.00 and a final £5.00]" in reply
    reply = servers.say(who, '/request_hardship{"holiday_months": "0", "hardship_amount": "25.00"}')
    assert "19 payments of £25.00 and a final payment of £5.00" in reply and "£480.00 in total" in reply
    assert agreements_for(servers, ref) == []
    servers.say(who, "yes")
    [agreement] = agreements_for(servers, ref)
    assert agreement.kind == "hardship_deferral"
    assert [i.amount for i in agreement.instalments] == [Decimal("25.00")] * 19 + [Decimal("5.00")]


def test_when_nothing_fits_it_says_so_kindly_and_offers_a_break_or_a_person(servers):
    who = sender()
    ref = servers.new_loan(overdue="900.00")
    verify(servers, who, ref, "1 June 1980")
    servers.say(who, "too many other bills to juggle")
    reply = servers.say(who, "I can only afford 20 a month")
    assert "can't set up a plan at £20.00 a month" in reply and "won't ask you for more" in reply
    assert "[No payments for 1 month(s), then 24 monthly payments of £37.50]" in reply
    assert "[Talk to a person]" in reply
    assert "12 monthly payments of £75.00" not in reply and "To confirm" not in reply
    assert agreements_for(servers, ref) == []


def test_a_weekly_figure_is_understood_and_converted(servers):
    who = sender()
    ref = servers.new_loan(overdue="480.00")
    verify(servers, who, ref, "1 June 1980")
    servers.say(who, "my car broke down and the repair took everything")
    reply = servers.say(who, "I can pay 10 per week")
    assert "£10.00 a week is about £43.33 a month" in reply and "£43.33 a month works" in reply


# "a hard month" is classified as a monthly amount: the plan form hands it to the reason step
@pytest.mark.parametrize(
    "reason", ["just a bad month", "this month was hard", "3 months ago I lost my job", "a hard month"]
)
def test_a_reason_with_month_in_it_is_a_reason_not_an_amount(servers, reason):
    who = sender()
    ref = servers.new_loan()
    verify(servers, who, ref, "1 June 1980")
    reply = servers.say(who, reason)
    assert "understand" not in reply  # neither "couldn't understand that amount" nor a fallback
    assert "Thank you for telling me" in reply or "sorry to hear" in reply
    assert "Which would suit you best?" in reply
    report = servers.store.loan_report(ref)
    assert report["reasons"][-1]["borrower_words"] == reason


def test_promise_to_pay(servers):
    who = sender()
    verify(servers, who, "LN-10005", "21/05/1995")
    servers.say(who, "my boiler broke and I had to pay for it")
    reply = servers.say(who, "I can pay it in 5 days")
    assert "To confirm: you promise to pay £120.00 by" in reply
    reply = servers.say(who, "yes")
    assert "promise to pay" in reply and "AG-" in reply
    [agreement] = agreements_for(servers, "LN-10005")
    assert agreement.kind == "promise_to_pay" and agreement.total_amount == Decimal("120.00")


def test_pay_now_gives_a_signed_link_to_the_lenders_page(servers):
    who = sender()
    verify(servers, who, "LN-10003", "30 November 1978")
    servers.say(who, "sorry, I just forgot")
    reply = servers.say(who, "I'll pay it now")
    assert "To confirm: you'll pay £60.00 today" in reply
    reply = servers.say(who, "yes")
    url = re.search(r"(https://pay\.acme-lending\.example/pay\?token=\S+)", reply).group(1)
    token = parse_qs(urlparse(url).query)["token"][0]
    claims = verify_payment_token(token, DEV_SECRET)
    assert claims["loan_ref"] == "LN-10003" and claims["amount"] == "60.00" and claims["currency"] == "GBP"
    [agreement] = agreements_for(servers, "LN-10003")
    assert agreement.kind == "pay_now"


def test_how_much_do_i_owe_before_verification_reveals_nothing(servers):
    who = sender()
    reply = servers.say(who, "how much do I owe?")
    assert "can't share any account details yet" in reply
    assert not re.search(r"[£$¥€]|\d", reply.replace("LN-12345", ""))
    reply = servers.say(who, "just tell me the balance")
    assert not re.search(r"[£$¥€]|\d", reply.replace("LN-12345", ""))
    servers.say(who, "LN-10001")
    reply = servers.say(who, "1 April 1970")  # wrong date of birth
    assert "don't match our records" in reply
    assert "£" not in reply and "250" not in reply


def test_three_failed_attempts_lock_verification(servers):
    who = sender()
    servers.say(who, "hi")
    for wrong in ("1 January 1970", "2 January 1970"):
        servers.say(who, "LN-10006")
        assert "don't match our records" in servers.say(who, wrong)
    servers.say(who, "LN-10006")
    reply = servers.say(who, "3 January 1970")
    assert "can't continue checking these details" in reply and "0800 123 4567" in reply
    # Even the right details are refused now, in this conversation and in a new one.
    other = sender()
    servers.say(other, "hi")
    servers.say(other, "LN-10006")
    reply = servers.say(other, "9 September 1970")
    assert "can't continue checking" in reply and "£" not in reply
    events = [e["event_type"] for e in servers.store.audit_events("LN-10006")]
    assert "verification_locked" in events and "verification_passed" not in events


@pytest.mark.parametrize(
    "message",
    [
        "x" * 10_000,
        "😀😀😀🙏",
        "'; DROP TABLE loans; --",
        "<script>alert(1)</script><b>hi</b>",
        "{{7*7}} ${jndi:ldap://x}",
        "",
    ],
)
def test_hostile_or_odd_messages_get_a_polite_reply_and_change_nothing(servers, message):
    before = (servers.store.count("agreements"), servers.store.count("loans"))
    who = sender()
    servers.say(who, "hi")
    replies = servers.send(who, message)
    assert replies, "the borrower always gets an answer"
    assert all("error" not in (r.get("text") or "").lower() for r in replies)
    assert (servers.store.count("agreements"), servers.store.count("loans")) == before


def test_bad_references_dates_and_amounts_get_clear_replies(servers):
    who = sender()
    servers.say(who, "hi")
    assert "doesn't look like a loan reference" in servers.say(who, "it is 1234")
    servers.say(who, "LN-99999")
    assert "couldn't read that as a date of birth" in servers.say(who, "31/02/1985")
    assert "don't match our records" in servers.say(who, "12 March 1985")  # unknown reference
    servers.say(who, "LN-10009")
    reply = servers.say(who, "03/04/2000")
    assert "which one is your date of birth" in reply
    assert "[3 April 2000]" in reply and "[4 March 2000]" in reply
    assert "you're verified" in servers.say(who, "2000-04-03")
    servers.say(who, "I'd rather not say")
    assert "more than zero" in servers.say(who, "I can do 0 a month")
    assert "whole £90.00 at once" in servers.say(who, "I can pay 500 a month")
    reply = servers.say(who, "I can pay 120 on the 15th")
    assert "more than the £90.00 that's overdue" in reply
    assert agreements_for(servers, "LN-10009") == []
