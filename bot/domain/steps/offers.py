"""The offers: a choice by position or description, an amount, hardship, a person,
none of these, not now, a question."""

from __future__ import annotations

import re

from ..language_choice import CHOOSE_LANGUAGE, chooses_language
from ..parsing import parse_periodic_amount
from .lexicon import (
    _ASKED_ZH,
    _ASKS_OUTRIGHT,
    _ASKS_WHO,
    _BARE_MONTHS,
    _BOSS_ZH,
    _BY_A_DATE,
    _CANT_AFFORD,
    _CHOICE_MISTAKEN_FOR,
    _CJK,
    _COUNT_OF_PAYMENTS,
    _EACH,
    _ENDS_AS_QUESTION,
    _EXPLICIT_DATE,
    _FIGURE_EVERY_FEW_WEEKS_ZH,
    _HALF_YEAR,
    _HARDSHIP,
    _HUMAN,
    _IN_FULL,
    _IN_SOME_DAYS_ZH,
    _LENGTH_WORDS,
    _LONGEST,
    _MIDDLE,
    _NO,
    _NO_MONEY,
    _NONE_WORK,
    _NOT_NOW,
    _NOW,
    _OFFER_REFUSED,
    _OFFERS_AN_AMOUNT,
    _OK_TAG,
    _ONCE_PAID_ZH,
    _OPTION_WORDS,
    _OPTIONS_BAD,
    _ORDINALS,
    _PAY_NOW,
    _PAY_ON_A_DAY,
    _PAYS_THEN_ZH,
    _PLAN_ASKED,
    _PLAN_AT_AMOUNT,
    _PLAN_BY_AMOUNT,
    _PLAN_BY_MONTHS,
    _PLAN_NOUN,
    _PLAN_WORD,
    _POSITION,
    _QUESTION,
    _REFUSED_BEFORE,
    _REFUSES_EVEN,
    _SETTLE_OVERDUE_NOW,
    _SETTLEMENT,
    _SHORTEST,
    _STILL_TO_COME,
    _TAKE_NUMBER,
    _WHEN_PAID,
    _YEAR_LONG,
    ALWAYS_TOPIC,
    CLEAR_CONFIDENCE,
    CONSEQUENTIAL,
    QUESTIONS,
)
from .reading import (
    AMOUNT,
    CANT_AFFORD,
    CHOICE,
    CONFIRM_FIRST,
    HARDSHIP,
    HUMAN,
    NONE_WORK,
    NOT_NOW,
    QUESTION,
    SETTLEMENT,
    TOPIC,
    UNCLEAR,
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
    past_stray_details,
    plainly_terms,
)

_ZH_LENGTHS = {"三": 3, "仨": 3, "六": 6, "九": 9, "十二": 12}  # 行 三: a length said alone


@past_stray_details(
    lambda text, ranking: Reading(UNCLEAR),  # the options again, which one is asked
    {kind: Reading(CHOICE, kind=kind) for kind in ("choose_pay_now", "choose_plan", "choose_promise_to_pay")},
)
def read_at_offers(text: str, ranking: Ranking) -> Reading:
    """What a message means while the options are on screen."""
    text = _typing_slips(_plain_quotes(text))
    payload = _payload_intent(text)
    intent, confidence = _top(ranking)
    if payload:
        return Reading(TOPIC, intent=payload)
    if chooses_language(text, intent, confidence):
        return Reading(TOPIC, intent=CHOOSE_LANGUAGE)  # "English please": a language asked for, then the step again
    if (asks_how_paid(text) or (_ASKED_ZH.search(text) and not _NOT_NOW.search(text))) and not _pays_all_now(text):
        # "can it come out by direct debit", 这个每月75是从啥时候开始扣呢: how or when, asked; not a new date
        return Reading(QUESTION, intent=intent)
    bare = _BARE_MONTHS.search(text)
    if bare:
        number = bare.group(1).lower()
        months = (
            int(number) if number.isdigit() else _LENGTH_WORDS.get(number.replace("-", " "), _ZH_LENGTHS.get(number))
        )
        if months and months > 1:
            return Reading(CHOICE, months=months)  # "3", "twelve": a plan's length said alone
    if intent == "insult" and _OPTIONS_BAD.search(text):
        return Reading(NONE_WORK)  # "they're all rubbish": the options judged, not an insult
    if (
        intent in _CHOICE_MISTAKEN_FOR
        and confidence < 0.9
        and not (_CJK.search(text) and re.search(r"多少|几|吗|么|[?？]", text))  # 分6期的话总共要还多少: asked
    ):
        # "im choosing number 4", "300 x 3": an option by its position or length, which
        # the classifier took for someone else on the line or a balance question
        chosen = _choice(text)
        if chosen and (chosen.choice is not None or chosen.months is not None):
            return chosen
    if (
        intent in ALWAYS_TOPIC
        and confidence >= 0.5
        and intent not in {"request_hardship", "ask_settlement"}
        and not plainly_terms(text, intent)
        and not contradicted(text, intent, confidence)
        and not (intent.startswith("reason_") and _HARDSHIP.search(text))  # "我失业了，能不能少还点": asks for less
        and not (intent == "claim_already_paid" and _STILL_TO_COME.search(text))  # 明儿个转过去: not paid yet
    ):
        return Reading(TOPIC, intent=intent)
    if (
        _NO_MONEY.search(text)
        and not amount_with_period(text)
        and not _OFFERS_AN_AMOUNT.search(text)
        and not _EXPLICIT_DATE.search(text)  # "the money isnt there right now, … I can send the full 900 on the 30th"
    ):
        return Reading(CANT_AFFORD)  # "I don't have 900 quid lying around", 我哪有钱还, "… not now and not in 3 months"
    if (
        _CJK.search(text)
        and months_named(text)
        and re.search(r"开始(?:扣|还)|第一期|首期", text)
        and not re.search(r"几号|哪天|多少|吗|么|呢|[?？]", text)  # 分6期的话首期是几号: asked
        and not re.search(r"(?:个月|期)(?:以?后|之后)", text)  # 三个月后再开始还: a break, not a length
    ):
        # 6期 但能不能下个月10号发工资以后再开始扣: that plan, its first payment later (the form asks when)
        return Reading(CHOICE, months=months_named(text))
    if _pays_all_now(text):
        if intent == "choose_pay_now" and confidence >= 0.5:
            return Reading(TOPIC, intent=intent)  # the rules' way, as before (the options may be in the other language)
        return Reading(CHOICE, kind="choose_pay_now")  # 全额 现在 怎么付, 本人现可一次性偿还逾期款项900元
    if (
        _NOT_NOW.search(text)
        and not (_HARDSHIP.search(text) and not re.search(r"再(?:决定|定夺)", text))  # 让我缓两天再决定吧: later
        and not (_CJK.search(text) and amount_with_period(text))  # 每个月还个60块钱 等我转正了再多还: their figure
        and not (_CJK.search(text) and _names_a_day(text) and _PAYS_THEN_ZH.search(text))
    ):
        # but "能延期吗 等我找到工作再还" asks for a break, and 等我5号发了薪水就还 names the day
        return Reading(NOT_NOW)
    if (
        _SETTLEMENT.search(text)
        and not (_CJK.search(text) and _HARDSHIP.search(text))
        and not _SETTLE_OVERDUE_NOW.search(text)
    ) or (
        # sure of a settlement, in words the lexicon has not judged ("I'll settle the full
        # balance right now" is paying it all, which _SETTLEMENT leaves out on purpose)
        intent == "ask_settlement"
        and confidence >= CLEAR_CONFIDENCE
        and not re.search(r"\bsettle", text, re.I)
        and not _IN_FULL.search(text)
        and not _SETTLE_OVERDUE_NOW.search(text)
    ):
        return Reading(SETTLEMENT)  # not 有没有减免或者降低月供的政策，我实在困难 (hardship)
    # "about 40 a month is what I can afford": their figure, not a request for hardship
    amount = amount_with_period(text)
    if intent in QUESTIONS and confidence >= 0.9 and _ASKS_OUTRIGHT.search(text) and not _NONE_WORK.search(text):
        return Reading(TOPIC, intent=intent)  # "does paying the 900 stop the interest?": answered, not hardship
    if (
        _HARDSHIP.search(text)
        and not amount
        and not _points_at_option(text)
        and not (
            _CJK.search(text) and re.search(r"(?:\d{1,2}|[一二三六九十两]{1,3})\s*期", text)
        )  # 12期的吧 每个月少点: that plan
        and not (_IN_FULL.search(text) and _names_a_day(text))  # 给我宽限到下个月3号 到时候一次性还: a day
    ):
        return Reading(HARDSHIP)  # but "the longest one pls, smaller payments are easier" is that option
    if (
        _HUMAN.search(text)
        and (not _ASKS_WHO.search(text) or _BOSS_ZH.search(text))  # 你是机器人吧 叫你们经理来
        and not _confident_question(text, intent, confidence)
    ):
        return Reading(HUMAN)  # but "will you still call me if i choose a plan?" is a question
    if _NONE_WORK.search(text) and not amount and not _CANT_AFFORD.search(text) and not _PAY_NOW.search(text):
        return Reading(NONE_WORK)  # not "im going to pay the full amount right now … i dont need any plan"
    offered_then_ok = (
        _CJK.search(text) and _OK_TAG.search(text) and (_names_a_day(text) or months_named(text) or amount)
    )
    question = None if offered_then_ok else _question(text, intent, unsure=_unsure(ranking))
    if question and not (question.meaning == QUESTION and amount) and not _PAY_ON_A_DAY.search(text):
        # "is £60 monthly acceptable": their figure, asked about, is an offer; "will pay it when I get
        # paid on the 25th" is a date
        return question
    if _REFUSES_EVEN.search(text):
        return Reading(CANT_AFFORD)  # "even the smallest one is too much": no option fits
    choice = _choice(text)
    if choice:
        if choice.months is not None and intent == "request_hardship" and confidence >= 0.5:
            return Reading(HARDSHIP)  # "could I defer payments for 2 months": a break, not a plan
        if choice.months is not None and choice.kind is None and _figure_each_month(text, choice.months):
            return Reading(AMOUNT)  # 月供一百 分九个月还完: their own figure a month, weighed by the plan form
        return choice
    if intent in {"request_hardship", "ask_settlement"} and confidence >= 0.5:
        return Reading(TOPIC, intent=intent)
    if intent == "defer_decision":
        return Reading(NOT_NOW)
    if _CANT_AFFORD.search(text) and (not _OFFERS_AN_AMOUNT.search(text) or _OFFER_REFUSED.search(text)):
        # "thats way more than i have": what they can pay, not a dispute of the debt
        return Reading(CANT_AFFORD)
    if (
        intent in CONSEQUENTIAL
        and not CONSEQUENTIAL[intent].search(text)
        and not amount  # 一个礼拜三十块 多了真没有: their figure, not a dispute
    ):
        # at the options a dispute, an opt-out or a cancellation without its words is asked
        # first however sure the classifier is (我一把给你拍两千五，这账就算清了 read as a dispute 0.86)
        return Reading(CONFIRM_FIRST, intent=intent)
    placed = bool(ranking) and (
        ranking[0][0] == "offer_monthly_amount"
        or (
            ranking[0][0] in {"choose_pay_now", "choose_promise_to_pay"}
            and ranking[0][1] >= 0.5
            and (
                _EXPLICIT_DATE.search(text)
                or _WHEN_PAID.search(text)
                or _IN_FULL.search(text)
                or not _EACH.search(text)
            )
        )
    )
    if (amount or _FIGURE_EVERY_FEW_WEEKS_ZH.search(text)) and not placed and not _IN_FULL.search(text):
        # their figure, which the classifier did not see as one: the plan form weighs it
        # (a counter-offer), as the rules do when it does
        return Reading(AMOUNT)
    if _NONE_WORK.search(text) and not amount:
        return Reading(NONE_WORK)  # "none of those, but I could do £40 a month" is their figure
    if (_NO.search(text) or intent == "deny") and not re.search(r"\d", text):
        return Reading(NONE_WORK)
    if (
        _CJK.search(text)
        and _ENDS_AS_QUESTION.search(text)
        and (intent == "claim_already_paid" or intent in CONSEQUENTIAL)
    ):
        return Reading(QUESTION, intent=intent)  # 3200是全部欠款吗 还了900就不算逾期了？: asked, not claimed
    return Reading(TOPIC, intent=intent)


def _points_at_option(text: str) -> bool:
    """An option shown, named by its position ("the longest one", "第二个"); not one
    compared with ("less than the cheapest one")."""
    if re.search(r"\bthan (?:the |your )?(?:cheapest|lowest|smallest|longest|shortest)\b", text, re.I):
        return False
    chosen = _choice(text)
    return chosen is not None and chosen.choice is not None


def _confident_question(text: str, intent: str | None, confidence: float) -> bool:
    """A question about the terms the classifier is sure of, in the form of a question."""
    return intent in QUESTIONS and confidence >= 0.8 and bool(_QUESTION.search(text))


def _choice(text: str) -> Reading | None:
    among_plans = bool(_PLAN_NOUN.search(text))
    if _MIDDLE.search(text):
        return Reading(CHOICE, choice=0, among_plans=True)
    position = _POSITION.search(text)
    if position:
        digit, ordinal, zh, relative = position.groups()
        if digit:
            return Reading(CHOICE, choice=int(digit) if digit.isdigit() else _OPTION_WORDS[digit.lower()])
        if ordinal or zh:
            return Reading(CHOICE, choice=_ORDINALS[(ordinal or zh).lower()], among_plans=among_plans)
        return Reading(
            CHOICE,
            choice={"last": -1, "bottom": -1, "top": 1, "middle": 0}[relative.lower()],
            among_plans=among_plans or relative.lower() == "middle",
        )
    if _BY_A_DATE.search(text) or (_IN_FULL.search(text) and (_names_a_day(text) or _WHEN_PAID.search(text))):
        return Reading(CHOICE, kind="choose_promise_to_pay")
    if _CJK.search(text) and _names_a_day(text) and _ONCE_PAID_ZH.search(text):
        return Reading(CHOICE, kind="choose_promise_to_pay")  # 老板说下礼拜结工钱 结了马上还九百: that day
    paying_now = _PAY_NOW.search(text)
    if paying_now and not _REFUSED_BEFORE.search(text[: paying_now.start()]):
        return Reading(CHOICE, kind="choose_pay_now")  # but not "I can't pay now"
    if _SHORTEST.search(text) and (among_plans or re.search(r"\bone\b|\boption\b|那个|那种|方案|选项", text, re.I)):
        return Reading(CHOICE, choice=1, among_plans=True)
    if _LONGEST.search(text) and (
        among_plans
        or re.search(r"\bone\b|\boption\b|\bmonthly\b|\bpayments?\b|\bmonths\b|那个|那种|方案|选项", text, re.I)
    ):
        return Reading(CHOICE, choice=-1, among_plans=True)
    if _HALF_YEAR.search(text):
        return Reading(CHOICE, months=6)
    if (
        _CJK.search(text)
        and _names_a_day(text)
        and _PAYS_THEN_ZH.search(text)
        and not _EACH.search(text)
        and not months_named(text)
    ):
        return Reading(CHOICE, kind="choose_promise_to_pay")  # 等我5号发了薪水就还: the whole sum on that day
    if _YEAR_LONG.search(text) or (months_named(text) and not _IN_FULL.search(text)):
        return Reading(CHOICE, months=months_named(text) or 12)
    taken = _TAKE_NUMBER.search(text)
    if taken and not _IN_FULL.search(text):
        number = taken.group(1)
        return Reading(CHOICE, months=int(number) if number.isdigit() else _LENGTH_WORDS[number.lower()])
    count = _COUNT_OF_PAYMENTS.search(text)
    if count and not _IN_FULL.search(text):
        return Reading(CHOICE, months=int(next(g for g in count.groups() if g)))
    months = _PLAN_BY_MONTHS.search(text)
    if months and (_PLAN_WORD.search(text) or not _IN_FULL.search(text)):
        return Reading(CHOICE, months=int(next(g for g in months.groups() if g)))
    if _PLAN_ASKED.search(text):
        return Reading(CHOICE, kind="choose_plan")  # "split it into payments please": a plan, its length asked next
    if not _PLAN_WORD.search(text):
        return None
    amount = _PLAN_BY_AMOUNT.search(text) or _PLAN_AT_AMOUNT.search(text)
    if amount and re.search(r"\bones?\b|\boptions?\b|\bplans?\b|那个|那种|方案|选项|^\W*(?:我)?(?:选|要)", text, re.I):
        return Reading(CHOICE, amount=next(g for g in amount.groups() if g))
    return None


def _pays_all_now(text: str) -> bool:
    """The whole sum now, in Chinese words (全额 现在; 现可一次性偿还), even with "how?" after it."""
    return bool(
        _CJK.search(text)
        and _IN_FULL.search(text)
        and _NOW.search(text)
        and not _names_a_day(text)
        and not _CANT_AFFORD.search(text)
        and not _NOT_NOW.search(text)
        and not _EACH.search(text)
    )


def _figure_each_month(text: str, months: int) -> bool:
    """Their own figure with its period beside a length (月供一百 分九个月还完), which
    amount_with_period leaves out as a plan named by its length; not the length itself
    ("six monthly payments")."""
    said = parse_periodic_amount(text)
    return (
        said is not None
        and said.period is not None
        and said.amount > 0
        and said.amount != months
        and not _PLAN_AT_AMOUNT.search(text)
    )


def _names_a_day(text: str) -> bool:
    """A day to pay on, including one counted from today in Chinese (3天后)."""
    return bool(_EXPLICIT_DATE.search(text) or _IN_SOME_DAYS_ZH.search(text))
