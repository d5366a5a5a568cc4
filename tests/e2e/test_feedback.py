"""The feedback question (issue 14 §5) end to end, against the real servers and the
loan store: asked once after an agreement, in English and in Chinese; a rating (with
a comment, masked) or a skip filed in `feedback`; anything else goes on as normal and
the question is not asked again; over SMS the buttons are numbered and a number
answers; `python -m bot report`'s numbers follow."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.adapters.orm import Feedback
from bot.domain.clock import local_today
from bot.services.reporting import build_report
from tests.e2e.test_messaging import TextChannel, new_phone

pytestmark = pytest.mark.e2e

QUESTION_EN = "how did this conversation go, from 1 (poor) to 5 (very good)?"
QUESTION_ZH = "请从1（很差）到5（很好）打分"


def sender() -> str:
    return f"e2e-feedback-{uuid.uuid4().hex[:10]}"


def feedback_rows(servers, conversation_id: str) -> list[Feedback]:
    with servers.store.db.reader() as s:
        return list(s.scalars(select(Feedback).where(Feedback.conversation_id == conversation_id)).all())


def agree_pay_now(servers, who: str, ref: str, dob: str = "1980-06-01") -> str:
    servers.say(who, "hi")
    servers.say(who, ref)
    servers.say(who, dob)
    servers.say(who, "sorry, I just forgot")
    assert "To confirm: you'll pay £250.00 today" in servers.say(who, "I'll pay it now")
    return servers.say(who, "yes")


def test_feedback_given_in_english_with_a_comment(servers):
    who, ref = sender(), servers.new_loan()
    reply = agree_pay_now(servers, who, ref)
    assert "AG-" in reply and QUESTION_EN in reply
    assert "[1]" in reply and "[5]" in reply and "[Skip]" in reply
    assert "anything else I can help with, just tell me" in reply
    [asked] = feedback_rows(servers, who)
    assert (asked.status, asked.language, asked.channel) == ("asked", "en", "rest")

    reply = servers.say(who, "4, quick and easy. My card 4111 1111 1111 1111 worked fine")
    assert "Thank you for your feedback and your comments" in reply
    [rated] = feedback_rows(servers, who)
    assert (rated.status, rated.rating) == ("rated", 4)
    assert rated.comment.startswith("quick and easy. My card ") and "4111" not in rated.comment
    [agreement] = [a for a in servers.store.agreements() if a.loan_ref == ref]
    assert rated.agreement_id is not None and agreement.kind == "pay_now"

    # the conversation goes on; a later number is not a rating and nothing is asked again
    reply = servers.say(who, "when is my next payment?")
    assert QUESTION_EN not in reply and "Thank you for your feedback" not in reply
    reply = servers.say(who, "5")
    assert "Thank you for your feedback" not in reply
    assert [(r.status, r.rating) for r in feedback_rows(servers, who)] == [("rated", 4)]

    today = local_today("UTC")
    figures = build_report(servers.store, today - timedelta(days=1), today + timedelta(days=1))["feedback"]
    assert figures["rated"] >= 1 and figures["by_channel"]["rest"]["rated"] >= 1


def test_feedback_skipped_and_ignored_never_traps_the_borrower(servers):
    who, ref = sender(), servers.new_loan()
    assert QUESTION_EN in agree_pay_now(servers, who, ref)
    assert "No problem. Thank you for your time today" in servers.say(who, "no thanks")
    [skipped] = feedback_rows(servers, who)
    assert (skipped.status, skipped.rating, skipped.comment) == ("skipped", None, None)

    # ignored: a question is answered as usual and the question stays unanswered
    other, ref2 = sender(), servers.new_loan()
    assert QUESTION_EN in agree_pay_now(servers, other, ref2)
    reply = servers.say(other, "how do I pay?")
    assert "Thank you for your feedback" not in reply and "scale goes from 1" not in reply
    assert [r.status for r in feedback_rows(servers, other)] == ["asked"]

    # a number outside the scale gets the scale once; then the next message goes on as normal
    third, ref3 = sender(), servers.new_loan()
    assert QUESTION_EN in agree_pay_now(servers, third, ref3)
    assert "The scale goes from 1 (poor) to 5 (very good)" in servers.say(third, "7")
    reply = servers.say(third, "12")
    assert "scale goes from 1" not in reply and "Thank you for your feedback" not in reply
    assert [r.status for r in feedback_rows(servers, third)] == ["asked"]


def test_feedback_in_chinese(servers):
    who = sender()
    ref = servers.new_loan(language="zh", currency="CNY", timezone="Asia/Shanghai", overdue="600.00")
    servers.say(who, "hi")
    servers.say(who, ref)
    assert "您的个人贷款" in servers.say(who, "1980-06-01")
    servers.say(who, "/reason_forgot")
    assert "请确认" in servers.say(who, "/choose_pay_now")
    reply = servers.say(who, "/affirm")
    assert QUESTION_EN not in reply and QUESTION_ZH in reply
    assert "[5分]" in reply and "[跳过]" in reply

    assert "感谢您的评价和意见" in servers.say(who, "五分，很方便")
    [rated] = feedback_rows(servers, who)
    assert (rated.status, rated.rating, rated.comment, rated.language) == ("rated", 5, "很方便", "zh")

    other = sender()
    ref2 = servers.new_loan(language="zh", currency="CNY", timezone="Asia/Shanghai", overdue="600.00")
    servers.say(other, "hi")
    servers.say(other, ref2)
    servers.say(other, "1980-06-01")
    servers.say(other, "/reason_forgot")
    servers.say(other, "/choose_pay_now")
    assert QUESTION_ZH in servers.say(other, "/affirm")
    assert "没问题" in servers.say(other, "不用了")
    assert [(r.status, r.language) for r in feedback_rows(servers, other)] == [("skipped", "zh")]


def test_over_sms_the_options_are_numbered_and_a_number_answers(servers):
    phone = new_phone()
    servers.new_loan(phone=phone)
    sms = TextChannel(servers, "twilio", phone)
    sms.say("hi")
    assert "you're verified" in sms.say("1980-06-01")
    sms.say("sorry, I just forgot")
    assert "To confirm" in sms.say("I'll pay it now")
    reply = sms.say("yes")
    assert QUESTION_EN in reply and "6. Skip" in reply and "Reply 1, 2, 3, 4, 5 or 6." in reply
    assert "Thank you for your feedback" in sms.say("4")
    [rated] = feedback_rows(servers, phone)
    assert (rated.status, rated.rating, rated.channel) == ("rated", 4, "twilio")
    assert date.today() - rated.answered_at.date() <= timedelta(days=1)
