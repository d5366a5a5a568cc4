"""What every part of the loan store shares: loading rows, turning them into
views, new references and the audit record written in the same transaction."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.adapters.orm import Agreement, AuditEvent, Borrower, Case, DelinquencyReason, Instalment, Loan
from bot.domain.accounts import UnknownLoan
from bot.domain.agreements import OPEN_AGREEMENT_STATUSES, AgreementProposal, AgreementView, InstalmentView
from bot.domain.clock import utcnow
from bot.domain.privacy import mask_personal_data
from bot.domain.reasons import REASON_CODES

MAX_WORDS_STORED = 1000


def loan(s: Session, loan_ref: str) -> Loan:
    """The loan and its borrower (with opt-outs), in one query; reasons and
    agreements load when used. Every action reads the account, and each query
    is a database round trip (issue 18)."""
    row = (
        s.execute(
            select(Loan)
            .where(Loan.loan_ref == loan_ref)
            .options(joinedload(Loan.borrower).joinedload(Borrower.opt_outs))
        )
        .unique()
        .scalar_one_or_none()
    )
    if row is None:
        raise UnknownLoan(loan_ref)
    return row


def account(s: Session, loan_ref: str) -> tuple[Loan, Agreement | None, list[str]]:
    """The loan with its borrower and opt-outs, its open agreement with the
    instalments (the earliest, should there be more than one) and the kinds of
    its open cases: one query (outer joins; the rows multiply only by the few
    opt-outs, instalments and open cases)."""
    found = (
        s.execute(
            select(Loan, Agreement, Case.kind)
            .outerjoin(Agreement, and_(Agreement.loan_id == Loan.id, Agreement.status.in_(OPEN_AGREEMENT_STATUSES)))
            .outerjoin(Case, and_(Case.loan_id == Loan.id, Case.status == "open"))
            .where(Loan.loan_ref == loan_ref)
            .options(joinedload(Loan.borrower).joinedload(Borrower.opt_outs), joinedload(Agreement.instalments))
        )
        .unique()
        .all()
    )
    if not found:
        raise UnknownLoan(loan_ref)
    agreements = sorted({a for _, a, _ in found if a is not None}, key=lambda a: a.id)
    return found[0][0], (agreements[0] if agreements else None), [kind for _, _, kind in found if kind is not None]


def open_agreement(s: Session, loan_id: int) -> Agreement | None:
    return s.scalar(
        select(Agreement)
        .where(Agreement.loan_id == loan_id, Agreement.status.in_(OPEN_AGREEMENT_STATUSES))
        .options(selectinload(Agreement.instalments), selectinload(Agreement.loan))
    )


def by_idempotency_key(s: Session, key: str) -> Agreement | None:
    return s.scalar(
        select(Agreement)
        .where(Agreement.idempotency_key == key)
        .options(selectinload(Agreement.instalments), selectinload(Agreement.loan))
    )


def agreement_view(a: Agreement) -> AgreementView:
    return AgreementView(
        agreement_ref=a.agreement_ref,
        loan_ref=a.loan.loan_ref,
        kind=a.kind,
        status=a.status,
        total_amount=a.total_amount,
        currency=a.currency,
        terms=dict(a.terms or {}),
        created_at=a.created_at,
        channel=a.channel,
        instalments=tuple(
            InstalmentView(i.sequence, i.due_date, i.amount, i.status, i.paid_amount or Decimal(0))
            for i in a.instalments
        ),
    )


def insert_agreement(
    s: Session,
    loan: Loan,
    proposal: AgreementProposal,
    idempotency_key: str,
    now: datetime,
    *,
    conversation_id: str | None,
    channel: str | None,
    amends_id: int | None = None,
) -> Agreement:
    """An active agreement and its scheduled instalments (the caller audits it)."""
    agreement = Agreement(
        context=agreement_context(s, loan),
        agreement_ref=new_ref("AG-"),
        loan=loan,
        kind=proposal.kind,
        status="active",
        total_amount=proposal.total_amount,
        currency=proposal.currency,
        terms=proposal.terms,
        conversation_id=conversation_id,
        channel=channel,
        idempotency_key=idempotency_key,
        amends_id=amends_id,
        created_at=now,
        updated_at=now,
    )
    s.add(agreement)
    for sequence, (due, amount) in enumerate(proposal.instalments, start=1):
        s.add(Instalment(agreement=agreement, sequence=sequence, due_date=due, amount=amount, status="scheduled"))
    s.flush()
    return agreement


def agreement_context(s: Session, loan: Loan) -> dict[str, Any]:
    """Who agreed, as outcomes are reported and offers learned: the reason last given
    for the loan, its days past due, its product and the borrower's language."""
    reason = s.scalar(
        select(DelinquencyReason.reason_code)
        .where(DelinquencyReason.loan_id == loan.id)
        .order_by(DelinquencyReason.id.desc())
        .limit(1)
    )
    return {
        "reason_code": reason or "unknown",
        "days_past_due": loan.days_past_due,
        "product": loan.product,
        "language": loan.borrower.language,
    }


def new_ref(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(8))


def audit(
    s: Session,
    event_type: str,
    *,
    loan: Loan | None = None,
    conversation_id: str | None = None,
    channel: str | None = None,
    now: datetime | None = None,
    **details: Any,
) -> None:
    s.add(
        AuditEvent(
            event_type=event_type,
            loan_id=loan.id if loan is not None else None,
            borrower_id=loan.borrower_id if loan is not None else None,
            conversation_id=conversation_id,
            channel=channel,
            details=details,
            occurred_at=now or utcnow(),
        )
    )


def kept_words(borrower_words: str | None) -> str | None:
    """What the borrower said, as the lender keeps it: trimmed, with card and ID
    numbers and dates of birth masked (bot.domain.privacy)."""
    return mask_personal_data((borrower_words or "").strip())[:MAX_WORDS_STORED] or None


def add_reason(
    s: Session,
    loan: Loan,
    reason_code: str,
    borrower_words: str | None,
    *,
    conversation_id: str | None,
    channel: str | None,
) -> None:
    """Why the payment was missed, in the borrower's words (masked), with its audit event."""
    if reason_code not in REASON_CODES:
        raise ValueError(f"unknown reason code {reason_code!r}")
    s.add(
        DelinquencyReason(
            loan=loan,
            reason_code=reason_code,
            borrower_words=kept_words(borrower_words),
            conversation_id=conversation_id,
            channel=channel,
            recorded_at=utcnow(),
        )
    )
    audit(s, "reason_recorded", loan=loan, conversation_id=conversation_id, channel=channel, reason_code=reason_code)
