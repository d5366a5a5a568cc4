"""The collections report's reads: what happened in a period."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.sql import Select

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, AuditEvent, Borrower, Case, ContactOptOut, DelinquencyReason, Handoff, Loan
from bot.domain.agreements import OPEN_AGREEMENT_STATUSES
from bot.services.outcomes import AgreementOutcome, BucketMove, ConversationOutcome, LoanOutcome, OutcomeRows
from bot.services.reporting import ReportRows


class ReportRecords:
    db: Database

    def report_rows(self, since: datetime, until: datetime) -> ReportRows:
        with self.db.reader() as s:

            def conversations(event_type: str) -> int:
                return (
                    s.scalar(
                        select(func.count(distinct(AuditEvent.conversation_id))).where(
                            AuditEvent.event_type == event_type,
                            AuditEvent.conversation_id.is_not(None),
                            AuditEvent.occurred_at >= since,
                            AuditEvent.occurred_at < until,
                        )
                    )
                    or 0
                )

            locked_out = (
                s.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(
                        AuditEvent.event_type == "verification_locked",
                        AuditEvent.occurred_at >= since,
                        AuditEvent.occurred_at < until,
                    )
                )
                or 0
            )

            agreement_rows = s.execute(
                select(Agreement.kind, Agreement.status, Agreement.currency, Agreement.total_amount).where(
                    Agreement.created_at >= since, Agreement.created_at < until
                )
            ).all()

            reason_rows = s.scalars(
                select(DelinquencyReason.reason_code).where(
                    DelinquencyReason.recorded_at >= since, DelinquencyReason.recorded_at < until
                )
            ).all()

            case_rows = s.execute(
                select(Case.kind, Case.status).where(Case.opened_at >= since, Case.opened_at < until)
            ).all()

            opt_out_rows = s.scalars(
                select(ContactOptOut.channel).where(ContactOptOut.created_at >= since, ContactOptOut.created_at < until)
            ).all()

            handoff_rows = s.execute(
                select(Handoff.reason, Handoff.priority).where(Handoff.created_at >= since, Handoff.created_at < until)
            ).all()

            vulnerability_details = s.scalars(
                select(AuditEvent.details).where(
                    AuditEvent.event_type == "vulnerability_flagged",
                    AuditEvent.occurred_at >= since,
                    AuditEvent.occurred_at < until,
                )
            ).all()

            # Each verification lock, with the loan whose reference was locked (none
            # for an unknown reference or a conversation's own limit).
            lock_rows = s.execute(
                select(Loan.loan_ref, AuditEvent.details)
                .select_from(AuditEvent)
                .outerjoin(Loan, Loan.id == AuditEvent.loan_id)
                .where(
                    AuditEvent.event_type == "verification_locked",
                    AuditEvent.occurred_at >= since,
                    AuditEvent.occurred_at < until,
                )
                .order_by(AuditEvent.id)
            ).all()

            # "not now" (issue 17): bot.adapters.store.deferrals writes these
            deferral_rows = s.execute(
                select(AuditEvent.conversation_id, AuditEvent.details).where(
                    AuditEvent.event_type == "decision_deferred",
                    AuditEvent.occurred_at >= since,
                    AuditEvent.occurred_at < until,
                )
            ).all()
            reminders_requested = (
                s.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(
                        AuditEvent.event_type == "reminder_requested",
                        AuditEvent.occurred_at >= since,
                        AuditEvent.occurred_at < until,
                    )
                )
                or 0
            )
            agreement_conversations = s.scalars(
                select(Agreement.conversation_id).where(Agreement.created_at >= since, Agreement.created_at < until)
            ).all()

            started = conversations("conversation_started")
            verified = conversations("verification_passed")

        return ReportRows(
            started=started,
            verified=verified,
            locked_out=locked_out,
            agreements=[tuple(r) for r in agreement_rows],
            reasons=list(reason_rows),
            cases=[tuple(r) for r in case_rows],
            opt_outs=list(opt_out_rows),
            handoffs=[tuple(r) for r in handoff_rows],
            vulnerability_details=[d or {} for d in vulnerability_details],
            locks=[(loan_ref, details or {}) for loan_ref, details in lock_rows],
            deferrals=[(cid, details or {}) for cid, details in deferral_rows],
            reminders_requested=reminders_requested,
            agreement_conversations=list(agreement_conversations),
        )

    def outcome_rows(self, since: datetime, until: datetime) -> OutcomeRows:
        """What became of the period's agreements, the loans' bucket moves up to its end,
        and its verified conversations and handoffs (bot/services/outcomes.py)."""
        with self.db.reader() as s:
            agreements = s.execute(
                select(
                    Agreement.kind,
                    Agreement.status,
                    Agreement.channel,
                    Agreement.context,
                    Agreement.created_at,
                    Agreement.conversation_id,
                ).where(Agreement.created_at >= since, Agreement.created_at < until)
            ).all()
            agreed_in = select(Agreement.conversation_id).where(
                Agreement.created_at >= since, Agreement.created_at < until, Agreement.conversation_id.is_not(None)
            )
            started: dict[str, list[datetime]] = defaultdict(list)
            if any(row.conversation_id for row in agreements):
                for cid, at in s.execute(
                    select(AuditEvent.conversation_id, AuditEvent.occurred_at).where(
                        AuditEvent.event_type == "conversation_started",
                        AuditEvent.conversation_id.in_(agreed_in),
                        AuditEvent.occurred_at < until,
                    )
                ).all():
                    started[cid].append(at)
            loans = s.execute(_loans_attributed(since, until)).all()
            moves = s.execute(
                select(AuditEvent.loan_id, AuditEvent.occurred_at, AuditEvent.details)
                .where(AuditEvent.event_type == "dpd_bucket_changed", AuditEvent.loan_id.is_not(None))
                .order_by(AuditEvent.occurred_at, AuditEvent.id)
            ).all()
            verified = s.execute(_conversations_attributed(since, until)).all()
            handed_off = set(
                s.scalars(
                    select(Handoff.conversation_id).where(Handoff.created_at >= since, Handoff.created_at < until)
                ).all()
            )
        return OutcomeRows(
            agreements=[
                AgreementOutcome(
                    kind=row.kind,
                    status=row.status,
                    channel=row.channel,
                    reason_code=(row.context or {}).get("reason_code"),
                    language=(row.context or {}).get("language"),
                    created_at=row.created_at,
                    # the latest start of that conversation before the agreement (a phone number's
                    # conversation has many sessions)
                    conversation_started_at=max(
                        (at for at in started.get(row.conversation_id or "", []) if at <= row.created_at),
                        default=None,
                    ),
                )
                for row in agreements
            ],
            loans=[LoanOutcome(*row) for row in loans],
            moves=[
                BucketMove(loan_id, at, (details or {}).get("from"), str((details or {}).get("to")))
                for loan_id, at, details in moves
                if (details or {}).get("to")
            ],
            verified_conversations=[ConversationOutcome(*row) for row in verified],
            handed_off=handed_off,
        )


def _latest(partition: Any, *order: Any) -> Any:
    """1 for the latest row of each `partition` (window function: SQLite 3.25+, PostgreSQL)."""
    return func.row_number().over(partition_by=partition, order_by=[o.desc() for o in order]).label("n")


def _loans_attributed(since: datetime, until: datetime) -> Select:
    """Each loan that existed by `until`, with what its cure and roll are attributed to
    (bot/services/outcomes.py): its latest reason code recorded by then, the channel of
    its latest verified conversation in the period, the borrower's language, and the kind
    of its latest agreement in force at some time in the period. One query."""
    reasons = (
        select(
            DelinquencyReason.loan_id,
            DelinquencyReason.reason_code,
            _latest(DelinquencyReason.loan_id, DelinquencyReason.recorded_at, DelinquencyReason.id),
        )
        .where(DelinquencyReason.recorded_at < until)
        .subquery()
    )
    talks = (
        select(
            AuditEvent.loan_id, AuditEvent.channel, _latest(AuditEvent.loan_id, AuditEvent.occurred_at, AuditEvent.id)
        )
        .where(
            AuditEvent.event_type == "verification_passed",
            AuditEvent.loan_id.is_not(None),
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at < until,
        )
        .subquery()
    )
    # in force in the period: made before its end, and open or ended on or after its start
    # (an agreement ended before `ended_at` was kept counts from its last update)
    in_force = (
        select(Agreement.loan_id, Agreement.kind, _latest(Agreement.loan_id, Agreement.created_at, Agreement.id))
        .where(
            Agreement.created_at < until,
            or_(
                Agreement.status.in_(OPEN_AGREEMENT_STATUSES),
                func.coalesce(Agreement.ended_at, Agreement.updated_at) >= since,
            ),
        )
        .subquery()
    )
    return (
        select(
            Loan.id,
            Loan.created_at,
            Loan.days_past_due,
            reasons.c.reason_code,
            talks.c.channel,
            Borrower.language,
            in_force.c.kind,
        )
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .outerjoin(reasons, and_(reasons.c.loan_id == Loan.id, reasons.c.n == 1))
        .outerjoin(talks, and_(talks.c.loan_id == Loan.id, talks.c.n == 1))
        .outerjoin(in_force, and_(in_force.c.loan_id == Loan.id, in_force.c.n == 1))
        .where(Loan.created_at < until)
        .order_by(Loan.id)
    )


def _conversations_attributed(since: datetime, until: datetime) -> Select:
    """Each conversation verified in the period, with what its containment is attributed
    to (bot/services/outcomes.py): the channel of its latest verification, the latest
    reason code recorded in it, the language on file for the borrower it verified as, and
    the kind of the latest agreement made in it, all in the period. One query."""
    verifications = (
        select(
            AuditEvent.conversation_id,
            AuditEvent.channel,
            AuditEvent.loan_id,
            _latest(AuditEvent.conversation_id, AuditEvent.occurred_at, AuditEvent.id),
        )
        .where(
            AuditEvent.event_type == "verification_passed",
            AuditEvent.conversation_id.is_not(None),
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at < until,
        )
        .subquery()
    )
    reasons = (
        select(
            DelinquencyReason.conversation_id,
            DelinquencyReason.reason_code,
            _latest(DelinquencyReason.conversation_id, DelinquencyReason.recorded_at, DelinquencyReason.id),
        )
        .where(
            DelinquencyReason.conversation_id.is_not(None),
            DelinquencyReason.recorded_at >= since,
            DelinquencyReason.recorded_at < until,
        )
        .subquery()
    )
    agreements = (
        select(
            Agreement.conversation_id,
            Agreement.kind,
            _latest(Agreement.conversation_id, Agreement.created_at, Agreement.id),
        )
        .where(Agreement.conversation_id.is_not(None), Agreement.created_at >= since, Agreement.created_at < until)
        .subquery()
    )
    return (
        select(
            verifications.c.conversation_id,
            verifications.c.channel,
            reasons.c.reason_code,
            Borrower.language,
            agreements.c.kind,
        )
        .select_from(verifications)
        .outerjoin(Loan, Loan.id == verifications.c.loan_id)
        .outerjoin(Borrower, Borrower.id == Loan.borrower_id)
        .outerjoin(reasons, and_(reasons.c.conversation_id == verifications.c.conversation_id, reasons.c.n == 1))
        .outerjoin(
            agreements, and_(agreements.c.conversation_id == verifications.c.conversation_id, agreements.c.n == 1)
        )
        .where(verifications.c.n == 1)
        .order_by(verifications.c.conversation_id)
    )
