"""The read-back: "To confirm: … Is that right?" — yes, no, a change, not now, a worry."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ..agreements import AgreementProposal
from ..language_choice import CHOOSE_LANGUAGE, chooses_language
from ..parsing import words_to_digits
from .lexicon import (
    _ALL_NOW,
    _AMOUNT_WORDS,
    _ASKS_WHO,
    _BUT_AFTER_YES,
    _CANT_AFFORD,
    _CHANGE,
    _CJK,
    _CORRECTION,
    _DATE_WORDS,
    _ENDS_AS_QUESTION,
    _EXPLICIT_DATE,
    _HARDSHIP,
    _HARDSHIP_INSTEAD,
    _HUMAN,
    _KIND_WORDS,
    _LEAVING,
    _LONGER_TERM_ZH,
    _MONTHS_WORDS,
    _NEGATION,
    _NEGATIVE_YES,
    _NO,
    _NO_ANYWHERE,
    _NOT_NOW,
    _NOT_WHAT_I_CHOSE,
    _OWED_WRONG,
    _PAID_CLAIM,
    _PAY_MORE,
    _QUESTION,
    _REFUSES_ZH,
    _REQUEST,
    _START_LATER,
    _START_ON_PAYDAY,
    _STARTS_AS_QUESTION,
    _STARTS_AS_QUESTION_ANYWHERE,
    _SUPPOSING_ZH,
    _THUMBS,
    _WORRY,
    _WORRY_MORE,
    _YES,
    _YES_AT_END,
    _YES_FORMAL,
    _YES_MENTIONED,
    _YES_ZH,
    ALWAYS_TOPIC,
    CLEAR_CONFIDENCE,
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
    HARDSHIP,
    HUMAN,
    NO,
    NOT_NOW,
    QUESTION,
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
    _typing_slips,
    _unsure,
    amount_with_period,
    asks_how_paid,
    contradicted,
    months_named,
    months_wanted,
    past_stray_details,
    plainly_terms,
)


def restated_numbers(pending: Any, today: date) -> frozenset[Decimal]:
    """The figures the read-back itself gave (`pending`: the pending_agreement slot): the
    number of payments, each amount, the total, the first payment's day of the month and
    how many days away it is (a day either side, for the borrower's time zone). A yes that
    repeats them ("yes, 6 payments of 150, first one in 10 days") is a yes, not a change.
    Nothing when there is no proposal, or it cannot be read."""
    try:
        proposal = AgreementProposal.from_json(pending) if pending else None
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return frozenset()
    if proposal is None:
        return frozenset()
    numbers = {proposal.total_amount, *(amount for _, amount in proposal.instalments)}
    if proposal.instalments:
        first = proposal.instalments[0][0]
        numbers |= {Decimal(len(proposal.instalments)), Decimal(first.day)}
        numbers |= {Decimal((first - today).days + d) for d in (-1, 0, 1)}
    return frozenset(numbers)


@past_stray_details(lambda text, ranking: Reading(UNCLEAR))  # the read-back asked again
def read_at_read_back(text: str, ranking: Ranking, restated: frozenset[Decimal] = frozenset()) -> Reading:
    """What a message means after terms were read back and a yes was asked for; `restated`
    are the read-back's own figures (restated_numbers)."""
    text = _typing_slips(_plain_quotes(text))
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
    if (
        restated
        and _only_numbers_from(text, restated)
        and not (_CHANGE.search(text) or _WORRY.search(text) or _ENDS_AS_QUESTION.search(text))
    ):
        if _yes_words(text) or _yes_words(_last_clause(text)) or _terms_then_yes_zh(text):
            return Reading(YES)  # "yes, 6 payments of 150, first one in 10 days, perfect": the terms said back
        if _NO.search(_last_clause(text)) or (_CJK.search(text) and _NO.search(_clauses_zh(text)[-1])):
            return Reading(NO)  # "So that's six payments of 150 starting in ten days. No, I'm not agreeing to that."
    if _LEAVING.search(text):
        return Reading(NOT_NOW)  # "gotta go, later": not a later start
    if asks_how_paid(text):
        return Reading(QUESTION, intent=intent)  # 是自动扣款还是我自己转: how it is paid, asked
    if (_START_ON_PAYDAY.search(text) or _START_LATER.search(text)) and not _SUPPOSING_ZH.search(text):
        return Reading(CHANGE_DATE)  # "can i start after payday", 10天后太早了 能晚点吗: the day, not "not now"
    if _NOT_NOW.search(text):
        return Reading(NOT_NOW)
    if _REFUSES_ZH.search(text) and not re.search(r"\d", text):
        return Reading(NO)  # 不不不，我不想分期了: a refusal, whatever plan word is in it
    if _NOT_WHAT_I_CHOSE.search(text):
        return Reading(CORRECTION)  # 我刚刚点的不是6期: not what they chose, not a new length
    if _HARDSHIP_INSTEAD.search(text):
        return Reading(HARDSHIP)  # "can i go on a hardship plan instead": another kind, the hardship options
    if (_WORRY.search(text) and not _changes_to(text)) or (
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
    if _CJK.search(text) and _ENDS_AS_QUESTION.search(text):
        if intent in QUESTIONS and confidence >= CLEAR_CONFIDENCE:
            return Reading(TOPIC, intent=intent)  # 分期有手续费没: the FAQ, though 分期 is in it
        if _PAY_MORE.search(text):
            return Reading(QUESTION, intent=intent)  # 要是我想提前还完可以吗: paying early, asked about
    if _LONGER_TERM_ZH.search(text) and not _HARDSHIP.search(text):
        return Reading(CHANGE_MONTHS)  # 期数能多点吗: a longer plan, asked as a question
    question = _question(text, intent, unsure=_unsure(ranking))
    if question:
        return question
    change = _change(text, intent)
    if change:
        return Reading(change)
    if amount_with_period(text) and not _yes_words(text):
        return Reading(CHANGE_AMOUNT)  # 每个月还120可以吗: their own figure a month, asked for
    # "yes but start it on the 15th", "no wait - 12 months": the terms they want instead,
    # even after a yes (a qualified yes is not a yes).
    if months_named(text) or _MONTHS_WORDS.search(text):
        return Reading(CHANGE_MONTHS)
    if _EXPLICIT_DATE.search(text):
        return Reading(CHANGE_DATE)
    if months_wanted(text) and len(text.split()) <= 4 and not _AMOUNT_WORDS.search(text):
        return Reading(CHANGE_MONTHS)  # "no, 3", "12?", "twelve"
    if (
        _ENDS_AS_QUESTION.search(text)
        and _CJK.search(text)
        and not _NO_ANYWHERE.search(text)
        and not amount_with_period(text)  # 每个月还120可以吗: new terms, asked for
    ):
        # 分期有手续费没, 总共就是900对吧？: asked, not answered (the FAQ when the classifier has one)
        return Reading(TOPIC, intent=intent) if intent in QUESTIONS else Reading(QUESTION, intent=intent)
    if _NO_ANYWHERE.search(text):
        return Reading(NO)  # "不对不对，我不要了", "thats wrong, forget it": a no, whatever was wrong
    if _CORRECTION.search(text):
        return Reading(CORRECTION)
    if _QUESTION.search(text) and intent in QUESTIONS:
        return Reading(TOPIC, intent=intent)
    if _yes_words(text):
        if _BUT_AFTER_YES.search(text):
            return Reading(WORRY)  # "ok but I'm terrified of falling behind": a yes with a but is not a yes
        if _ENDS_AS_QUESTION.search(text) and len(re.findall(r"\w", text)) > 4:
            # "确认了之后还能改吗": a question that starts with a yes word
            return Reading(TOPIC, intent=intent) if intent in QUESTIONS else Reading(QUESTION, intent=intent)
        return Reading(YES)
    if intent == "defer_decision":  # the classifier alone, after the words said nothing plainer
        return Reading(NOT_NOW)
    if _NO.search(_NEGATIVE_YES.sub(" ok ", text)) or (intent == "deny" and confidence >= 0.5):
        return Reading(NO)
    if intent in CONSEQUENTIAL:
        return Reading(CONFIRM_FIRST, intent=intent)
    if intent in QUESTIONS or (
        intent is not None and intent not in {"affirm", "deny", "thank", "goodbye"} and confidence >= 0.8
    ):
        return Reading(TOPIC, intent=intent)
    if _ENDS_AS_QUESTION.search(text) and _STARTS_AS_QUESTION_ANYWHERE.search(text) and not _CHANGE.search(text):
        return Reading(QUESTION, intent=intent)  # "once i start paying will my account stop showing as overdue?"
    return Reading(UNCLEAR)


def _yes_words(text: str) -> bool:
    """A yes in words (not one negated, nor one only spoken of: "before I say yes")."""
    plain = _NEGATIVE_YES.sub(" ok ", text)
    yes = (
        _YES.search(plain)
        or _YES_ZH.search(plain)
        or _NEGATIVE_YES.search(text)
        or _YES_AT_END.search(plain)
        or _THUMBS.search(text)
        or _YES_FORMAL.search(plain)
    )
    return bool(yes) and not _NEGATION.search(plain) and not _YES_MENTIONED.search(text)


def _last_clause(text: str) -> str:
    """What ends a restatement ("So that's six payments … . Yes, that is what I agreed to")."""
    parts = [p for p in re.split(r"[.!;]+\s*|\s+(?=(?:yeah|yes|yep|no|nope)\b)", text, flags=re.I) if p.strip()]
    return parts[-1] if parts else text


def _clauses_zh(text: str) -> list[str]:
    """A Chinese message's clauses, split at its punctuation and spaces (at least one)."""
    return [p for p in re.split(r"[，。！；、,.!;\s]+", text) if p.strip()] or [text]


def _terms_then_yes_zh(text: str) -> bool:
    """The terms said back in Chinese, clause by clause, then a yes (6期 每月150 十天后扣第一笔
    对 就这样; 六个月，每月一百五十块，十天后开始还，我同意): every clause before the last names
    a figure of the terms or is a yes itself, and none says more (paid already, too much,
    a but, a worry: 900 我上个月还了 对 is no yes)."""
    if not _CJK.search(text):
        return False
    *terms, last = _clauses_zh(text)
    return (
        bool(terms)
        and _yes_words(last)
        and all(
            (re.search(r"[\d一二三四五六七八九十两百]", clause) or _yes_words(clause))
            and not (
                _PAID_CLAIM.search(clause)
                or _CANT_AFFORD.search(clause)
                or _NEGATION.search(clause)
                or _WORRY.search(clause)
                or _BUT_AFTER_YES.search(clause)
            )
            for clause in terms
        )
    )


def _only_numbers_from(text: str, restated: frozenset[Decimal]) -> bool:
    """The message has figures (in digits or words), and each is one the read-back gave."""
    digits = words_to_digits(text.replace(",", "")) or text
    # "the first one" reads as "1st 1": a one is no figure of the terms
    numbers = [Decimal(n) for n in re.findall(r"\d+(?:\.\d+)?", digits) if Decimal(n) > 1]
    return bool(numbers) and all(n in restated for n in numbers)


def _changes_to(text: str) -> bool:
    """ "要不改成12期 6期压力有点大": a worry given as the reason for new terms, which are the answer."""
    figure_asked = bool(re.search(r"\d", text) and _REQUEST.search(text))
    # a length, then "will it do?" (not 不知道能不能撑6个月, a worry about the length read back)
    length_asked = bool(
        months_named(text) and re.search(r"(?:期|个月)的?\s*(?:行不行|可以吗|行吗|好不好|可不可以|成不成)", text)
    )
    return (
        figure_asked
        or length_asked  # 分十二期行不行 一百五压力有点大
        or bool(re.search(r"(?:改成|换成|改为|改到)\s*(?:\d|[一二三四五六七八九十两])", text))
    )


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
