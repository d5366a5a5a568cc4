"""How things are said: read-backs, schedules, buttons and date problems.

Presenters take values (a `Fmt`, the domain, a proposal or an offer) and return
message keyword arguments or button dicts, or utter them through the
dispatcher. They read no store and decide nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from actions.common import Fmt, render
from bot.domain.agreements import AgreementProposal, AmendAgreement, CancelAgreement, CreateAgreement
from bot.domain.formatting import format_percent
from bot.domain.plans import HardshipArrangement, PlanOffer, SettlementOffer
from bot.services.negotiation import OfferMenu

# ---------------------------------------------------------------- read-back of a proposal


def schedule_text(domain: dict, fmt: Fmt, amounts: Sequence[Decimal]) -> str:
    """ "3 payments of £83.33" or "2 payments of £83.33 and a final £83.34"."""
    regular, final = amounts[0], amounts[-1]
    if final == regular:
        return render(domain, "utter_schedule_equal", fmt.lang, count=len(amounts), amount=fmt.money(regular))
    return render(
        domain,
        "utter_schedule_with_final",
        fmt.lang,
        count=len(amounts) - 1,
        amount=fmt.money(regular),
        final_amount=fmt.money(final),
    )


def settlement_values(fmt: Fmt, offer: SettlementOffer) -> dict:
    return {
        "amount": fmt.money(offer.amount),
        "date": fmt.date(offer.pay_by),
        "discount": format_percent(offer.discount, fmt.lang),
        "outstanding_balance": fmt.money(offer.outstanding_balance),
    }


def _amounts(proposal: AgreementProposal) -> list[Decimal]:
    return [a for _, a in proposal.instalments]


def _schedule_values(domain: dict, fmt: Fmt, proposal: AgreementProposal) -> dict:
    amounts = _amounts(proposal)
    return {
        "count": len(amounts),
        "schedule": schedule_text(domain, fmt, amounts),
        "total": fmt.money(proposal.total_amount),
        "first_date": fmt.date(proposal.instalments[0][0]),
    }


def _pay_now(domain: dict, fmt: Fmt, proposal: AgreementProposal) -> dict:
    return {"response": "utter_confirm_pay_now", "amount": fmt.money(proposal.total_amount)}


def _promise(domain: dict, fmt: Fmt, proposal: AgreementProposal) -> dict:
    due, amount = proposal.instalments[0]
    # with the weekday, so "next Friday" is read back as the day it was taken to be
    return {"response": "utter_confirm_promise", "amount": fmt.money(amount), "date": fmt.day(due)}


def _plan(domain: dict, fmt: Fmt, proposal: AgreementProposal) -> dict:
    return {"response": "utter_confirm_plan", **_schedule_values(domain, fmt, proposal)}


def _hardship(domain: dict, fmt: Fmt, proposal: AgreementProposal) -> dict:
    return {
        "response": "utter_confirm_hardship",
        "first_date": fmt.date(proposal.instalments[0][0]),
        "schedule": schedule_text(domain, fmt, _amounts(proposal)),
        "total": fmt.money(proposal.total_amount),
    }


def _settlement(domain: dict, fmt: Fmt, proposal: AgreementProposal) -> dict:
    offer = SettlementOffer(
        outstanding_balance=Decimal(proposal.terms["outstanding_balance"]),
        discount=Decimal(proposal.terms["discount"]),
        amount=proposal.total_amount,
        currency=proposal.currency,
        pay_by=proposal.instalments[0][0],
    )
    response = "utter_settlement_improved" if proposal.terms.get("improved") else "utter_confirm_settlement"
    return {"response": response, **settlement_values(fmt, offer)}


# A new arrangement is read back by its kind (bot.domain.agreements.AGREEMENT_KINDS).
NEW_AGREEMENT_READ_BACKS: dict[str, Callable[[dict, Fmt, AgreementProposal], dict]] = {
    "pay_now": _pay_now,
    "promise_to_pay": _promise,
    "instalment_plan": _plan,
    "hardship_deferral": _hardship,
    "settlement": _settlement,
}


def read_back_message(domain: dict, fmt: Fmt, proposal: AgreementProposal) -> dict:
    """The exact terms of a proposal, as `utter_message` keyword arguments."""
    match proposal.operation:
        case CancelAgreement(agreement_ref=agreement_ref):
            return {"response": "utter_confirm_cancel", "agreement_ref": agreement_ref}
        case AmendAgreement():  # the remaining instalments moved, whatever the kind
            return {"response": "utter_confirm_date_change", **_schedule_values(domain, fmt, proposal)}
        case CreateAgreement():
            return NEW_AGREEMENT_READ_BACKS[proposal.kind](domain, fmt, proposal)
    raise TypeError(f"no read-back for {proposal.operation!r}")


# ---------------------------------------------------------------- the offer menu


def plan_buttons(
    domain: dict, fmt: Fmt, plan_offers: Sequence[PlanOffer], recommended: int | None = None
) -> list[dict]:
    """One button per plan; the one offer learning recommends says so (actions/offer_ranking.py)."""
    return [
        {
            "title": render(
                domain,
                "utter_button_plan_recommended" if plan.months == recommended else "utter_button_plan",
                fmt.lang,
                months=plan.months,
                amount=fmt.money(plan.instalment_amount),
            ),
            "payload": "/choose_plan" + json.dumps({"plan_months": str(plan.months)}),
        }
        for plan in plan_offers
    ]


def hardship_buttons(domain: dict, fmt: Fmt, arrangements: Sequence[HardshipArrangement]) -> list[dict]:
    buttons = []
    for a in arrangements:
        values = {"months": a.plan.months, "amount": fmt.money(a.plan.instalment_amount)}
        if a.holiday_months:
            title = render(domain, "utter_button_hardship_holiday", fmt.lang, holiday_months=a.holiday_months, **values)
        else:
            title = render(domain, "utter_button_hardship_reduced", fmt.lang, **values)
        payload = "/request_hardship" + json.dumps({"holiday_months": str(a.holiday_months)})
        buttons.append({"title": title, "payload": payload})
    return buttons


def offer_buttons(
    domain: dict, fmt: Fmt, menu: OfferMenu, settlement: SettlementOffer | None, *, recommended: int | None = None
) -> list[dict]:
    """Pay it all now, a promise, the plans (in the menu's order), and a settlement when one is offered."""
    buttons = [
        {
            "title": render(domain, "utter_button_pay_now", fmt.lang, amount=fmt.money(menu.overdue_amount)),
            "payload": "/choose_pay_now",
        },
        {
            "title": render(domain, "utter_button_promise", fmt.lang, latest_date=fmt.date(menu.promise_latest)),
            "payload": "/choose_promise_to_pay",
        },
        *plan_buttons(domain, fmt, menu.plans, recommended),
    ]
    if settlement is not None:
        buttons.append(
            {
                "title": render(domain, "utter_button_settlement", fmt.lang, amount=fmt.money(settlement.amount)),
                "payload": "/ask_settlement",
            }
        )
    return buttons


def hardship_first_buttons(
    domain: dict, fmt: Fmt, menu: OfferMenu, arrangements: Sequence[HardshipArrangement]
) -> list[dict]:
    """For a borrower in hardship: the gentler arrangements, then the plans; no "pay it all
    now" and no settlement (CONC 7: no pressure to pay in one large sum)."""
    return hardship_buttons(domain, fmt, arrangements) + plan_buttons(domain, fmt, menu.plans)


def say_offer_menu(dispatcher, fmt: Fmt, menu: OfferMenu, buttons: list[dict], *, hardship_first: bool) -> None:
    dispatcher.utter_message(
        response="utter_offer_options", overdue_amount=fmt.money(menu.overdue_amount), buttons=buttons
    )
    if menu.plans or hardship_first:
        dispatcher.utter_message(response="utter_offer_monthly_amount_hint")
    else:
        dispatcher.utter_message(response="utter_no_plan_available")


# ---------------------------------------------------------------- dates


def date_problem(fmt: Fmt, problem: str, chosen: date, window: tuple[date, date]) -> dict:
    """A date outside the policy's window ("date_in_past" or "date_too_far"), as message arguments."""
    earliest, latest = window
    response = {"date_in_past": "utter_date_in_past", "date_too_far": "utter_date_too_far"}[problem]
    return {
        "response": response,
        "date": fmt.date(chosen),
        "earliest_date": fmt.date(earliest),
        "latest_date": fmt.date(latest),
    }
