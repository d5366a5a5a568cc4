"""The step comes first (issue 17): answers at the read-back and at the offers, end to
end against the real servers; the database shows nothing was done on a guess."""

from __future__ import annotations

import pytest

from tests.e2e.test_conversations import sender
from tests.e2e.test_situations import verified
from tests.e2e.test_situations_zh import verified as verified_zh

pytestmark = pytest.mark.e2e


def at_read_back(servers, **loan) -> tuple[str, str]:
    """A verified borrower (£900 overdue) with a 6-month plan read back."""
    who, ref = verified(servers, overdue="900.00", **loan)
    assert "Here's what I can offer" in servers.say(who, "I had some unexpected bills")
    servers.say(who, '/choose_plan{"plan_months": "6"}')
    assert "To confirm: 6 monthly payments" in servers.say(who, "in 10 days")
    return who, ref


def at_offers(servers) -> tuple[str, str]:
    who, ref = verified(servers, overdue="900.00")
    assert "[12 monthly payments of £75.00]" in servers.say(who, "I had some unexpected bills")
    return who, ref


def recorded(servers, ref: str) -> list:
    return [a for a in servers.store.agreements() if a.loan_ref == ref]


def actions_taken(servers, ref: str) -> set[str]:
    """Disputes, holds, fraud claims, opt-outs and cancellations: what must never happen on a guess."""
    consequential = ("dispute", "hold", "fraud", "opt_out", "cancel")
    events = servers.store.loan_report(ref)["audit_events"]
    return {e["event_type"] for e in events if any(word in e["event_type"] for word in consequential)}


def test_that_is_not_right_asks_what_is_wrong_and_files_nothing(servers):
    who, ref = at_read_back(servers)
    reply = servers.say(who, "that's not right")
    assert "What isn't right?" in reply
    assert "[The amount you say I owe is wrong]" in reply and "[This plan doesn't suit me]" in reply
    assert actions_taken(servers, ref) == set() and recorded(servers, ref) == []
    reply = servers.say(who, "/deny")
    assert "Here's what I can offer" in reply
    assert actions_taken(servers, ref) == set() and recorded(servers, ref) == []


@pytest.mark.parametrize("yes", ["fine, thanks", "sure, why not", "yep go for it"])
def test_a_casual_yes_records_the_plan(servers, yes):
    who, ref = at_read_back(servers)
    reply = servers.say(who, yes)
    assert "reference is AG-" in reply
    [agreement] = recorded(servers, ref)
    assert agreement.kind == "instalment_plan" and len(agreement.instalments) == 6


def test_a_hedged_yes_answers_the_worry_and_records_nothing_until_a_plain_yes(servers):
    who, ref = at_read_back(servers)
    reply = servers.say(who, "yes, but I'm worried I won't keep up")
    assert "nothing is set up until you say yes" in reply
    assert "[Show me smaller payments]" in reply and "[Talk to a person]" in reply
    assert recorded(servers, ref) == []
    assert "reference is AG-" in servers.say(who, "/affirm")
    assert len(recorded(servers, ref)) == 1


def test_changing_the_date_at_the_read_back_asks_only_for_the_date(servers):
    who, ref = at_read_back(servers)
    reply = servers.say(who, "can I change the date")
    assert "When would you like the first payment" in reply
    assert "active payment arrangement" not in reply
    reply = servers.say(who, "in 14 days")
    assert "To confirm: 6 monthly payments" in reply
    assert recorded(servers, ref) == []


def test_naming_another_length_at_the_read_back_reads_that_plan_back(servers):
    who, ref = at_read_back(servers)
    reply = servers.say(who, "no wait - 12 months")
    if "When would you like the first payment" in reply:
        reply = servers.say(who, "in 10 days")
    assert "To confirm: 12 monthly payments" in reply
    assert recorded(servers, ref) == []


def test_a_question_at_the_read_back_is_answered_and_the_plan_still_waits(servers):
    who, ref = at_read_back(servers)
    reply = servers.say(who, "will this affect my credit score?")
    assert "still waiting for your answer" in reply
    assert recorded(servers, ref) == []
    assert "reference is AG-" in servers.say(who, "yes")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("the 6 month one please", "When would you like the first payment"),
        ("the £75 one", "When would you like the first payment"),
        ("option 1", "To confirm: you'll pay £900.00 today"),
    ],
)
def test_an_option_named_by_position_or_description(servers, message, expected):
    who, ref = at_offers(servers)
    assert expected in servers.say(who, message)
    assert recorded(servers, ref) == []


def test_the_chosen_plan_is_the_one_pointed_at(servers):
    who, _ = at_offers(servers)
    servers.say(who, "the £75 one")
    assert "To confirm: 12 monthly payments" in servers.say(who, "in 10 days")


def test_none_of_these_asks_what_would_work(servers):
    who, _ = at_offers(servers)
    reply = servers.say(who, "none of these work for me")
    assert "What would work for you?" in reply
    assert "[Smaller payments]" in reply and "[Talk to a person]" in reply


def test_cant_afford_offers_what_fits_not_a_bigger_plan(servers):
    who, _ = at_offers(servers)
    reply = servers.say(who, "I can't afford any of that")
    # The arrangements for people in financial difficulty, whichever way the words were read.
    assert "arrangements" in reply and "24 monthly payments of £37.50" in reply
    assert "[12 monthly payments of £75.00]" not in reply


def test_a_question_at_the_offers_returns_to_the_options(servers):
    who, _ = at_offers(servers)
    reply = servers.say(who, "is there any interest on this?")
    assert reply.count("Here's what I can offer") == 1
    assert "[6 monthly payments of £150.00]" in reply


def test_chinese_answers_at_the_read_back(servers):
    ref = servers.new_loan(overdue="900.00", language="zh", timezone="Asia/Shanghai", currency="CNY")
    who = sender()
    servers.say(who, "你好")
    servers.say(who, ref)
    assert "您的个人贷款" in servers.say(who, "1980年6月1日")
    servers.say(who, "车坏了，修车把钱都花光了")
    servers.say(who, '/choose_plan{"plan_months": "6"}')
    assert "请确认" in servers.say(who, "10天后")
    reply = servers.say(who, "不对")
    assert "请问哪里不对" in reply
    assert actions_taken(servers, ref) == set() and recorded(servers, ref) == []
    assert "不，换个方案" not in reply
    servers.say(who, "/deny")
    servers.say(who, '/choose_plan{"plan_months": "6"}')
    assert "请确认" in servers.say(who, "10天后")
    servers.say(who, "好的")
    assert len(recorded(servers, ref)) == 1


def reasons(servers, ref: str) -> list[str]:
    return [r["reason_code"] for r in servers.store.loan_report(ref)["reasons"]]


def test_at_the_reason_question_the_borrowers_own_words_are_the_reason(servers):
    # Words the classifier was not trained on: filed with the code the words point to, then the options.
    who, ref = verified(servers, overdue="900.00")
    reply = servers.say(who, "bit of a nightmare honestly, the firm laid off half the warehouse and I was one of them")
    assert "Here's what I can offer" in reply or "arrangements" in reply
    assert reasons(servers, ref) == ["unemployment"]


def test_at_the_reason_question_too_little_to_go_on_is_clarified_not_filed(servers):
    who, ref = verified(servers, overdue="900.00")
    reply = servers.say(who, "hmm")
    assert "Here's what I can offer" not in reply
    assert reasons(servers, ref) == []


def test_a_break_asked_for_in_words_at_the_offers_gets_the_hardship_options(servers):
    who, ref = at_offers(servers)
    reply = servers.say(who, "could you freeze things for a couple of months while I get back on my feet")
    assert "We can ease things for a while" in reply
    assert actions_taken(servers, ref) == set() and recorded(servers, ref) == []
    # the first of those, by position, is read back (the hardship menu is the step now)
    assert "To confirm" in servers.say(who, "the first one")
    assert recorded(servers, ref) == []


def test_a_yes_with_another_date_reads_the_plan_back_with_that_date(servers):
    who, ref = at_read_back(servers)
    reply = servers.say(who, "yes but make the first one the 28th")
    assert "Of course, let's change it." in reply
    assert "To confirm: 6 monthly payments" in reply and "28" in reply
    assert recorded(servers, ref) == []  # a qualified yes is not a yes
    servers.say(who, "yes")
    [agreement] = recorded(servers, ref)
    assert agreement.instalments[0].due_date.day == 28


def test_chinese_reason_in_own_words_is_filed(servers):
    ref = servers.new_loan(overdue="900.00", language="zh", timezone="Asia/Shanghai", currency="CNY")
    who = sender()
    servers.say(who, "你好")
    servers.say(who, ref)
    assert "身份验证已通过" in servers.say(who, "1980年6月1日")
    reply = servers.say(who, "上个月住院做了个手术，一直没上班")
    assert "您" in reply
    assert reasons(servers, ref) in (["illness"], ["unemployment"])


@pytest.mark.parametrize(
    ("language", "words"), [("en", "life has been a total mess, hard to explain"), ("zh", "生活一团乱麻")]
)
def test_an_answer_naming_no_reason_is_filed_as_other_in_the_borrowers_words(servers, language, words):
    """The reason question is open: whatever the borrower says is their reason, filed with
    their words (never a death or an illness guessed from a lean), and the options follow."""
    who, ref = (verified if language == "en" else verified_zh)(servers, overdue="900.00")
    reply = servers.say(who, words)
    assert ("Here's what I can offer" in reply) if language == "en" else ("方案" in reply)
    [reason] = servers.store.loan_report(ref)["reasons"]
    assert (reason["reason_code"], reason["borrower_words"]) == ("other", words)


def test_after_a_question_at_the_reason_step_the_next_words_are_still_the_reason(servers):
    who, ref = verified(servers, overdue="900.00")
    reply = servers.say(who, "will this affect my credit score")
    assert "Here's what I can offer" not in reply  # answered, not pressed
    reply = servers.say(who, "honestly the firm let a load of us go in the autumn")
    assert reasons(servers, ref) == ["unemployment"]
    assert "Here's what I can offer" in reply or "arrangements" in reply
