"""A Chinese-speaking borrower in the chat widget (headless Debian Chromium through
Playwright): from the greeting to a recorded plan, then each situation of issue 13 §8
(a promise, pay now, their own figure, hardship, a dispute, fraud, already paid, an
opt-out, a person, a crisis, a settlement, someone else), typed and clicked as a borrower
would, with what each leaves in the loan store checked after. An existing plan (two
conversations) is tested over REST in test_situations_zh.py."""

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


ZH_LOAN = {"language": "zh", "currency": "CNY", "timezone": "Asia/Shanghai", "overdue": "600.00"}
YES = "是的，没错"


def _verified(servers, page, **loan) -> str:
    ref = servers.new_loan(**{**ZH_LOAN, **loan})
    say(page, "您好")
    bot_says(page, "贷款编号")
    say(page, ref)
    bot_says(page, "出生日期")
    say(page, "1980年6月1日")
    bot_says(page, "是什么原因")
    return ref


def _turns(page, turns) -> None:
    """Each turn: ("say", text), ("click", button name or pattern) or ("sees", text or pattern)."""
    for kind, value in turns:
        if kind == "say":
            say(page, value)
        elif kind == "click":
            page.get_by_role("button", name=value).last.click()
        else:
            bot_says(page, value)


def _agreement(servers, ref):
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == ref]
    return agreement.kind, agreement.total_amount, agreement.channel


def _case(servers, ref):
    return [(c["kind"], c["status"]) for c in servers.store.cases(ref)]


def _handoff(servers, ref):
    return [(h["reason"], h["priority"], h["channel"]) for h in servers.store.handoffs() if h["loan_ref"] == ref]


# Each situation of issue 13 §8 in the widget, in Chinese, with what it leaves in the loan store.
SITUATIONS = {
    "promise": (
        {},
        [("say", "忘记了"), ("sees", "哪一种最适合您"), ("say", "我下周五全部还上"), ("sees", "请确认"), ("click", YES), ("sees", "已完成")],
        lambda servers, ref: _agreement(servers, ref) == ("promise_to_pay", Decimal("600.00"), "socketio"),
    ),
    "pay_now": (
        {},
        [("say", "我现在就全部还清"), ("sees", "请确认"), ("click", YES), ("sees", "pay.acme-lending.example")],
        lambda servers, ref: _agreement(servers, ref) == ("pay_now", Decimal("600.00"), "socketio"),
    ),
    "own_amount": (
        {},
        [("say", "工资被降了"), ("say", "每个月只能还300"), ("sees", "共需2期"), ("say", "下周五"), ("sees", "请确认"),
         ("click", YES), ("sees", "已完成")],
        lambda servers, ref: _agreement(servers, ref) == ("instalment_plan", Decimal("600.00"), "socketio"),
    ),
    "hardship": (
        {},
        [("say", "我失业了，能不能暂停还款"), ("click", re.compile(r"^2个月内暂不还款")), ("sees", "请确认"), ("click", YES),
         ("sees", "已完成")],
        lambda servers, ref: _agreement(servers, ref)[0] == "hardship_deferral",
    ),
    "dispute": (
        {},
        [("say", "金额不对，我不欠这么多"), ("sees", "已记录您的异议")],
        lambda servers, ref: _case(servers, ref) == [("dispute", "open")]
        and servers.store.loan_report(ref)["status"] == "on_hold",
    ),
    "fraud": (
        {},
        [("say", "这笔贷款不是我借的，有人冒用了我的身份"), ("sees", "疑似欺诈")],
        lambda servers, ref: _case(servers, ref) == [("fraud_claim", "open")]
        and [reason for reason, _, _ in _handoff(servers, ref)] == ["fraud"],
    ),
    "already_paid": (
        {},
        [("say", "我上周已经还过了"), ("sees", "哪天还的款"), ("say", "上周五"), ("sees", "还了多少钱"), ("say", "600"),
         ("sees", "什么方式"), ("say", "银行转账"), ("sees", "转交我们的团队核实")],
        lambda servers, ref: _case(servers, ref) == [("payment_claim", "open")],
    ),
    "opt_out": (
        {},
        [("say", "别再给我发短信了"), ("click", "所有渠道"), ("sees", "不会再通过任何渠道联系您")],
        lambda servers, ref: servers.store.account(ref).opted_out_channels == ("all",),
    ),
    "handoff": (
        {},
        [("say", "我要找人工客服"), ("sees", "HO-")],
        lambda servers, ref: [reason for reason, _, _ in _handoff(servers, ref)] == ["requested"],
    ),
    "crisis": (
        {},
        [("say", "我真的不想活了"), ("sees", "撒玛利亚会")],
        lambda servers, ref: servers.store.account(ref).vulnerable
        and [priority for _, priority, _ in _handoff(servers, ref)] == ["urgent"],
    ),
    "settlement": (
        {"overdue": "1500.00", "outstanding": "2000.00", "days_past_due": 120},
        [("say", "能不能少还一点一次性结清"), ("sees", "10%"), ("say", "不行"), ("sees", "25%"), ("say", "好的"),
         ("sees", "pay.acme-lending.example")],
        lambda servers, ref: _agreement(servers, ref) == ("settlement", Decimal("1500.00"), "socketio"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("situation", sorted(SITUATIONS))
def test_each_situation_in_chinese_in_the_widget(servers, web, phone, situation):  # noqa: F811
    loan, turns, recorded = SITUATIONS[situation]
    page = open_chat(phone, web)
    ref = _verified(servers, page, **loan)
    _turns(page, turns)
    assert recorded(servers, ref)
    page.close()


def test_someone_else_learns_nothing_in_the_widget(servers, web, phone):  # noqa: F811
    ref = servers.new_loan(**ZH_LOAN)
    before = sum(e["event_type"] == "third_party_contact" for e in servers.store.audit_events())
    page = open_chat(phone, web)
    say(page, "你好")
    bot_says(page, "贷款编号")
    say(page, "我是他老婆，他住院了")
    bot_says(page, "只能与账户持有人本人沟通")
    assert not any("¥" in text or ref in text for text in bot_texts(page))
    assert sum(e["event_type"] == "third_party_contact" for e in servers.store.audit_events()) == before + 1
    page.close()
