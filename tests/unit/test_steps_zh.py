"""The step readers in Chinese: a yes with its particles is a yes, a change names
what it changes (首期 is the first payment's date, 下个月 is not a plan length),
and "let me think" is not now. (Development examples; the blind Chinese set in
tests/heldout/blind/zh/ is never read to write these.)"""

from __future__ import annotations

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


def test_say_it_again_is_not_not_now():
    assert steps.read_at_offers("能再说一遍吗", UNSURE).meaning != steps.NOT_NOW
