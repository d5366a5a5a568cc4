"""The step readers in Chinese: a yes with its particles is a yes, a change names
what it changes (首期 is the first payment's date, 下个月 is not a plan length),
and "let me think" is not now. (Development examples; the blind Chinese set in
tests/heldout/blind/zh/ is never read to write these.)"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain import steps

UNSURE = (("nlu_fallback", 0.4),)


@pytest.mark.parametrize(
    "text", ["对的", "嗯嗯", "好滴", "可以的", "行吧", "没毛病", "没错", "确定", "ok的", "好嘞，办吧", "同意"]
)
def test_a_chinese_yes_at_the_read_back_records(text):
    assert steps.read_at_read_back(text, UNSURE).meaning == steps.YES


@pytest.mark.parametrize("text", ["好多钱啊", "对不起我再看看", "是不是还要手续费", "行不行啊这个"])
def test_what_only_looks_like_a_yes_is_not_one(text):
    assert steps.read_at_read_back(text, UNSURE).meaning != steps.YES


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("首期能改到25号吗", steps.CHANGE_DATE),
        ("改成下个月10号开始", steps.CHANGE_DATE),
        ("改成12期吧", steps.CHANGE_MONTHS),
        ("我还是想一次性还掉", steps.CHANGE_KIND),
        ("可以是可以，就怕到时候还不上", steps.WORRY),
        ("等我跟老婆商量一下再定", steps.NOT_NOW),
        ("过两天再说", steps.NOT_NOW),
    ],
)
def test_a_chinese_answer_at_the_read_back_means_what_it_says(text, meaning):
    assert steps.read_at_read_back(text, UNSURE).meaning == meaning


@pytest.mark.parametrize("text", ["现在不方便说", "不想谈这个", "不便透露", "现在不方便接电话"])
def test_rather_not_say_is_not_now_at_the_reason_question(text):
    assert steps.read_at_reason(text, UNSURE).meaning == steps.NOT_NOW


def test_say_it_again_is_not_not_now():
    assert steps.read_at_offers("能再说一遍吗", UNSURE).meaning != steps.NOT_NOW


# Session 13 (development phrasings of the kinds; the blind set is never read).
@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("能不能分6个月", steps.CHANGE_MONTHS),
        ("可以分6期吗", steps.CHANGE_MONTHS),
        ("期限再长点", steps.CHANGE_MONTHS),
        ("每个月300太高了，改成200", steps.CHANGE_AMOUNT),
        ("我15号发工资，能15号扣吗", steps.CHANGE_DATE),
        ("每月几号还", steps.QUESTION),
        ("这个方案不是我要的", steps.CORRECTION),
        ("不对，不要了", steps.NO),
        ("欠款金额不对", steps.CONFIRM_FIRST),
    ],
)
def test_more_chinese_at_the_read_back(text, meaning):
    assert steps.read_at_read_back(text, UNSURE).meaning == meaning


def test_an_amount_alone_is_not_the_debt_disputed():
    assert steps.read_at_read_back("金额好像不对", [("dispute_debt", 0.95)]).meaning == steps.CORRECTION


@pytest.mark.parametrize(
    ("text", "ranking", "reading"),
    [
        ("最长那个方案", UNSURE, steps.Reading(steps.CHOICE, choice=-1, among_plans=True)),
        ("最短的那个", UNSURE, steps.Reading(steps.CHOICE, choice=1, among_plans=True)),
        ("每期300的那个", UNSURE, steps.Reading(steps.CHOICE, amount="300")),
        ("我实在负担不了这些", UNSURE, steps.Reading(steps.CANT_AFFORD)),
        ("能宽限几个月吗", (("request_hardship", 0.9),), steps.Reading(steps.HARDSHIP)),
        ("每期少还一点行吗", (("request_hardship", 0.9),), steps.Reading(steps.HARDSHIP)),
        ("少还一点，一次性结清", (("ask_settlement", 0.9),), steps.Reading(steps.SETTLEMENT)),
    ],
)
def test_more_chinese_at_the_offers(text, ranking, reading):
    assert steps.read_at_offers(text, ranking) == reading


def test_chinese_at_the_reason_question():
    assert steps.read_at_reason("这个月钱比较紧", (("request_hardship", 0.7),)) == steps.Reading(
        steps.REASON, reason="other"
    )


@pytest.mark.parametrize(
    ("text", "ranking", "reading"),
    [
        ("就选最后那个", UNSURE, steps.Reading(steps.CHOICE, choice=-1, among_plans=False)),
        ("分九期", (("choose_plan", 0.9),), steps.Reading(steps.CHOICE, months=9)),
        ("有没有别的方式", UNSURE, steps.Reading(steps.NONE_WORK)),
        ("每周还30块", (("choose_promise_to_pay", 0.7),), steps.Reading(steps.AMOUNT)),
        ("要每月300的", UNSURE, steps.Reading(steps.CHOICE, amount="300")),
    ],
)
def test_still_more_chinese_at_the_offers(text, ranking, reading):
    assert steps.read_at_offers(text, ranking) == reading


@pytest.mark.parametrize(
    ("text", "ranking", "meaning"),
    [
        ("跟刚才定的不一样", (("dispute_debt", 0.7),), steps.CORRECTION),
        ("好，就是不敢保证每个月都按时", (("affirm", 0.9),), steps.WORRY),
        ("下周开始还可以吗", (("request_hardship", 0.95),), steps.CHANGE_DATE),
        ("首期推两周", UNSURE, steps.CHANGE_DATE),
    ],
)
def test_still_more_chinese_at_the_read_back(text, ranking, meaning):
    assert steps.read_at_read_back(text, ranking).meaning == meaning


@pytest.mark.parametrize(
    ("text", "ranking", "meaning"),
    [
        ("日期不太合适", UNSURE, steps.CHANGE_DATE),
        ("首期推到月底", UNSURE, steps.CHANGE_DATE),
        ("第一次扣款推到下月初", UNSURE, steps.CHANGE_DATE),
        ("10号以后再扣", (("inform", 0.6),), steps.CHANGE_DATE),
        ("发了工资再开始扣", (("defer_decision", 0.6),), steps.CHANGE_DATE),
        ("能不能28号扣", (("request_hardship", 0.6),), steps.CHANGE_DATE),
        ("能不能推迟到下个月15号", (("request_hardship", 0.69),), steps.CHANGE_DATE),  # a day, not a break
        ("能不能推迟到下个月", (("request_hardship", 0.69),), steps.TOPIC),  # no day: hardship's question
        ("改成两年", UNSURE, steps.CHANGE_MONTHS),
        ("三个月太短了", UNSURE, steps.CHANGE_MONTHS),
        ("每期太高了", (("dispute_debt", 0.8),), steps.CHANGE_AMOUNT),
    ],
)
def test_chinese_changes_at_the_read_back_say_what_they_change(text, ranking, meaning):
    assert steps.read_at_read_back(text, ranking).meaning == meaning


def test_paying_at_once_is_now_unless_a_day_is_named():
    assert steps.read_at_offers("直接一次性还掉", UNSURE) == steps.Reading(steps.CHOICE, kind="choose_pay_now")
    later = steps.read_at_offers("下个月一次性还清", (("choose_promise_to_pay", 0.6),))
    assert later == steps.Reading(steps.CHOICE, kind="choose_promise_to_pay")


def test_the_length_they_are_leaving_is_not_the_length_they_want():
    assert steps.months_wanted("半年太短了") is None
    assert steps.months_wanted("6个月太长了，改成12个月") == 12


def test_a_length_turned_away_in_chinese_is_not_the_one_wanted():
    assert steps.months_wanted("不要6期 要12") == 12
    assert (
        steps.read_at_read_back("不要6期 要12", [("choose_plan", 0.74), ("deny", 0.22)]).meaning == steps.CHANGE_MONTHS
    )


@pytest.mark.parametrize("text", ["可以吧但是", "行吧，不过…", "ok but"])
def test_a_yes_left_hanging_on_a_but_is_a_worry_not_a_yes(text):
    """Nothing may be recorded on 可以吧但是: the borrower has more to say."""
    assert steps.read_at_read_back(text, [("affirm", 0.9)]).meaning == steps.WORRY


@pytest.mark.parametrize(
    ("text", "ranking", "meaning"),
    [
        # the terms said back, then a yes at the end
        ("3期 每月300 十天后开始扣 对", UNSURE, steps.YES),
        ("三个月，每月三百，十天后开始，我同意。", (("offer_monthly_amount", 0.9),), steps.YES),
        # but not a yes with more said before it
        ("每月300 太多了 行", UNSURE, steps.CHANGE_AMOUNT),
        ("900 我上个月还了 对", UNSURE, steps.UNCLEAR),
        ("3期 300 不要", UNSURE, steps.NO),
        # yeses typed fast, by sound or by initials
        ("好好好 确认 别再问了", (("affirm", 0.95),), steps.YES),
        ("队的 就这样", (("affirm", 0.8),), steps.YES),
        ("hd 确认", (("affirm", 0.9),), steps.YES),
        ("回复慢了点 不过没问题 确认了", (("reason_other", 0.9),), steps.YES),
        # Cantonese no
        ("唔要啊", UNSURE, steps.NO),
        # the start moved, either way
        ("开始时间能不能提前到后天", (("request_hardship", 0.56),), steps.CHANGE_DATE),
        ("手期能不能往后挪几天", (("change_payment_date", 0.99),), steps.CHANGE_DATE),
        # a longer plan asked for with a worry beside it
        ("分九期行不行 三百压力有点大", UNSURE, steps.CHANGE_MONTHS),
        ("压力挺大 不知道能不能撑12个月", UNSURE, steps.WORRY),  # a worry about the length, not a new one
        ("改成six months吧", UNSURE, steps.CHANGE_MONTHS),
        # later, not paid
        ("太晚了 明天再处理", (("claim_already_paid", 0.88),), steps.NOT_NOW),
    ],
)
def test_session_20_unseen_kinds_at_the_read_back(text, ranking, meaning):
    restated = frozenset(map(Decimal, [900, 300, 3, 150, 6, 7, 10]))
    assert steps.read_at_read_back(text, ranking, restated).meaning == meaning


@pytest.mark.parametrize(
    ("text", "ranking", "reading"),
    [
        ("那我直接全款还了吧", (("claim_already_paid", 0.7),), steps.Reading(steps.CHOICE, kind="choose_pay_now")),
        (
            "20号前一次性还清 行吗",
            (("choose_promise_to_pay", 0.9),),
            steps.Reading(steps.CHOICE, kind="choose_promise_to_pay"),
        ),
        ("分六起吧 每月少点", (("choose_plan", 0.7),), steps.Reading(steps.CHOICE, months=6)),
        ("一周能拿出来五十", UNSURE, steps.Reading(steps.AMOUNT)),
        ("梁周一百", (("inform", 0.75), ("offer_monthly_amount", 0.1)), steps.Reading(steps.AMOUNT)),
        ("这钱我一分都拿不出来", (("reason_other", 0.49),), steps.Reading(steps.CANT_AFFORD)),
        ("有没有hardship plan", UNSURE, steps.Reading(steps.HARDSHIP)),
        ("正在开会 later", UNSURE, steps.Reading(steps.NOT_NOW)),
        ("这几个方案有什么区别", (("choose_plan", 0.82),), steps.Reading(steps.QUESTION, intent="choose_plan")),
        ("结清是什么意思", (("ask_next_payment", 0.88),), steps.Reading(steps.QUESTION, intent="ask_next_payment")),
    ],
)
def test_session_20_unseen_kinds_at_the_offers(text, ranking, reading):
    assert steps.read_at_offers(text, ranking) == reading


@pytest.mark.parametrize(
    ("text", "ranking", "reading"),
    [
        ("我一次拍一千五，这账就算清了，行不", (("dispute_debt", 0.86),), steps.Reading(steps.SETTLEMENT)),
        (
            "就这样吧，一次给你们两千，咋样",
            (("dispute_debt", 0.9),),
            steps.Reading(steps.CONFIRM_FIRST, intent="dispute_debt"),
        ),
        ("算了，我现在就把钱还了嘛", (("choose_pay_now", 0.92),), steps.Reading(steps.CHOICE, kind="choose_pay_now")),
        ("三个方案都不考虑", (("reason_other", 0.96),), steps.Reading(steps.NONE_WORK)),
        ("看了一圈 没一个合适的", (("reason_other", 0.48),), steps.Reading(steps.NONE_WORK)),
        ("能不能先停三个月", (("request_hardship", 1.0),), steps.Reading(steps.HARDSHIP)),
        ("先停两个月不还 等我缓过来", UNSURE, steps.Reading(steps.HARDSHIP)),
        ("莫得钱 拿啥子还", UNSURE, steps.Reading(steps.CANT_AFFORD)),
        ("你是机器人吧 喊个真人来", UNSURE, steps.Reading(steps.HUMAN)),
    ],
)
def test_session_20_second_unseen_round_at_the_offers(text, ranking, reading):
    """Never a dispute recorded at the options on the classifier alone: without the words of
    one it is asked first, however sure (a settlement offer was once read as a dispute 0.86)."""
    assert steps.read_at_offers(text, ranking) == reading


def test_still_is_not_paying_now():
    """现在还没发工资: 还 as "still", not "pay"."""
    assert steps.read_at_offers("现在还没发工资", UNSURE).kind != "choose_pay_now"
