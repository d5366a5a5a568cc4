"""Chinese amounts: a weekday's number (周五, 星期三, 礼拜天) is a day, never money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.parsing import parse_amount


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("我下周五全部还上", None),
        ("礼拜天还", None),
        ("每周100", Decimal(100)),
        ("每周5块", Decimal(5)),
        ("每周五还100", Decimal(100)),
        ("星期一之前还清", None),
        ("下周5还500", Decimal(500)),
        ("星期三还300块", Decimal(300)),
        ("周五还两百元", Decimal(200)),
        ("每月还五百", Decimal(500)),
    ],
)
def test_a_weekday_is_not_an_amount(text, amount):
    assert parse_amount(text) == amount
