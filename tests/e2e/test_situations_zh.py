"""Every borrower situation end to end in Simplified Chinese, over REST, against the
real servers and database: the Chinese intents of the shipped model, the Chinese
responses, money and dates formatted for zh, and the rows each agreement, case,
opt-out or handoff leaves. (tests/e2e/test_situations.py is the English side.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.domain.formatting import format_money
from tests.e2e.test_conversations import sender

pytestmark = pytest.mark.e2e
ZH_LOAN = {"language": "zh", "currency": "CNY", "timezone": "Asia/Shanghai", "overdue": "600.00"}
DOB = "1980年6月1日"


def yuan(amount: str) -> str:
    return format_money(Decimal(amount), "CNY", "zh")


def verified(servers, **loan) -> tuple[str, str]:
    ref = servers.new_loan(**{**ZH_LOAN, **loan})
    who = sender()
    assert "自动客服助手" in servers.say(who, "您好")
    assert "出生日期" in servers.say(who, ref)
    reply = servers.say(who, DOB)
    assert "身份验证已通过" in reply and "是什么原因" in reply
    return who, ref


def agreements(servers, ref):
    return [a for a in servers.store.agreements() if a.loan_ref == ref]


def test_the_first_message_sets_the_language_and_a_switch_is_followed(servers):
    """Chinese from the greeting on; "ok" or a reference shows no language and keeps it;
    an English sentence switches the replies to English."""
    servers.new_loan()
    who = sender()
    reply = servers.say(who, "您好")
    assert "您好，我是" in reply and "贷款编号" in reply and "Hello" not in reply
    reply = servers.say(who, "ok")
    assert "贷款编号" in reply and "loan reference" not in reply
    reply = servers.say(who, "sorry, could you write in English please")
    assert "loan reference" in reply and "贷款编号" not in reply


def test_a_borrower_who_writes_chinese_hears_chinese_though_english_is_on_file(servers):
    ref = servers.new_loan(language="en", overdue="300.00")
    who = sender()
    servers.say(who, "你好")
    servers.say(who, ref)
    reply = servers.say(who, DOB)
    assert "身份验证已通过" in reply and "逾期金额为£300.00" in reply and "overdue" not in reply


def test_a_promise_to_pay_by_a_weekday(servers):
    who, ref = verified(servers)
    assert yuan("600.00") in servers.say(who, "忘记了")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    reply = servers.say(who, "我下周五全部还上")
    # 下周五 is the Friday of next week (Monday to Sunday), read back with its date
    friday = today - timedelta(days=today.weekday()) + timedelta(days=7 + 4)
    assert "请确认" in reply and yuan("600.00") in reply
    assert f"{friday.year}年{friday.month}月{friday.day}日" in reply
    assert agreements(servers, ref) == []  # nothing before the yes
    assert "已完成" in servers.say(who, "是的")
    [agreement] = agreements(servers, ref)
    assert agreement.kind == "promise_to_pay" and agreement.total_amount == Decimal("600.00")
    assert agreement.instalments[0].due_date == friday


def test_pay_now_gives_the_lenders_payment_page(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "我现在就全部还清")
    assert "请确认" in reply and yuan("600.00") in reply
    reply = servers.say(who, "是的")
    assert "pay.acme-lending.example" in reply and "绝不会在对话中索要您的银行卡信息" in reply
    [agreement] = agreements(servers, ref)
    assert agreement.kind == "pay_now"


def test_the_borrowers_own_monthly_figure(servers):
    who, ref = verified(servers)
    servers.say(who, "工资被降了")
    reply = servers.say(who, "每个月只能还300")
    assert yuan("300.00") in reply and "共需2期" in reply
    assert "请确认" in servers.say(who, "下周五")
    assert "已完成" in servers.say(who, "好的")
    [agreement] = agreements(servers, ref)
    assert agreement.kind == "instalment_plan"
    assert [i.amount for i in agreement.instalments] == [Decimal("300.00"), Decimal("300.00")]


def test_hardship_offers_a_break_without_pressure(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "我失业了，能不能暂停还款")
    assert "失去了工作" in reply and "暂不还款" in reply
    assert f"[现在还款{yuan('600.00')}]" not in reply  # no push for one large payment
    reply = servers.say(who, '/request_hardship{"holiday_months": "2"}')
    assert "请确认" in reply
    servers.say(who, "是的")
    [agreement] = agreements(servers, ref)
    assert agreement.kind == "hardship_deferral" and agreement.terms["holiday_months"] == 2


def test_a_dispute_is_recorded_and_collection_held(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "金额不对，我不欠这么多")
    assert "已记录您的异议（CS-" in reply and "书面形式" in reply
    [case] = servers.store.cases(ref)
    assert case["kind"] == "dispute" and case["status"] == "open"
    assert servers.store.loan_report(ref)["status"] == "on_hold"
    assert "每月还款" not in servers.say(who, "我想分6期还")


def test_a_fraud_claim_stops_collection_and_goes_to_a_person(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "这笔贷款不是我借的，有人冒用了我的身份")
    assert "疑似欺诈（CS-" in reply and "HO-" in reply
    assert [c["kind"] for c in servers.store.cases(ref)] == ["fraud_claim"]
    assert any(h["reason"] == "fraud" and h["conversation_id"] == who for h in servers.store.handoffs())


def test_already_paid_becomes_a_payment_claim(servers):
    who, ref = verified(servers)
    assert "哪天还的款" in servers.say(who, "我上周已经还过了")
    assert "还了多少钱" in servers.say(who, "上周五")
    assert "什么方式" in servers.say(who, "600")
    reply = servers.say(who, "银行转账")
    assert "转交我们的团队核实（CS-" in reply and yuan("600.00") in reply and "银行转账" not in reply
    [case] = servers.store.cases(ref)
    assert case["kind"] == "payment_claim" and case["details"]["amount"] == "600.00"


def test_someone_else_learns_nothing(servers):
    servers.new_loan(**ZH_LOAN)
    who = sender()
    servers.say(who, "你好")
    reply = servers.say(who, "我是他老婆，他住院了")
    assert "只能与账户持有人本人沟通" in reply and "¥" not in reply and "LN-" not in reply
    events = [e for e in servers.store.audit_events() if e["event_type"] == "third_party_contact"]
    assert any(e["conversation_id"] == who for e in events)


def test_stop_contacting_me_is_recorded(servers):
    who, ref = verified(servers)
    reply = servers.say(who, "别再给我发短信了")
    assert "[仅当前渠道]" in reply and "[所有渠道]" in reply
    servers.say(who, '/stop_contact{"opt_out_scope": "all"}')
    assert servers.store.account(ref).opted_out_channels == ("all",)


def test_asking_for_a_person_queues_the_conversation(servers):
    who, _ = verified(servers)
    reply = servers.say(who, "我要找人工客服")
    assert "HO-" in reply and "之前回复您" in reply
    [handoff] = [h for h in servers.store.handoffs() if h["conversation_id"] == who]
    assert handoff["reason"] == "requested"


def test_an_existing_plan_in_chinese(servers):
    """A plan agreed in one conversation, then asked about and cancelled in the next
    (its own loan: the demo's plan belongs to the English tests)."""
    who, ref = verified(servers)
    servers.say(who, "工资被降了")
    servers.say(who, "我想分6期还")
    servers.say(who, "10天后")
    assert "已完成" in servers.say(who, "好的")
    again = sender()
    servers.say(again, "你好")
    servers.say(again, ref)
    assert "已通过" in servers.say(again, DOB)
    assert "下一期应于" in servers.say(again, "我下次还款是什么时候")
    assert "确定取消吗" in servers.say(again, "我想取消还款计划")
    assert "已取消" in servers.say(again, "是的")
    assert agreements(servers, ref)[-1].status == "cancelled"


def test_a_settlement_improves_once_then_is_recorded(servers):
    who, ref = verified(servers, overdue="1500.00", outstanding="2000.00", days_past_due=120)
    reply = servers.say(who, "能不能少还一点一次性结清")
    assert yuan("1800.00") in reply and "10%" in reply
    reply = servers.say(who, "不行")
    assert yuan("1500.00") in reply and "25%" in reply
    assert "pay.acme-lending.example" in servers.say(who, "好的")
    [agreement] = agreements(servers, ref)
    assert agreement.kind == "settlement" and agreement.total_amount == Decimal("1500.00")
