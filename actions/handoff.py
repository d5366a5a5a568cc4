"""Handing the conversation to a person, with the conversation so far."""

from __future__ import annotations

from actions.common import SafeAction, contact_values, conversation, fmt_for, settings, verified_account
from bot.bootstrap import services
from bot.domain.clock import utcnow
from bot.domain.formatting import format_datetime
from bot.services.handoff import HandoffRequest, reply_by, transcript_from_events


def hand_off(dispatcher, tracker, reason: str, *, priority: str = "normal", tell: bool = True) -> str:
    """Queue the conversation for a person; tell the borrower when they'll hear back."""
    account = verified_account(tracker)
    s = settings()
    due = reply_by(utcnow(), s.handoff_reply_hours)
    ref = services().handoffs.send(
        HandoffRequest(
            reason=reason,
            priority=priority,
            transcript=transcript_from_events(tracker.events),
            loan_ref=account.loan_ref if account else None,
            **conversation(tracker),
        ),
        due,
    )
    if tell:
        tz = account.timezone if account else s.default_timezone
        dispatcher.utter_message(
            response="utter_handoff_queued",
            handoff_ref=ref,
            reply_by=format_datetime(due, tz, fmt_for(tracker).lang),
            **contact_values(tracker),
        )
    return ref


class ActionRequestHuman(SafeAction):
    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher, tracker, domain):
        hand_off(dispatcher, tracker, "requested")
        return []
