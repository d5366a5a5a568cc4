"""The reminder run's reads and writes: who may be due a reminder, what was sent, each attempt."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, AuditEvent, Borrower, Case, ContactAttempt, Escalation, Instalment, Loan
from bot.domain.accounts import HOLD_CASE_KINDS
from bot.domain.agreements import OPEN_AGREEMENT_STATUSES
from bot.services.reminders import (
    CONNECTORS,
    MAX_REQUESTED_DAYS_AHEAD,
    MISSED_LOOKBACK_DAYS,
    Arrangement,
    ArrangementInstalment,
    BorrowerContact,
    OutreachSnapshot,
    Reminder,
    ReminderCandidate,
    RequestedReminder,
    SentReminder,
    conversation_id_for,
    start_of_local_day,
)


class OutreachRecords:
    db: Database

    def outreach_snapshot(
        self,
        *,
        days_past_due: frozenset[int],
        latest_due: date,
        now: datetime,
        missed_triggers: tuple[str, ...],
        quiet_days: int,
    ) -> OutreachSnapshot:
        """Loans at a reminder day past due, with a scheduled instalment of an open
        agreement due by `latest_due` (or missed) or with a reminder the borrower asked
        for, and what the contact rules need about them."""
        with self.db.reader() as s:
            requested = _requested_reminders(s, now)
            # escalations at their final notice the borrower has not been told of
            final_notices = dict(
                s.execute(
                    select(Escalation.loan_id, Escalation.opened_at).where(
                        Escalation.status == "open",
                        Escalation.stage == "final_notice",
                        Escalation.notified_at.is_(None),
                    )
                ).all()
            )
            loans = _candidate_loans(s, days_past_due, latest_due, set(requested) | set(final_notices), now)
            if not loans:
                return OutreachSnapshot([], {}, [], {})
            loan_ids = [loan.id for loan in loans]
            borrower_ids = {loan.borrower_id for loan in loans}
            # the numbers and chats reminders would go to: the caps per number count them
            addresses = sorted(
                {
                    address
                    for loan in loans
                    for channel in CONNECTORS
                    if (address := conversation_id_for(borrower_contact(loan.borrower), channel))
                }
            )
            holds: dict[int, set[str]] = defaultdict(set)
            for loan_id, kind in s.execute(
                select(Case.loan_id, Case.kind).where(
                    Case.loan_id.in_(loan_ids), Case.status == "open", Case.kind.in_(HOLD_CASE_KINDS)
                )
            ):
                holds[loan_id].add(kind)
            sent = s.scalars(
                select(ContactAttempt).where(
                    ContactAttempt.outcome == "sent",
                    or_(
                        and_(
                            ContactAttempt.borrower_id.in_(borrower_ids),
                            ContactAttempt.created_at > now - timedelta(days=7),
                        ),
                        and_(ContactAttempt.loan_id.in_(loan_ids), ContactAttempt.trigger.in_(missed_triggers)),
                        and_(
                            ContactAttempt.conversation_id.in_(addresses),
                            ContactAttempt.created_at > now - timedelta(days=2),
                        ),
                    ),
                )
            ).all()
            # when each loan's borrower last passed verification (talked with us about it)
            last_conversation = dict(
                s.execute(
                    select(AuditEvent.loan_id, func.max(AuditEvent.occurred_at))
                    .where(
                        AuditEvent.loan_id.in_(loan_ids),
                        AuditEvent.event_type == "verification_passed",
                        AuditEvent.occurred_at > now - timedelta(days=quiet_days),
                    )
                    .group_by(AuditEvent.loan_id)
                ).all()
            )
            return OutreachSnapshot(
                candidates=[_candidate(loan, now) for loan in loans],
                holds=dict(holds),
                sent=[SentReminder(a.loan_id, a.borrower_id, a.trigger, a.created_at, a.conversation_id) for a in sent],
                last_conversation=last_conversation,
                requested={loan_id: r for loan_id, r in requested.items() if loan_id in loan_ids},
                final_notices={loan_id: opened for loan_id, opened in final_notices.items() if loan_id in loan_ids},
            )

    def record_contact_attempt(self, reminder: Reminder, outcome: str, reason: str | None, now: datetime) -> bool:
        """One contact_attempts row; a skip already recorded today (the borrower's
        today) for the same reason is not written again."""
        with self.db.transaction() as s:
            if outcome == "skipped":
                borrower_tz = s.scalar(select(Borrower.timezone).where(Borrower.id == reminder.borrower_id))
                already = s.scalar(
                    select(ContactAttempt.id)
                    .where(
                        ContactAttempt.loan_id == reminder.loan_id,
                        ContactAttempt.trigger == reminder.trigger,
                        ContactAttempt.outcome == "skipped",
                        ContactAttempt.skip_reason == reason,
                        ContactAttempt.created_at >= start_of_local_day(now, borrower_tz),
                    )
                    .limit(1)
                )
                if already is not None:
                    return False
            s.add(
                ContactAttempt(
                    borrower_id=reminder.borrower_id,
                    loan_id=reminder.loan_id,
                    channel=reminder.channel,
                    trigger=reminder.trigger,
                    outcome=outcome,
                    skip_reason=reason,
                    conversation_id=reminder.conversation_id,
                    created_at=now,
                )
            )
        return True


def _requested_reminders(s: Session, now: datetime) -> dict[int, RequestedReminder]:
    """Loan id -> the latest reminder its borrower asked for (audit event
    `reminder_requested`, written by bot.adapters.store.deferrals), asked recently
    enough that its date may still be to come."""
    found: dict[int, RequestedReminder] = {}
    for loan_id, details, occurred_at in s.execute(
        select(AuditEvent.loan_id, AuditEvent.details, AuditEvent.occurred_at)
        .where(
            AuditEvent.event_type == "reminder_requested",
            AuditEvent.loan_id.is_not(None),
            AuditEvent.occurred_at > now - timedelta(days=MAX_REQUESTED_DAYS_AHEAD + 1),
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ):
        try:
            on = date.fromisoformat(str((details or {}).get("on")))
        except ValueError:
            continue
        found[loan_id] = RequestedReminder(on=on, requested_at=occurred_at)  # the latest wins
    return found


def _candidate_loans(
    s: Session, days_past_due: frozenset[int], latest_due: date, requested: set[int], now: datetime
) -> list[Loan]:
    with_instalments = (
        select(Agreement.loan_id)
        .join(Instalment, Instalment.agreement_id == Agreement.id)
        .where(
            or_(
                Agreement.status.in_(OPEN_AGREEMENT_STATUSES),
                and_(Agreement.status == "broken", Agreement.ended_at > now - timedelta(days=MISSED_LOOKBACK_DAYS)),
            ),
            Instalment.status.in_(("scheduled", "partially_paid", "missed")),
            Instalment.due_date <= latest_due,
        )
    )
    return list(
        s.scalars(
            select(Loan)
            .where(
                or_(
                    Loan.days_past_due.in_(sorted(days_past_due)),
                    Loan.id.in_(with_instalments),
                    Loan.id.in_(sorted(requested)),
                )
            )
            .options(
                selectinload(Loan.borrower).selectinload(Borrower.opt_outs),
                selectinload(Loan.agreements).selectinload(Agreement.instalments),
            )
            .order_by(Loan.loan_ref)
        ).all()
    )


def borrower_contact(borrower: Borrower) -> BorrowerContact:
    """How a borrower may be reached (their opt-outs loaded)."""
    return BorrowerContact(
        id=borrower.id,
        timezone=borrower.timezone,
        language=borrower.language,
        preferred_channel=borrower.preferred_channel,
        phone=borrower.phone,
        telegram_chat_id=borrower.telegram_chat_id,
        vulnerable=borrower.vulnerable,
        opted_out=tuple(o.channel for o in borrower.opt_outs),
        wechat_openid=borrower.wechat_openid,
    )


def _candidate(loan: Loan, now: datetime) -> ReminderCandidate:
    """The loan with its open agreement, or else the latest one broken in the last
    MISSED_LOOKBACK_DAYS (its misses are reminded once)."""
    agreement = next((a for a in loan.agreements if a.status in OPEN_AGREEMENT_STATUSES), None)
    if agreement is None:
        broken = [
            a
            for a in loan.agreements
            if a.status == "broken"
            and a.ended_at is not None
            and a.ended_at > now - timedelta(days=MISSED_LOOKBACK_DAYS)
        ]
        agreement = max(broken, key=lambda a: (a.ended_at, a.id), default=None)
    return ReminderCandidate(
        loan_id=loan.id,
        loan_ref=loan.loan_ref,
        days_past_due=loan.days_past_due,
        overdue_amount=loan.overdue_amount,
        borrower=borrower_contact(loan.borrower),
        arrangement=Arrangement(
            kind=agreement.kind,
            instalments=tuple(
                ArrangementInstalment(i.due_date, i.amount, i.paid_amount or Decimal(0), i.status)
                for i in agreement.instalments
            ),
            created_at=agreement.created_at,
            status=agreement.status,
        )
        if agreement is not None
        else None,
        product=loan.product,
        market=loan.market,
    )
