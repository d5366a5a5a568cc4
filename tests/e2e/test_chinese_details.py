"""Issue 13 §4-6 end to end over REST against the real servers and database: both
verification details in one message verify in one step, in English and in Chinese; a
date of birth given first is kept until the reference comes; wrong details count one
attempt and reveal nothing; a Chinese speaker is greeted in Chinese by the name they
expect; "next Friday" and 下周五 are the same day, read back and recorded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.adapters.orm import Borrower, Loan
from bot.domain.clock import local_today
from bot.domain.formatting import format_day
from tests.e2e.test_conversations import sender

pytestmark = pytest.mark.e2e
ZH_LOAN = {"language": "zh", "currency": "CNY", "timezone": "Asia/Shanghai", "overdue": "600.00"}


def name_borrower(servers, ref: str, full: str, family: str | None, title: str | None) -> None:
    with servers.store.db.transaction() as s:
        borrower = s.scalar(select(Borrower).join(Loan).where(Loan.loan_ref == ref))
        borrower.full_name, borrower.family_name, borrower.title = full, family, title


def audit(servers, ref: str) -> list[str]:
    return [e["event_type"] for e in servers.store.audit_events(ref) if e["event_type"].startswith("verification_")]


def test_both_details_in_one_english_message_verify_in_one_step(servers):
    ref = servers.new_loan()
    who = sender()
    servers.say(who, "hi")
    reply = servers.say(who, f"it's {ref}, born 1 june 1980")
    assert "you're verified" in reply and "date of birth" not in reply
    assert "£250.00" in reply  # the account summary follows at once
    assert audit(servers, ref) == ["verification_passed"]


def test_both_details_in_one_chinese_message_greet_the_borrower_as_they_expect(servers):
    ref = servers.new_loan(**ZH_LOAN)
    name_borrower(servers, ref, "王芳", "王", "ms")
    who = sender()
    servers.say(who, "您好")
    reply = servers.say(who, f"借款编号{ref}，生日1980年6月1日")
    assert "谢谢您，王女士，身份验证已通过。" in reply
    assert "出生日期" not in reply and "芳" not in reply and "verified" not in reply
    assert audit(servers, ref) == ["verification_passed"]


def test_a_chinese_speaker_on_an_english_file_without_a_title_gets_the_full_name_in_chinese(servers):
    ref = servers.new_loan(language="zh", overdue="300.00")
    name_borrower(servers, ref, "Grace Li", "Li", None)
    who = sender()
    reply = servers.say(who, f"1980年6月1日出生，贷款编号是{ref}")
    assert "谢谢您，Grace Li，身份验证已通过。" in reply and "Thank you" not in reply


def test_a_date_of_birth_first_is_kept_until_the_reference(servers):
    ref = servers.new_loan()
    who = sender()
    servers.say(who, "hello")
    reply = servers.say(who, "1 June 1980")
    assert "noted your date of birth" in reply and "loan reference" in reply
    assert audit(servers, ref) == []
    reply = servers.say(who, ref)
    assert "you're verified" in reply and "date of birth" not in reply
    assert audit(servers, ref) == ["verification_passed"]


def test_wrong_details_in_one_message_count_once_and_reveal_nothing(servers):
    ref = servers.new_loan()
    who = sender()
    servers.say(who, "hi")
    reply = servers.say(who, f"{ref} born 2 June 1980")
    assert "don't match our records" in reply and "2 more attempt" in reply
    assert "£" not in reply and "Test Borrower" not in reply
    assert audit(servers, ref) == ["verification_failed"]
    reply = servers.say(who, f"{ref} 1 June 1980")
    assert "you're verified" in reply


def test_next_friday_is_friday_of_next_week_read_back_and_recorded(servers):
    ref = servers.new_loan(overdue="120.00")
    who = sender()
    servers.say(who, "hi")
    servers.say(who, f"{ref} 1 June 1980")
    servers.say(who, "sorry, I just forgot")
    today = local_today("Europe/London")
    friday = today - timedelta(days=today.weekday()) + timedelta(weeks=1, days=4)
    reply = servers.say(who, "I'll pay it all next friday")
    assert "To confirm: you promise to pay £120.00 by" in reply and format_day(friday, "en") in reply  # "Friday, …"
    servers.say(who, "yes")
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == ref]
    assert agreement.instalments[0].due_date == friday and agreement.total_amount == Decimal("120.00")
