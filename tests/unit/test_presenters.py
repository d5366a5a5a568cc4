"""actions/presenters.py: how read-backs, schedules, buttons and date problems are said.

Presenters take values and read no store, so these tests need none.
"""

from __future__ import annotations

import json
import string
from datetime import date
from decimal import Decimal

import pytest

from actions.common import Fmt
from actions.domain_file import load_domain
from actions.presenters import (
    NEW_AGREEMENT_READ_BACKS,
    date_problem,
    hardship_buttons,
    offer_buttons,
    plan_buttons,
    read_back_message,
    schedule_text,
)
from bot.domain import plans
from bot.domain.agreements import AGREEMENT_KINDS, AgreementProposal
from bot.domain.plans import HardshipArrangement, PlanOffer, SettlementOffer
from bot.services.negotiation import OfferMenu

DOMAIN = load_domain()
FMT = Fmt("en", "GBP")
DAY = date(2026, 12, 1)
KEY = {"idempotency_key": "0" * 32}
SCHEDULE = ((DAY, Decimal("83.33")), (date(2027, 1, 1), Decimal("83.33")), (date(2027, 2, 1), Decimal("83.34")))


def proposal(kind: str, **terms) -> AgreementProposal:
    one_off = kind in ("pay_now", "promise_to_pay", "settlement")
    instalments = ((DAY, Decimal("250.00")),) if one_off else SCHEDULE
    if kind == "settlement":
        terms = {"outstanding_balance": "2600.00", "discount": "0.1", **terms}
    return AgreementProposal(kind, Decimal("250.00"), "GBP", instalments, {**KEY, **terms})


READ_BACKS = {
    # (kind, operation terms) -> the response read back
    ("pay_now", ()): "utter_confirm_pay_now",
    ("promise_to_pay", ()): "utter_confirm_promise",
    ("instalment_plan", ()): "utter_confirm_plan",
    ("hardship_deferral", ()): "utter_confirm_hardship",
    ("settlement", ()): "utter_confirm_settlement",
    ("settlement", (("improved", True),)): "utter_settlement_improved",
    ("instalment_plan", (("operation", "amend"), ("amends", "AG-AMEND123"))): "utter_confirm_date_change",
    ("hardship_deferral", (("operation", "amend"), ("amends", "AG-AMEND123"))): "utter_confirm_date_change",
    ("instalment_plan", (("operation", "cancel"), ("cancels", "AG-CANCEL12"))): "utter_confirm_cancel",
}


def fields_of(response: str) -> set[str]:
    """Every placeholder in any variation (each language) of a response."""
    return {
        field
        for variation in DOMAIN["responses"][response]
        for _, field, _, _ in string.Formatter().parse(variation["text"])
        if field
    }


def test_every_agreement_kind_has_a_read_back():
    assert set(NEW_AGREEMENT_READ_BACKS) == set(AGREEMENT_KINDS)
    assert {kind for kind, terms in READ_BACKS if not terms} == set(AGREEMENT_KINDS)


@pytest.mark.parametrize(("kind", "terms"), list(READ_BACKS), ids=lambda v: str(v))
def test_each_read_back_fills_its_response(kind, terms):
    message = read_back_message(DOMAIN, FMT, proposal(kind, **dict(terms)))
    assert message["response"] == READ_BACKS[(kind, terms)]
    missing = fields_of(message["response"]) - set(message)
    assert not missing, f"{message['response']}: no value for {sorted(missing)}"


def test_read_back_values():
    assert read_back_message(DOMAIN, FMT, proposal("instalment_plan")) == {
        "response": "utter_confirm_plan",
        "count": 3,
        "schedule": schedule_text(DOMAIN, FMT, [a for _, a in SCHEDULE]),
        "total": "£250.00",
        "first_date": FMT.date(DAY),
    }
    cancel = read_back_message(DOMAIN, FMT, proposal("instalment_plan", operation="cancel", cancels="AG-CANCEL12"))
    assert cancel == {"response": "utter_confirm_cancel", "agreement_ref": "AG-CANCEL12"}
    settlement = read_back_message(DOMAIN, FMT, proposal("settlement"))
    assert (settlement["amount"], settlement["outstanding_balance"]) == ("£250.00", "£2,600.00")


def test_an_unknown_operation_has_no_read_back():
    with pytest.raises(ValueError, match="unknown agreement operation"):
        read_back_message(DOMAIN, FMT, proposal("instalment_plan", operation="pause"))


def test_schedule_text_names_a_different_final_payment():
    assert "3" in schedule_text(DOMAIN, FMT, [Decimal("50.00")] * 3)
    with_final = schedule_text(DOMAIN, FMT, [Decimal("83.33"), Decimal("83.33"), Decimal("83.34")])
    assert "£83.33" in with_final and "£83.34" in with_final
    assert with_final != schedule_text(DOMAIN, FMT, [Decimal("83.33")] * 3)


def plan_offer(months: int, amount: str) -> PlanOffer:
    instalments = tuple(plans.Instalment(i + 1, DAY, Decimal(amount)) for i in range(months))
    return PlanOffer(months, "GBP", instalments, Decimal(amount) * months)


def test_plan_buttons_choose_the_plan_by_its_length():
    [button] = plan_buttons(DOMAIN, FMT, [plan_offer(3, "50.00")])
    assert button["payload"] == "/choose_plan" + json.dumps({"plan_months": "3"})
    assert "£50.00" in button["title"]


def test_offer_buttons_list_pay_now_promise_plans_then_settlement():
    menu = OfferMenu(Decimal("150.00"), "GBP", DAY, (plan_offer(3, "50.00"),))
    settlement = SettlementOffer(Decimal("900.00"), Decimal("0.1"), Decimal("810.00"), "GBP", DAY)
    payloads = [b["payload"] for b in offer_buttons(DOMAIN, FMT, menu, settlement)]
    assert payloads == [
        "/choose_pay_now",
        "/choose_promise_to_pay",
        '/choose_plan{"plan_months": "3"}',
        "/ask_settlement",
    ]
    assert "/ask_settlement" not in [b["payload"] for b in offer_buttons(DOMAIN, FMT, menu, None)]


def test_hardship_buttons_name_the_payment_holiday():
    arrangements = [HardshipArrangement(0, plan_offer(6, "25.00")), HardshipArrangement(2, plan_offer(6, "25.00"))]
    reduced, holiday = hardship_buttons(DOMAIN, FMT, arrangements)
    assert reduced["payload"] == '/request_hardship{"holiday_months": "0"}'
    assert holiday["payload"] == '/request_hardship{"holiday_months": "2"}'
    assert reduced["title"] != holiday["title"]


@pytest.mark.parametrize(
    ("problem", "response"), [("date_in_past", "utter_date_in_past"), ("date_too_far", "utter_date_too_far")]
)
def test_date_problem(problem, response):
    message = date_problem(FMT, problem, DAY, (date(2026, 12, 5), date(2027, 1, 5)))
    assert message["response"] == response
    assert not fields_of(response) - set(message)
    assert message["earliest_date"] == FMT.date(date(2026, 12, 5))
