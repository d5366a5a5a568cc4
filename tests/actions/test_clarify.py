"""Clarify instead of "rephrase" (issue 17 §6): an unsure message is answered with the
likeliest meanings as buttons in the borrower's words, "Something else" and a person;
a second misunderstanding in a row offers a person or the options."""

from __future__ import annotations

import re
import string

import pytest

from actions.conversation import (
    MAX_MEANINGS,
    MEANINGS,
    SAME_MEANING,
    ActionFallback,
    consecutive_misunderstandings,
    likely_meanings,
)
from tests.actions.support import (
    DOMAIN,
    assert_nothing_about_the_loan,
    bot_event,
    buttons,
    message,
    names,
    run,
    snapshot,
    tracker,
    user_event,
    verified,
    with_ranking,
)

# Intents deliberately never offered as a meaning (actions/conversation.py says why).
NOT_MEANINGS = {
    "affirm",
    "deny",
    "crisis",
    "insult",
    "smalltalk",
    "out_of_scope",
    "reason_other",
    "greet",
    "thank",
    "inform",
    "go_back",
    "request_reminder",
    "decline_reminder",
    "EXTERNAL_payment_reminder",
    "choose_language",
}

# "money is tight", as the classifier ranked it: unsure, so nlu_fallback comes first.
MONEY_IS_TIGHT = [
    ("nlu_fallback", 0.4),
    ("request_hardship", 0.35),
    ("reason_family_emergency", 0.15),
    ("reason_over_indebted", 0.05),
    ("affirm", 0.04),
]
SOMETHING_ELSE = ("Something else", "/nlu_fallback")
PERSON = ("Talk to a person", "/request_human")


def unsure(ranking, slots: dict | None = None, *, text="money is tight", history=None):
    """A tracker whose latest message fell back, with the classifier's `ranking`."""
    trk = with_ranking(tracker(slots, intent="nlu_fallback", text=text, history=history), ranking)
    trk.latest_message["intent"] = {"name": "nlu_fallback", "confidence": ranking[0][1] if ranking else 1.0}
    return trk


def offered(trk) -> list[tuple[str, str]]:
    dispatcher, events = run(ActionFallback(), trk)
    assert events == []
    return buttons(message(dispatcher, "utter_clarify_meaning"))


def english_text(name: str) -> str:
    return DOMAIN["responses"][name][0]["text"]


# ---------------------------------------------------------------- the first misunderstanding


def test_the_likeliest_meanings_are_offered_in_the_borrowers_words():
    dispatcher, events = run(ActionFallback(), unsure(MONEY_IS_TIGHT, verified()))
    assert (names(dispatcher), events) == (["utter_clarify_meaning"], [])
    assert english_text("utter_clarify_meaning") == "I want to be sure I understand. Did you mean:"
    assert buttons(message(dispatcher, "utter_clarify_meaning")) == [
        ("I need smaller payments or a break from paying", "/request_hardship"),
        ("There's been a family emergency", "/reason_family_emergency"),
        SOMETHING_ELSE,
        PERSON,
    ]


def test_the_meanings_in_chinese():
    assert offered(unsure(MONEY_IS_TIGHT, verified(language="zh"))) == [
        ("我需要减少每期还款额或暂停还款", "/request_hardship"),
        ("家里出了急事", "/reason_family_emergency"),
        ("其他事情", "/nlu_fallback"),
        ("转人工客服", "/request_human"),
    ]


def test_at_most_three_best_first_skipping_what_is_never_a_meaning_or_too_unlikely():
    ranking = [
        ("nlu_fallback", 0.4),
        ("affirm", 0.3),
        ("crisis", 0.2),
        ("ask_balance", 0.16),
        ("dispute_debt", 0.13),
        ("insult", 0.12),
        ("choose_plan", 0.11),
        ("reason_unemployment", 0.105),  # a fourth: not offered
        ("deny", 0.1),
        ("ask_how_to_pay", 0.09),  # too unlikely
    ]
    assert offered(unsure(ranking, verified())) == [
        ("How much do I owe?", "/ask_balance"),
        ("I don't think I owe this, or the amount is wrong", "/dispute_debt"),
        ("I'd like to pay in instalments", "/choose_plan"),
        SOMETHING_ELSE,
        PERSON,
    ]


def test_the_ranking_order_is_the_confidence_not_the_list_order():
    ranking = [("nlu_fallback", 0.4), ("reason_unemployment", 0.12), ("ask_balance", 0.3)]
    assert [p for _, p in offered(unsure(ranking, verified()))][:2] == ["/ask_balance", "/reason_unemployment"]


def test_a_meaning_that_needs_a_value_is_offered_as_the_plain_intent_once():
    # "I can do 50 a month" needs the amount it names: the button is the plain plan.
    ranking = [("nlu_fallback", 0.4), ("offer_monthly_amount", 0.3), ("choose_plan", 0.2), ("ask_balance", 0.15)]
    assert offered(unsure(ranking, verified())) == [
        ("I'd like to pay in instalments", "/choose_plan"),
        ("How much do I owe?", "/ask_balance"),
        SOMETHING_ELSE,
        PERSON,
    ]


def test_a_person_as_a_meaning_is_not_offered_twice():
    ranking = [("nlu_fallback", 0.4), ("request_human", 0.22), ("defer_decision", 0.21), ("ask_balance", 0.09)]
    assert offered(unsure(ranking, verified())) == [
        ("I'd like to talk to a person", "/request_human"),
        ("I need time to think about it", "/defer_decision"),
        SOMETHING_ELSE,
    ]


def test_a_single_meaning_is_still_offered_with_something_else_and_a_person():
    ranking = [("nlu_fallback", 0.4), ("defer_decision", 0.37), ("affirm", 0.23), ("crisis", 0.05)]
    assert offered(unsure(ranking, verified())) == [
        ("I need time to think about it", "/defer_decision"),
        SOMETHING_ELSE,
        PERSON,
    ]


def test_consequential_meanings_are_offered_as_buttons_and_nothing_is_done(loans):
    # A dispute, a fraud claim or an opt-out is only ever done on a press of its button.
    ranking = [("nlu_fallback", 0.4), ("dispute_debt", 0.3), ("not_my_loan", 0.25), ("stop_contact", 0.2)]
    before = snapshot(loans)
    assert [p for _, p in offered(unsure(ranking, verified()))] == [
        "/dispute_debt",
        "/not_my_loan",
        "/stop_contact",
        "/nlu_fallback",
        "/request_human",
    ]
    assert snapshot(loans) == before
    assert loans.cases("LN-10001") == [] and loans.loan_report("LN-10001")["status"] != "on_hold"


# ---------------------------------------------------------------- what the borrower's situation rules out


@pytest.mark.parametrize(
    "slots",
    [
        {"collection_stopped": True},  # a vulnerability or a crisis in this conversation
        {"reason_code": "dispute"},  # says the debt is disputed: not asked for payment
    ],
)
def test_no_payment_meanings_once_collection_has_stopped(slots):
    ranking = [("nlu_fallback", 0.4), ("choose_plan", 0.3), ("choose_pay_now", 0.2), ("ask_how_to_pay", 0.15)]
    assert offered(unsure(ranking, verified(**slots))) == [
        ("How can I pay?", "/ask_how_to_pay"),
        SOMETHING_ELSE,
        PERSON,
    ]


def test_no_payment_meanings_for_an_account_under_a_vulnerability_flag(loans):
    loans.flag_vulnerable("LN-10001", "mental_health")
    ranking = [("nlu_fallback", 0.4), ("request_hardship", 0.3), ("ask_credit_impact", 0.2)]
    assert offered(unsure(ranking, verified())) == [
        ("Will this affect my credit record?", "/ask_credit_impact"),
        SOMETHING_ELSE,
        PERSON,
    ]


def test_no_push_for_one_large_sum_after_a_hardship_reason():
    ranking = [("nlu_fallback", 0.4), ("choose_pay_now", 0.3), ("ask_settlement", 0.2), ("request_hardship", 0.15)]
    assert offered(unsure(ranking, verified(reason_code="unemployment"))) == [
        ("I need smaller payments or a break from paying", "/request_hardship"),
        SOMETHING_ELSE,
        PERSON,
    ]


def test_before_verification_meanings_are_offered_and_nothing_about_the_loan_is_said(loans):
    ranking = [("nlu_fallback", 0.4), ("ask_balance", 0.3), ("dispute_debt", 0.2), ("ask_why_contacted", 0.15)]
    before = snapshot(loans)
    dispatcher, _ = run(ActionFallback(), unsure(ranking, {"loan_ref": "LN-10001"}))
    assert [p for _, p in buttons(message(dispatcher, "utter_clarify_meaning"))][:3] == [
        "/ask_balance",
        "/dispute_debt",
        "/ask_why_contacted",
    ]
    assert_nothing_about_the_loan(dispatcher)
    assert snapshot(loans) == before


# ---------------------------------------------------------------- nothing worth offering, "Something else", the second stage


@pytest.mark.parametrize(
    "ranking",
    [
        [("nlu_fallback", 0.4), ("inform", 0.11), ("affirm", 0.07), ("reason_reduced_income", 0.06)],  # "asdf qwerty"
        [("nlu_fallback", 0.4), ("affirm", 0.38), ("deny", 0.36)],
        # "erm": a thin spread, the best meaning under 0.15 is no meaning
        [("nlu_fallback", 0.4), ("affirm", 0.165), ("disclose_vulnerability", 0.11), ("out_of_scope", 0.06)],
        [("nlu_fallback", 1.0)],
        [],
    ],
)
def test_with_no_meaning_worth_offering_it_asks_to_put_it_another_way_with_a_person(ranking):
    dispatcher, events = run(ActionFallback(), unsure(ranking, verified(), text="asdf qwerty"))
    assert (names(dispatcher), events) == (["utter_ask_rephrase"], [])
    assert buttons(message(dispatcher, "utter_ask_rephrase")) == [PERSON]


def test_no_meaning_in_chinese_offers_a_person_in_chinese():
    dispatcher, _ = run(ActionFallback(), unsure([("nlu_fallback", 1.0)], verified(language="zh")))
    assert buttons(message(dispatcher, "utter_ask_rephrase")) == [("转人工客服", "/request_human")]


def first_misunderstanding() -> list:
    return [
        user_event("money is tight", "nlu_fallback"),
        {"event": "action", "name": "action_fallback"},
        bot_event("I want to be sure I understand. Did you mean:"),
        {"event": "action", "name": "action_listen"},
    ]


def test_something_else_asks_to_say_it_another_way_with_a_person():
    trk = unsure([("nlu_fallback", 1.0)], verified(), text="/nlu_fallback", history=first_misunderstanding())
    dispatcher, events = run(ActionFallback(), trk)
    assert (names(dispatcher), events) == (["utter_ask_in_other_words"], [])
    assert english_text("utter_ask_in_other_words") == (
        "Of course. Could you tell me in a few words what you'd like to do?"
    )
    assert buttons(message(dispatcher, "utter_ask_in_other_words")) == [PERSON]


def test_the_second_misunderstanding_in_a_row_offers_a_person_or_the_options():
    trk = unsure(MONEY_IS_TIGHT, verified(), text="hmm", history=first_misunderstanding())
    dispatcher, events = run(ActionFallback(), trk)
    assert (names(dispatcher), events) == (["utter_still_not_understood"], [])
    assert not message(dispatcher, "utter_still_not_understood").get("buttons")  # its own: a person, the options


def test_something_else_in_between_does_not_restart_the_count():
    history = [
        *first_misunderstanding(),
        user_event("/nlu_fallback", "nlu_fallback"),
        bot_event("Of course. Could you tell me in a few words what you'd like to do?"),
    ]
    dispatcher, _ = run(ActionFallback(), unsure(MONEY_IS_TIGHT, verified(), text="hmm", history=history))
    assert names(dispatcher) == ["utter_still_not_understood"]
    assert consecutive_misunderstandings(history) == 1


def test_a_pressed_meaning_in_between_starts_again():
    history = [
        *first_misunderstanding(),
        user_event("/ask_balance", "ask_balance"),
        bot_event("..."),
    ]
    dispatcher, _ = run(ActionFallback(), unsure(MONEY_IS_TIGHT, verified(), history=history))
    assert names(dispatcher) == ["utter_clarify_meaning"]


# ---------------------------------------------------------------- the titles


def test_every_intent_is_a_meaning_or_deliberately_not_one():
    intents = set(DOMAIN["intents"])
    assert set(MEANINGS) <= intents and set(SAME_MEANING) <= intents
    assert set(SAME_MEANING.values()) <= set(MEANINGS)
    assert len(MEANINGS) == len(set(MEANINGS))
    undecided = intents - set(MEANINGS) - set(SAME_MEANING) - NOT_MEANINGS
    assert not undecided, f"decide whether these are meanings to offer: {sorted(undecided)}"
    assert not NOT_MEANINGS & set(MEANINGS)
    assert {"nlu_fallback", "affirm", "deny", "crisis", "insult"}.isdisjoint(MEANINGS)


def test_every_meaning_has_a_title_and_every_title_a_meaning():
    titled = {name.removeprefix("utter_meaning_") for name in DOMAIN["responses"] if name.startswith("utter_meaning_")}
    assert titled == set(MEANINGS)


@pytest.mark.parametrize("intent", MEANINGS)
def test_titles_state_no_account_facts(intent):
    # Shown before verification too: what the borrower might want, never an amount, a
    # date, a reference, a product or a name.
    for variation in DOMAIN["responses"][f"utter_meaning_{intent}"]:
        title = variation["text"]
        assert not [f for _, f, _, _ in string.Formatter().parse(title) if f], f"{intent}: {title}"
        assert not re.search(r"\d|[£$¥€]|LN-|\bAG-|overdue|arrears|past due|逾期|余额", title), f"{intent}: {title}"
        assert "buttons" not in variation and 0 < len(title) <= 60, f"{intent}: a short title"


def test_titles_are_distinct_in_each_language():
    for lang in ("en", "zh"):
        variations = [DOMAIN["responses"][f"utter_meaning_{m}"][0 if lang == "en" else 1]["text"] for m in MEANINGS]
        assert len(set(variations)) == len(MEANINGS), lang


def test_likely_meanings_is_at_most_three():
    ranking = [(m, 0.5 - i * 0.01) for i, m in enumerate(MEANINGS)]
    assert likely_meanings(ranking) == list(MEANINGS[:MAX_MEANINGS])


def test_a_pressed_meaning_files_the_borrowers_words_not_the_payload(loans):
    from actions.reasons import ActionRecordReason
    from actions.situations import ActionRecordDispute

    unsure = "I'm confused about what you're saying, this isn't what I signed"
    history = [user_event(unsure, "nlu_fallback"), bot_event("I want to be sure I understand. Did you mean:")]
    run(ActionRecordDispute(), tracker(verified(), intent="dispute_debt", text="/dispute_debt", history=history))
    [case] = loans.cases("LN-10001")
    assert case["borrower_words"] == unsure
    # pressed with nothing typed before it: no payload in the record either
    run(ActionRecordReason(), tracker(verified("LN-10002"), intent="reason_illness", text="/reason_illness"))
    assert [r["borrower_words"] for r in loans.loan_report("LN-10002")["reasons"]] in ([""], [None])
