"""A tracker store that fails fails the turn, instead of Rasa forgetting the conversation.

Rasa 3.6 wraps every tracker store in FailSafeTrackerStore: when the store
cannot be read, the turn starts from a blank conversation (a verified borrower
is asked who they are again), and when it cannot be written, the turn is kept
in this process's memory only, while the borrower is answered as if all were
well; its log line quotes the database error with its SQL parameters, which
hold the conversation id (a phone number on SMS). Without the wrapper the
error reaches the channel, which refuses the message with 503 and
Retry-After (channels/deliveries.py); the messaging platforms send it again
and the widget's borrower is told to.
"""

from __future__ import annotations

from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain

from components.patches import Patch


def _tracker_store_as_is(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """Rasa's `Agent._create_tracker_store` without the FailSafeTrackerStore wrapper."""
    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.core.agent.Agent._create_tracker_store",
        staticmethod(_tracker_store_as_is),
        "a tracker store that fails makes the channel refuse the message (503, sent again), instead of "
        "Rasa answering from a blank conversation and keeping the turn nowhere",
    ),
)
