"""Handing a conversation to a person: the request, its transcript and its reply-by time.

Where it goes is pluggable (`HandoffDestination`; the destinations are in
bot/adapters/handoff_destinations.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.domain.parsing import parse_date_of_birth
from bot.domain.privacy import MASK, mask_personal_data

WITHHELD = "[withheld: date of birth]"


@dataclass(frozen=True)
class HandoffRequest:
    conversation_id: str
    reason: str  # requested | crisis | vulnerability | fraud | insult | stuck
    transcript: list[dict[str, str]]  # {"from": borrower | assistant, "text": ...}
    loan_ref: str | None = None
    channel: str | None = None
    priority: str = "normal"  # urgent for crisis


class HandoffDestination(Protocol):
    def send(self, request: HandoffRequest, reply_by: datetime) -> str: ...


def transcript_from_events(events: list[dict[str, Any]], limit: int = 100) -> list[dict[str, str]]:
    """User and bot messages of the conversation so far, dates of birth withheld
    (earlier turns come masked from the tracker store, this turn's do not),
    card and ID numbers masked in both."""
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
        else:  # the bot never quotes the borrower; masked all the same
            text = mask_personal_data(text)
        lines.append({"from": "borrower" if kind == "user" else "assistant", "text": text[:2000]})
    return lines[-limit:]


def reply_by(now: datetime, hours: int) -> datetime:
    return now + timedelta(hours=hours)
