"""The reason question: "What made it hard to pay?" — the borrower's reason, unless
they plainly change the subject."""

from __future__ import annotations

import re

from ..conduct import detect_vulnerability
from ..language_choice import CHOOSE_LANGUAGE, chooses_language
from .lexicon import (
    _ARRANGED_ALREADY,
    _ASKS_TO_PAY,
    _ASKS_WHO,
    _BEREAVED,
    _CJK,
    _EXPLICIT_DATE,
    _FIGURES_QUESTION,
    _FILLER_WORDS,
    _HARDSHIP,
    _HUMAN,
    _MONEY_STORY,
    _NOISE,
    _NOT_A_REASON,
    _NOT_NOW,
    _NOT_UNDERSTOOD,
    _OFFERS_AN_AMOUNT,
    _ONE_QUESTION,
    _OWN_PAY,
    _PAID_BY_OTHER,
    _PAID_CLAIM,
    _PAID_PLAINLY,
    _PAY_ON_A_DAY,
    _PAYDAY_STORY,
    _PAYING,
    _QUESTION,
    _QUESTION_AFTER,
    _REASON_RE,
    _SHOW_OPTIONS,
    _SPREAD,
    _THOUGHT_PAID,
    _WEAK_AT_REASON,
    _WHY_ASKED,
    ALWAYS_TOPIC,
    CLEAR_CONFIDENCE,
    CONSEQUENTIAL,
    QUESTIONS,
)
from .reading import (
    AMOUNT,
    CONFIRM_FIRST,
    HARDSHIP,
    HUMAN,
    NOT_NOW,
    OPTIONS,
    PAID_CLAIM,
    QUESTION,
    REASON,
    TOPIC,
    UNCLEAR,
    Ranking,
    Reading,
    _payload_intent,
    _plain_quotes,
    _question,
    _top,
    amount_with_period,
    past_stray_details,
)

_SURE = 0.7  # a lean to a disclosure at or above this is left to the vulnerability rules
_MONEY_REASONS = frozenset({"reduced_income", "unexpected_expense", "over_indebted", "other"})


@past_stray_details(lambda text, ranking: Reading(REASON, reason=_reason_code(text, ranking) or "other"))
def read_at_reason(text: str, ranking: Ranking) -> Reading:
    """What an answer to "what made it hard to pay?" means. Whatever the borrower says
    there is their reason unless it plainly changes the subject: a careful agent files it
    (with the likeliest code) and moves on rather than asking them to say it again."""
    text = _plain_quotes(text)
    if _payload_intent(text):
        return Reading(TOPIC, intent=_payload_intent(text))
    intent, confidence = _top(ranking)
    if chooses_language(text, intent, confidence):
        return Reading(TOPIC, intent=CHOOSE_LANGUAGE)  # "English please": a language asked for, then the step again
    words_say_bereaved = intent != "reason_bereavement" and bool(_BEREAVED.search(text))  # "recently widowed"
    if intent not in ("crisis", "disclose_vulnerability") and (
        detect_vulnerability(text) == "bereavement" or words_say_bereaved
    ):
        # "my brother took his own life": a bereavement, whatever else the classifier leaned to
        # (the vulnerability lexicon leaves bereavements to the reason rules)
        return Reading(REASON, reason="bereavement")
    if intent == "reason_other" and _reason_words(text):
        # "the firm laid off half the warehouse and I was one of them": "other" is the
        # classifier finding no category; words that name one are the likelier code
        return Reading(REASON, reason=_reason_words(text))
    if intent == "claim_already_paid" and _THOUGHT_PAID.search(text):
        return Reading(REASON, reason="forgot")  # "I thought I had paid": a mistake, not a claim
    if intent == "claim_already_paid" and _OWN_PAY.search(text):
        return Reading(REASON, reason="reduced_income")  # "I got paid late": their wages, not the loan
    if intent == "claim_already_paid" and _PAYDAY_STORY.search(text):
        return Reading(REASON, reason="payment_problem")  # "I get paid on the 28th so it bounced"
    if intent == "claim_already_paid" and confidence < 0.5 and _PAID_CLAIM.search(text):
        # "Payment was made on the 3rd": the claim form asks when, how much and how before
        # anything stops, however unsure the classifier was (sure, the rules start it); never
        # filed as "already paid"
        return Reading(PAID_CLAIM)
    if (
        (_PAID_PLAINLY.search(text) or _PAID_BY_OTHER.search(text))
        and intent not in ("crisis", "disclose_vulnerability", "claim_already_paid")  # sure: the rules start the form
        and (not _reason_words(text) or _PAID_BY_OTHER.search(text))
        and not (_THOUGHT_PAID.search(text) or _OWN_PAY.search(text) or _PAYDAY_STORY.search(text))
    ):
        # "i did pay?? it came out of my account", "I paid cash at the post office": a claim in
        # so many words, whatever the classifier leans to (the claim form asks before anything)
        return Reading(PAID_CLAIM)
    if _ARRANGED_ALREADY.search(text) and intent not in ("crisis", "disclose_vulnerability"):
        return Reading(CONFIRM_FIRST, intent="dispute_debt")  # "on an agreed payment holiday": asked first
    if _FIGURES_QUESTION.search(text):
        # "why is it 900 overdue? i thought i only missed a couple", "how did it get to 900
        # already?": the figures asked about first; a reason after it is not the answer yet
        return Reading(QUESTION, intent=intent)
    if intent == "claim_already_paid" and confidence >= 0.3 and not _reason_code(text, ranking, strict=True):
        return Reading(TOPIC, intent=intent)  # a lean without the words: the rules, never filed on it
    if (
        intent == "disclose_vulnerability"
        and confidence < _SURE
        and detect_vulnerability(text) is None
        and _money_reason(text)
    ):
        # "just struggling with the cost of everything": money, in so many words; a lean to a
        # disclosure with no vulnerability word in the message is not one
        return Reading(REASON, reason=_money_reason(text))
    if intent in ALWAYS_TOPIC and confidence >= 0.5 and intent != "request_hardship":
        return Reading(TOPIC, intent=intent)
    if intent in CONSEQUENTIAL:
        if CONSEQUENTIAL[intent].search(text) or confidence >= CLEAR_CONFIDENCE:
            return Reading(TOPIC, intent=intent)
        if (
            intent != "cancel_plan"
            and confidence >= 0.3
            and not _reason_code(text, ranking, strict=True)
            and not _NOT_NOW.search(text)  # "pls message me tomorrow, I'm at a wedding": later, not stop
            and not _OFFERS_AN_AMOUNT.search(text)  # "I fit pay 200 now and the balance end of month"
        ):
            # a lean the words do not bear out; below 0.3 the classifier is only guessing
            return Reading(CONFIRM_FIRST, intent=intent)
    if _ONE_QUESTION.search(text) and not _NOT_NOW.search(text) and not _HUMAN.search(text):
        # "when exactly was it due again?": a question, whatever reason the classifier leans to
        if intent in QUESTIONS and confidence >= 0.5:
            return Reading(TOPIC, intent=intent)
        return Reading(QUESTION, intent=intent)
    if _WHY_ASKED.search(text) and not _reason_code(text, ranking, strict=True):
        return Reading(QUESTION, intent=intent)  # "为啥要问这个 先告诉我": why we ask, not why they missed it
    if _SHOW_OPTIONS.search(text) and not _reason_code(text, ranking, strict=True):
        return Reading(OPTIONS)  # "有什么还款方案给我看看": the options first; they need not say why
    if _PAY_ON_A_DAY.search(text):
        # "dont really want to go into it but I can pay the lot on friday": an offer, not "not now"
        # (a lean to paying is left to the rules' forms; otherwise the options)
        paying = intent in {"choose_promise_to_pay", "choose_pay_now"} and not _fell_back(ranking)
        return Reading(TOPIC, intent=intent) if paying else Reading(OPTIONS)
    if _NOT_NOW.search(text) or (
        intent == "defer_decision"
        and confidence >= 0.5
        and not _reason_code(text, ranking, strict=True)
        and not _HUMAN.search(text)  # "i need to talk to somebody who can make decisions": a person
    ):
        return Reading(NOT_NOW)  # "new job, first pay hasn't come yet": a reason, whatever the lean to "later"
    if _HUMAN.search(text) and not _ASKS_WHO.search(text):
        return Reading(HUMAN)
    if _SPREAD.search(text) and not _reason_code(text, ranking, strict=True):
        return Reading(HARDSHIP)  # "is there any way to spread it out": what they can do, not why
    if intent in QUESTIONS and (
        _QUESTION.search(text) or (confidence >= 0.8 and not _reason_code(text, ranking, strict=True))
    ):
        # a statement that names a reason ("put the wrong sort code in") is the reason
        return Reading(TOPIC, intent=intent)
    question = _question(text, intent)
    if question and not _reason_code(text, ranking, strict=True):
        return question  # "can you tell me how you worked that out": not a reason
    if intent == "request_hardship" and _reason_code(text, ranking, strict=True):
        return Reading(REASON, reason=_reason_code(text, ranking, strict=True))  # why, and asking for help
    if _MONEY_STORY.search(text) and not _OFFERS_AN_AMOUNT.search(text) and not _question(text, intent):
        # "i only earn 900 a month now": a figure in the story of why, not an offer
        return Reading(REASON, reason=_reason_code(text, ranking) or "other")
    if intent == "change_payment_date" and _PAYDAY_STORY.search(text):
        return Reading(REASON, reason="payment_problem")  # "my payday changed": why, not a request
    placed = bool(ranking) and ranking[0][0] == "offer_monthly_amount"  # the rules take it to the plan form
    if _OFFERS_AN_AMOUNT.search(text) and amount_with_period(text) and not placed:
        return Reading(AMOUNT)  # "cud i pay like 20 a week": their figure, weighed by the plan form
    if intent in _WEAK_AT_REASON and _reason_code(text, ranking, strict=True) and not _OFFERS_AN_AMOUNT.search(text):
        return Reading(REASON, reason=_reason_code(text, ranking, strict=True))  # "i forget": the words say why
    if (
        intent in _PAYING
        and confidence < CLEAR_CONFIDENCE
        and _reason_words(text)
        and not (_OFFERS_AN_AMOUNT.search(text) or _ASKS_TO_PAY.search(text) or _QUESTION.search(text))
    ):
        # "lost 2 weeks of pay": why they could not pay, with "pay" and a period in it; an
        # offer or a date needs the words of one ("can I clear it then", "ill pay it friday")
        return Reading(REASON, reason=_reason_words(text))
    if (
        _OFFERS_AN_AMOUNT.search(text)
        and (
            _EXPLICIT_DATE.search(text)
            or re.search(
                r"\btoday\b|\bnow\b|\btonight\b|\bthis (?:evening|afternoon|morning)\b|今天|现在|今晚", text, re.I
            )
        )
        and not amount_with_period(text)
        and (intent not in {"choose_promise_to_pay", "choose_pay_now", "offer_monthly_amount"} or _fell_back(ranking))
    ):
        # "I could do the 900 on Friday" (under a vague lean): the options, paying by a date
        # among them; a lean to a payment choice is left to the rules' forms
        return Reading(OPTIONS)
    if (intent in _NOT_A_REASON and confidence >= 0.5) or _OFFERS_AN_AMOUNT.search(text):
        return Reading(TOPIC, intent=intent)
    if intent is not None and intent.startswith("reason_") and confidence >= 0.5:
        return Reading(TOPIC, intent=intent)  # the rules record it as they always have
    code = _reason_code(text, ranking)
    if _NOT_UNDERSTOOD.search(text) or (code is None and _too_little(text)):
        return Reading(UNCLEAR)  # "erm", "what?", "I'm confused": the fallback clarifies
    return Reading(REASON, reason=code or "other")


def question_after_reason(text: str) -> bool:
    """A reason with a question after it ("lost my job last month. are you gonna add interest
    on top of this?"): the reason is filed and the question answered, then the options."""
    # (not "been ill. is there some kind of hardship option": the options, hardship first, answer it)
    return bool(_QUESTION_AFTER.search(_plain_quotes(text))) and not _HARDSHIP.search(text)


def _fell_back(ranking: Ranking) -> bool:
    """The classifier unsure (the fallback on top): the rules would not start a form on its lean."""
    return bool(ranking) and ranking[0][0] == "nlu_fallback"


def _too_little(text: str) -> bool:
    """Too few words to be an account of why ("erm", "zzzz", "hmm ok", "not sure"):
    fewer than five words of which fewer than two say something ("christmas, spent too
    much" does)."""
    han = len(_CJK.findall(text))
    words = re.findall(r"[A-Za-z']{2,}", text)
    saying = [w for w in words if len(w) >= 3 and w.lower() not in _FILLER_WORDS and not _NOISE.match(w)]
    return han < 4 and (len(words) < 5 and len(saying) < 2)


def _reason_words(text: str) -> str | None:
    """The reason code the words name, whatever the classifier said."""
    return next((code for code, pattern in _REASON_RE if pattern.search(text)), None)


def _money_reason(text: str) -> str | None:
    """A reason about money that the words name (income, costs, debts, being short)."""
    code = _reason_words(text)
    return code if code in _MONEY_REASONS else None


def _reason_code(text: str, ranking: Ranking, strict: bool = False) -> str | None:
    """The reason code: the classifier's likeliest reason when it gives one some weight,
    else the words; None when neither names one."""
    for name, confidence in list(ranking)[:3]:
        if name == "reason_bereavement" and confidence < 0.5 and not _BEREAVED.search(text):
            continue  # 生活一团乱麻: a death is never filed on a lean without the words of one
        if name.startswith("reason_") and name != "reason_other" and confidence >= (0.3 if strict else 0.1):
            return name.removeprefix("reason_")
    for code, pattern in _REASON_RE:
        if pattern.search(text):
            return code
    return None
