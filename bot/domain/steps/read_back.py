"""The read-back: "To confirm: … Is that right?" — yes, no, a change, not now, a worry."""

from __future__ import annotations

import re

from ..language_choice import CHOOSE_LANGUAGE, chooses_language
from .lexicon import (
    _ALL_NOW,
    _AMOUNT_WORDS,
    _ASKS_WHO,
    _CHANGE,
    _CORRECTION,
    _DATE_WORDS,
    _EXPLICIT_DATE,
    _HUMAN,
    _KIND_WORDS,
    _MONTHS_WORDS,
    _NEGATION,
    _NEGATIVE_YES,
    _NO,
    _NO_ANYWHERE,
    _NOT_NOW,
    _OWED_WRONG,
    _QUESTION,
    _REQUEST,
    _START_ON_PAYDAY,
    _STARTS_AS_QUESTION,
    _THUMBS,
    _WORRY,
    _WORRY_MORE,
    _YES,
    _YES_AT_END,
    _YES_MENTIONED,
    _YES_ZH,
    ALWAYS_TOPIC,
    CONSEQUENTIAL,
    QUESTIONS,
)
from .reading import (
    CHANGE_AMOUNT,
    CHANGE_DATE,
    CHANGE_KIND,
    CHANGE_MONTHS,
    CONFIRM_FIRST,
    CORRECTION,
    HUMAN,
    NO,
    NOT_NOW,
    TOPIC,
    UNCLEAR,
    WORRY,
    YES,
    Ranking,
    Reading,
    _payload_intent,
    _plain_quotes,
    _question,
    _top,
    _unsure,
    contradicted,
    months_named,
    months_wanted,
    plainly_terms,
)


def read_at_read_back(text: str, ranking: Ranking) -> Reading:
    """What a message means after terms were read back and a yes was asked for."""
    text = _plain_quotes(text)
    payload = _payload_intent(text)
    intent, confidence = _top(ranking)
    if payload:
        if payload == "affirm":
            return Reading(YES)
        if payload == "deny":
            return Reading(NO)
        if payload == "change_payment_date":
            return Reading(CHANGE_DATE)
        return Reading(TOPIC, intent=payload)
    if chooses_language(text, intent, confidence):
        return Reading(TOPIC, intent=CHOOSE_LANGUAGE)  # "English please": a language asked for, then the step again
    if (
        intent in ALWAYS_TOPIC
        and confidence >= 0.5
        and not plainly_terms(text, intent)
        and not contradicted(text, intent, confidence)
    ):
        return Reading(TOPIC, intent=intent)
    if intent in CONSEQUENTIAL and CONSEQUENTIAL[intent].search(text) and intent != "cancel_plan":
        return Reading(TOPIC, intent=intent)  # an unambiguous dispute, fraud claim or opt-out
    if _START_ON_PAYDAY.search(text):
        return Reading(CHANGE_DATE)  # "can i start after payday": the day, not "not now"
    if _NOT_NOW.search(text):
        return Reading(NOT_NOW)
    if _WORRY.search(text) or (
        _WORRY_MORE.search(text) and not _STARTS_AS_QUESTION.search(text) and not _names_new_terms(text)
    ):
        return Reading(WORRY)
    if _HUMAN.search(text) and not _ASKS_WHO.search(text):
        return Reading(HUMAN)
    if _OWED_WRONG.search(text):
        return Reading(CONFIRM_FIRST, intent="dispute_debt")
    if intent not in CONSEQUENTIAL and not (_YES.search(text) or _YES_ZH.search(text)):
        # "i do not agree i owe this money": a dispute in words the classifier missed; asked first
        for request in ("dispute_debt", "not_my_loan"):
            if CONSEQUENTIAL[request].search(text):
                return Reading(CONFIRM_FIRST, intent=request)
    question = _question(text, intent, unsure=_unsure(ranking))
    if question:
        return question
    change = _change(text, intent)
    if change:
        return Reading(change)
    # "yes but start it on the 15th", "no wait - 12 months": the terms they want instead,
    # even after a yes (a qualified yes is not a yes).
    if months_named(text) or _MONTHS_WORDS.search(text):
        return Reading(CHANGE_MONTHS)
    if _EXPLICIT_DATE.search(text):
        return Reading(CHANGE_DATE)
    if months_wanted(text) and len(text.split()) <= 4 and not _AMOUNT_WORDS.search(text):
        return Reading(CHANGE_MONTHS)  # "no, 3", "12?", "twelve"
    if _NO_ANYWHERE.search(text):
        return Reading(NO)  # "不对不对，我不要了", "thats wrong, forget it": a no, whatever was wrong
    if _CORRECTION.search(text):
        return Reading(CORRECTION)
    plain = _NEGATIVE_YES.sub(" ok ", text)
    if _QUESTION.search(text) and intent in QUESTIONS:
        return Reading(TOPIC, intent=intent)
    yes = (
        _YES.search(plain)
        or _YES_ZH.search(plain)
        or _NEGATIVE_YES.search(text)
        or _YES_AT_END.search(plain)
        or _THUMBS.search(text)
    )
    if yes and not _NEGATION.search(plain) and not _YES_MENTIONED.search(text):
        return Reading(YES)
    if intent == "defer_decision":  # the classifier alone, after the words said nothing plainer
        return Reading(NOT_NOW)
    if _NO.search(plain) or (intent == "deny" and confidence >= 0.5):
        return Reading(NO)
    if intent in CONSEQUENTIAL:
        return Reading(CONFIRM_FIRST, intent=intent)
    if intent in QUESTIONS or (
        intent is not None and intent not in {"affirm", "deny", "thank", "goodbye"} and confidence >= 0.8
    ):
        return Reading(TOPIC, intent=intent)
    return Reading(UNCLEAR)


def _names_new_terms(text: str) -> bool:
    """ "150 is a lot, can we make it 100 a month": a change asked for with its new terms."""
    concrete = re.search(r"\d", text) or months_wanted(text) or _EXPLICIT_DATE.search(text)
    return bool(concrete and _REQUEST.search(text))


def _change(text: str, intent: str | None) -> str | None:
    plain_yes = _YES.search(text) or _YES_ZH.search(text) or _YES_AT_END.search(text)
    if intent in {"choose_pay_now", "choose_promise_to_pay"} and plain_yes and not _CHANGE.search(text):
        intent = None  # "spot on": a yes, whatever the classifier leaned to
    asks_change = bool(_CHANGE.search(text)) or intent in {
        "change_payment_date",
        "choose_pay_now",
        "choose_promise_to_pay",
    }
    if not asks_change:
        return None
    if _MONTHS_WORDS.search(text):
        return CHANGE_MONTHS
    if _KIND_WORDS.search(text):
        return CHANGE_KIND
    if _DATE_WORDS.search(text) and re.search(
        r"\bstart|\bbegin|\bfirst (?:payment|one|instalment)|\btaken\b|\b(?:come|go|goes|comes) out\b|开始|首期|第一期|扣|那天",
        text,
        re.I,
    ):
        return CHANGE_DATE  # "can i start in two weeks": when the plan starts, whatever kind the classifier leaned to
    if intent in {"choose_pay_now", "choose_promise_to_pay"}:
        if re.search(r"\d", text) and not (_DATE_WORDS.search(text) or _ALL_NOW.search(text)):
            return CHANGE_AMOUNT  # "can i pay 100 instead of 150": the amount, whatever kind the lean says
        return CHANGE_KIND
    if _DATE_WORDS.search(text):
        return CHANGE_DATE
    if months_wanted(text) and not _AMOUNT_WORDS.search(text):
        return CHANGE_MONTHS
    if _AMOUNT_WORDS.search(text) or re.search(r"\d", text):
        return CHANGE_AMOUNT
    if intent == "change_payment_date":
        return CHANGE_DATE
    return None
