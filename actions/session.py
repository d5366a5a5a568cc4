"""Session start: introduce the assistant as the lender's automated assistant.
A reminder's opening: the language the reminder was sent for."""

from __future__ import annotations

from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from actions.common import (
    SafeAction,
    channel_identity,
    conversation,
    identified_loan_ref,
    language,
    render,
    settings,
    store,
)
from bot.settings import LANGUAGES

# The metadata key components/patches/language.py sets (actions do not import Rasa's side).
DETECTED_LANGUAGE = "detected_language"


def session_language(tracker) -> str:
    """The language a conversation starts in: the one the opening message is written in
    (components/patches/language.py), else WECHAT_LANGUAGE (Chinese unless set) on
    WeChat, whose followers are the Chinese market's borrowers, else DEFAULT_LANGUAGE.
    Once verified, the language on file is spoken unless the borrower has shown theirs."""
    s = settings()
    metadata = tracker.get_slot("session_started_metadata")
    written = metadata.get(DETECTED_LANGUAGE) if isinstance(metadata, dict) else None
    if written in LANGUAGES:
        return str(written)
    identity = channel_identity(tracker)
    if identity is not None and identity.channel == "wechat":
        return s.wechat_language
    return s.default_language


class ActionSessionStart(SafeAction):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher, tracker, domain):
        s = settings()
        lang = session_language(tracker)
        lender_name = s.text("lender_name", lang)
        store().record_event("conversation_started", **conversation(tracker))
        if lang in (s.default_language, tracker.get_slot("language") or "en"):
            dispatcher.utter_message(response="utter_intro", lender_name=lender_name)
        else:
            # A channel's own language (WeChat's Chinese): Rasa renders an action's responses
            # before its slots apply, so the intro in that language is rendered here.
            dispatcher.utter_message(text=render(domain, "utter_intro", lang, lender_name=lender_name))
        events = [
            SessionStarted(),
            SlotSet("lender_name", lender_name),
            SlotSet("lender_phone", s.lender_phone),
            SlotSet("language", lang),
        ]
        # A signed widget login or a signed SMS/Telegram sender is the first
        # factor: the verification form then asks only for the date of birth.
        loan_ref = identified_loan_ref(tracker)
        if loan_ref:
            events.append(SlotSet("loan_ref", loan_ref))
        return events + [ActionExecuted("action_listen")]


class ActionSetReminderLanguage(SafeAction):
    """Before a reminder's opening: speak the language the reminder was sent for.

    `python -m bot remind` passes the borrower's language with the trigger (it
    knows whom it wrote to); a language says nothing about a debt, so it is used
    before verification. Anything else passed as a language is ignored. The
    opening itself is `utter_reminder_opening`, uttered next by the rule: Rasa
    picks a response's language variation before this action's slots apply.
    """

    def name(self) -> str:
        return "action_set_reminder_language"

    async def run(self, dispatcher, tracker, domain):
        wanted = next(tracker.get_latest_entity_values("language"), None)
        lang = wanted if wanted in LANGUAGES else language(tracker)
        return [SlotSet("language", lang), SlotSet("lender_name", settings().text("lender_name", lang))]
