"""What offer learning reads (bot/services/offer_ranking.py): the plans chosen from the
menu that were kept or broken, with who chose them (the agreement's context)."""

from __future__ import annotations

from sqlalchemy import select

from bot.adapters.database import Database
from bot.adapters.orm import Agreement
from bot.services.offer_ranking import PlanOutcome


class OfferRecords:
    db: Database

    def plan_outcomes(self) -> list[PlanOutcome]:
        with self.db.reader() as s:
            found = s.execute(
                select(Agreement.context, Agreement.terms, Agreement.status).where(
                    Agreement.kind == "instalment_plan", Agreement.status.in_(("completed", "broken"))
                )
            ).all()
        outcomes = []
        for context, terms, status in found:
            context, terms = context or {}, terms or {}
            if terms.get("source") != "menu" or not str(terms.get("months", "")).isdigit():
                continue  # a plan at the borrower's own figure, or from before contexts were kept
            outcomes.append(
                PlanOutcome(
                    reason_code=context.get("reason_code"),
                    days_past_due=int(context.get("days_past_due") or 0),
                    product=str(context.get("product") or ""),
                    months=int(terms["months"]),
                    kept=status == "completed",
                )
            )
        return outcomes
