"""Answers at a step in words the classifier did not place (issue 17, session 11): a figure
with its period goes to the plan form and is weighed there; a length longer than any plan
shown is met with the hardship options; the length the step picked survives the form
re-reading the message; a reason filed from the words keeps the code the words give.

Against the seeded demo store (LN-10002: £480.00 overdue, £30.00 minimum over 12 months)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.agreements import ActionProposePayNow
from actions.forbearance import ActionOfferHardship
from actions.offers import ValidatePlanForm
from actions.reasons import ActionRecordReason
from actions.steps import ActionStepAnswer
from tests.actions.support import (
    DOMAIN,
    check_against_domain,
    names,
    propose,
    run,
    slots_of,
    tracker,
    user_event,
    verified,
    with_ranking,
)

SHOWN = [
    {"title": "Pay £480.00 now", "payload": "/choose_pay_now"},
    {"title": "Pay in full by a date", "payload": "/choose_promise_to_pay"},
    {"title": "3 monthly payments of £160.00", "payload": '/choose_plan{"plan_months": "3"}'},
    {"title": "6 monthly payments of £80.00", "payload": '/choose_plan{"plan_months": "6"}'},
    {"title": "12 monthly payments of £40.00", "payload": '/choose_plan{"plan_months": "12"}'},
]


def at_offers(text: str, intent: str, language: str = "en"):
    """A verified borrower answering the options shown in the assistant's last reply."""
    shown = [
        user_event("I had some unexpected bills", "reason_unexpected_expense"),
        {"event": "slot", "name": "dialogue_step", "value": "offers"},
        {"event": "slot", "name": "offer_choices", "value": SHOWN},
    ]
    slots = verified("LN-10002", reason_code="unexpected_expense", offer_choices=SHOWN, language=language)
    return tracker(slots, intent=intent, text=text, history=shown)


def followups(events: list) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


def form_validation(text: str, step_events: list, language: str = "en"):
    """The plan form, activated by the step's answer, validating the words it re-read."""
    trk = tracker(
        verified("LN-10002", reason_code="unexpected_expense", language=language),
        intent="thank",
        text=text,
        active_loop={"name": "plan_form"},
        extra_events=[
            {"event": "action", "name": "action_step_answer"},
            *step_events,
            {"event": "slot", "name": "plan_months", "value": text},  # the form re-reading the message
        ],
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidatePlanForm().run(dispatcher, trk, DOMAIN))
    check_against_domain(dispatcher, trk)
    return dispatcher, events


@pytest.mark.parametrize(
    ("text", "language", "monthly"),
    [("would £20 a week be ok", "en", Decimal("86.66")), ("每周20可以吗", "zh", Decimal("86.66"))],
)
def test_a_figure_the_classifier_missed_is_weighed_by_the_plan_form(text, language, monthly):
    dispatcher, events = run(ActionStepAnswer(), at_offers(text, "thank", language))
    assert dispatcher.messages == []
    assert slots_of(events)["plan_months"] == text and followups(events) == ["plan_form"]
    step_events = [e for e in events if e.get("event") != "followup"] + [
        e for e in events if e.get("event") == "followup"
    ]
    dispatcher, result = form_validation(text, step_events, language)
    # converted to a month, and never a plan at more a month than they said
    assert names(dispatcher)[0] == "utter_amount_weekly_as_monthly"
    assert "utter_counter_offer_fits" in names(dispatcher)
    assert Decimal(slots_of(result)["plan_monthly_amount"]) <= monthly


def test_a_length_longer_than_any_plan_shown_gets_the_hardship_options():
    dispatcher, events = run(ActionStepAnswer(), at_offers("could i spread it over 24 months", "choose_plan"))
    assert dispatcher.messages == [] and followups(events) == ["action_offer_hardship"]


def test_a_length_among_those_shown_is_that_option():
    _, events = run(ActionStepAnswer(), at_offers("twelve monthly payments", "choose_plan"))
    assert slots_of(events)["plan_months"] == "12" and followups(events) == ["plan_form"]


def test_the_length_the_step_picked_survives_the_form_re_reading_the_words():
    # "twelve monthly payments" reads as £12 a month to the amount parser
    picked = [
        {"event": "slot", "name": "plan_months", "value": None},
        {"event": "slot", "name": "plan_months", "value": "12"},
    ]
    dispatcher, result = form_validation(
        "twelve monthly payments", picked + [{"event": "followup", "name": "plan_form"}]
    )
    assert slots_of(result)["plan_months"] == "12" and dispatcher.messages == []


def test_a_reason_in_words_is_filed_with_the_code_the_words_give(loans):
    trk = tracker(verified("LN-10002"), intent="not_my_loan", text="didnt have enough in my account when it went out")
    trk.latest_message["intent"] = {"name": "not_my_loan", "confidence": 0.13}
    with_ranking(trk, [("not_my_loan", 0.13), ("ask_balance", 0.12)])
    dispatcher, events = run(ActionRecordReason(), trk)
    assert slots_of(events)["reason_code"] == "other"
    assert names(dispatcher)[0] == "utter_empathy_other"
    reasons = loans.loan_report("LN-10002")["reasons"]
    assert reasons[-1]["reason_code"] == "other"


def test_a_figure_given_as_the_reason_goes_to_the_plan_form():
    shown = [user_event("hi", "greet"), {"event": "slot", "name": "dialogue_step", "value": "reason"}]
    trk = tracker(verified("LN-10002"), intent="thank", text="could i pay 15 a week till its cleared", history=shown)
    dispatcher, events = run(ActionStepAnswer(), trk)
    assert dispatcher.messages == [] and followups(events) == ["plan_form"]
    assert slots_of(events)["plan_months"] == "could i pay 15 a week till its cleared"


def test_a_payment_claimed_at_the_reason_question_goes_to_the_claim_form_not_filed():
    # The classifier unsure (its fallback first): before, the reason was filed as "already
    # paid" from its lean and collection stopped; now the claim form asks when, how much, how.
    shown = [user_event("hi", "greet"), {"event": "slot", "name": "dialogue_step", "value": "reason"}]
    trk = tracker(
        verified("LN-10002"), intent="claim_already_paid", text="payment went through on the 2nd", history=shown
    )
    with_ranking(trk, [("nlu_fallback", 0.4), ("claim_already_paid", 0.35)])
    dispatcher, events = run(ActionStepAnswer(), trk)
    assert dispatcher.messages == [] and followups(events) == ["payment_claim_form"]


@pytest.mark.parametrize(("text", "language"), [("can i split it into instalments", "en"), ("那就分期吧", "zh")])
def test_a_plan_asked_for_without_a_length_opens_the_plan_form_at_its_question(text, language):
    dispatcher, events = run(ActionStepAnswer(), at_offers(text, "thank", language))
    assert dispatcher.messages == []
    assert followups(events) == ["plan_form"]
    assert slots_of(events)["plan_months"] is None  # the form asks how many months


def test_a_hardship_plan_asked_for_at_the_read_back_withdraws_the_terms_first(loans):
    pending = propose(ActionProposePayNow(), {}, loan_ref="LN-10002")
    slots = verified("LN-10002", pending_agreement=pending, awaiting_confirmation=True, language="en")
    trk = tracker(slots, intent="request_hardship", text="i'd like the hardship plan instead")
    _, events = run(ActionStepAnswer(), tracker(slots, intent="thank", text="i'd like the hardship plan instead"))
    assert slots_of(events)["pending_agreement"] is None and slots_of(events)["awaiting_confirmation"] is False
    assert followups(events) == ["action_offer_hardship"]
    # asked plainly (the rules answer it), the hardship options shown withdraw the terms too
    dispatcher, events = run(ActionOfferHardship(), trk)
    assert names(dispatcher) == ["utter_hardship_options"]
    assert slots_of(events)["pending_agreement"] is None and slots_of(events)["awaiting_confirmation"] is False
    assert [a for a in loans.agreements() if a.loan_ref == "LN-10002"] == []  # nothing recorded


def test_a_reason_with_a_question_after_it_is_filed_and_the_question_answered(loans):
    text = "lost my job last month. are you going to add interest on top of this?"
    slots = verified("LN-10002", language="en")
    ranked = [("reason_unemployment", 0.7), ("ask_fees_interest", 0.2), ("thank", 0.05)]
    trk = with_ranking(tracker(slots, intent="reason_unemployment", text=text), ranked)
    dispatcher, events = run(ActionRecordReason(), trk)
    assert names(dispatcher)[:2] == ["utter_empathy_unemployment", "utter_faq_ask_fees_interest"]
    assert "utter_offer_options" in names(dispatcher)
    assert slots_of(events)["reason_code"] == "unemployment"
    # without an answer the classifier ranks, said honestly: a person can answer it
    trk = with_ranking(tracker(slots, intent="reason_unemployment", text=text), ranked[:1])
    dispatcher, _ = run(ActionRecordReason(), trk)
    assert names(dispatcher)[:2] == ["utter_empathy_unemployment", "utter_step_question_for_a_person"]
