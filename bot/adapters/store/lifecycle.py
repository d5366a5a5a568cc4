"""What time alone does to agreements (issue 14): an instalment not paid in full by the
end of its grace days is missed, and enough misses break the agreement (the rules:
bot.domain.payments; the grace days and misses: collections_policy.yml). Payments do
the rest as they arrive (bot/adapters/store/payments.py). `python -m bot remind` runs
the review before it plans, so reminders see every real miss and only those."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, AuditEvent, Instalment, Loan, Payment
from bot.adapters.store import rows
from bot.adapters.store.payments import RulesFor, lock_loan, settle
from bot.domain.agreements import OPEN_AGREEMENT_STATUSES
from bot.domain.payments import RecentOutcomes

# How far back the account summary looks for payments and ended agreements to mention.
RECENT_DAYS = 30


class LifecycleRecords:
    db: Database

    def review_agreements(self, *, rules_for: RulesFor, now: datetime | None = None) -> dict[str, int]:
        """Mark the instalments missed since the last review and end the agreements that
        broke; one transaction per loan, each change audited. Returns how many agreements
        were looked at, instalments newly missed and agreements broken or completed."""
        now = now or rows.utcnow()
        # No borrower's date is more than a day ahead of UTC; settle() uses their own.
        latest_due = now.date() + timedelta(days=1)
        with self.db.reader() as s:
            candidates = s.execute(
                select(Agreement.id, Loan.loan_ref)
                .join(Loan, Loan.id == Agreement.loan_id)
                .where(
                    Agreement.status.in_(OPEN_AGREEMENT_STATUSES),
                    Agreement.id.in_(
                        select(Instalment.agreement_id).where(
                            Instalment.status.in_(("scheduled", "partially_paid")), Instalment.due_date <= latest_due
                        )
                    ),
                )
                .order_by(Agreement.id)
            ).all()
        counts: Counter[str] = Counter()
        for agreement_id, loan_ref in candidates:
            with self.db.transaction() as s:
                lock_loan(s, loan_ref)
                agreement = s.scalar(
                    select(Agreement)
                    .where(Agreement.id == agreement_id)
                    .options(
                        selectinload(Agreement.instalments), selectinload(Agreement.loan).selectinload(Loan.borrower)
                    )
                )
                if agreement is None or agreement.status not in OPEN_AGREEMENT_STATUSES:
                    continue  # a payment ended it meanwhile
                counts["reviewed"] += 1
                missed_before = sum(1 for i in agreement.instalments if i.status == "missed")
                outcome = settle(s, agreement.loan, agreement, rules_for(agreement.loan.product), now)
                counts["missed"] += sum(1 for i in agreement.instalments if i.status == "missed") - missed_before
                if outcome is not None:
                    counts[outcome] += 1
        return {key: counts[key] for key in ("reviewed", "missed", "broken", "completed")}

    def recent_outcomes(
        self, loan_ref: str, *, conversation_id: str | None = None, now: datetime | None = None
    ) -> RecentOutcomes:
        """Payments and ended agreements since the borrower last passed verification in
        another conversation (at most RECENT_DAYS back): what the summary thanks them
        for, or tells them has ended."""
        now = now or rows.utcnow()
        with self.db.reader() as s:
            loan = rows.loan(s, loan_ref)
            earlier = select(func.max(AuditEvent.occurred_at)).where(
                AuditEvent.loan_id == loan.id,
                AuditEvent.event_type == "verification_passed",
                or_(AuditEvent.conversation_id.is_(None), AuditEvent.conversation_id != (conversation_id or "")),
            )
            since = max(filter(None, [s.scalar(earlier), now - timedelta(days=RECENT_DAYS)]))
            payment = s.execute(
                select(Payment.paid_at, Payment.amount)
                .where(Payment.loan_id == loan.id, Payment.status == "applied", Payment.received_at > since)
                .order_by(Payment.paid_at.desc(), Payment.id.desc())
                .limit(1)
            ).first()
            ended = s.scalar(
                select(Agreement)
                .where(
                    Agreement.loan_id == loan.id,
                    Agreement.status.in_(("completed", "broken")),
                    Agreement.ended_at > since,
                )
                .options(selectinload(Agreement.instalments))
                .order_by(Agreement.ended_at.desc(), Agreement.id.desc())
                .limit(1)
            )
            return RecentOutcomes(
                last_payment=(payment[0], payment[1]) if payment else None,
                ended_kind=ended.kind if ended else None,
                ended_status=ended.status if ended else None,
                ended_missed=tuple(
                    (i.due_date, i.amount - (i.paid_amount or Decimal(0)))
                    for i in ended.instalments
                    if i.status == "missed"
                )
                if ended
                else (),
            )
