"""The conduct rules in bot/domain/conduct.py, and a scan of every sentence in the domain."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from actions.domain_file import load_domain
from bot.domain import conduct, steps

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = load_domain(ROOT / "domain.yml")  # a directory of topic files, merged


def all_response_texts():
    for name, variations in DOMAIN["responses"].items():
        for variation in variations:
            yield name, variation.get("text", "")
            for button in variation.get("buttons", []):
                yield name, button["title"]


@pytest.mark.parametrize("name,text", list(all_response_texts()))
def test_no_response_threatens_misleads_or_pressures(name, text):
    assert conduct.banned_phrases_in(text) == [], f"{name} uses banned wording"


def test_the_scan_catches_banned_wording():
    assert conduct.banned_phrases_in("Pay now or we will take legal action") == ["legal action"]
    assert conduct.banned_phrases_in("Final warning: your employer will hear") == ["your employer", "final warning"]


def test_debt_collection_statement_is_only_given_after_verification():
    # The statement, summary and every amount live in responses that only
    # action_account_summary / action_tell_balance utter, and both refuse
    # without a verified loan (tests/actions/test_actions.py); here: the words exist.
    assert "about a debt" in DOMAIN["responses"]["utter_debt_collection_statement"][0]["text"]
    assert not conduct.may_discuss_loan(False) and conduct.may_discuss_loan(True)


def test_responses_before_verification_reveal_no_debt():
    for name in (
        "utter_intro",
        "utter_verify_first",
        "utter_ask_loan_ref",
        "utter_ask_date_of_birth",
        "utter_verification_failed",
        "utter_third_party",
        "utter_fraud_unverified",
        "utter_opt_out_unverified",
        "utter_faq_ask_why_contacted",
        "utter_crisis_support",
    ):
        text = DOMAIN["responses"][name][0]["text"].lower()
        for word in ("debt", "overdue", "arrears", "owe", "balance", "{overdue", "{amount"):
            assert word not in text, f"{name} mentions {word!r} before verification"


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"open_cases": ("dispute",)}, "dispute_open"),
        ({"open_cases": ("fraud_claim",)}, "fraud_claim_open"),
        ({"vulnerable": True}, "vulnerable"),
        ({"reason_code": "already_paid"}, "no_collection_reason"),
        ({"open_cases": ("payment_claim",)}, None),
        ({}, None),
    ],
)
def test_collection_is_blocked_by_disputes_fraud_and_vulnerability(kwargs, expected):
    block = conduct.collection_block(**kwargs)
    assert (block.reason if block else None) == expected


def test_agreements_need_an_explicit_yes_to_a_read_back():
    assert conduct.agreement_confirmed(steps.YES, read_back_given=True)
    assert not conduct.agreement_confirmed(steps.YES, read_back_given=False)
    assert not conduct.agreement_confirmed(steps.WORRY, read_back_given=True)
    assert not conduct.agreement_confirmed(steps.CORRECTION, read_back_given=True)


@pytest.mark.parametrize(
    "utc_hour,tz,allowed",
    [
        (7, "Europe/London", False),
        (8, "Europe/London", True),
        (20, "Europe/London", True),
        (21, "Europe/London", False),
        (13, "America/New_York", True),  # 08:00 in New York
        (12, "America/New_York", False),  # 07:00 in New York
        (14, "Asia/Shanghai", False),  # 22:00 in Shanghai
        (12, "Not/AZone", False),
    ],
)
def test_contact_only_between_8_and_21_local_time(utc_hour, tz, allowed):
    now = datetime(2026, 11, 23, utc_hour, 0, tzinfo=timezone.utc)
    assert conduct.within_contact_hours(now, tz) is allowed


def test_opt_outs_are_per_channel_or_all():
    assert conduct.opted_out("sms", ("sms",))
    assert not conduct.opted_out("whatsapp", ("sms",))
    assert conduct.opted_out("whatsapp", ("all",))


CRISIS = [
    "I want to end it all",
    "i dont want to live anymore",
    "I don't want to be here anymore",
    "thinking about killing myself",
    "I've had suicidal thoughts",
    "everyone would be better off without me",
    "I can't go on like this",
    "what's the point in living",
    "i want to die",
    "there's no reason to go on",
    "I might take my own life",
    "life is not worth living",
    "I'm going to hurt myself",
    "I just want to end my life",
    "I can't go on",
    "I keep thinking about ending my life",
    "I might as well be dead",
    "what's the point of living",
]
VULNERABLE = {
    "I have a gambling problem": "addiction",
    "I'm an alcoholic, addicted to drink": "addiction",
    "I can't cope with any of this": "mental_health",
    "I'm so overwhelmed": "mental_health",
    # issue 17: how borrowers actually say it
    "off work with depression": "mental_health",
    "I've been really depressed since christmas": "mental_health",
    "my anxiety has been bad": "mental_health",
    "struggling mentally at the moment": "mental_health",
    "I'm bipolar and had an episode": "mental_health",
    "on antidepressants and off sick": "mental_health",
    "mental health hasn't been great tbh": "mental_health",
    "been off sick with stress": "mental_health",
    "im struggling to cope": "mental_health",
    "I've been diagnosed with cancer": "serious_illness",
    "I'm on dialysis three times a week": "serious_illness",
    "my husband passed away last month": "bereavement",
    "the crisis team have been coming round": "mental_health",
    "honestly I'm not in a good place": "mental_health",
    "signed off work with anxiety since october": "mental_health",
    "I've been self-harming again": "mental_health",
    "I can't sleep with the worry": "mental_health",
    "I left an abusive relationship and I'm in a refuge": "life_event",
    "we were evicted last month": "life_event",
    "I'm a full time carer for my dad": "life_event",
    "I'm dyslexic so letters are hard for me": "capability",
}
CRISIS_ZH = [
    "我不想活了",
    "真的不想再活下去了",
    "活着没意思",
    "活着有什么意义",
    "我想自杀",
    "想过轻生",
    "我想死",
    "死了算了",
    "还不如死了",
    "一了百了吧",
    "想结束自己的生命",
    "想离开这个世界",
    "我想跳楼",
    "买了一瓶安眠药",
    "想喝农药",
    "没有活下去的理由了",
]
VULNERABLE_ZH = {
    "我有赌瘾": "addiction",
    "网赌输光了": "addiction",
    "他在戒毒": "addiction",
    "我酗酒": "addiction",
    "我有抑郁症": "mental_health",
    "我快崩溃了": "mental_health",
    "真的撑不下去了": "mental_health",
    "我扛不住了": "mental_health",
    "最近很焦虑": "mental_health",
    "我有双相情感障碍": "mental_health",
    "我被前夫家暴，搬出来了": "life_event",
    "最近天天失眠": "mental_health",
    "我看不懂字，都是孩子帮我看": "capability",
    "精神状态很差": "mental_health",
    "心理压力太大了": "mental_health",
    "我得了癌症": "serious_illness",
    "在做化疗": "serious_illness",
    "肺癌晚期": "serious_illness",
    "我爸中风了": "serious_illness",
    "老公在ICU": "serious_illness",
    "每周要透析": "serious_illness",
    "我妈上个月去世了": "bereavement",
    "我爸走了": "bereavement",
    "孩子死了": "bereavement",
    "刚办完丧事": "bereavement",
}
NOT_VULNERABLE_ZH = [
    "我失业了",
    "我的车坏了",
    "我想分期还款",
    "压力有点大",
    "我妈妈的钱没了",
    "手机死机了",
    "你去死吧",
    "我下周五还",
    "我老公住院了",
]
NOT_VULNERABLE = [
    "relationship breakdown",
    "my car broke down",
    "I lost my job",
    "can I pay over 6 months",
    "I'll end the plan early",
    "the app died on me",
    "I want to end my payment plan",
    "my car broke down",
    "just a bad month",
    "money has been tight",
    "I'm a bit worried about the payments",
    "work was stressful but I can pay now",
]


@pytest.mark.parametrize("text", CRISIS + CRISIS_ZH)
def test_crisis_language_is_recognised(text):
    assert conduct.detect_vulnerability(text) == "crisis"


@pytest.mark.parametrize("text,category", [*VULNERABLE.items(), *VULNERABLE_ZH.items()])
def test_vulnerability_is_recognised(text, category):
    assert conduct.detect_vulnerability(text) == category


@pytest.mark.parametrize("text", NOT_VULNERABLE + NOT_VULNERABLE_ZH)
def test_ordinary_messages_are_not_flagged(text):
    assert conduct.detect_vulnerability(text) is None


@pytest.mark.parametrize(
    ("text", "category"),
    [("I've been feeling really low for months", "mental_health"), ("honestly I've hit rock bottom", "mental_health"),
     ("I gambled my wages away at the bookies", "addiction"), ("I'm scared of my husband", "life_event")],
)  # fmt: skip
def test_more_ways_people_say_they_are_struggling(text, category):
    assert conduct.detect_vulnerability(text) == category
