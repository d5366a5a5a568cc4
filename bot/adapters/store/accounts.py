"""Reading a loan as views and reports; what was said about it (disclosure, reasons, audit events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, AuditEvent, Borrower, Instalment, Loan, Payment, PaymentAllocation
from bot.adapters.store import rows
from bot.adapters.store.payments import payment_json
from bot.domain.accounts import AccountView
from bot.domain.agreements import AgreementView
from bot.domain.formatting import money_str


class AccountRecords:
    db: Database

    def account(self, loan_ref: str) -> AccountView:
        """The account as every action reads it, in one query (issue 18: each
        query is a database round trip, and every action reads the account)."""
        with self.db.connection_reader() as connection:
            return rows.account(connection, loan_ref)

    def agreements(self) -> list[AgreementView]:
        with self.db.reader() as s:
            found = s.scalars(
                select(Agreement)
                .options(selectinload(Agreement.instalments), selectinload(Agreement.loan))
                .order_by(Agreement.id)
            ).all()
            return [rows.agreement_view(a) for a in found]

    def loan_report(self, loan_ref: str) -> dict[str, Any]:
        """Everything the collections team may see about one loan (no date of birth)."""
        with self.db.reader() as s:
            loan = rows.loan(s, loan_ref)
            borrower = loan.borrower
            events = s.scalars(select(AuditEvent).where(AuditEvent.loan_id == loan.id).order_by(AuditEvent.id)).all()
            payments = s.scalars(
                select(Payment)
                .where(Payment.loan_id == loan.id)
                .options(
                    selectinload(Payment.allocations)
                    .selectinload(PaymentAllocation.instalment)
                    .selectinload(Instalment.agreement)
                )
                .order_by(Payment.paid_at, Payment.id)
            ).all()
            return {
                "loan_ref": loan.loan_ref,
                "product": loan.product,
                "currency": loan.currency,
                "principal": money_str(loan.principal, loan.currency),
                "outstanding_balance": money_str(loan.outstanding_balance, loan.currency),
                "overdue_amount": money_str(loan.overdue_amount, loan.currency),
                "days_past_due": loan.days_past_due,
                "next_due_date": loan.next_due_date.isoformat() if loan.next_due_date else None,
                "status": loan.status,
                "market": loan.market,
                "borrower": {
                    "full_name": borrower.full_name,
                    "family_name": borrower.family_name,
                    "title": borrower.title,
                    "phone": borrower.phone,
                    "email": borrower.email,
                    "timezone": borrower.timezone,
                    "language": borrower.language,
                    "contact_preferences": borrower.contact_preferences,
                },
                "reasons": [
                    {
                        "reason_code": r.reason_code,
                        "borrower_words": r.borrower_words,
                        "channel": r.channel,
                        "recorded_at": r.recorded_at.isoformat(),
                    }
                    for r in loan.reasons
                ],
                "agreements": [rows.agreement_view(a).to_json() for a in loan.agreements],
                "payments": [payment_json(p) for p in payments],
                "audit_events": [
                    {
                        "event_type": e.event_type,
                        "channel": e.channel,
                        "details": e.details,
                        "occurred_at": e.occurred_at.isoformat(),
                    }
                    for e in events
                ],
            }

    def audit_events(self, loan_ref: str | None = None) -> list[dict]:
        with self.db.reader() as s:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if loan_ref is not None:
                query = query.join(Loan, Loan.id == AuditEvent.loan_id).where(Loan.loan_ref == loan_ref)
            return [
                {"event_type": e.event_type, "details": e.details, "conversation_id": e.conversation_id}
                for e in s.scalars(query).all()
            ]

    def count(self, what: str) -> int:
        model = {"loans": Loan, "borrowers": Borrower, "agreements": Agreement}[what]
        with self.db.reader() as s:
            return s.scalar(select(func.count()).select_from(model))

    def record_disclosure(self, loan_ref: str, *, conversation_id=None, channel=None) -> None:
        """The debt-collection statement and account summary were given to the verified borrower."""
        with self.db.transaction() as s:
            rows.audit(
                s, "disclosure_given", loan=rows.loan(s, loan_ref), conversation_id=conversation_id, channel=channel
            )

    def record_reason(
        self, loan_ref: str, reason_code: str, borrower_words: str | None, *, conversation_id=None, channel=None
    ) -> None:
        with self.db.transaction() as s:
            rows.add_reason(
                s, rows.loan(s, loan_ref), reason_code, borrower_words, conversation_id=conversation_id, channel=channel
            )

    def record_event(
        self, event_type: str, *, loan_ref: str | None = None, conversation_id=None, channel=None, **details
    ) -> None:
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref) if loan_ref else None
            rows.audit(s, event_type, loan=loan, conversation_id=conversation_id, channel=channel, **details)
