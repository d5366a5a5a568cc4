"""What every part of the loan store shares: loading rows, turning them into
views, new references and the audit record written in the same transaction."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.adapters.orm import (
    Agreement,
    AuditEvent,
    Borrower,
    Case,
    ContactOptOut,
    DelinquencyReason,
    Instalment,
    Loan,
)
from bot.domain.accounts import AccountView, UnknownLoan
from bot.domain.agreements import OPEN_AGREEMENT_STATUSES, AgreementProposal, AgreementView, InstalmentView
from bot.domain.clock import utcnow
from bot.domain.names import PersonName, address_as
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


# The account as every action reads it (AccountRecords.account): the loan with its
# borrower and opt-outs, its open agreements with their instalments and its open
# cases, outer-joined in one statement (the rows multiply only by the few opt-outs,
# instalments and open cases), read as plain rows: the ORM's identity map, joined
# eager loading and unique() cost more than the round trip itself (issue 18: about
# a third of an action's time on the replica's worker threads).
_L, _B, _O = Loan.__table__, Borrower.__table__, ContactOptOut.__table__
_A, _I, _C = Agreement.__table__, Instalment.__table__, Case.__table__
ACCOUNT = (
    select(
        _L.c.loan_ref,
        _L.c.product,
        _L.c.currency,
        _L.c.principal,
        _L.c.outstanding_balance,
        _L.c.overdue_amount,
        _L.c.days_past_due,
        _L.c.next_due_date,
        _L.c.status,
        _B.c.full_name,
        _B.c.family_name,
        _B.c.title,
        _B.c.language,
        _B.c.timezone,
        _B.c.vulnerable,
        _O.c.id,
        _O.c.channel,
        _A.c.id,
        _A.c.agreement_ref,
        _A.c.kind,
        _A.c.status,
        _A.c.total_amount,
        _A.c.currency,
        _A.c.terms,
        _A.c.created_at,
        _A.c.channel,
        _I.c.id,
        _I.c.sequence,
        _I.c.due_date,
        _I.c.amount,
        _I.c.status,
        _I.c.paid_amount,
        _C.c.id,
        _C.c.kind,
    )
    .select_from(
        _L.join(_B, _B.c.id == _L.c.borrower_id)
        .outerjoin(_O, _O.c.borrower_id == _B.c.id)
        .outerjoin(_A, and_(_A.c.loan_id == _L.c.id, _A.c.status.in_(OPEN_AGREEMENT_STATUSES)))
        # _A.c.loan_id == _L.c.id again here: without it PostgreSQL may join every open
        # agreement to its instalments first and only then keep the loan's (outer joins
        # reassociate), which it did on a growing table whose statistics were stale: one
        # instalments index scan per open agreement in the portfolio, on every account read
        .outerjoin(_I, and_(_I.c.agreement_id == _A.c.id, _A.c.loan_id == _L.c.id))
        .outerjoin(_C, and_(_C.c.loan_id == _L.c.id, _C.c.status == "open"))
    )
    .where(_L.c.loan_ref == bindparam("loan_ref"))
)


def account(s: Session | Connection, loan_ref: str) -> AccountView:
    """The account of `loan_ref` in one query (ACCOUNT): its open agreement the
    earliest open one (should there be more than one), with the instalments in
    order of their sequence; the kinds of its open cases and the channels the
    borrower opted out of, sorted. Read through a session's connection or a
    connection (`Database.connection_reader`)."""
    connection = s.connection() if isinstance(s, Session) else s
    found = connection.execute(ACCOUNT, {"loan_ref": loan_ref}).all()
    if not found:
        raise UnknownLoan(loan_ref)
    first = found[0]
    opt_outs: dict[int, str] = {}
    agreements: dict[int, tuple] = {}
    instalments: dict[int, dict[int, tuple]] = {}
    cases: set[str] = set()
    for row in found:
        if row[15] is not None:
            opt_outs[row[15]] = row[16]
        if row[17] is not None:
            agreements.setdefault(row[17], row[18:26])
            if row[26] is not None:
                instalments.setdefault(row[17], {})[row[26]] = row[27:32]
        if row[32] is not None:
            cases.add(row[33])
    agreement = None
    if agreements:
        agreement_id = min(agreements)
        ref, kind, status, total, currency, terms, created_at, channel = agreements[agreement_id]
        kept = sorted(instalments.get(agreement_id, {}).items(), key=lambda item: (item[1][0], item[0]))
        agreement = AgreementView(
            agreement_ref=ref,
            loan_ref=first[0],
            kind=kind,
            status=status,
            total_amount=total,
            currency=currency,
            terms=dict(terms or {}),
            created_at=created_at,
            channel=channel,
            instalments=tuple(
                InstalmentView(sequence, due, amount, i_status, paid or Decimal(0))
                for _, (sequence, due, amount, i_status, paid) in kept
            ),
        )
    name = PersonName(first[9], first[10], first[11])
    return AccountView(
        loan_ref=first[0],
        product=first[1],
        currency=first[2],
        principal=first[3],
        outstanding_balance=first[4],
        overdue_amount=first[5],
        days_past_due=first[6],
        next_due_date=first[7],
        status=first[8],
        borrower_first_name=address_as(name, "en"),
        language=first[12],
        timezone=first[13],
        open_agreement=agreement,
        open_cases=tuple(sorted(cases)),
        vulnerable=first[14],
        opted_out_channels=tuple(sorted(opt_outs.values())),
        borrower_name=name,
    )


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
