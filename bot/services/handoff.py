"""Handing a conversation to a person: where it goes is pluggable.

`HANDOFF_DESTINATION=database` (default) queues it in the loan store's
`handoffs` table, which the collections team works from; `webhook` also POSTs
it as JSON to `HANDOFF_WEBHOOK_URL` (e.g. the lender's helpdesk).
"""
from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.parsing import parse_date_of_birth
from bot.domain.privacy import MASK, mask_personal_data
from bot.adapters.store import LoanStore

logger = logging.getLogger(__name__)
WITHHELD = "[withheld: date of birth]"


@dataclass(frozen=True)
class HandoffRequest:
    conversation_id: str
    reason: str  # requested | crisis | vulnerability | fraud | insult | stuck
    transcript: list[dict]
    loan_ref: str | None = None
    channel: str | None = None
    priority: str = "normal"  # urgent for crisis


class HandoffDestination(Protocol):
    def send(self, request: HandoffRequest, reply_by: datetime) -> str: ...


class DatabaseQueue:
    def __init__(self, store: LoanStore):
        self.store = store

    def send(self, request: HandoffRequest, reply_by: datetime) -> str:
        return self.store.enqueue_handoff(
            conversation_id=request.conversation_id,
            reason=request.reason,
            transcript=request.transcript,
            loan_ref=request.loan_ref,
            channel=request.channel,
            priority=request.priority,
            reply_by=reply_by,
        )


class WebhookDestination(DatabaseQueue):
    """Queues in the database (the record) and notifies the lender's system."""

    def __init__(self, store: LoanStore, url: str, timeout: float = 5.0):
        super().__init__(store)
        self.url = url
        self.timeout = timeout

    def send(self, request: HandoffRequest, reply_by: datetime) -> str:
        ref = super().send(request, reply_by)
        body = json.dumps(
            {
                "handoff_ref": ref,
                "conversation_id": request.conversation_id,
                "loan_ref": request.loan_ref,
                "channel": request.channel,
                "reason": request.reason,
                "priority": request.priority,
                "reply_by": reply_by.isoformat(),
                "transcript": request.transcript,
            }
        ).encode()
        try:
            req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=self.timeout):
                pass
        except OSError as exc:  # the queue row is the record; the webhook is a notification
            logger.warning("handoff webhook failed (%s); the handoff %s is queued in the database", type(exc).__name__, ref)
        return ref


def transcript_from_events(events: list[dict], limit: int = 100) -> list[dict]:
    """User and bot messages of the conversation so far, dates of birth withheld
    (earlier turns come masked from the tracker store), card and ID numbers masked."""
    lines = []
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        if kind == "user":
            parsed = parse_date_of_birth(text, datetime.now().date())
            if text == MASK or parsed.value is not None or parsed.candidates:
                text = WITHHELD
            else:
                text = mask_personal_data(text)
        lines.append({"from": "borrower" if kind == "user" else "assistant", "text": text[:2000]})
    return lines[-limit:]


def reply_by(now: datetime, hours: int) -> datetime:
    return now + timedelta(hours=hours)
