"""Escalation of loans whose borrowers are unwilling to pay (issue 14; the rules:
bot.domain.escalation): the review that opens, advances and withdraws escalations,
the final notice given, and the team's steps (a refusal recorded, a notice sent by
letter, a person's decision). Every change is audited."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, AuditEvent, Borrower, Case, Escalation, Loan, Payment
from bot.adapters.store import rows
from bot.domain.accounts import UnknownReference
from bot.domain.agreements import OPEN_AGREEMENT_STATUSES
from bot.domain.escalation import (
    FINAL_NOTICE,
    LEGAL_REVIEW,
    LOOKBACK_DAYS,
    REVIEW_DECISIONS,
    EscalationView,
    Standing,
    review_date,
    should_open,
    withdrawal,
)
from bot.domain.formatting import money_str
from bot.domain.policy import EscalationPolicy

PolicyFor = Callable[[str], EscalationPolicy]  # product -> its escalation policy
CHUNK = 500


class EscalationRecords:
    db: Database

    def review_escalations(
        self, *, policy_for: PolicyFor, floor_days_past_due: int, now: datetime | None = None
    ) -> dict[str, int]:
        """Withdraw the escalations that no longer apply, queue for a person's review those
        whose notice period has run since the borrower was told, and open a final notice
        for loans newly unwilling to pay. Returns how many of each."""
        now = now or rows.utcnow()
        counts: Counter[str] = Counter()
        with self.db.transaction() as s:
            open_escalations = {
                e.loan_id: e for e in s.scalars(select(Escalation).where(Escalation.status == "open")).all()
            }
            loans = s.scalars(
                select(Loan)
                .where(
                    or_(
                        and_(Loan.days_past_due >= floor_days_past_due, Loan.overdue_amount > 0),
                        Loan.id.in_(select(Escalation.loan_id).where(Escalation.status == "open")),
                    )
                )
                .options(selectinload(Loan.borrower))
                .order_by(Loan.id)
            ).all()
            standings: dict[int, Standing] = {}
            for start in range(0, len(loans), CHUNK):  # bounded IN lists (SQLite allows 32,766 parameters)
                standings.update(_standings(s, list(loans[start : start + CHUNK]), now))
            for loan in loans:
                policy = policy_for(loan.product)
                standing = standings[loan.id]
                escalation = open_escalations.get(loan.id)
                if escalation is not None:
                    reason = withdrawal(standing, escalation.opened_at, now)
                    if reason is not None:
                        escalation.status, escalation.closed_at, escalation.outcome = "withdrawn", now, reason
                        rows.audit(
                            s,
                            "escalation_withdrawn",
                            loan=loan,
                            now=now,
                            escalation_ref=escalation.escalation_ref,
                            stage=escalation.stage,
                            reason=reason,
                        )
                        counts["withdrawn"] += 1
                    elif (
                        escalation.stage == FINAL_NOTICE
                        and escalation.notified_at is not None
                        and review_date(escalation.notified_at, policy.final_notice_days) <= now
                    ):
                        escalation.stage, escalation.review_queued_at = LEGAL_REVIEW, now
                        rows.audit(
                            s, "legal_review_queued", loan=loan, now=now, escalation_ref=escalation.escalation_ref
                        )
                        counts["queued_for_review"] += 1
                    continue
                if should_open(
                    standing,
                    now,
                    min_days_past_due=policy.min_days_past_due,
                    broken_agreements=policy.broken_agreements,
                    refusals=policy.refusals,
                    final_notice_days=policy.final_notice_days,
                ):
                    details = {
                        "days_past_due": standing.days_past_due,
                        "overdue_amount": money_str(standing.overdue_amount, loan.currency),
                        "currency": loan.currency,
                        "broken_agreements": standing.broken_agreements,
                        "refusals": standing.refusals,
                        "policy": {
                            "min_days_past_due": policy.min_days_past_due,
                            "broken_agreements": policy.broken_agreements,
                            "refusals": policy.refusals,
                            "final_notice_days": policy.final_notice_days,
                        },
                    }
                    escalation = Escalation(
                        escalation_ref=rows.new_ref("ES-"),
                        loan_id=loan.id,
                        stage=FINAL_NOTICE,
                        status="open",
                        details=details,
                        opened_at=now,
                    )
                    s.add(escalation)
                    rows.audit(
                        s, "escalation_opened", loan=loan, now=now, escalation_ref=escalation.escalation_ref, **details
                    )
                    counts["opened"] += 1
        return {key: counts[key] for key in ("opened", "queued_for_review", "withdrawn")}

    def escalations(self, *, status: str | None = "open") -> list[EscalationView]:
        with self.db.reader() as s:
            query = select(Escalation).options(selectinload(Escalation.loan)).order_by(Escalation.opened_at)
            if status is not None:
                query = query.where(Escalation.status == status)
            return [_view(e) for e in s.scalars(query).all()]

    def open_escalation(self, loan_ref: str) -> EscalationView | None:
        with self.db.reader() as s:
            found = s.scalar(
                select(Escalation)
                .join(Loan, Loan.id == Escalation.loan_id)
                .where(Loan.loan_ref == loan_ref, Escalation.status == "open")
                .options(selectinload(Escalation.loan))
            )
            return _view(found) if found is not None else None

    def record_final_notice(
        self,
        escalation_ref: str,
        *,
        how: str,
        by: str | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """The borrower was told of the final notice (in a conversation, or by the lender's
        letter): the notice period starts. False when it had been recorded already."""
        now = now or rows.utcnow()
        with self.db.transaction() as s:
            escalation = s.scalar(
                select(Escalation).where(Escalation.escalation_ref == escalation_ref).with_for_update()
            )
            if escalation is None:
                raise UnknownReference(escalation_ref)
            if escalation.status != "open" or escalation.notified_at is not None:
                return False
            escalation.notified_at = now
            rows.audit(
                s,
                "final_notice_given",
                loan=escalation.loan,
                conversation_id=conversation_id,
                channel=channel,
                now=now,
                escalation_ref=escalation_ref,
                how=how,
                by=by,
            )
            return True

    def review_escalation(
        self, escalation_ref: str, decision: str, *, by: str, note: str | None = None, now: datetime | None = None
    ) -> bool:
        """A person's decision on an escalation (`proceed` to the lender's own legal route, or
        `no_action`); the assistant takes no legal step either way. False when already closed."""
        if decision not in REVIEW_DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}")
        now = now or rows.utcnow()
        with self.db.transaction() as s:
            escalation = s.scalar(
                select(Escalation).where(Escalation.escalation_ref == escalation_ref).with_for_update()
            )
            if escalation is None:
                raise UnknownReference(escalation_ref)
            if escalation.status != "open":
                return False
            escalation.status, escalation.closed_at, escalation.outcome = "reviewed", now, decision
            rows.audit(
                s,
                "escalation_reviewed",
                loan=escalation.loan,
                now=now,
                escalation_ref=escalation_ref,
                stage=escalation.stage,
                decision=decision,
                by=by,
                note=note,
            )
            return True

    def record_refusal(self, loan_ref: str, *, by: str, note: str) -> None:
        """A person who spoke with the borrower records that they refused to pay or to make
        any arrangement (escalation counts these; the assistant never infers one)."""
        with self.db.transaction() as s:
            rows.audit(s, "arrangement_refused", loan=rows.loan(s, loan_ref), by=by, note=note)


def _view(e: Escalation) -> EscalationView:
    return EscalationView(
        escalation_ref=e.escalation_ref,
        loan_ref=e.loan.loan_ref,
        stage=e.stage,
        status=e.status,
        opened_at=e.opened_at,
        notified_at=e.notified_at,
        review_queued_at=e.review_queued_at,
        closed_at=e.closed_at,
        outcome=e.outcome,
        details=dict(e.details or {}),
    )


def _standings(s: Any, loans: list[Loan], now: datetime) -> dict[int, Standing]:
    """Each loan's standing, read in a few grouped queries."""
    ids = [loan.id for loan in loans]
    if not ids:
        return {}
    since = now - timedelta(days=LOOKBACK_DAYS)
    broken = dict(
        s.execute(
            select(Agreement.loan_id, func.count())
            .where(Agreement.loan_id.in_(ids), Agreement.status == "broken", Agreement.ended_at > since)
            .group_by(Agreement.loan_id)
        ).all()
    )
    refusals = dict(
        s.execute(
            select(AuditEvent.loan_id, func.count())
            .where(
                AuditEvent.loan_id.in_(ids),
                AuditEvent.event_type == "arrangement_refused",
                AuditEvent.occurred_at > since,
            )
            .group_by(AuditEvent.loan_id)
        ).all()
    )
    cases: dict[int, set[str]] = defaultdict(set)
    for loan_id, kind in s.execute(
        select(Case.loan_id, Case.kind).where(Case.loan_id.in_(ids), Case.status == "open")
    ).all():
        cases[loan_id].add(kind)
    arranged = set(
        s.scalars(
            select(Agreement.loan_id).where(Agreement.loan_id.in_(ids), Agreement.status.in_(OPEN_AGREEMENT_STATUSES))
        ).all()
    )
    paid = dict(
        s.execute(
            select(Payment.loan_id, func.max(Payment.paid_at))
            .where(Payment.loan_id.in_(ids), Payment.status == "applied")
            .group_by(Payment.loan_id)
        ).all()
    )
    reviewed = dict(
        s.execute(
            select(Escalation.loan_id, func.max(Escalation.closed_at))
            .where(Escalation.loan_id.in_(ids), Escalation.status == "reviewed")
            .group_by(Escalation.loan_id)
        ).all()
    )
    vulnerable = dict(s.execute(select(Loan.id, Borrower.vulnerable).join(Borrower).where(Loan.id.in_(ids))).all())
    return {
        loan.id: Standing(
            days_past_due=loan.days_past_due,
            overdue_amount=loan.overdue_amount,
            broken_agreements=broken.get(loan.id, 0),
            refusals=refusals.get(loan.id, 0),
            open_cases=tuple(sorted(cases.get(loan.id, set()))),
            vulnerable=bool(vulnerable.get(loan.id)),
            arrangement_in_place=loan.id in arranged,
            paid_since=_aware(paid.get(loan.id)),
            reviewed_at=_aware(reviewed.get(loan.id)),
        )
        for loan in loans
    }


def _aware(value: datetime | None) -> datetime | None:
    """Aggregates skip the column type on SQLite: give them their UTC zone back."""
    from datetime import timezone

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
