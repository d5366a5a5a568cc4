"""Whether and how a borrower may be contacted: vulnerability flags and opt-outs."""

from __future__ import annotations

from sqlalchemy import select

from bot.adapters.database import Database
from bot.adapters.orm import ContactOptOut
from bot.adapters.store import rows


class ContactRecords:
    db: Database

    def flag_vulnerable(self, loan_ref: str, category: str, *, conversation_id=None, channel=None) -> None:
        """Record that the borrower disclosed a vulnerability (the category, not their words)."""
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref)
            if not loan.borrower.vulnerable:
                loan.borrower.vulnerable = True
                loan.borrower.vulnerability_noted_at = rows.utcnow()
            rows.audit(
                s,
                "vulnerability_flagged",
                loan=loan,
                conversation_id=conversation_id,
                channel=channel,
                category=category,
            )

    def clear_vulnerability(self, loan_ref: str, *, by: str, note: str) -> bool:
        """A person reviewed the borrower's situation and agreed how to go on (FCA FG21/1):
        the assistant may collect again. False if the borrower was not flagged."""
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref)
            if not loan.borrower.vulnerable:
                return False
            loan.borrower.vulnerable = False
            rows.audit(s, "vulnerability_reviewed", loan=loan, by=by, note=note)
            return True

    def record_opt_out(self, loan_ref: str, channel: str, *, conversation_id=None, requested_on=None) -> bool:
        """Stop contact on a channel ("all" for every channel). Returns False if already opted out."""
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref)
            exists = s.scalar(
                select(ContactOptOut).where(
                    ContactOptOut.borrower_id == loan.borrower_id, ContactOptOut.channel == channel
                )
            )
            if exists is not None:
                return False
            s.add(
                ContactOptOut(
                    borrower_id=loan.borrower_id,
                    channel=channel,
                    conversation_id=conversation_id,
                    requested_on=requested_on,
                    created_at=rows.utcnow(),
                )
            )
            rows.audit(
                s,
                "contact_opt_out",
                loan=loan,
                conversation_id=conversation_id,
                channel=requested_on,
                opted_out_channel=channel,
            )
            return True
