"""What a message can mean at a step (`Reading`), and what the readers share: the
classifier's top intent, a button's payload, a question about the terms, a named plan
length or day."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..conduct import detect_vulnerability
from ..language_choice import CHOOSE_LANGUAGE
from ..parsing import normalise_loan_ref, parse_periodic_amount
from .lexicon import (
    _A_MOMENT,
    _ABOUT_LATER,
    _ASKS,
    _ASKS_ABOUT_PLAN,
    _BARE_LENGTH,
    _BARE_LENGTH_WORD,
    _CJK,
    _COUNT,
    _ENDS_AS_QUESTION,
    _EXPLICIT_DATE,
    _HARDSHIP,
    _HUMAN,
    _LENGTH_LEFT,
    _LENGTH_WORDS,
    _LONGER_TERM_ZH,
    _MONTH_NUMBERS,
    _MONTHS_IN_WORDS,
    _MONTHS_IN_ZH,
    _MONTHS_ZH,
    _NOT_NOW,
    _PAID_CLAIM,
    _PAY_MORE,
    _PAY_NOW,
    _PAYMENT_METHOD_QUESTION,
    _PLAN_AT_AMOUNT,
    _PLAN_BY_MONTHS,
    _QUESTION,
    _REQUEST,
    _START_LATER,
    _STARTS_AS_QUESTION,
    _YEARS,
    _YEARS_ZH,
    CLEAR_CONFIDENCE,
    CONSEQUENTIAL,
    QUESTIONS,
)

# What a message can mean at a step.
YES = "yes"
NO = "no"
WORRY = "worry"  # a hedged yes, or a worry about keeping up
NOT_NOW = "not_now"
CORRECTION = "correction"  # "that's not right": the amount owed, or the plan?
CHANGE_DATE = "change_date"
CHANGE_MONTHS = "change_months"
CHANGE_AMOUNT = "change_amount"
CHANGE_KIND = "change_kind"
CHOICE = "choice"  # offers: a shown option by position or description
AMOUNT = "amount"  # offers: their own figure with its period ("40 every fortnight")
CANT_AFFORD = "cant_afford"
NONE_WORK = "none_work"
HARDSHIP = "hardship"  # offers: a break, a smaller or longer plan than those shown
HUMAN = "human"  # a person, in words the classifier missed
REASON = "reason"  # the reason step: why the payment was missed
QUESTION = "question"  # a question about the terms the classifier could not place
PAID_CLAIM = "paid_claim"  # the reason step: a payment claimed in words ("payment was made on the 3rd")
SETTLEMENT = "settlement"  # offers: settling for less than the whole balance
OPTIONS = "options"  # the reason step: the options asked for before (or instead of) saying why
CONFIRM_FIRST = "confirm_first"  # a consequential request (dispute, opt-out …) that is not unambiguous
UNCLEAR = "unclear"
TOPIC = "topic"  # not an answer to this step: the ordinary rules handle it

READ_BACK = "read_back"
OFFERS = "offers"
REASON_STEP = "reason"

Ranking = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class Reading:
    meaning: str
    intent: str | None = None  # CONFIRM_FIRST: the request to confirm; TOPIC: the intent to follow
    choice: int | None = None  # CHOICE: 1-based position among the options shown
    months: int | None = None  # CHOICE: a plan named by its length
    amount: str | None = None  # CHOICE: a plan named by its monthly amount
    among_plans: bool = False  # CHOICE: the position counts plans only ("the first plan")
    kind: str | None = None  # CHOICE: the option by what it does (its payload's intent)
    reason: str | None = None  # REASON: the reason code to file


def _plain_quotes(text: str) -> str:
    """Curly apostrophes as straight ones, so "that’ll do" reads as "that'll do"."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


# Pinyin input's same-sound slips in the step's own words (分十二其的, 转接人公, 困南方案,
# 一次姓, 月低): read as the word meant. Only words a step reads; the classifier sees the text.
_HOMOPHONES_ZH = (
    ("人公", "人工"),
    ("困南", "困难"),
    ("一次姓", "一次性"),
    ("节清", "结清"),
    ("月低", "月底"),
    ("分其", "分期"),
    ("没文题", "没问题"),
    ("手期", "首期"),
    ("梁周", "两周"),
)
_QI_SLIP = re.compile(r"(?<=[0-9一二三四五六七八九十两])\s*其(?=的|吧|了|呢|啊|嘛|\s|$|，|。|！|,)")
_QI_AS_QI_ZH = re.compile(r"(分[0-9一二三四五六七八九十两]{1,3})起(?=吧|的|了|呢|啊|\s|$|，|。|！|,)")  # 分十二起吧


# And English spelled as it sounds ("not rite now", "insted", "wat day"), read as meant.
_SLIP_WORDS = {
    "rite": "right", "insted": "instead", "instaed": "instead", "wat": "what", "rn": "right now", "munth": "month", "moth": "month",
    "affird": "afford", "aford": "afford", "nun": "none", "opshuns": "options", "opshun": "option",
}  # fmt: skip
_SLIPS_EN = re.compile(r"\b(?:" + "|".join(_SLIP_WORDS) + r")\b", re.I)


# Banknote numerals (陆期, 壹年, 玖佰) before a length or an amount, read as plain ones.
_FORMAL_ZH = re.compile(r"[壹贰叁肆伍陆柒捌玖拾佰仟]+(?=\s*(?:期|个?月|年|元|块|百|千|万))")
_PLAIN_ZH = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟", "一二三四五六七八九十百千")


_LATIN_BESIDE_CJK = re.compile(r"(?<=[A-Za-z])(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])(?=[A-Za-z])")


def _typing_slips(text: str) -> str:
    """The message with the slips above put right, for the step readers only."""
    text = _FORMAL_ZH.sub(lambda m: m.group(0).translate(_PLAIN_ZH), text)
    for slip, word in _HOMOPHONES_ZH:
        text = text.replace(slip, word)
    text = re.sub(r"^(\W*)队的", r"\1对的", text)  # 队的 没文题: 对的 typed by its sound
    # 改成three months吧: English words set apart from the Chinese around them, so \b finds them
    text = _LATIN_BESIDE_CJK.sub(" ", text)
    text = _SLIPS_EN.sub(lambda m: _SLIP_WORDS[m.group(0).lower()], text)
    text = _QI_AS_QI_ZH.sub(r"\1期", text)
    return _QI_SLIP.sub("期", text)


def _top(ranking: Ranking) -> tuple[str | None, float]:
    for name, confidence in ranking:
        if name != "nlu_fallback":
            return name, confidence
    return None, 0.0


def _payload_intent(text: str) -> str | None:
    """A button press: the text is `/intent` or `/intent{…}`."""
    match = re.match(r"^/(\w+)", text.strip())
    return match.group(1) if match else None


def consequential_unclear(text: str, ranking: Ranking) -> str | None:
    """The consequential request the message seems to make, when it is not unambiguous
    (asked first, never acted on); None when there is none or it is clear."""
    if _payload_intent(text):
        return None
    intent, confidence = _top(ranking)
    if intent not in CONSEQUENTIAL:
        return None
    if confidence >= CLEAR_CONFIDENCE or CONSEQUENTIAL[intent].search(text):
        return None
    return intent


def contradicted(text: str, intent: str | None, confidence: float) -> bool:
    """A lean to a topic that the words go against. Whatever the confidence: hardship for a
    message that only names when the plan starts or how long it runs. When the classifier is
    not sure: a payment claimed with no words of one ("can it come out on a friday as thats
    when i get paid"), hardship asked for in words of paying more ("can I pay more some months?")."""
    if intent == "request_hardship" and _START_LATER.search(text) and not _HARDSHIP.search(text):
        return True  # "能不能下个月再开始还", "can it start next month": the first payment's date
    if (
        intent == "request_hardship"
        and (months_named(text) or _LONGER_TERM_ZH.search(text))
        and not _HARDSHIP.search(text)
    ):
        return True  # "could I have more time, like 9 months", 时间再长一点: a plan's length, not a break
    if intent in {"request_human", "third_party"} and _A_MOMENT.search(text) and not _HUMAN.search(text):
        return True  # "give me a sec, someone at the door": a pause, not a person asked for
    if (
        intent == "claim_already_paid"
        and (_PAY_NOW.search(text) or _ENDS_AS_QUESTION.search(text))
        and not _PAID_CLAIM.search(text)
    ):
        # "lets just get it paid today", 还了900就不算逾期了？: a payment to come or asked about, not one made
        return True
    if intent == "claim_already_paid" and _NOT_NOW.search(text) and not _PAID_CLAIM.search(text):
        return True  # 这边已经半夜了 明天再处理: later, not paid
    if confidence >= CLEAR_CONFIDENCE:
        return False
    if intent == "claim_already_paid":
        return not _PAID_CLAIM.search(text)
    if intent == "request_hardship":
        return bool(_PAY_MORE.search(text))
    return False


def _unsure(ranking: Ranking) -> bool:
    """The classifier put its fallback first: the intent it leans to is only a guess, and
    the rules would follow the fallback, not that intent."""
    return bool(ranking) and ranking[0][0] == "nlu_fallback"


def _question(text: str, intent: str | None, unsure: bool = False) -> Reading | None:
    """A question about the terms: the FAQ the classifier leans to answers it (TOPIC),
    or it is said plainly that a person can (QUESTION). A request phrased as a question
    ("can we make it 12 months?") is not one. When the classifier is unsure (`unsure`),
    the rules would not answer the FAQ it leans to: a plain question is then QUESTION."""
    if _ABOUT_LATER.search(text) and intent not in QUESTIONS:
        return Reading(QUESTION, intent=intent)
    if _ASKS_ABOUT_PLAN.search(text) and not amount_with_period(text) and not months_wanted(text):
        return Reading(
            TOPIC if intent in QUESTIONS and not unsure else QUESTION, intent=intent
        )  # "is this instead of …?"
    asked = _ASKS.search(text) or _QUESTION.search(text)
    if (
        asked
        and _PAY_MORE.search(text)
        and intent not in QUESTIONS
        and not (_REQUEST.search(text) and re.search(r"\d", text))
    ):
        return Reading(QUESTION, intent=intent)  # "提前还完可以吗", "can I pay extra?": about the terms
    if not asked or _REQUEST.search(text):
        return None
    if intent in QUESTIONS and not (unsure and _ASKS.search(text)):
        return Reading(TOPIC, intent=intent)
    if not _ASKS.search(text):
        return None  # "can I do the 6 month one?": a choice or a change, read on
    return Reading(QUESTION, intent=intent)


# Just after a day: it is the one being turned down ("is no good", "is too soon", 太早了).
_DAY_TURNED_DOWN = re.compile(
    r"\s*(?:is |'?s )?(?:no good|not good|too (?:soon|early|late)|(?:doesn'?t|does not|won'?t|will not) work|not possible)|\s*(?:太早|太快|不行|不方便)"
)


def asks_how_paid(text: str) -> bool:
    """How the money is taken, asked ("can the payments come out by direct debit", 哪张卡扣);
    not "yes, by direct debit please", which answers."""
    return bool(_PAYMENT_METHOD_QUESTION.search(text)) and bool(
        _STARTS_AS_QUESTION.search(text) or _ENDS_AS_QUESTION.search(text) or _CJK.search(text)
    )


def date_words(text: str) -> str | None:
    """The part of the message that names the day, for the date parser: "yes but make the
    first one the 28th" → "28th" (the whole message would read "first" as the 1st)."""
    found = list(_EXPLICIT_DATE.finditer(text))
    # "first one in 10 days is no good ... can it be the 23rd": the day turned down is not the one
    found = [m for m in found if not _DAY_TURNED_DOWN.match(text, m.end())] or found
    if not found:
        return None
    return text[found[0].start() : found[-1].end()]


def months_named(text: str) -> int | None:
    """A plan length written with its unit: "12 months", "6mths", "twelve months",
    "12 payments", "a year", "12个月", "6期"."""
    match = _PLAN_BY_MONTHS.search(text) or _COUNT.search(text)
    if match:
        months = int(next(g for g in match.groups() if g))
    elif _MONTHS_IN_WORDS.search(text):
        months = _MONTH_NUMBERS[_MONTHS_IN_WORDS.search(text).group(1).lower().replace("-", " ")]  # type: ignore[union-attr]
    elif _MONTHS_IN_ZH.search(text):
        months = _MONTHS_ZH[_MONTHS_IN_ZH.search(text).group(1)]  # type: ignore[union-attr]
    elif _YEARS_ZH.search(text):
        months = {"半": 6, "一": 12, "1": 12, "两": 24, "二": 24, "2": 24}[_YEARS_ZH.search(text).group(1)]  # type: ignore[union-attr]
    elif _YEARS.search(text):
        months = 24 if _YEARS.search(text).group(1) else 12  # type: ignore[union-attr]
    else:
        return None
    return months if 1 <= months <= 60 else None


def without_lengths_left(text: str) -> str:
    """The message without the plan lengths it turns away from ("6 months is too short",
    "instead of 6", "12个月太长"): those are not the length wanted."""
    return _LENGTH_LEFT.sub(" ", text)


def months_wanted(text: str) -> int | None:
    """The plan length a change asks for, with or without its unit: "make it 12 months",
    "id prefer 3", "twelve would be better", "3 instead of 6" (the length after
    "instead of" is the one they are leaving)."""
    kept = without_lengths_left(text)
    named = months_named(kept)
    if named:
        return named
    bare = _BARE_LENGTH.search(kept)
    if bare:
        return int(bare.group(1))
    word = _BARE_LENGTH_WORD.search(kept)
    return _LENGTH_WORDS[word.group(1).lower().replace("-", " ")] if word else None


def plainly_terms(text: str, intent: str | None) -> bool:
    """A short message that only names a plan length ("twelve would be better", "the longer one") which the
    classifier took for a crisis although no crisis or vulnerability words are in it: the
    terms, not a crisis. Anything longer, or with such words, stays with the crisis rules."""
    return (
        intent == "crisis"
        and detect_vulnerability(text) is None
        and len(re.findall(r"\w+", text)) <= 6
        and (months_wanted(text) is not None or _LONGER_OR_SHORTER.search(text) is not None)
    )


# "i want the longer one", "a shorter plan": a length relative to the terms read back.
_LONGER_OR_SHORTER = re.compile(r"\b(?:longer|shorter) (?:one|plan|option|term)\b", re.I)


def amount_with_period(text: str) -> bool:
    """Their own figure with its period ("40 every fortnight", "would 80 a month be ok"),
    when it is not a plan named by its length ("the 6 monthly one", "twelve monthly payments")."""
    if months_named(text) or _PLAN_AT_AMOUNT.search(text):
        return False
    said = parse_periodic_amount(text)
    return said is not None and said.period is not None and said.amount > 0


# What `inform` (the verification details) carries: a loan reference, or a year (a date of birth).
_A_YEAR = re.compile(
    r"(?<![\d.,])(?:19|20)\d\d(?![\d.,])|[零〇一二三四五六七八九]{4}\s*年|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2}\b"
)


def without_stray_details(text: str, ranking: Ranking) -> Ranking | None:
    """The ranking without `inform` when the classifier put it first for a message that
    gives no verification detail (马上付900, 陆期吧, "sent the 900 on saturday": a figure
    or a date at a step), the rest in proportion; None when `inform` is not first or the
    message does give a detail."""
    if not ranking or ranking[0][0] != "inform" or normalise_loan_ref(text) or _A_YEAR.search(text):
        return None
    left = 1.0 - ranking[0][1]
    return [(name, confidence / left if left > 0 else 0.0) for name, confidence in ranking[1:]]


# A topic the rules cannot be handed (they follow the tracker's `inform`), said as the step's own answer.
_AS_STEP_ANSWER = {
    "claim_already_paid": Reading(PAID_CLAIM),
    "request_human": Reading(HUMAN),
    "request_hardship": Reading(HARDSHIP),
    "ask_settlement": Reading(SETTLEMENT),
    "offer_monthly_amount": Reading(AMOUNT),
}

Reader = Callable[..., Reading]


def past_stray_details(
    otherwise: Callable[[str, Ranking], Reading], answers: dict[str, Reading] | None = None
) -> Callable[[Reader], Reader]:
    """A step's reader that never hands a verified borrower's answer to the verification
    rules because the classifier took its figures for details: it reads the message with
    the next intents (without_stray_details), and a topic it would hand to the rules is
    said as the step's own answer (a payment claim, a person, hardship, a settlement, their
    figure, a question, or the step's own `answers`) or read as `otherwise` (the options
    again, the read-back asked again, the reason filed)."""
    as_answers = {**_AS_STEP_ANSWER, **(answers or {})}

    def wrap(reader: Reader) -> Reader:
        @functools.wraps(reader)
        def read(text: str, ranking: Ranking, *args: object) -> Reading:
            rest = without_stray_details(text, ranking)
            if rest is None:
                return reader(text, ranking, *args)
            reading = reader(text, rest, *args)
            if reading.meaning != TOPIC or reading.intent == CHOOSE_LANGUAGE:
                return reading
            if reading.intent in as_answers:
                return as_answers[reading.intent]
            if reading.intent in QUESTIONS:
                return Reading(QUESTION, intent=reading.intent)
            return otherwise(text, rest)

        return read

    return wrap
