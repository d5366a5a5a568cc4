"""Payments in: recorded once per payment id, allocated to instalments oldest first,
and what they do to the agreement and the loan, each change audited (issue 14).

The rules are bot.domain.payments; this module applies them in one transaction
per payment (per file for a CSV import), with the loan row locked so two payments
for one loan are allocated one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, Borrower, Case, ContactAttempt, Instalment, Loan, Payment, PaymentAllocation
from bot.adapters.store import rows
from bot.adapters.store.outreach import borrower_contact
from bot.domain.accounts import HOLD_CASE_KINDS
from bot.domain.agreements import OPEN_AGREEMENT_STATUSES
from bot.domain.clock import local_today
from bot.domain.formatting import money_str
from bot.domain.payments import (
    ALREADY_RECORDED,
    BROKEN,
    COMPLETED,
    CONFLICT,
    CURRENCY_MISMATCH,
    RECORDED,
    REFUSED,
    UNKNOWN_LOAN,
    AgreementRules,
    IncomingPayment,
    InstalmentDue,
    LoanBalances,
    PaymentResult,
    PaymentsRefused,
    after_payment,
    agreement_outcome,
    allocate,
    days_past_due_bucket,
    instalment_status,
)
from bot.services.payment_thanks import TRIGGER as THANKS_TRIGGER
from bot.services.payment_thanks import ThanksContext
from bot.services.reminders import SentReminder, conversation_id_for, sent_today, start_of_local_day, zone_for

RulesFor = Callable[[str], AgreementRules]  # product -> its agreement rules (collections_policy.yml)


class PaymentRecords:
    db: Database

    def record_payment(
        self, payment: IncomingPayment, *, source: str, rules_for: RulesFor, now: datetime | None = None
    ) -> PaymentResult:
        """Record one payment (the webhook): applied, refused with its reason (kept, so a
        redelivery gets the same answer), or nothing at all when its id is known."""
        now = now or rows.utcnow()
        try:
            with self.db.transaction() as s:
                lock_loan(s, payment.loan_ref)
                known = _known(s, payment)
                if known is not None:
                    return known
                loan = _loan_for_update(s, payment.loan_ref)
                refusal = _refusal(loan, payment)
                if refusal is not None:
                    s.add(_row(payment, loan, source, now, status=REFUSED, reason=refusal))
                    rows.audit(s, "payment_refused", loan=loan, now=now, payment_id=payment.payment_id, reason=refusal)
                    return PaymentResult(payment.payment_id, REFUSED, refusal, payment.loan_ref)
                assert loan is not None
                _apply(s, loan, payment, source, rules_for(loan.product), now)
                return PaymentResult(payment.payment_id, RECORDED, None, payment.loan_ref)
        except IntegrityError:  # the same payment delivered twice at once: the other one won
            with self.db.reader() as s:
                known = _known(s, payment)
                if known is None:
                    raise
                return known

    def import_payments(
        self, payments: Sequence[IncomingPayment], *, rules_for: RulesFor, now: datetime | None = None
    ) -> dict[str, int]:
        """Record a file of payments in one transaction, or none of them: any payment for
        an unknown loan, in another currency than its loan's, or reusing a known id for a
        different payment refuses the whole file (PaymentsRefused, by position). Payments
        already recorded are skipped, so importing a file again changes nothing."""
        now = now or rows.utcnow()
        recorded = skipped = 0
        with self.db.transaction() as s:
            problems: list[tuple[int, str]] = []
            for position, payment in enumerate(payments):
                lock_loan(s, payment.loan_ref)
                known = _known(s, payment)
                loan = _loan_for_update(s, payment.loan_ref) if known is None else None
                problem = _file_problem(payment, known, loan)
                if problem is not None:
                    problems.append((position, problem))
                    continue
                if known is not None:
                    skipped += 1
                    continue
                if problems:
                    continue  # nothing is written, but every problem is found
                assert loan is not None
                _apply(s, loan, payment, "csv", rules_for(loan.product), now)
                s.flush()
                recorded += 1
            if problems:
                raise PaymentsRefused(problems)  # rolls the transaction back
            if recorded:
                rows.audit(s, "payments_imported", now=now, recorded=recorded, skipped=skipped)
        return {"recorded": recorded, "already_recorded": skipped}

    def payment_problems(self, payments: Sequence[IncomingPayment]) -> list[tuple[int, str]]:
        """What import_payments would refuse in these payments (by position), writing nothing:
        so a file rejected for its format also names its unknown loans, other currencies and
        reused ids at once."""
        problems: list[tuple[int, str]] = []
        with self.db.reader() as s:
            for position, payment in enumerate(payments):
                known = _known(s, payment)
                loan = s.scalar(select(Loan).where(Loan.loan_ref == payment.loan_ref)) if known is None else None
                problem = _file_problem(payment, known, loan)
                if problem is not None:
                    problems.append((position, problem))
        return problems

    def thanks_context(self, loan_ref: str, now: datetime) -> ThanksContext | None:
        """What the contact rules need to thank the borrower for a payment (None: no such loan)."""
        with self.db.reader() as s:
            loan = s.scalar(
                select(Loan)
                .where(Loan.loan_ref == loan_ref)
                .options(selectinload(Loan.borrower).selectinload(Borrower.opt_outs))
            )
            if loan is None:
                return None
            holds = s.scalars(
                select(Case.kind).where(Case.loan_id == loan.id, Case.status == "open", Case.kind.in_(HOLD_CASE_KINDS))
            ).all()
            sent_this_week = s.scalar(
                select(func.count())
                .select_from(ContactAttempt)
                .where(
                    ContactAttempt.borrower_id == loan.borrower_id,
                    ContactAttempt.outcome == "sent",
                    ContactAttempt.created_at > now - timedelta(days=7),
                )
            )
            thanked_today = s.scalar(
                select(ContactAttempt.id)
                .where(
                    ContactAttempt.loan_id == loan.id,
                    ContactAttempt.trigger == THANKS_TRIGGER,
                    ContactAttempt.outcome == "sent",
                    ContactAttempt.created_at >= start_of_local_day(now, loan.borrower.timezone),
                )
                .limit(1)
            )
            contact = borrower_contact(loan.borrower)
            address = conversation_id_for(contact, contact.preferred_channel)
            todays = s.scalars(
                select(ContactAttempt).where(
                    ContactAttempt.outcome == "sent",
                    ContactAttempt.created_at >= now - timedelta(days=2),
                    or_(ContactAttempt.borrower_id == loan.borrower_id, ContactAttempt.conversation_id == address),
                )
            ).all()
            sent = [SentReminder(a.loan_id, a.borrower_id, a.trigger, a.created_at, a.conversation_id) for a in todays]
            zone = zone_for(loan.borrower.timezone)
            to_borrower, to_address = sent_today(sent, loan.borrower_id, address, now.astimezone(zone).date(), zone)
            return ThanksContext(
                loan_id=loan.id,
                loan_ref=loan.loan_ref,
                borrower=contact,
                holds=frozenset(holds),
                sent_this_week=sent_this_week or 0,
                thanked_today=thanked_today is not None,
                market=loan.market,
                sent_today=to_borrower,
                sent_to_address_today=to_address,
            )

    def payments(self, *, limit: int = 50, loan_ref: str | None = None) -> list[dict[str, Any]]:
        """The latest payments received, newest first, with how each was allocated."""
        with self.db.reader() as s:
            query = (
                select(Payment)
                .options(
                    selectinload(Payment.allocations)
                    .selectinload(PaymentAllocation.instalment)
                    .selectinload(Instalment.agreement)
                )
                .order_by(Payment.received_at.desc(), Payment.id.desc())
                .limit(limit)
            )
            if loan_ref is not None:
                query = query.where(Payment.loan_ref == loan_ref)
            return [payment_json(p) for p in s.scalars(query).all()]


def payment_json(p: Payment) -> dict[str, Any]:
    """A payment as the team sees it (`python -m bot payments`, `loan REF --json`)."""
    return {
        "payment_id": p.payment_id,
        "loan_ref": p.loan_ref,
        "paid_at": p.paid_at.isoformat(),
        "received_at": p.received_at.isoformat(),
        "amount": money_str(p.amount, p.currency),
        "currency": p.currency,
        "method": p.method,
        "source": p.source,
        "status": p.status,
        "refusal_reason": p.refusal_reason,
        "allocations": [
            {
                "agreement_ref": a.instalment.agreement.agreement_ref,
                "sequence": a.instalment.sequence,
                "due_date": a.instalment.due_date.isoformat(),
                "amount": money_str(a.amount, p.currency),
            }
            for a in p.allocations
        ],
        "to_balance": money_str(p.to_balance, p.currency),
        "unapplied": money_str(p.unapplied, p.currency),
    }


def _known(s: Session, payment: IncomingPayment) -> PaymentResult | None:
    """What became of a payment with this id before: the same payment again, or another reusing its id."""
    row = s.scalar(select(Payment).where(Payment.payment_id == payment.payment_id))
    if row is None:
        return None
    earlier = IncomingPayment(row.payment_id, row.loan_ref, row.paid_at, row.amount, row.currency, row.method)
    if not earlier.same_as(payment):
        return PaymentResult(payment.payment_id, CONFLICT, "payment_id_reused", payment.loan_ref)
    if row.status == REFUSED:
        return PaymentResult(payment.payment_id, REFUSED, row.refusal_reason, payment.loan_ref)
    return PaymentResult(payment.payment_id, ALREADY_RECORDED, None, payment.loan_ref)


def lock_loan(s: Session, loan_ref: str) -> None:
    """Take the loan's row lock (PostgreSQL) or the database's write lock (SQLite, where
    FOR UPDATE does nothing) before anything is read, so payments for one loan, and
    deliveries of one payment, are recorded one after the other."""
    s.execute(update(Loan).where(Loan.loan_ref == loan_ref).values(id=Loan.id))


def _loan_for_update(s: Session, loan_ref: str) -> Loan | None:
    return s.scalar(
        select(Loan)
        .where(Loan.loan_ref == loan_ref)
        .options(selectinload(Loan.borrower))
        .with_for_update(of=Loan)
        .execution_options(populate_existing=True)
    )


def _refusal(loan: Loan | None, payment: IncomingPayment) -> str | None:
    if loan is None:
        return UNKNOWN_LOAN
    if loan.currency != payment.currency:
        return CURRENCY_MISMATCH
    return None


def _file_problem(payment: IncomingPayment, known: PaymentResult | None, loan: Loan | None) -> str | None:
    """Why a file's payment refuses the whole file (None: it may be recorded, or is already).
    `loan` is looked up only for a payment not known before."""
    if known is not None:
        if known.outcome == CONFLICT:
            return "payment_id is already recorded for a different payment"
        if known.outcome == REFUSED:
            return f"payment_id was refused before ({known.reason})"
        return None
    refusal = _refusal(loan, payment)
    if refusal == UNKNOWN_LOAN:
        return f"no loan with reference {payment.loan_ref}"
    if refusal == CURRENCY_MISMATCH:
        assert loan is not None
        return f"currency {payment.currency} differs from the loan's ({loan.currency})"
    return None


def _row(
    payment: IncomingPayment, loan: Loan | None, source: str, now: datetime, *, status: str, reason: str | None = None
) -> Payment:
    return Payment(
        payment_id=payment.payment_id,
        loan_id=loan.id if loan is not None else None,
        loan_ref=payment.loan_ref,
        paid_at=payment.paid_at,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        source=source,
        status=status,
        refusal_reason=reason,
        to_balance=Decimal(0),
        unapplied=Decimal(0),
        received_at=now,
    )


def _apply(s: Session, loan: Loan, payment: IncomingPayment, source: str, rules: AgreementRules, now: datetime) -> None:
    """Allocate the payment, settle the open agreement and update the loan, each change audited."""
    row = _row(payment, loan, source, now, status="applied")
    s.add(row)
    agreement = s.scalar(
        select(Agreement)
        .where(Agreement.loan_id == loan.id, Agreement.status.in_(OPEN_AGREEMENT_STATUSES))
        .options(selectinload(Agreement.instalments))
    )
    instalments = [i for i in agreement.instalments if i.status in _PAYABLE] if agreement is not None else []
    allocation = allocate(
        payment.amount,
        [InstalmentDue(i.id, i.due_date, i.amount, i.paid_amount or Decimal(0)) for i in instalments],
        loan.outstanding_balance,
    )
    by_id = {i.id: i for i in instalments}
    for instalment_id, amount in allocation.to_instalments:
        instalment = by_id[instalment_id]
        instalment.paid_amount = (instalment.paid_amount or Decimal(0)) + amount
        row.allocations.append(PaymentAllocation(instalment_id=instalment_id, amount=amount))
    row.to_balance, row.unapplied = allocation.to_balance, allocation.unapplied
    rows.audit(
        s,
        "payment_received",
        loan=loan,
        now=now,
        payment_id=payment.payment_id,
        amount=money_str(payment.amount, payment.currency),
        currency=payment.currency,
        method=payment.method,
        source=source,
        to_instalments=[[by_id[i].sequence, money_str(a, payment.currency)] for i, a in allocation.to_instalments],
        to_balance=money_str(allocation.to_balance, payment.currency),
        unapplied=money_str(allocation.unapplied, payment.currency),
    )
    set_balances(s, loan, after_payment(balances(loan), payment.amount - allocation.unapplied), now, payment.payment_id)
    if agreement is not None:
        settle(s, loan, agreement, rules, now)


_PAYABLE = ("scheduled", "partially_paid", "missed")


def balances(loan: Loan) -> LoanBalances:
    return LoanBalances(loan.outstanding_balance, loan.overdue_amount, loan.days_past_due, loan.status)


def set_balances(s: Session, loan: Loan, new: LoanBalances, now: datetime, payment_id: str | None = None) -> None:
    """Write the loan's new balances; a change of days-past-due bucket is audited (roll rates)."""
    before = days_past_due_bucket(loan.days_past_due)
    loan.outstanding_balance, loan.overdue_amount = new.outstanding_balance, new.overdue_amount
    loan.days_past_due, loan.status = new.days_past_due, new.status
    loan.updated_at = now
    after = days_past_due_bucket(new.days_past_due)
    if after != before:
        rows.audit(
            s,
            "dpd_bucket_changed",
            loan=loan,
            now=now,
            payment_id=payment_id,
            source="payment",
            to=after,
            **{"from": before},
        )


def settle(s: Session, loan: Loan, agreement: Agreement, rules: AgreementRules, now: datetime) -> str | None:
    """Bring an open agreement's instalments and status up to date (the borrower's own
    date, the policy's grace days); audit each instalment missed and the agreement
    completed or broken. Returns the agreement's new status if it ended."""
    today = local_today(loan.borrower.timezone, now)
    for i in agreement.instalments:
        status = instalment_status(i.amount, i.paid_amount or Decimal(0), i.due_date, today, rules.grace_days, i.status)
        if status == i.status:
            continue
        if status == "missed":
            rows.audit(
                s,
                "instalment_missed",
                loan=loan,
                now=now,
                agreement_ref=agreement.agreement_ref,
                sequence=i.sequence,
                due_date=i.due_date.isoformat(),
                unpaid=money_str(i.amount - (i.paid_amount or Decimal(0)), agreement.currency),
            )
        i.status = status
    outcome = agreement_outcome(agreement.kind, [i.status for i in agreement.instalments], rules)
    if outcome is None:
        return None
    agreement.status, agreement.ended_at, agreement.updated_at = outcome, now, now
    details: dict[str, Any] = {"agreement_ref": agreement.agreement_ref, "kind": agreement.kind}
    if outcome == BROKEN:
        details["missed"] = sum(1 for i in agreement.instalments if i.status == "missed")
        for i in agreement.instalments:
            if i.status in ("scheduled", "partially_paid"):
                i.status = "superseded"  # a broken agreement asks nothing more; the loan is collected anew
    rows.audit(s, f"agreement_{outcome}", loan=loan, now=now, **details)
    if outcome == COMPLETED and agreement.kind == "settlement" and loan.outstanding_balance > 0:
        # The discounted amount was agreed to clear the whole balance: the rest is written off.
        written_off = loan.outstanding_balance
        rows.audit(
            s,
            "settlement_written_off",
            loan=loan,
            now=now,
            agreement_ref=agreement.agreement_ref,
            amount=money_str(written_off, loan.currency),
        )
        set_balances(
            s, loan, LoanBalances(Decimal(0), Decimal(0), 0, "paid_off" if loan.status != "on_hold" else "on_hold"), now
        )
    return outcome
