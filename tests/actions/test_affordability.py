"""Affordability first (issue 17 §3, FCA CONC 7.3): a borrower's own figure is considered,
and nothing is proposed at more a month than they said.

The plan form's counter-offer with figures below the minimum, too long for a standard
plan, or said per week or fortnight; the hardship plan at the borrower's figure picked
from a button; the read-back of a plan made from a weekly figure. Against the seeded
demo store (LN-10002: £480.00 overdue on a personal loan, £30.00 minimum over 12
months; hardship from £10.00 over up to 24 months after 0-3 months' holiday).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from rasa_sdk.executor import CollectingDispatcher

from actions.agreements import ActionProposePlan
from actions.forbearance import ActionOfferHardship
from actions.offers import ActionAmountWasAReason, ValidatePlanForm
from actions.steps import chosen_button, press
from bot.domain import steps
from tests.actions.support import (
    DOMAIN,
    PHONE,
    assert_read_back,
    buttons,
    change_loan,
    check_against_domain,
    confirm,
    day,
    message,
    money,
    names,
    run,
    slots_of,
    snapshot,
    tracker,
    validate,
    verified,
)

PERSON = ("Talk to a person", "/request_human")
ENDED = {"plan_months": None, "plan_monthly_amount": None, "plan_amount_said": None, "requested_slot": None}


def plan_trk(loan_ref="LN-10002", text="", intent="offer_monthly_amount", **slots):
    return tracker(verified(loan_ref, **slots), intent=intent, text=text, active_loop={"name": "plan_form"})


def offer(text: str, loan_ref="LN-10002", intent="offer_monthly_amount", **slots):
    return validate(ValidatePlanForm(), "plan_months", text, plan_trk(loan_ref, text, intent, **slots))


def run_form(text: str, loan_ref="LN-10002", intent="offer_monthly_amount", **slots):
    """The whole validation action as Rasa calls it, with `text` as the plan_months candidate."""
    trk = tracker(
        verified(loan_ref, plan_months=text, requested_slot="plan_months", **slots),
        intent=intent,
        text=text,
        active_loop={"name": "plan_form"},
        extra_events=[{"event": "slot", "name": "plan_months", "value": text}],
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidatePlanForm().run(dispatcher, trk, DOMAIN))
    check_against_domain(dispatcher, trk)
    return dispatcher, events


def hardship(holiday: int, count: int, amount: str, final: str | None = None, at: str | None = None):
    """A hardship button: `count` payments of `amount` (and a `final` one), after `holiday` months."""
    if final is None:
        plan = f"{count} monthly payments of {money(amount)}"
    else:
        plan = f"{count} monthly payments of {money(amount)} and a final {money(final)}"
    title = f"No payments for {holiday} month(s), then {plan}" if holiday else f"Smaller payments: {plan}"
    entities = {"holiday_months": str(holiday)} | ({"hardship_amount": at} if at else {})
    return title, "/request_hardship" + json.dumps(entities)


def amounts_in(title: str) -> list[Decimal]:
    return [Decimal(n.replace(",", "")) for n in re.findall(r"£([\d,]+\.\d\d)", title)]


# ---------------------------------------------------------------- below the minimum


def test_below_the_minimum_offers_what_fits_the_figure_and_records_nothing(loans):
    before = snapshot(loans)
    dispatcher, result = offer("I can only afford 25 a month")
    assert names(dispatcher) == ["utter_counter_offer_below_minimum"]
    msg = dispatcher.messages[0]
    assert (msg["amount"], msg["min_instalment"]) == ("£25.00", "£30.00")
    # their £25 (19 x £25, a final £5), the lowest hardship payment, holidays, a person -- never 12 x £40
    assert buttons(msg) == [
        hardship(0, 19, "25.00", final="5.00", at="25.00"),
        hardship(0, 24, "20.00"),
        hardship(1, 24, "20.00"),
        hardship(2, 24, "20.00"),
        hardship(3, 24, "20.00"),
        PERSON,
    ]
    assert all(a <= Decimal("25.00") for title, _ in buttons(msg) for a in amounts_in(title))
    # the form ends with the options on screen, so "the first one" means the first of them
    assert {k: result[k] for k in ENDED} == ENDED and result["invalid_answers"] == 0
    assert result["dialogue_step"] == steps.OFFERS
    assert [c["payload"] for c in result["offer_choices"]] == [p for _, p in buttons(msg)]
    assert snapshot(loans) == before


@pytest.mark.parametrize("said", ["20 a month", "£25 pm", "30 pm", "I could manage 29.99 a month"])
def test_no_plan_above_a_figure_below_the_minimum(said):
    dispatcher, _ = offer(said)
    figure = Decimal(re.search(r"\d+(?:\.\d+)?", said).group())
    [msg] = dispatcher.messages
    offered = [a for title, _ in buttons(msg) if not title.startswith("No payments") for a in amounts_in(title)]
    assert offered and max(offered) <= figure


def test_the_form_ends_and_listens_instead_of_reading_a_plan_back(loans):
    dispatcher, events = run_form("I can only afford 25 a month")
    assert names(dispatcher) == ["utter_counter_offer_below_minimum"]
    slots = slots_of(events)
    assert slots["requested_slot"] is None and slots["plan_months"] is None
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}


def test_nothing_fits_is_said_kindly_with_a_holiday_and_a_person():
    # LN-10004: £900.00 at £20 would take 45 months; hardship allows 24 (24 x £37.50)
    dispatcher, result = offer("I can only afford 20 a month", "LN-10004")
    assert names(dispatcher) == ["utter_counter_offer_nothing_fits"]
    msg = dispatcher.messages[0]
    assert (msg["amount"], msg["lender_phone"]) == ("£20.00", PHONE)
    assert buttons(msg) == [hardship(h, 24, "37.50") for h in (1, 2, 3)] + [PERSON]
    assert {k: result[k] for k in ENDED} == ENDED


def test_below_the_hardship_minimum_offers_a_holiday_and_a_person():
    dispatcher, _ = offer("5 a month")
    assert names(dispatcher) == ["utter_counter_offer_nothing_fits"]
    assert buttons(dispatcher.messages[0]) == [hardship(h, 24, "20.00") for h in (1, 2, 3)] + [PERSON]


def test_a_balance_too_small_for_hardship_offers_a_person(loans):
    change_loan(loans, "LN-10003", overdue_amount=Decimal("8.00"))  # bnpl: under 2 x £5.00
    dispatcher, result = offer("4 a month", "LN-10003")
    assert names(dispatcher) == ["utter_counter_offer_none"]
    assert buttons(dispatcher.messages[0]) == [PERSON]
    assert dispatcher.messages[0]["lender_phone"] == PHONE
    assert {k: result[k] for k in ENDED} == ENDED


def test_too_long_for_a_standard_plan_offers_hardship_at_the_figure():
    # LN-10006: £1,500.00 at £100 is 15 months, longer than 12 -- not 12 x £125
    dispatcher, _ = offer("I can do 100 a month", "LN-10006")
    assert names(dispatcher) == ["utter_counter_offer_too_long"]
    msg = dispatcher.messages[0]
    assert (msg["amount"], msg["months"], msg["max_months"]) == ("£100.00", 15, 12)
    assert buttons(msg) == [
        hardship(0, 15, "100.00", at="100.00"),
        hardship(0, 24, "62.50"),
        *[hardship(h, 24, "62.50") for h in (1, 2, 3)],
        PERSON,
    ]


def test_too_long_when_even_hardship_cannot_fit():
    dispatcher, _ = offer("35 a month", "LN-10006")  # 43 months; hardship's 24 x £62.50 is more
    assert names(dispatcher) == ["utter_counter_offer_nothing_fits"]
    assert buttons(dispatcher.messages[0])[-1] == PERSON


def test_at_or_above_the_minimum_the_plan_is_at_the_figure(today):
    dispatcher, result = offer("I can do 30 a month", "LN-10001")  # £250.00: 8 x £30 and a final £10
    assert names(dispatcher) == ["utter_counter_offer_fits"]
    assert result == {
        "plan_months": "9",
        "plan_monthly_amount": "30.00",
        "plan_amount_said": None,
        "invalid_answers": 0,
    }
    first = (today + timedelta(days=7)).isoformat()
    _, events = run(ActionProposePlan(), tracker(verified("LN-10001", **result, first_payment_date=first)))
    pending = assert_read_back(events, "instalment_plan", "250.00")
    assert [a for _, a in pending["instalments"]] == ["30.00"] * 8 + ["10.00"]


def test_a_figure_is_rounded_down_never_up():
    _, result = offer("I can do 40.009 a month")
    assert result["plan_monthly_amount"] == "40.00"


# ---------------------------------------------------------------- weekly and fortnightly figures


def test_a_fortnightly_figure_is_converted_and_said_back(loans, today):
    before = snapshot(loans)
    dispatcher, result = offer("40 every fortnight")
    assert names(dispatcher) == ["utter_amount_fortnightly_as_monthly", "utter_counter_offer_fits"]
    said, fits = dispatcher.messages
    assert (said["amount"], said["monthly_amount"]) == ("£40.00", "£86.66")
    assert (fits["amount"], fits["months"]) == ("£86.66", 6)
    assert result == {
        "plan_months": "6",
        "plan_monthly_amount": "86.66",
        "plan_amount_said": "40 fortnight",
        "invalid_answers": 0,
    }
    # the read-back says it again, before "To confirm"
    first = today + timedelta(days=7)
    trk = tracker(verified("LN-10002", **result, first_payment_date=first.isoformat()))
    dispatcher, events = run(ActionProposePlan(), trk)
    assert names(dispatcher) == ["utter_amount_fortnightly_as_monthly", "utter_confirm_plan"]
    assert dispatcher.messages[0]["monthly_amount"] == "£86.66"
    assert dispatcher.messages[1]["schedule"] == "5 payments of £86.66 and a final payment of £46.70"
    pending = assert_read_back(events, "instalment_plan", "480.00")
    assert max(Decimal(a) for _, a in pending["instalments"]) == Decimal("86.66")
    assert pending["terms"]["source"] == "borrower_amount"
    assert snapshot(loans) == before


@pytest.mark.parametrize(
    "said, amount, monthly, months",
    [
        ("10 a week", "£10.00", "£43.33", 12),
        ("I can pay £15pw", "£15.00", "£65.00", 8),
        ("10 per week", "£10.00", "£43.33", 12),
    ],
)
def test_a_weekly_figure_is_converted(said, amount, monthly, months):
    dispatcher, result = offer(said)
    assert names(dispatcher) == ["utter_amount_weekly_as_monthly", "utter_counter_offer_fits"]
    assert (dispatcher.messages[0]["amount"], dispatcher.messages[0]["monthly_amount"]) == (amount, monthly)
    assert result["plan_months"] == str(months)
    assert result["plan_monthly_amount"] == monthly.lstrip("£")


def test_a_weekly_figure_is_read_as_one_whatever_the_classifier_said():
    """'10 a week' classified as `inform` inside the plan form is still a figure, not 10 months."""
    dispatcher, result = offer("10 a week", intent="inform")
    assert names(dispatcher) == ["utter_amount_weekly_as_monthly", "utter_counter_offer_fits"]
    assert result["plan_monthly_amount"] == "43.33"


def test_a_weekly_figure_below_the_minimum_offers_what_fits_its_monthly_equivalent():
    dispatcher, _ = offer("£5 a week")  # £21.66 a month
    assert names(dispatcher) == ["utter_amount_weekly_as_monthly", "utter_counter_offer_below_minimum"]
    msg = dispatcher.messages[1]
    assert msg["amount"] == "£21.66"
    assert buttons(msg)[0] == hardship(0, 22, "21.66", final="3.48", at="21.66")


def test_chinese_weekly_figure(loans):
    # LN-10007: ¥6,000.00 overdue, in Chinese; ¥100 a week is ¥433.33 a month: 14 months
    dispatcher, _ = offer("每周100", "LN-10007", language="zh")
    assert names(dispatcher) == ["utter_amount_weekly_as_monthly", "utter_counter_offer_too_long"]
    assert dispatcher.messages[0]["monthly_amount"] == "¥433.33"
    titles = [t for t, _ in buttons(dispatcher.messages[1])]
    assert titles[0] == "减少每期还款：13个月每月还款¥433.33，最后一期还款¥366.71"
    assert titles[-1] == "转人工客服"


def test_the_read_back_says_nothing_of_a_figure_it_was_not_made_from(today):
    """A stale weekly figure is not said before a plan chosen by its length."""
    first = (today + timedelta(days=7)).isoformat()
    slots = {"plan_months": "6", "plan_amount_said": "40 fortnight", "first_payment_date": first}
    dispatcher, _ = run(ActionProposePlan(), tracker(verified("LN-10001", **slots)))
    assert names(dispatcher) == ["utter_confirm_plan"]


# ---------------------------------------------------------------- picking what fits


def test_the_plan_at_the_borrowers_figure_is_read_back_and_recorded_after_yes(loans, today):
    trk = tracker(verified("LN-10002", holiday_months="0", hardship_amount="25.00"), intent="request_hardship")
    dispatcher, events = run(ActionOfferHardship(), trk)
    assert names(dispatcher) == ["utter_confirm_hardship"]
    assert dispatcher.messages[0]["schedule"] == "19 payments of £25.00 and a final payment of £5.00"
    pending = assert_read_back(events, "hardship_deferral", "480.00", from_form=False)
    assert slots_of(events)["hardship_amount"] is None and slots_of(events)["holiday_months"] is None
    assert [a for a in loans.agreements() if a.loan_ref == "LN-10002"] == []  # nothing before the yes
    confirm(pending, loan_ref="LN-10002")
    [agreement] = [a for a in loans.agreements() if a.loan_ref == "LN-10002"]
    assert agreement.kind == "hardship_deferral"
    assert [i.amount for i in agreement.instalments] == [Decimal("25.00")] * 19 + [Decimal("5.00")]
    assert agreement.instalments[0].due_date == today + relativedelta(months=1)


def test_a_holiday_then_the_borrowers_figure(today):
    trk = tracker(verified("LN-10001", holiday_months="2", hardship_amount="10.42"), intent="request_hardship")
    dispatcher, _ = run(ActionOfferHardship(), trk)
    msg = message(dispatcher, "utter_confirm_hardship")
    assert msg["first_date"] == day(today + relativedelta(months=3))
    assert msg["schedule"] == "23 payments of £10.42 and a final payment of £10.34"


@pytest.mark.parametrize(
    "holiday, amount",
    [("0", "1.00"), ("0", "abc"), ("0", "NaN"), ("0", "-25"), ("0", "19.99"), ("9", "25.00"), ("x", "25.00")],
)
def test_a_figure_the_hardship_policy_does_not_allow_is_not_read_back(loans, holiday, amount):
    before = snapshot(loans)
    trk = tracker(verified("LN-10002", holiday_months=holiday, hardship_amount=amount), intent="request_hardship")
    dispatcher, events = run(ActionOfferHardship(), trk)
    assert names(dispatcher) == ["utter_hardship_options"]
    assert "pending_agreement" not in slots_of(events)
    assert snapshot(loans) == before


def test_the_first_one_picks_the_plan_at_the_figure():
    _, result = offer("I can only afford 25 a month")
    reading = steps.read_at_offers("the first one", [("affirm", 0.4)])
    events = press(chosen_button(result["offer_choices"], reading))
    assert slots_of(events) == {"dialogue_step": None, "holiday_months": "0", "hardship_amount": "25.00"}
    assert events[-1]["name"] == "action_offer_hardship"
    last = chosen_button(result["offer_choices"], steps.read_at_offers("the last one", [("affirm", 0.4)]))
    assert press(last)[-1]["name"] == "action_request_human"


# ---------------------------------------------------------------- a reason is not an amount (issue 17 §8)


@pytest.mark.parametrize("said", ["just a bad month", "this month was hard", "it's been a bad month"])
def test_a_reason_with_month_in_it_is_recorded_as_the_reason(said):
    """Classified as a monthly amount while the reason is still to be told: the form ends
    quietly and the message is recorded as the reason, never "I couldn't understand that amount"."""
    dispatcher, events = run_form(said)
    assert dispatcher.messages == []
    assert slots_of(events)["requested_slot"] is None
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_amount_was_a_reason"}


def test_the_message_is_recorded_as_the_reason_and_the_options_shown(loans):
    dispatcher, events = run(
        ActionAmountWasAReason(), tracker(verified("LN-10002"), intent="offer_monthly_amount", text="a hard month")
    )
    assert names(dispatcher)[:2] == ["utter_empathy_other", "utter_offer_options"]
    assert slots_of(events)["reason_code"] == "other"
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}
    reasons = loans.loan_report("LN-10002")["reasons"]
    assert (reasons[-1]["reason_code"], reasons[-1]["borrower_words"]) == ("other", "a hard month")


def test_after_the_reason_a_figure_without_a_number_is_asked_again():
    dispatcher, result = offer("a bit less each month", reason_code="reduced_income")
    assert names(dispatcher) == ["utter_amount_invalid"]
    assert result == {"plan_months": None, "invalid_answers": 1}


def test_a_length_the_step_chose_is_a_length_though_the_words_read_as_an_amount():
    # "3 payments of 300": the step pressed the 3-month option; the form, activated by it,
    # re-read the words (classified as an amount a month) and hands them back to validation.
    words = "3 payments of 300"
    chosen = [
        {"event": "action", "name": "action_step_answer"},
        {"event": "slot", "name": "plan_months", "value": None},
        {"event": "slot", "name": "plan_months", "value": "3"},
        {"event": "action", "name": "plan_form"},
        {"event": "slot", "name": "plan_months", "value": words},
    ]
    trk = tracker(
        verified("LN-10001"),
        intent="offer_monthly_amount",
        text=words,
        active_loop={"name": "plan_form"},
        extra_events=chosen,
    )
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", words, trk)
    assert result["plan_months"] == "3" and dispatcher.messages == []
    # typed at the form's own question, the same words are still an amount
    typed = tracker(verified("LN-10001"), intent="offer_monthly_amount", text=words, active_loop={"name": "plan_form"})
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", words, typed)
    assert result.get("plan_months") != "3"
