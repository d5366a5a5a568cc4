"""The queue of conversations waiting for a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.adapters.database import Database
from bot.adapters.orm import Handoff, Loan
from bot.adapters.store import rows
from bot.domain.accounts import UnknownReference


class HandoffRecords:
    db: Database

    def enqueue_handoff(
        self,
        *,
        conversation_id: str,
        reason: str,
        transcript: list[dict],
        loan_ref: str | None = None,
        channel: str | None = None,
        priority: str = "normal",
        reply_by: datetime | None = None,
    ) -> str:
        """Queue a conversation for a person; one open handoff per conversation."""
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref) if loan_ref else None
            existing = s.scalar(
                select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == "queued")
            )
            if existing is not None:
                existing.transcript = transcript
                if priority == "urgent":
                    existing.priority = "urgent"
                return existing.handoff_ref
            handoff = Handoff(
                handoff_ref=rows.new_ref("HO-"),
                loan_id=loan.id if loan else None,
                conversation_id=conversation_id,
                channel=channel,
                reason=reason,
                priority=priority,
                transcript=transcript,
                status="queued",
                created_at=rows.utcnow(),
                reply_by=reply_by,
            )
            s.add(handoff)
            rows.audit(
                s,
                "handoff_requested",
                loan=loan,
                conversation_id=conversation_id,
                channel=channel,
                reason=reason,
                handoff_ref=handoff.handoff_ref,
            )
            return handoff.handoff_ref

    def handoffs(self, *, status: str | None = None) -> list[dict]:
        with self.db.reader() as s:
            query = select(Handoff, Loan.loan_ref).outerjoin(Loan, Loan.id == Handoff.loan_id).order_by(Handoff.id)
            if status:
                query = query.where(Handoff.status == status)
            return [
                {
                    "handoff_ref": h.handoff_ref,
                    "loan_ref": loan_ref,
                    "conversation_id": h.conversation_id,
                    "channel": h.channel,
                    "reason": h.reason,
                    "priority": h.priority,
                    "status": h.status,
                    "transcript": h.transcript,
                    "created_at": h.created_at.isoformat(),
                    "reply_by": h.reply_by.isoformat() if h.reply_by else None,
                }
                for h, loan_ref in s.execute(query).all()
            ]

    def complete_handoff(self, handoff_ref: str, *, by: str, note: str | None = None) -> bool:
        """A person has picked the conversation up. False if it was already done."""
        with self.db.transaction() as s:
            handoff = s.scalar(select(Handoff).where(Handoff.handoff_ref == handoff_ref).with_for_update())
            if handoff is None:
                raise UnknownReference(handoff_ref)
            if handoff.status != "queued":
                return False
            handoff.status = "done"
            loan = s.get(Loan, handoff.loan_id) if handoff.loan_id else None
            rows.audit(
                s,
                "handoff_completed",
                loan=loan,
                conversation_id=handoff.conversation_id,
                handoff_ref=handoff_ref,
                by=by,
                note=note,
            )
            return True
