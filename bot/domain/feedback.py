"""The borrower's feedback (issue 14 §5): one optional question at the end of a
conversation that resolved, "how did it go, from 1 to 5?", and how an answer is read.

When it is asked (`may_ask`): once per conversation, after an agreement was recorded
or an existing one changed (never a cancellation), to a verified borrower, and never
in a conversation with a crisis or a vulnerability disclosure (or anything else that
stopped collecting), nor for a borrower flagged vulnerable.

How an answer is read (`read_answer`), whatever the intent classifier makes of it:
- a rating 1 to 5, alone or at the start: "4", "5 stars", "4/5", "4 out of 5",
  "five", "I'd give it a 4", a row of stars ("★★★★"), Chinese numerals and forms
  ("五", "5分", "四星", "打五分", "给你4分", "两分"), full-width digits ("５");
  words after it are the borrower's comment ("4, quick and easy", "五分，很方便");
- a skip: "skip", "no thanks", "not now", "rather not", "不用了", "跳过", "算了";
- a number outside the scale ("7", "0", "-1", "4.5", "10/10", "六分"): `OUT_OF_RANGE`,
  answered once with the scale, never recorded;
- anything else (a question, "thanks", an emoji, a plan length such as "5 months",
  crisis language, a very long text): `NOT_AN_ANSWER`, and the conversation goes on
  as if the question had not been asked. The question never traps the borrower.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.conduct import detect_vulnerability

RATING = "rating"
SKIP = "skip"
OUT_OF_RANGE = "out_of_range"
NOT_AN_ANSWER = "not_an_answer"

LOWEST, HIGHEST = 1, 5
MAX_ANSWER_CHARS = 1000  # longer is not an answer to a 1-to-5 question
MAX_COMMENT_CHARS = 500

# The `feedback_step` slot, set in the reply that asks: the next message is read as
# an answer. "asked_again" after a number outside the scale (answered once, then the
# next message goes on as normal whatever it is).
ASKED = "asked"
ASKED_AGAIN = "asked_again"

# Agreements after which the question is asked ("amended": an existing plan changed).
RESOLVED_KINDS = frozenset(
    {"pay_now", "promise_to_pay", "instalment_plan", "hardship_deferral", "settlement", "amended"}
)

# Intents that ask for something: words after a rating that the classifier is sure mean
# one of these are a request, not a comment ("1, I want to speak to a person").
ACTING_INTENTS = frozenset(
    {
        "request_human",
        "crisis",
        "disclose_vulnerability",
        "dispute_debt",
        "not_my_loan",
        "claim_already_paid",
        "third_party",
        "stop_contact",
        "cancel_plan",
        "change_payment_date",
        "request_hardship",
        "request_reminder",
        "go_back",
    }
)
ACTING_CONFIDENCE = 0.5

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "zero": 0, "six": 6, "seven": 7}
_WORDS |= {"eight": 8, "nine": 9, "ten": 10}
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_ZH_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_STARS = "★⭐🌟✩☆✭✮"

_SEPARATORS = " \t\r\n,.;:!-–—)/~、，。；：！～"
_PLEASANTRIES = re.compile(
    r"^(?:thanks?|thank you|thanks a lot|thank you very much|cheers|ta|谢谢(?:你|您)?|多谢|感谢)[\s!.。！]*$",
    re.IGNORECASE,
)

# A number followed by one of these is a quantity or a date, not a rating ("5 months",
# "3 a week", "1 June").
_QUANTITY = re.compile(
    r"^(?:months?|mo|mths?|weeks?|wks?|fortnights?|days?|years?|yrs?|hours?|hrs?|minutes?|mins?|pounds?|quid|"
    r"dollars?|bucks?|yuan|rmb|gbp|usd|cny|p|k|x|times|payments?|instalments?|installments?|more|other|of|per|"
    r"(?:a|an|per|every|each) (?:month|week|fortnight|day|year)|am|pm|o'?clock|percent|"
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b|^%",
    re.IGNORECASE,
)
_ZH_QUANTITY = re.compile(r"^(?:个月|月|期|号|日|块|元|天|周|星期|年|点|万|千|百|次|个|岁|%|分钟)")

_EN_SKIP = re.compile(
    r"^(?:skip(?: it| this| that)?|no,? thanks?|no,? thank you|not now|not today|pass|i'?ll pass|"
    r"(?:i'?d )?rather not|maybe later|later|no need|prefer not to(?: say)?|no comment|(?:i )?don'?t want to|"
    r"not interested)(?:[\s,.!]+(?:thanks?|thank you|cheers))?[\s.!]*$",
    re.IGNORECASE,
)
_ZH_SKIP = re.compile(
    r"^(?:跳过|不用了?|不需要了?|不了|算了|不必了?|不评(?:价|分)?了?|不想评(?:价|分)?|下次吧|下次再说|以后再说|"
    r"不打分了?|没空)(?:[\s,，。！!]*(?:谢谢(?:你|您)?|多谢))?[\s。！!.]*$"
)

_EN_RATING = re.compile(
    r"^(?:(?:i(?:'d| would)?|id) (?:give|rate) (?:it|you|this|that)?\s*(?:an? )?|(?:my )?(?:rating|score)(?: is)?:?\s*|"
    r"(?:give|rate) (?:it|you|this) (?:an? )?)?"
    r"(?P<number>[-+]?\d{1,6}(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|zero)"
    r"(?P<scale>(?:\s*(?:/|out of|of)\s*(?P<denominator>\d{1,3}|five|ten))?(?:\s*(?:stars?|points?))?"
    r"(?:\s*out of (?:5|five))?)"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ZH_RATING = re.compile(
    r"^(?:我?(?:给|打)(?:你|您|个|出)?\s*)?"
    r"(?P<number>[零〇一二两三四五六七八九十]|[-+]?\d{1,6}(?:\.\d+)?)"
    r"(?P<scale>(?:\s*(?:颗星|个星|星|分))?(?:好评)?)"
    r"(?P<rest>.*)$",
    re.DOTALL,
)
_STAR_RATING = re.compile(rf"^(?P<stars>[{_STARS}](?:[\s{_STARS}]|\ufe0f)*)(?P<rest>.*)$", re.DOTALL)


@dataclass(frozen=True)
class FeedbackAnswer:
    kind: str  # RATING | SKIP | OUT_OF_RANGE | NOT_AN_ANSWER
    rating: int | None = None
    comment: str | None = None  # the borrower's words after the rating, as typed (mask before storing)

    @property
    def answers(self) -> bool:
        return self.kind in (RATING, SKIP)


NOT_ONE = FeedbackAnswer(NOT_AN_ANSWER)


def normalise(text: str) -> str:
    """Full-width digits and punctuation as ASCII, curly apostrophes straight, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def read_answer(text: str) -> FeedbackAnswer:
    """What a message says in answer to "how did it go, from 1 to 5?" (see the module's docstring)."""
    raw = text or ""
    if not raw.strip() or len(raw) > MAX_ANSWER_CHARS or detect_vulnerability(raw):
        return NOT_ONE
    said = normalise(raw)
    if _EN_SKIP.match(said) or _ZH_SKIP.match(said):
        return FeedbackAnswer(SKIP)
    stars = _STAR_RATING.match(said)
    if stars:
        return _scored(sum(1 for ch in stars.group("stars") if ch in _STARS), stars.group("rest"))
    chinese = _ZH_RATING.match(said) if any(_is_cjk(ch) for ch in said) else None
    if chinese:
        answer = _read_chinese(chinese)  # "5分", "6个月": the Chinese reading of a number
        if answer.kind != NOT_AN_ANSWER:
            return answer
    english = _EN_RATING.match(said)
    return _read_english(english) if english else NOT_ONE


def _read_english(found: re.Match[str]) -> FeedbackAnswer:
    number, scale, rest = found.group("number").lower(), found.group("scale"), found.group("rest")
    if rest and rest[0] not in _SEPARATORS:
        return NOT_ONE  # "5th", "3rd", "5a" ("5分", "6个月": read as Chinese)
    words = rest.lstrip(_SEPARATORS)
    if not scale and (
        _QUANTITY.match(words) or words[:1].isdigit() or (number.isalpha() and rest[:1] == " " and words[:1].isalpha())
    ):
        return NOT_ONE  # "5 months", "3 a week", "1 June", "4111 1111 …", "one question"
    denominator = found.group("denominator")
    if denominator is not None and _number(denominator) != HIGHEST:
        return FeedbackAnswer(OUT_OF_RANGE)  # "8/10": another scale
    value = _number(number)
    return FeedbackAnswer(OUT_OF_RANGE) if value is None else _scored(value, rest)


def _read_chinese(found: re.Match[str]) -> FeedbackAnswer:
    number, scale, rest = found.group("number"), found.group("scale").strip(), found.group("rest")
    if rest and rest[0] not in _SEPARATORS and not _is_cjk(rest[0]):
        return NOT_ONE
    if not scale and _ZH_QUANTITY.match(rest.lstrip(_SEPARATORS)):
        return NOT_ONE  # "6个月", "15号", "五百块"
    if scale.startswith("分") and (rest.startswith("钟") or (number == "十" and _is_cjk(rest[:1]))):
        return NOT_ONE  # "五分钟" (five minutes), "十分满意" (very satisfied: no figure)
    if number in _ZH_DIGITS and not scale and _is_cjk(rest[:1]):
        return NOT_ONE  # "一下", "一般", "三个": a numeral inside words
    value = _number(number)
    return FeedbackAnswer(OUT_OF_RANGE) if value is None else _scored(value, rest)


def answers_question(text: str, shown: str | None, ranking: Sequence[tuple[str | None, float]] = ()) -> bool:
    """Whether the message is an answer to the feedback question the last reply asked
    (`shown`: the `feedback_step` that reply set), to be handled as one: a rating or a
    skip; a number outside the scale only the first time. Words after a rating that the
    classifier is sure ask for something (`ACTING_INTENTS`, any question) are that
    request instead."""
    if shown not in (ASKED, ASKED_AGAIN):
        return False
    answer = read_answer(text)
    if answer.kind == OUT_OF_RANGE:
        return shown == ASKED
    if not answer.answers:
        return False
    if answer.comment and ranking:
        intent, confidence = ranking[0]
        acting = intent in ACTING_INTENTS or (intent or "").startswith("ask_")
        if intent == "disclose_vulnerability" and detect_vulnerability(answer.comment) is None:
            # "五分，很方便": a lean to a disclosure without one word of it is a comment;
            # taken as a disclosure it would stop collection and hand the borrower on
            acting = False
        if acting and confidence >= ACTING_CONFIDENCE:
            return False
    return True


def may_ask(
    *,
    enabled: bool,
    verified: bool,
    resolved_kind: str | None,
    already_asked: bool,
    collection_stopped: bool,
    vulnerable: bool,
    crisis_in_conversation: bool,
) -> bool:
    """Whether the question may be asked now (see the module's docstring)."""
    return (
        enabled
        and verified
        and resolved_kind in RESOLVED_KINDS
        and not already_asked
        and not collection_stopped
        and not vulnerable
        and not crisis_in_conversation
    )


def _scored(value: int, rest: str) -> FeedbackAnswer:
    if not LOWEST <= value <= HIGHEST:
        return FeedbackAnswer(OUT_OF_RANGE)
    comment = _comment(rest)
    if comment is not None and "?" in comment:
        return NOT_ONE  # a question after the number: answered as a question, not filed as a comment
    return FeedbackAnswer(RATING, value, comment)


def _comment(rest: str) -> str | None:
    words = rest.strip(_SEPARATORS + "\ufe0f")
    if not words or _PLEASANTRIES.match(words):
        return None
    return words[:MAX_COMMENT_CHARS]


def _number(token: str) -> int | None:
    """A whole number written in digits, English or Chinese; None for a fraction."""
    token = token.strip().lower()
    if token in _WORDS:
        return _WORDS[token]
    if token in _ZH_DIGITS:
        return _ZH_DIGITS[token]
    if re.fullmatch(r"[-+]?\d+", token):
        return int(token)
    return None


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"
