"""The offer menu's plans in the order learned from outcomes (issue 14;
bot/services/offer_ranking.py), and the record of every ranking shown."""

from __future__ import annotations

import dataclasses

from actions.common import conversation, settings, store
from bot.domain.accounts import AccountView
from bot.domain.offer_learning import THOMPSON, Ranking
from bot.services import negotiation
from bot.services.offer_ranking import Learning, rank_menu_plans


def ranked_menu(tracker, account: AccountView, menu: negotiation.OfferMenu) -> tuple[negotiation.OfferMenu, Ranking]:
    """The menu with its plans in the ranking's order. A learned ranking (segment, order, the
    one recommended, the outcomes and draws behind it) is recorded as the audit event
    `offers_ranked`; the fixed order (learning off) is the same for everyone and records nothing."""
    ranking = rank_menu_plans(
        store(),
        Learning.from_settings(settings()),
        lengths=[plan.months for plan in menu.plans],
        reason_code=tracker.get_slot("reason_code"),
        days_past_due=account.days_past_due,
        product=account.product,
    )
    by_months = {plan.months: plan for plan in menu.plans}
    ordered = dataclasses.replace(menu, plans=tuple(by_months[m] for m in ranking.order if m in by_months))
    if ranking.method == THOMPSON:
        store().record_event("offers_ranked", loan_ref=account.loan_ref, **conversation(tracker), **ranking.to_json())
    return ordered, ranking
