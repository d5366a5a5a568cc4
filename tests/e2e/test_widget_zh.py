"""A Chinese-speaking borrower in the chat widget (headless Debian Chromium through
Playwright), from the greeting to a recorded plan, with the database checked after."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bot.domain.formatting import format_money
from tests.e2e.test_widget import bot_says, bot_texts, browser, open_chat, phone, say, web  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e


def test_a_chinese_borrower_agrees_a_plan_in_the_widget(servers, web, phone, tmp_path):  # noqa: F811
    loan = servers.new_loan(language="zh", currency="CNY", timezone="Asia/Shanghai", overdue="600.00")
    page = open_chat(phone, web)

    say(page, "您好")
    bot_says(page, "自动客服助手")
    bot_says(page, "贷款编号")
    say(page, loan)
    bot_says(page, "出生日期")
    say(page, "1980年6月1日")
    bot_says(page, "身份验证已通过")
    bot_says(page, "是什么原因")
    say(page, "最近孩子生病花了不少钱")

    monthly = format_money(Decimal("100.00"), "CNY", "zh")
    plan_button = page.get_by_role("button", name=f"分6期，每月还款{monthly}")
    plan_button.click()
    bot_says(page, "第一期")
    say(page, "10天后")
    bot_says(page, "请确认")
    page.get_by_role("button", name="是的，没错").click()
    bot_says(page, re.compile(r"编号为AG-[A-Z0-9]{8}"))
    page.screenshot(path=str(tmp_path / "widget-zh-agreed.png"))
    assert not any("Hello" in text or "verified" in text for text in bot_texts(page))

    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == loan]
    assert agreement.kind == "instalment_plan" and len(agreement.instalments) == 6
    assert agreement.channel == "socketio"
