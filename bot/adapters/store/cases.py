"""Disputes, fraud claims and payment claims, and the collection hold they put on a loan."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.adapters.database import Database
from bot.adapters.orm import Case, Loan
from bot.adapters.store import rows
from bot.domain.accounts import CASE_KINDS, CASE_OUTCOMES, HOLD_CASE_KINDS, UnknownReference


class CaseRecords:
    db: Database

    def open_case(
        self,
        loan_ref: str,
        kind: str,
        borrower_words: str | None = None,
        *,
        details: dict | None = None,
        reason_code: str | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> str:
        """Open a dispute, fraud claim or payment claim; reuse an open one of the same kind.

        With `reason_code`, the reason for the missed payment (in the same words) is
        recorded in the same transaction.
        """
        if kind not in CASE_KINDS:
            raise ValueError(f"unknown case kind {kind!r}")
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref)
            if reason_code is not None:
                rows.add_reason(s, loan, reason_code, borrower_words, conversation_id=conversation_id, channel=channel)
            existing = s.scalar(select(Case).where(Case.loan_id == loan.id, Case.kind == kind, Case.status == "open"))
            if existing is not None:
                if details:
                    existing.details = {**(existing.details or {}), **details}
                return existing.case_ref
            case = Case(
                case_ref=rows.new_ref("CS-"),
                loan_id=loan.id,
                kind=kind,
                status="open",
                borrower_words=rows.kept_words(borrower_words),
                details=details or {},
                conversation_id=conversation_id,
                channel=channel,
                opened_at=rows.utcnow(),
            )
            s.add(case)
            if kind in HOLD_CASE_KINDS:
                loan.status = "on_hold"
            rows.audit(
                s, f"{kind}_opened", loan=loan, conversation_id=conversation_id, channel=channel, case_ref=case.case_ref
            )
            return case.case_ref

    def cases(self, loan_ref: str | None = None, *, status: str | None = None) -> list[dict]:
        with self.db.reader() as s:
            query = select(Case, Loan.loan_ref).join(Loan, Loan.id == Case.loan_id).order_by(Case.id)
            if loan_ref:
                query = query.where(Loan.loan_ref == loan_ref)
            if status:
                query = query.where(Case.status == status)
            return [
                {
                    "case_ref": c.case_ref,
                    "loan_ref": ref,
                    "kind": c.kind,
                    "status": c.status,
                    "borrower_words": c.borrower_words,
                    "details": c.details,
                    "opened_at": c.opened_at.isoformat(),
                    "closed_at": c.closed_at.isoformat() if c.closed_at else None,
                }
                for c, ref in s.execute(query).all()
            ]

    def close_case(self, case_ref: str, outcome: str, *, by: str, note: str | None = None) -> bool:
        """Close a case after the team looked into it. When no dispute or fraud claim
        stays open, the loan's collection hold ends. False if it was already closed."""
        if outcome not in CASE_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(CASE_OUTCOMES)}")
        with self.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.case_ref == case_ref).with_for_update())
            if case is None:
                raise UnknownReference(case_ref)
            if case.status != "open":
                return False
            case.status, case.closed_at = "closed", rows.utcnow()
            case.details = {**(case.details or {}), "outcome": outcome}
            loan = s.get(Loan, case.loan_id)
            still_held = s.scalar(
                select(func.count())
                .select_from(Case)
                .where(Case.loan_id == loan.id, Case.status == "open", Case.kind.in_(HOLD_CASE_KINDS))
            )
            if loan.status == "on_hold" and not still_held:
                loan.status = "delinquent" if loan.days_past_due > 0 else "current"
            rows.audit(
                s, "case_closed", loan=loan, case_ref=case_ref, kind=case.kind, outcome=outcome, by=by, note=note
            )
            return True
