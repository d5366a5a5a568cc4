"""A thank-you when a payment arrives (issue 14): at most one a day per loan, on the
borrower's preferred channel, within the contact rules of reminders (opt-outs, holds,
vulnerability, contact hours, 7 contacts in 7 days, and the market's caps per day). Never a reminder: a borrower who
paid hears nothing else about it. Skipped, not postponed, when a rule says no.

The payment webhook (channels/payments.py) decides with `thanks_decision` and records
the attempt in `contact_attempts` (trigger `payment_thanks`) like any reminder; the
message names the lender, not the debt (`utter_payment_thanks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain import conduct
from bot.services.reminders import BorrowerContact, Reminder, ReminderRules, contact_refusal, conversation_id_for

TRIGGER = "payment_thanks"


@dataclass(frozen=True)
class ThanksContext:
    """What the contact rules need about the borrower who paid (bot/adapters/store/payments.py)."""

    loan_id: int
    loan_ref: str
    borrower: BorrowerContact
    holds: frozenset[str]  # kinds of open disputes and fraud claims
    sent_this_week: int  # contacts sent to the borrower in the last 7 days
    thanked_today: bool  # a thank-you already went to this loan today (the borrower's day)
    market: str = conduct.DEFAULT_MARKET  # whose contact rules apply (conduct.MARKETS)
    sent_today: int = 0  # contacts sent to the borrower on their local day
    sent_to_address_today: int = 0  # and to the number or chat the thank-you would go to


class ThanksStore(Protocol):
    def thanks_context(self, loan_ref: str, now: datetime) -> ThanksContext | None: ...

    def record_contact_attempt(self, reminder: Reminder, outcome: str, reason: str | None, now: datetime) -> bool: ...


def thanks_decision(context: ThanksContext, rules: ReminderRules, now: datetime) -> Reminder:
    """The thank-you as a contact attempt: to send, or skipped with the first rule that says no."""
    borrower = context.borrower
    channel = borrower.preferred_channel
    reason = contact_refusal(borrower, channel, context.holds)
    if reason is None and context.thanked_today:
        reason = "already_thanked_today"
    if reason is None and not conduct.within_contact_hours(
        now, borrower.timezone, start_hour=rules.start_hour, end_hour=rules.end_hour, market=context.market
    ):
        reason = "outside_contact_hours"
    if reason is None and not conduct.within_weekly_limit(
        context.sent_this_week, rules.max_per_7_days, market=context.market
    ):
        reason = "weekly_limit"
    if reason is None:
        reason = conduct.within_daily_limits(context.sent_today, context.sent_to_address_today, market=context.market)
    return Reminder(
        loan_id=context.loan_id,
        borrower_id=borrower.id,
        loan_ref=context.loan_ref,
        trigger=TRIGGER,
        channel=channel,
        conversation_id=conversation_id_for(borrower, channel),
        skip_reason=reason,
        language=borrower.language,
    )
