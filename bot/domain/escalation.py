"""Escalation, only for borrowers unwilling to pay (issue 14).

The path the lenders describe: reminders, a conversation about the reason, a plan
the borrower can afford; legal routes only for those who will not engage. So a
loan is escalated only when it is at least `min_days_past_due` behind, with
nothing overdue paid for a while and no arrangement in place, and its borrower has
broken `broken_agreements` agreements or refused `refusals` times (refusals are
recorded by a person who spoke with them: a classifier's reading of "no" is never
enough). Anything that says the borrower may not owe this, may not be able to pay,
or has already paid blocks it: an open dispute, fraud claim or payment claim under
review, a vulnerability flag (FCA FG21/1, CONC 7).

Two stages: `final_notice` (the borrower is told, calmly, with their options and
free debt advice) and, `final_notice_days` after they were told, `legal_review`:
an entry for a person to decide on. Nothing here takes legal action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

FINAL_NOTICE, LEGAL_REVIEW = "final_notice", "legal_review"
# Open cases that block escalation: the borrower disputes the debt, says it is not theirs,
# or says they paid, until a person has closed the case.
BLOCKING_CASES = ("dispute", "fraud_claim", "payment_claim")
# After a person reviewed an escalation, the loan is not escalated again for this long.
COOLDOWN_DAYS = 90
# Broken agreements and refusals count when this recent.
LOOKBACK_DAYS = 365
REVIEW_DECISIONS = ("proceed", "no_action")  # the reviewer's: pass to the lender's legal route, or not


@dataclass(frozen=True)
class Standing:
    """A loan as escalation sees it."""

    days_past_due: int
    overdue_amount: Decimal
    broken_agreements: int  # in the last LOOKBACK_DAYS
    refusals: int  # recorded by the team in the last LOOKBACK_DAYS
    open_cases: tuple[str, ...]
    vulnerable: bool
    arrangement_in_place: bool  # an open agreement
    paid_since: datetime | None  # the latest payment applied to the loan
    reviewed_at: datetime | None = None  # when a person last closed an escalation of it


def block(standing: Standing, now: datetime, quiet_days: int) -> str | None:
    """Why this loan must not be escalated (or must stop being), or None."""
    for kind in BLOCKING_CASES:
        if kind in standing.open_cases:
            return f"{kind}_open"
    if standing.vulnerable:
        return "vulnerable"
    if standing.overdue_amount <= 0:
        return "nothing_overdue"
    if standing.arrangement_in_place:
        return "arrangement_in_place"
    if standing.paid_since is not None and standing.paid_since > now - timedelta(days=quiet_days):
        return "paid_recently"
    return None


def unwilling(standing: Standing, *, min_days_past_due: int, broken_agreements: int, refusals: int) -> bool:
    """Far enough behind, with repeated broken agreements or refusals."""
    return standing.days_past_due >= min_days_past_due and (
        standing.broken_agreements >= broken_agreements or standing.refusals >= refusals
    )


def should_open(
    standing: Standing,
    now: datetime,
    *,
    min_days_past_due: int,
    broken_agreements: int,
    refusals: int,
    final_notice_days: int,
) -> bool:
    """Open an escalation (its final notice) for this loan now."""
    if standing.reviewed_at is not None and standing.reviewed_at > now - timedelta(days=COOLDOWN_DAYS):
        return False
    if block(standing, now, final_notice_days) is not None:
        return False
    return unwilling(
        standing, min_days_past_due=min_days_past_due, broken_agreements=broken_agreements, refusals=refusals
    )


def review_date(notified_at: datetime, final_notice_days: int) -> datetime:
    """When a person reviews the loan, if nothing changes: the notice period after the borrower was told."""
    return notified_at + timedelta(days=final_notice_days)


def withdrawal(standing: Standing, opened_at: datetime, now: datetime) -> str | None:
    """Why an open escalation ends by itself: a block, or a payment since it opened."""
    if standing.paid_since is not None and standing.paid_since > opened_at:
        return "payment_received"
    return block(standing, now, quiet_days=0)


@dataclass(frozen=True)
class EscalationView:
    escalation_ref: str
    loan_ref: str
    stage: str  # final_notice | legal_review
    status: str  # open | withdrawn | reviewed
    opened_at: datetime
    notified_at: datetime | None
    review_queued_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "escalation_ref": self.escalation_ref,
            "loan_ref": self.loan_ref,
            "stage": self.stage,
            "status": self.status,
            "opened_at": iso(self.opened_at),
            "notified_at": iso(self.notified_at),
            "review_queued_at": iso(self.review_queued_at),
            "closed_at": iso(self.closed_at),
            "outcome": self.outcome,
            "details": self.details,
        }
