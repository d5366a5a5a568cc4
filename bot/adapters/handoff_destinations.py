"""Where handoffs go.

`HANDOFF_DESTINATION=database` (default) queues them in the loan store's
`handoffs` table, which the collections team works from; `webhook` also POSTs
each as JSON to `HANDOFF_WEBHOOK_URL` (e.g. the lender's helpdesk).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from datetime import datetime

from bot.adapters.store import LoanStore
from bot.services.handoff import HandoffRequest

logger = logging.getLogger(__name__)


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
            logger.warning(
                "handoff webhook failed (%s); the handoff %s is queued in the database", type(exc).__name__, ref
            )
        return ref
