"""Chinese crisis and vulnerability language the lexicon reads whatever the intent
classifier makes of it, and everyday exaggeration it must not read as a crisis."""

from __future__ import annotations

import pytest

from bot.domain.conduct import detect_vulnerability


@pytest.mark.parametrize(
    "text",
    [
        "活着还有什么意思",
        "我买了农药放在家里",
        "我又割伤自己了",
        "反正死了就不用还了",
        "人死债消，你们看着办",
        "大不了一死",
        "你们这是要逼死我",
        "遗书我都写好了",
        "我想结束这一切",
        "没有我他们会过得更好",
        "我在屋里烧炭",
        "他拿着刀在门口，救命",
    ],
)
def test_chinese_crisis_language_is_a_crisis(text):
    assert detect_vulnerability(text) == "crisis"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我有强迫症，很难处理这些事", "mental_health"),
        ("这段时间每天都在哭", "mental_health"),
        ("我控制不住自己去赌球", "addiction"),
        ("我瘫痪在床两年了", "serious_illness"),
        ("我不识几个字，看不懂合同", "capability"),
        ("老公喝醉了就打我，我不敢回家", "life_event"),
    ],
)
def test_chinese_vulnerability_language_is_flagged(text, category):
    assert detect_vulnerability(text) == category


@pytest.mark.parametrize("text", ["笑死我了", "气死我了，利息这么高", "累死了，刚下班", "我想分6期还", "下周五还"])
def test_everyday_exaggeration_is_not_a_crisis(text):
    assert detect_vulnerability(text) is None
