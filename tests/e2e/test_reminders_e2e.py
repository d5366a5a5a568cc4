"""A proactive reminder end to end: `python -m bot remind` starts the conversation
through Rasa's trigger_intent API on the borrower's SMS, the text names the
lender and not the debt, and the borrower's reply continues the same
conversation with only the date of birth asked."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.adapters import orm as models
from bot.domain.formatting import format_money
from tests.e2e.conftest import ROOT, TEST_SETTINGS
from tests.e2e.test_messaging import DOB, TextChannel, new_phone

pytestmark = pytest.mark.e2e


def remind(servers, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **TEST_SETTINGS,
        "DATABASE_URL": servers.database_url,
        "RASA_URL": servers.rasa_url,
    }
    noon = datetime.combine(datetime.now(timezone.utc).date(), time(12, 0), tzinfo=timezone.utc)
    return subprocess.run(
        [sys.executable, "-m", "bot", "remind", "--now", noon.isoformat(), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def attempts_for(servers, loan_ref: str) -> list[models.ContactAttempt]:
    with servers.store.db.reader() as s:
        loan_id = s.scalar(select(models.Loan.id).where(models.Loan.loan_ref == loan_ref))
        return list(s.scalars(select(models.ContactAttempt).where(models.ContactAttempt.loan_id == loan_id)))


def test_a_reminder_by_sms_then_the_borrower_replies(servers):
    phone = new_phone()
    loan_ref = servers.new_loan(days_past_due=7, phone=phone)
    sms = TextChannel(servers, "twilio", phone)

    dry = remind(servers, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert loan_ref in dry.stdout and phone not in dry.stdout
    assert sms.new_texts() == [] and attempts_for(servers, loan_ref) == []

    run = remind(servers)
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1 only if another loan's send failed
    [attempt] = attempts_for(servers, loan_ref)
    assert (attempt.outcome, attempt.channel, attempt.conversation_id) == ("sent", "sms", phone)

    opening = "\n".join(sms.new_texts())
    assert "Acme Lending" in opening and "reply STOP" in opening and "date of birth" in opening
    for secret in ("£", "overdue", "debt", "loan", loan_ref):
        assert secret not in opening

    reply = sms.say(DOB)
    assert "verified" in reply and "£250.00" in reply

    # Run again the same day: not reminded twice (the skip and its reason are recorded).
    remind(servers)
    assert [(a.outcome, a.skip_reason) for a in attempts_for(servers, loan_ref)] == [
        ("sent", None),
        ("skipped", "already_reminded_today"),
    ]


def test_a_chinese_speaking_borrower_is_reminded_in_chinese(servers):
    phone = new_phone()
    loan_ref = servers.new_loan(days_past_due=7, phone=phone, language="zh")
    sms = TextChannel(servers, "twilio", phone)
    remind(servers)
    opening = "\n".join(sms.new_texts())
    assert "这里是Acme Lending的自动助手" in opening and "请回复STOP" in opening
    for secret in ("£", "逾期", "贷款", "debt", loan_ref):
        assert secret not in opening
    reply = sms.say("1980年6月1日")
    assert "身份验证已通过" in reply and "您的个人贷款" in reply
    assert format_money(Decimal("250.00"), "GBP", "zh") in reply


def test_stop_after_a_reminder_opts_out_of_sms(servers):
    phone = new_phone()
    loan_ref = servers.new_loan(days_past_due=14, phone=phone)
    sms = TextChannel(servers, "twilio", phone)
    remind(servers)
    assert "reply STOP" in "\n".join(sms.new_texts())
    reply = sms.say("STOP")
    assert "won't contact you on SMS" in reply
    assert servers.store.account(loan_ref).opted_out_channels == ("twilio",)
