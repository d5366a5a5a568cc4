"""The queue of conversations waiting for a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.adapters.database import Database
from bot.adapters.orm import AuditEvent, Handoff, Loan
from bot.adapters.store import rows
from bot.domain.accounts import UnknownReference
from bot.domain.operators import HandoffClosed, NotYours


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
            return [_listed(h, loan_ref) for h, loan_ref in s.execute(query).all()]

    def handoff(self, handoff_ref: str) -> dict:
        """One handoff as `handoffs()` lists it; UnknownReference if there is none."""
        with self.db.reader() as s:
            row = s.execute(
                select(Handoff, Loan.loan_ref)
                .outerjoin(Loan, Loan.id == Handoff.loan_id)
                .where(Handoff.handoff_ref == handoff_ref)
            ).first()
        if row is None:
            raise UnknownReference(handoff_ref)
        return _listed(*row)

    # --- the console (issue 15): who works a handoff; every step audited with the operator's name

    def _open_handoff(self, s, handoff_ref: str) -> Handoff:
        handoff = s.scalar(select(Handoff).where(Handoff.handoff_ref == handoff_ref).with_for_update())
        if handoff is None:
            raise UnknownReference(handoff_ref)
        if handoff.status != "queued":
            raise HandoffClosed(handoff_ref)
        return handoff

    def _audit_handoff(self, s, handoff: Handoff, event_type: str, **details) -> None:
        loan = s.get(Loan, handoff.loan_id) if handoff.loan_id else None
        rows.audit(
            s,
            event_type,
            loan=loan,
            conversation_id=handoff.conversation_id,
            channel=handoff.channel,
            handoff_ref=handoff.handoff_ref,
            **details,
        )

    def claim_handoff(self, handoff_ref: str, *, by: str) -> bool:
        """`by` works this conversation from now on. False if it was theirs already;
        NotYours if another operator has it, HandoffClosed if it is done."""
        with self.db.transaction() as s:
            handoff = self._open_handoff(s, handoff_ref)
            if handoff.claimed_by == by:
                return False
            if handoff.claimed_by:
                raise NotYours(handoff.claimed_by)
            handoff.claimed_by, handoff.claimed_at = by, rows.utcnow()
            self._audit_handoff(s, handoff, "handoff_claimed", by=by)
            return True

    def release_handoff(self, handoff_ref: str, *, by: str, any_operator: bool = False) -> bool:
        """Back to the queue for anyone. Only its operator may, or (any_operator) a supervisor;
        not while the assistant is paused for it (hand back first)."""
        with self.db.transaction() as s:
            handoff = self._open_handoff(s, handoff_ref)
            if handoff.claimed_by is None:
                return False
            if handoff.claimed_by != by and not any_operator:
                raise NotYours(handoff.claimed_by)
            if handoff.taken_over_at is not None:
                raise NotYours(handoff.claimed_by)
            previous = handoff.claimed_by
            handoff.claimed_by, handoff.claimed_at = None, None
            self._audit_handoff(s, handoff, "handoff_released", by=by, was_claimed_by=previous)
            return True

    def reassign_handoff(self, handoff_ref: str, *, to: str, by: str, any_operator: bool = False) -> bool:
        """Give the conversation to another operator (its own operator, or a supervisor for any)."""
        with self.db.transaction() as s:
            handoff = self._open_handoff(s, handoff_ref)
            if handoff.claimed_by not in (None, by) and not any_operator:
                raise NotYours(handoff.claimed_by)
            if handoff.claimed_by == to:
                return False
            previous = handoff.claimed_by
            handoff.claimed_by, handoff.claimed_at = to, rows.utcnow()
            self._audit_handoff(s, handoff, "handoff_reassigned", by=by, to=to, was_claimed_by=previous)
            return True

    def mark_taken_over(self, handoff_ref: str, *, by: str, taken: bool, note: str | None = None) -> bool:
        """Record that the assistant is paused for `by` (taken) or answers again (handed back).
        Only the operator who claimed it. False if nothing changed."""
        with self.db.transaction() as s:
            handoff = self._open_handoff(s, handoff_ref)
            if handoff.claimed_by != by:
                raise NotYours(handoff.claimed_by)
            if (handoff.taken_over_at is not None) == taken:
                return False
            handoff.taken_over_at = rows.utcnow() if taken else None
            event = "conversation_taken_over" if taken else "conversation_handed_back"
            self._audit_handoff(s, handoff, event, by=by, note=note)
            return True

    def record_agent_message(self, handoff_ref: str, *, by: str, text: str) -> None:
        """What the operator wrote to the borrower (card, ID numbers and dates masked), in the audit trail."""
        with self.db.transaction() as s:
            handoff = self._open_handoff(s, handoff_ref)
            if handoff.claimed_by != by or handoff.taken_over_at is None:
                raise NotYours(handoff.claimed_by)
            self._audit_handoff(s, handoff, "agent_message_sent", by=by, text=rows.kept_words(text))

    def complete_handoff(self, handoff_ref: str, *, by: str, note: str | None = None) -> bool:
        """A person has picked the conversation up. False if it was already done."""
        with self.db.transaction() as s:
            handoff = s.scalar(select(Handoff).where(Handoff.handoff_ref == handoff_ref).with_for_update())
            if handoff is None:
                raise UnknownReference(handoff_ref)
            if handoff.status != "queued":
                return False
            handoff.status = "done"
            handoff.taken_over_at = None
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

    def add_handoff_note(self, handoff_ref: str, *, by: str, text: str) -> None:
        """A note for the team on a handoff (open or done), kept in the loan's audit trail, masked."""
        with self.db.transaction() as s:
            handoff = s.scalar(select(Handoff).where(Handoff.handoff_ref == handoff_ref))
            if handoff is None:
                raise UnknownReference(handoff_ref)
            self._audit_handoff(s, handoff, "handoff_note", by=by, text=rows.kept_words(text))

    def handoff_notes(self, handoff_ref: str) -> list[dict]:
        """The team's notes on a handoff, oldest first: who, when and what."""
        with self.db.reader() as s:
            handoff = s.scalar(select(Handoff).where(Handoff.handoff_ref == handoff_ref))
            if handoff is None:
                raise UnknownReference(handoff_ref)
            events = s.scalars(
                select(AuditEvent)
                .where(AuditEvent.event_type == "handoff_note", AuditEvent.conversation_id == handoff.conversation_id)
                .order_by(AuditEvent.id)
            ).all()
            return [
                {"by": e.details.get("by"), "text": e.details.get("text"), "at": e.occurred_at.isoformat()}
                for e in events
                if (e.details or {}).get("handoff_ref") == handoff_ref
            ]


def _listed(h: Handoff, loan_ref: str | None) -> dict:
    """A handoff as the console and `python -m bot handoffs` show it."""
    return {
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
        "claimed_by": h.claimed_by,
        "claimed_at": h.claimed_at.isoformat() if h.claimed_at else None,
        "taken_over_at": h.taken_over_at.isoformat() if h.taken_over_at else None,
    }
