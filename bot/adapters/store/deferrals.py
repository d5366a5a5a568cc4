"""A borrower taking time to decide: the deferral, and the reminder they asked for.

Both are audit events (no table of their own): `decision_deferred` {step,
pending_kind} and `reminder_requested` {on, reminder_channel}. The reminder
run reads the latter (bot.adapters.store.outreach); the report counts both
(bot.adapters.store.reports).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from bot.adapters.database import Database
from bot.adapters.orm import AuditEvent, Case
from bot.adapters.store import rows
from bot.adapters.store.outreach import borrower_contact
from bot.domain.accounts import HOLD_CASE_KINDS
from bot.services.deferral import ReminderContact


class DeferralRecords:
    db: Database

    def record_deferral(
        self,
        loan_ref: str,
        *,
        step: str,
        pending_kind: str | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> bool:
        """Audit `decision_deferred`; once per conversation and step (False: already recorded)."""
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref)
            if conversation_id is not None:
                earlier = s.scalars(
                    select(AuditEvent.details).where(
                        AuditEvent.event_type == "decision_deferred",
                        AuditEvent.loan_id == loan.id,
                        AuditEvent.conversation_id == conversation_id,
                    )
                ).all()
                if any((details or {}).get("step") == step for details in earlier):
                    return False
            details: dict[str, Any] = {"step": step}
            if pending_kind:
                details["pending_kind"] = pending_kind
            rows.audit(s, "decision_deferred", loan=loan, conversation_id=conversation_id, channel=channel, **details)
            return True

    def reminder_contact(self, loan_ref: str) -> ReminderContact:
        with self.db.reader() as s:
            loan = rows.loan(s, loan_ref)
            holds = s.scalars(
                select(Case.kind).where(Case.loan_id == loan.id, Case.status == "open", Case.kind.in_(HOLD_CASE_KINDS))
            ).all()
            return ReminderContact(borrower=borrower_contact(loan.borrower), hold_kinds=tuple(sorted(set(holds))))

    def record_reminder_request(
        self,
        loan_ref: str,
        *,
        on: date,
        reminder_channel: str,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> bool:
        """Audit `reminder_requested`; the latest request for a loan is the one sent.
        The same date asked again in the same conversation is not written twice (False)."""
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref)
            if conversation_id is not None:
                latest = s.scalar(
                    select(AuditEvent.details)
                    .where(
                        AuditEvent.event_type == "reminder_requested",
                        AuditEvent.loan_id == loan.id,
                        AuditEvent.conversation_id == conversation_id,
                    )
                    .order_by(AuditEvent.id.desc())
                    .limit(1)
                )
                if latest is not None and (latest or {}).get("on") == on.isoformat():
                    return False
            rows.audit(
                s,
                "reminder_requested",
                loan=loan,
                conversation_id=conversation_id,
                channel=channel,
                on=on.isoformat(),
                reminder_channel=reminder_channel,
            )
            return True
