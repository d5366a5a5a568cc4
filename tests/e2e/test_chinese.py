"""A Chinese-speaking borrower over REST.

A borrower who has written nothing that shows a language ("hi", a reference, a
date) hears the deployment's default language until verified, then the language
on file (the loan store's `language`), with the lender's texts and the product's
name in Chinese. Crisis language in Chinese is recognised by the lexicon whatever
the intent classifier makes of it. (tests/e2e/test_situations_zh.py: every
situation typed in Chinese.)"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from bot.domain.formatting import format_money

pytestmark = pytest.mark.e2e


def test_a_chinese_borrower_hears_chinese_and_a_crisis_is_answered_with_care(servers):
    who = f"e2e-zh-{uuid.uuid4().hex[:10]}"
    ref = servers.new_loan(language="zh", currency="CNY", timezone="Asia/Shanghai", overdue="600.00")
    servers.say(who, "hi")
    assert "date of birth" in servers.say(who, ref)
    reply = servers.say(who, "1980-06-01")
    assert "您的个人贷款" in reply and format_money(Decimal("600.00"), "CNY", "zh") in reply
    assert "正在就一笔债务与您联系" in reply  # the debt-collection statement, in Chinese

    reply = servers.say(who, "我真的不想活了")
    assert "撒玛利亚会" in reply and "请拨打999" in reply  # CRISIS_LINE's built-in Chinese, EMERGENCY_NUMBER
    assert "还款" not in reply.split("撒玛利亚会")[0]  # no talk of payment before the help
    assert servers.store.account(ref).vulnerable
    [handoff] = [h for h in servers.store.handoffs() if h["conversation_id"] == who]
    assert handoff["priority"] == "urgent"


def test_a_chinese_borrower_agrees_an_instalment_plan_in_chinese(servers):
    """Typed Chinese all the way: a reason, a plan length, a first date and a yes."""
    who = f"e2e-zh-{uuid.uuid4().hex[:10]}"
    ref = servers.new_loan(language="zh", currency="CNY", timezone="Asia/Shanghai", overdue="600.00")
    servers.say(who, "你好")
    servers.say(who, ref)
    assert "您的个人贷款" in servers.say(who, "1980年6月1日")

    reply = servers.say(who, "车坏了，修车把钱都花光了")
    assert format_money(Decimal("600.00"), "CNY", "zh") in reply  # the offers, in Chinese money
    assert [a for a in servers.store.agreements() if a.loan_ref == ref] == []

    assert "第一期" in servers.say(who, "我想分6期还")
    reply = servers.say(who, "10天后")
    assert format_money(Decimal("100.00"), "CNY", "zh") in reply  # the read-back: 6 x 100.00
    assert [a for a in servers.store.agreements() if a.loan_ref == ref] == []  # nothing before the yes

    reply = servers.say(who, "好的，没问题")
    assert "已完成" in reply
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == ref]
    assert agreement.kind == "instalment_plan" and len(agreement.instalments) == 6
    assert sum(i.amount for i in agreement.instalments) == Decimal("600.00")
    report = servers.store.loan_report(ref)
    assert report["reasons"][-1]["reason_code"] == "unexpected_expense"
