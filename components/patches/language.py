"""The borrower's language, from the first message: set before anything is said.

Rasa starts a session (our `action_session_start` says who we are) before it
reads the message that opened it, and a response's language variation is chosen
from the `language` slot when it is rendered. So the language a message shows
(components/language.py) must be known before both: it is put in the message's
metadata, which Rasa hands to the session start (`session_started_metadata`),
and, once the message is logged, into the `language` slot (every reply of the
turn) and the `borrower_language` slot (the verification prefers it to the
language on file). A message that shows no language ("ok", a reference, a
date, a button) changes neither, so the conversation keeps the last one shown.
Nor does any message while the borrower's own choice of language stands
(`language_chosen`, set by actions/language.py when they ask for one, "Can we do
this in English?", "请说中文"): someone who asked for English and then types
Chinese is understood (the classifier routes by script) and answered in English,
until they ask again or the session ends. An explicit request outranks a guess
from the script of one message.

This is the one patch that changes what Rasa does rather than how fast or how
safely: an NLU entity filling the slot would be compared by `rasa test` with
every test story's entities, and a custom slot mapping would cost a call to the
action server per message.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from components.language import detect_language
from components.patches import Patch

METADATA_KEY = "detected_language"  # set here only: a client's own value is dropped
CHOSEN = "language_chosen"  # the borrower's own choice (domain.yml/language.yml)
_log_message = MessageProcessor.log_message


async def _log_message_in_its_language(
    self: MessageProcessor, message: UserMessage, should_save_tracker: bool = True
) -> DialogueStateTracker:
    """Rasa's `MessageProcessor.log_message`, with the message's language in its
    metadata and, when it shows one, in the conversation's language slots."""
    detected = detect_language(message.text)
    metadata: dict[str, Any] = {k: v for k, v in (message.metadata or {}).items() if k != METADATA_KEY}
    if detected:
        metadata[METADATA_KEY] = detected
    message.metadata = metadata
    tracker = await _log_message(self, message, should_save_tracker=False)
    if detected and not tracker.get_slot(CHOSEN):
        for slot in ("language", "borrower_language"):  # both in domain.yml/session.yml
            if tracker.get_slot(slot) != detected:
                tracker.update(SlotSet(slot, detected), self.domain)
    if should_save_tracker:
        await self.save_tracker(tracker)
    return tracker


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.core.processor.MessageProcessor.log_message",
        _log_message_in_its_language,
        "the language a message shows is known before the session's first words and every reply "
        "(components/language.py)",
    ),
)
