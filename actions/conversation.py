"""General conversation: questions answered from the domain, and the two-stage fallback
(clarify with the likeliest meanings, then a person or the options)."""

from __future__ import annotations

from collections.abc import Sequence

from actions.common import (
    SafeAction,
    contact_values,
    intent_ranking,
    language,
    latest_text,
    render,
    verified_account,
)
from actions.guards import collection_block
from bot.domain import conduct
from bot.domain.reasons import HARDSHIP_REASONS

FAQ_INTENTS = (
    "ask_credit_impact",
    "ask_fees_interest",
    "ask_how_to_pay",
    "ask_consequences",
    "ask_why_contacted",
    "ask_data_use",
    "bot_challenge",
)


class ActionAnswerQuestion(SafeAction):
    """Answers a general question; none of the answers reveals anything about an account."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher, tracker, domain):
        intent = tracker.get_intent_of_latest_message()
        if intent not in FAQ_INTENTS:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(response=f"utter_faq_{intent}", **contact_values(tracker))
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_back_to_it")
        return []


# ---------------------------------------------------------------- clarify instead of "rephrase"

# What an unsure message may have meant, offered as buttons titled in the borrower's
# words (`utter_meaning_<intent>`, domain.yml/meanings.yml); the payload is `/<intent>`,
# so pressing one is an unambiguous request, consequential ones included. Never offered:
# affirm, deny (meaningless out of context), crisis (the lexicon and the rules answer it),
# insult, smalltalk, out_of_scope and reason_other (no meaning a title could say; "Something
# else" covers them), greet and thank (nothing to do), inform (a reference or a date,
# typed), go_back, request_reminder and decline_reminder (only right after the step or
# the reminder they answer), EXTERNAL_payment_reminder (not the borrower's), choose_language
# (a button in the language on screen could not say which language; "English please" and
# "说中文" are read from the words, bot.domain.language_choice) and nlu_fallback.
MEANINGS = (
    "ask_balance",
    "choose_pay_now",
    "choose_promise_to_pay",
    "choose_plan",
    "request_hardship",
    "ask_settlement",
    "defer_decision",
    "ask_next_payment",
    "ask_plan_remaining",
    "change_payment_date",
    "cancel_plan",
    "claim_already_paid",
    "dispute_debt",
    "not_my_loan",
    "third_party",
    "stop_contact",
    "disclose_vulnerability",
    "reason_unemployment",
    "reason_reduced_income",
    "reason_illness",
    "reason_bereavement",
    "reason_family_emergency",
    "reason_unexpected_expense",
    "reason_forgot",
    "reason_payment_problem",
    "reason_over_indebted",
    "ask_credit_impact",
    "ask_fees_interest",
    "ask_how_to_pay",
    "ask_consequences",
    "ask_why_contacted",
    "ask_data_use",
    "bot_challenge",
    "request_human",
    "goodbye",
)
# Intents that carry a value the button could not: offered as the plain meaning they share.
SAME_MEANING = {"offer_monthly_amount": "choose_plan"}
# The FallbackClassifier answers nlu_fallback below 0.4 (or when the best two are within
# 0.05); the candidates are the intents under that. With some fifty intents an even spread
# is about 0.02 each: a meaning is worth a button from 0.1, five times that. Gibberish
# ("erm", "asdf qwerty", "zzzz") spreads thinly and gives no meaning we offer more than
# about 0.11, while a real but unsure message ("it's about the payments", "my pay") gives
# its best one 0.2-0.4: unless the best meaning reaches 0.15, nothing was understood, and
# the borrower is asked to put it another way (with a person) rather than shown guesses.
MIN_MEANING_CONFIDENCE = 0.1
MIN_BEST_MEANING_CONFIDENCE = 0.15
MAX_MEANINGS = 3
# Not offered once collection has stopped (a dispute, a fraud claim, a vulnerability)...
PAYMENT_MEANINGS = frozenset(
    {"choose_pay_now", "choose_promise_to_pay", "choose_plan", "request_hardship", "ask_settlement"}
)
# ...and no push for one large sum after a hardship reason (CONC 7, as the offer menu).
ONE_LARGE_SUM = frozenset({"choose_pay_now", "ask_settlement"})

PERSON_PAYLOAD = "/request_human"
# "Something else": none of the meanings offered. It is not a misunderstanding of its own
# (the borrower is asked to say it another way), nor does it end a run of them.
SOMETHING_ELSE_PAYLOAD = "/nlu_fallback"


def likely_meanings(
    ranking: Sequence[tuple[str, float]], *, collection_stopped: bool = False, hardship: bool = False
) -> list[str]:
    """The two or three likeliest meanings of an unsure message worth offering, best first."""
    meanings: list[str] = []
    for name, confidence in sorted(ranking, key=lambda ranked: -ranked[1]):
        meaning = SAME_MEANING.get(name, name)
        if confidence < MIN_MEANING_CONFIDENCE or meaning not in MEANINGS or meaning in meanings:
            continue
        if (collection_stopped and meaning in PAYMENT_MEANINGS) or (hardship and meaning in ONE_LARGE_SUM):
            continue
        if not meanings and confidence < MIN_BEST_MEANING_CONFIDENCE:
            return []
        meanings.append(meaning)
        if len(meanings) == MAX_MEANINGS:
            break
    return meanings


def meaning_buttons(domain: dict, lang: str, meanings: Sequence[str]) -> list[dict]:
    """One button per meaning, then "Something else", then a person (unless that was a meaning)."""
    buttons = [{"title": render(domain, f"utter_meaning_{m}", lang), "payload": f"/{m}"} for m in meanings]
    buttons.append({"title": render(domain, "utter_button_something_else", lang), "payload": SOMETHING_ELSE_PAYLOAD})
    if "request_human" not in meanings:
        buttons.append(person_button(domain, lang))
    return buttons


def person_button(domain: dict, lang: str) -> dict:
    return {"title": render(domain, "utter_button_talk_to_person", lang), "payload": PERSON_PAYLOAD}


def _something_else(text: str) -> bool:
    return text.strip() == SOMETHING_ELSE_PAYLOAD


def consecutive_misunderstandings(events: list[dict]) -> int:
    """How many of the latest user messages in a row were not understood ("Something
    else" pressed in between neither counts nor ends the run)."""
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        if not _something_else(event.get("text") or ""):
            count += 1
    return count


def _collection_state(tracker) -> tuple[bool, bool]:
    """(collection stopped, hardship given as the reason), from the conversation and, once
    verified, the account (an open dispute or fraud claim, the vulnerability flag)."""
    reason_code = tracker.get_slot("reason_code")
    account = verified_account(tracker)
    if account is not None:
        block = collection_block(tracker, account)
    else:
        block = conduct.collection_block(
            vulnerable=bool(tracker.get_slot("collection_stopped")), reason_code=reason_code
        )
    return block is not None, reason_code in HARDSHIP_REASONS


class ActionFallback(SafeAction):
    """Two stages. First, the likeliest meanings as buttons in the borrower's words, with
    "Something else" and a person (or, with none worth offering, a request to put it
    another way and a person); if still not understood, a person or the options."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher, tracker, domain):
        lang = language(tracker)
        if _something_else(latest_text(tracker)):
            dispatcher.utter_message(response="utter_ask_in_other_words", buttons=[person_button(domain, lang)])
            return []
        if consecutive_misunderstandings(tracker.events) >= 2:
            dispatcher.utter_message(response="utter_still_not_understood")
            return []
        collection_stopped, hardship = _collection_state(tracker)
        meanings = likely_meanings(intent_ranking(tracker), collection_stopped=collection_stopped, hardship=hardship)
        if meanings:
            dispatcher.utter_message(response="utter_clarify_meaning", buttons=meaning_buttons(domain, lang, meanings))
        else:
            dispatcher.utter_message(response="utter_ask_rephrase", buttons=[person_button(domain, lang)])
        return []
