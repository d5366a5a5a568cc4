"""Reading a message as the step expects it (bot/domain/steps.py, issue 17).

The ranking passed is what the classifier might plausibly say; the point is that the
step's reading does not depend on the classifier getting these right."""

from __future__ import annotations

import pytest

from bot.domain import steps

UNSURE = [("thank", 0.45), ("affirm", 0.3)]


@pytest.mark.parametrize(
    "text",
    ["yes", "Yes please", "yep do it", "fine, thanks", "sure, why not", "ok", "k", "go for it", "sounds good",
     "no problem", "no worries, go ahead", "that's right", "yeah thats fine", "好的", "可以", "没问题"],
)  # fmt: skip
def test_a_plain_yes_at_the_read_back_is_a_yes_whatever_the_classifier_says(text):
    assert steps.read_at_read_back(text, UNSURE).meaning == steps.YES


@pytest.mark.parametrize(
    "text",
    ["yes, but I'm worried I won't keep up", "ok but what if I can't manage it", "yeah I think so, hope I can",
     "I'm scared I'll miss one", "not sure I can keep up with that", "可以，但是我担心还不上"],
)  # fmt: skip
def test_a_hedged_yes_is_a_worry_not_a_yes(text):
    assert steps.read_at_read_back(text, [("affirm", 0.9)]).meaning == steps.WORRY


@pytest.mark.parametrize("text", ["that's not right", "no thats wrong", "hmm that doesn't look right", "不对"])
def test_a_correction_is_not_a_dispute(text):
    # The classifier is sure it is a dispute; the words do not say what is wrong.
    assert steps.read_at_read_back(text, [("dispute_debt", 0.9)]).meaning == steps.CORRECTION


def test_an_unambiguous_dispute_at_the_read_back_goes_to_the_dispute_rules():
    reading = steps.read_at_read_back("I don't owe 900, I'm disputing this", [("dispute_debt", 0.7)])
    assert reading == steps.Reading(steps.TOPIC, intent="dispute_debt")


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("can I change the date", steps.CHANGE_DATE),
        ("could we start on the 20th instead", steps.CHANGE_DATE),
        ("can i do 12 months instead", steps.CHANGE_MONTHS),
        ("can I spread it over longer", steps.CHANGE_MONTHS),
        ("can I pay it all now instead", steps.CHANGE_KIND),
        ("can I pay less each month", steps.CHANGE_AMOUNT),
        ("/change_payment_date", steps.CHANGE_DATE),
    ],
)
def test_a_change_at_the_read_back_says_what_changes(text, meaning):
    assert steps.read_at_read_back(text, [("change_payment_date", 0.5)]).meaning == meaning


@pytest.mark.parametrize(
    "text", ["let me think about it", "I need to talk to my partner first", "can I get back to you", "让我考虑一下"]
)
def test_not_now_is_an_answer(text):
    assert steps.read_at_read_back(text, UNSURE).meaning == steps.NOT_NOW
    assert steps.read_at_offers(text, UNSURE).meaning == steps.NOT_NOW


@pytest.mark.parametrize("text", ["no", "nope", "no thanks", "not really", "不要"])
def test_a_plain_no(text):
    assert steps.read_at_read_back(text, UNSURE).meaning == steps.NO


def test_button_payloads_mean_what_the_button_says():
    assert steps.read_at_read_back("/affirm", [("affirm", 1.0)]).meaning == steps.YES
    assert steps.read_at_read_back("/deny", [("deny", 1.0)]).meaning == steps.NO
    assert steps.read_at_read_back("/dispute_debt", [("dispute_debt", 1.0)]).meaning == steps.TOPIC
    assert steps.read_at_offers('/choose_plan{"plan_months": "6"}', [("choose_plan", 1.0)]).meaning == steps.TOPIC


def test_new_subjects_take_over_at_any_step():
    for intent in ("crisis", "request_human", "disclose_vulnerability", "claim_already_paid"):
        assert steps.read_at_read_back("whatever they wrote", [(intent, 0.9)]).meaning == steps.TOPIC
        assert steps.read_at_offers("whatever they wrote", [(intent, 0.9)]).meaning == steps.TOPIC


def test_something_unreadable_at_the_read_back_is_asked_about_not_recorded():
    assert steps.read_at_read_back("hmm", [("nlu_fallback", 0.5), ("affirm", 0.3)]).meaning == steps.UNCLEAR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the first one", steps.Reading(steps.CHOICE, choice=1)),
        ("option 3", steps.Reading(steps.CHOICE, choice=3)),
        ("2nd pls", steps.Reading(steps.CHOICE, choice=2)),
        ("the middle one", steps.Reading(steps.CHOICE, choice=0)),
        ("last one please", steps.Reading(steps.CHOICE, choice=-1)),
        ("the 6 month one", steps.Reading(steps.CHOICE, months=6)),
        ("the £75 one", steps.Reading(steps.CHOICE, amount="75")),
        ("第二个", steps.Reading(steps.CHOICE, choice=2)),
    ],
)
def test_an_option_named_by_position_or_description(text, expected):
    assert steps.read_at_offers(text, [("choose_plan", 0.5)]) == expected


def test_a_date_with_an_ordinal_is_not_a_position():
    assert steps.read_at_offers("I can pay by the 1st of next month", [("choose_promise_to_pay", 0.7)]).meaning == (
        steps.TOPIC
    )


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("I can't afford any of that", steps.CANT_AFFORD),
        ("way too much for me", steps.CANT_AFFORD),
        ("none of these work for me", steps.NONE_WORK),
        ("no", steps.NONE_WORK),
    ],
)
def test_cant_afford_and_none_of_these(text, meaning):
    assert steps.read_at_offers(text, [("deny", 0.6)]).meaning == meaning


def test_an_amount_at_the_offers_goes_to_the_amount_rules():
    assert steps.read_at_offers("I could do 40 a month", [("offer_monthly_amount", 0.8)]).meaning == steps.TOPIC


def test_a_consequential_request_is_acted_on_only_when_unambiguous():
    assert steps.consequential_unclear("this is wrong", [("dispute_debt", 0.6)]) == "dispute_debt"
    assert steps.consequential_unclear("I dispute this debt", [("dispute_debt", 0.6)]) is None
    assert steps.consequential_unclear("whatever", [("dispute_debt", 0.95)]) is None
    assert steps.consequential_unclear("leave it", [("stop_contact", 0.5)]) == "stop_contact"
    assert steps.consequential_unclear("stop texting me", [("stop_contact", 0.5)]) is None
    assert steps.consequential_unclear("/dispute_debt", [("dispute_debt", 1.0)]) is None
    assert steps.consequential_unclear("I lost my job", [("reason_unemployment", 0.9)]) is None


@pytest.mark.parametrize(
    ("text", "meaning"),
    [("no wait - 12 months", steps.CHANGE_MONTHS), ("the 20th would be better", steps.CHANGE_DATE)],
)
def test_terms_named_instead_are_a_change(text, meaning):
    assert steps.read_at_read_back(text, [("deny", 0.6)]).meaning == meaning


def test_months_named():
    assert [steps.months_named(t) for t in ("12 months", "6mths", "12个月", "in 10 days", "99 months")] == [
        12,
        6,
        12,
        None,
        None,
    ]
