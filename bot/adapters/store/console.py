"""What the team console reads beyond the other stores' views (issue 15)."""

from __future__ import annotations

from sqlalchemy import select

from bot.adapters.database import Database
from bot.adapters.orm import AuditEvent, Borrower, Case, Handoff, Loan
from bot.adapters.store import rows


class ConsoleRecords:
    db: Database

    def vulnerable_loans(self) -> list[dict]:
        """Borrowers flagged vulnerable, waiting for a person's review: each loan, when and why
        (the categories, never the borrower's words), oldest flag first."""
        with self.db.reader() as s:
            loans = s.execute(
                select(Loan.id, Loan.loan_ref, Borrower.full_name, Borrower.language, Borrower.vulnerability_noted_at)
                .join(Borrower, Borrower.id == Loan.borrower_id)
                .where(Borrower.vulnerable.is_(True))
                .order_by(Borrower.vulnerability_noted_at, Loan.loan_ref)
            ).all()
            found = []
            for loan_id, loan_ref, name, language, noted_at in loans:
                flags = s.execute(
                    select(AuditEvent.details, AuditEvent.conversation_id, AuditEvent.occurred_at)
                    .where(AuditEvent.loan_id == loan_id, AuditEvent.event_type == "vulnerability_flagged")
                    .order_by(AuditEvent.id)
                ).all()
                found.append(
                    {
                        "loan_ref": loan_ref,
                        "full_name": name,
                        "language": language,
                        "flagged_at": noted_at.isoformat() if noted_at else None,
                        "categories": sorted({(d or {}).get("category") or "unspecified" for d, _, _ in flags}),
                        "conversation_ids": sorted({c for _, c, _ in flags if c}),
                    }
                )
            return found

    def loan_overview(self, loan_ref: str) -> dict:
        """The loan's flags and the conversations it was part of (newest first), for its page."""
        with self.db.reader() as s:
            loan = rows.loan(s, loan_ref)
            seen: dict[str, dict] = {}
            events = s.execute(
                select(AuditEvent.conversation_id, AuditEvent.channel, AuditEvent.occurred_at)
                .where(AuditEvent.loan_id == loan.id, AuditEvent.conversation_id.is_not(None))
                .order_by(AuditEvent.id)
            ).all()
            for conversation_id, channel, at in events:
                entry = seen.setdefault(
                    conversation_id,
                    {"conversation_id": conversation_id, "channel": channel, "first_at": at, "last_at": at},
                )
                entry["last_at"] = at
                entry["channel"] = entry["channel"] or channel
            handoffs = s.execute(
                select(Handoff.handoff_ref, Handoff.conversation_id, Handoff.status).where(Handoff.loan_id == loan.id)
            ).all()
            for ref, conversation_id, status in handoffs:
                found = seen.get(conversation_id)
                if found is not None:
                    found.setdefault("handoffs", []).append({"handoff_ref": ref, "status": status})
            open_cases = s.scalar(select(Case.id).where(Case.loan_id == loan.id, Case.status == "open").limit(1))
            conversations = sorted(seen.values(), key=lambda e: e["last_at"], reverse=True)
            return {
                "vulnerable": bool(loan.borrower.vulnerable),
                "vulnerability_noted_at": loan.borrower.vulnerability_noted_at,
                "open_cases": open_cases is not None,
                "conversations": [
                    {**c, "first_at": c["first_at"].isoformat(), "last_at": c["last_at"].isoformat()}
                    for c in conversations
                ],
            }
