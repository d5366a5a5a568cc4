"""Turning a verified account and the product policy into offers and proposals.

This is the use-case layer between the plan engine (pure arithmetic) and the
conversation: what may be offered to this borrower today, and the exact terms
that are read back before anything is recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from bot.domain import plans
from bot.domain.accounts import AccountView
from bot.domain.agreements import AgreementProposal, AgreementView
from bot.domain.policy import ProductPolicy


@dataclass(frozen=True)
class OfferMenu:
    overdue_amount: Decimal
    currency: str
    promise_latest: date
    plans: tuple[plans.PlanOffer, ...]


def default_first_due_date(policy: ProductPolicy, today: date) -> date:
    """Plans offered on the menu start in a week (or sooner, if policy is tighter)."""
    earliest, latest = plans.first_instalment_window(policy, today)
    return min(latest, max(earliest, today + _days(7)))


def offer_menu(account: AccountView, policy: ProductPolicy, today: date) -> OfferMenu:
    _, promise_latest = plans.promise_window(policy, today)
    offers = plans.plan_offers(account.overdue_amount, account.currency, policy, default_first_due_date(policy, today))
    return OfferMenu(account.overdue_amount, account.currency, promise_latest, tuple(offers))


def plan_for_months(
    account: AccountView, policy: ProductPolicy, months: int, first_due_date: date
) -> plans.PlanOffer | None:
    """The offered plan of that length starting on that date, if policy allows it."""
    for offer in plans.plan_offers(account.overdue_amount, account.currency, policy, first_due_date):
        if offer.months == months:
            return offer
    return None


def allowed_months(account: AccountView, policy: ProductPolicy, today: date) -> list[int]:
    return [p.months for p in offer_menu(account, policy, today).plans]


def _new_key() -> str:
    return uuid.uuid4().hex


def pay_now_proposal(account: AccountView, today: date) -> AgreementProposal:
    return AgreementProposal(
        kind="pay_now",
        total_amount=account.overdue_amount,
        currency=account.currency,
        instalments=((today, account.overdue_amount),),
        terms={"pay_by": today.isoformat(), "idempotency_key": _new_key()},
    )


def promise_proposal(account: AccountView, promise_date: date) -> AgreementProposal:
    return AgreementProposal(
        kind="promise_to_pay",
        total_amount=account.overdue_amount,
        currency=account.currency,
        instalments=((promise_date, account.overdue_amount),),
        terms={"promise_date": promise_date.isoformat(), "idempotency_key": _new_key()},
    )


def plan_proposal(plan: plans.PlanOffer, *, source: str = "menu") -> AgreementProposal:
    return AgreementProposal(
        kind="instalment_plan",
        total_amount=plan.total,
        currency=plan.currency,
        instalments=tuple((i.due_date, i.amount) for i in plan.instalments),
        terms={
            "months": plan.months,
            "first_due_date": plan.first_due_date.isoformat(),
            "instalment_amount": str(plan.instalment_amount),
            "source": source,
            "idempotency_key": _new_key(),
        },
    )


def _days(n: int) -> timedelta:
    return timedelta(days=n)


# ---------------------------------------------------------------- existing arrangements


def reschedule_proposal(agreement: AgreementView, new_first_date: date) -> AgreementProposal:
    """The remaining instalments, same amounts, monthly from a new date."""
    remaining = [i for i in agreement.instalments if i.status == "scheduled"]
    dates = [new_first_date + relativedelta(months=n) for n in range(len(remaining))]
    total = sum((i.amount for i in remaining), Decimal(0))
    return AgreementProposal(
        kind=agreement.kind,
        total_amount=total,
        currency=agreement.currency,
        instalments=tuple(zip(dates, (i.amount for i in remaining), strict=False)),
        terms={
            **{k: v for k, v in agreement.terms.items() if k != "idempotency_key"},
            "operation": "amend",
            "amends": agreement.agreement_ref,
            "first_due_date": new_first_date.isoformat(),
            "idempotency_key": _new_key(),
        },
    )


def cancel_proposal(agreement: AgreementView) -> AgreementProposal:
    """Cancelling also needs an explicit yes to a read-back."""
    return AgreementProposal(
        kind=agreement.kind,
        total_amount=agreement.total_amount,
        currency=agreement.currency,
        instalments=(),
        terms={"operation": "cancel", "cancels": agreement.agreement_ref, "idempotency_key": _new_key()},
    )


# ---------------------------------------------------------------- hardship and settlement


def hardship_proposal(arrangement: plans.HardshipArrangement) -> AgreementProposal:
    plan = arrangement.plan
    return AgreementProposal(
        kind="hardship_deferral",
        total_amount=plan.total,
        currency=plan.currency,
        instalments=tuple((i.due_date, i.amount) for i in plan.instalments),
        terms={
            "holiday_months": arrangement.holiday_months,
            "months": plan.months,
            "first_due_date": plan.first_due_date.isoformat(),
            "instalment_amount": str(plan.instalment_amount),
            "idempotency_key": _new_key(),
        },
    )


def settlement_proposal(offer: plans.SettlementOffer, improved: bool) -> AgreementProposal:
    return AgreementProposal(
        kind="settlement",
        total_amount=offer.amount,
        currency=offer.currency,
        instalments=((offer.pay_by, offer.amount),),
        terms={
            "outstanding_balance": str(offer.outstanding_balance),
            "discount": str(offer.discount),
            "pay_by": offer.pay_by.isoformat(),
            "improved": improved,
            "idempotency_key": _new_key(),
        },
    )
