"""The borrower's choice of language ("Can we do this in English?", "请说中文").

The language asked for (bot.domain.language_choice) becomes the conversation's
`language` and `borrower_language` and is kept in `language_chosen`: while it stands
components/patches/language.py no longer follows the script of each message, so a
borrower who asked for English and then types Chinese is still understood (the
classifier routes by script) and still answered in English, until they ask again
(in either language) or the session ends. The acknowledgement is rendered here in
the new language (Rasa renders an action's responses before its slots apply); the
question the borrower was at is asked again by what follows (the form, by the rules
in data/rules/language.yml, or action_back_to_step, components/step_policy.py).
A request that does not say which of the two ("can you speak Spanish?", "what
languages do you speak?") gets the two to choose from, and nothing changes. Nothing is
recorded, cancelled or handed off.
"""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.common import SafeAction, language, latest_text, render, settings
from bot.domain.language_choice import language_asked

CHOSEN = "language_chosen"  # domain.yml/language.yml


def spoken_before(tracker) -> str:
    """The language the assistant spoke before the latest message (the patch may have
    changed the slot to the message's own script since): "switch languages" means
    the other one."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest = True
        elif seen_latest and event.get("event") == "slot" and event.get("name") == "language":
            return str(event.get("value") or settings().default_language)
    return settings().default_language if seen_latest else language(tracker)


class ActionChooseLanguage(SafeAction):
    def name(self) -> str:
        return "action_choose_language"

    async def run(self, dispatcher, tracker, domain):
        text = latest_text(tracker)
        # A button's payload ("/choose_language") names none: the other language.
        lang = language_asked("" if text.startswith("/") else text, spoken_before(tracker))
        if lang is None:
            # "can you speak Spanish?", "what languages do you speak?": the two it speaks,
            # to choose from (each button sends the language's name); nothing changes.
            dispatcher.utter_message(response="utter_language_options")
            return []
        dispatcher.utter_message(response="utter_language_chosen", text=render(domain, "utter_language_chosen", lang))
        return [
            SlotSet("language", lang),
            SlotSet("borrower_language", lang),
            SlotSet(CHOSEN, lang),
            SlotSet("lender_name", settings().text("lender_name", lang)),
        ]
