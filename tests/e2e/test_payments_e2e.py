"""Payments end to end (issue 14), against the running assistant: a plan agreed over SMS
is paid by the payment webhook and completes, the borrower is thanked (within the
contact hours) and the report shows it; a missed promise gets a real broken-promise
reminder whose conversation says so; a borrower who paid gets no reminder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from datetime import time as clock_time
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.adapters import orm as models
from bot.domain import conduct
from bot.domain.agreements import AgreementProposal
from bot.domain.clock import local_today
from bot.domain.payment_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.e2e.conftest import ROOT, TEST_SETTINGS
from tests.e2e.test_messaging import DOB, TextChannel, agreements_for, new_phone, option_number
from tests.e2e.test_reminders_e2e import attempts_for, remind

pytestmark = pytest.mark.e2e
SECRET = TEST_SETTINGS["PAYMENT_WEBHOOK_SECRET"]
_ids = iter(range(1, 10**6))


def deliver(servers, payment: dict, *, secret: str = SECRET) -> tuple[int, dict]:
    """POST one signed payment to the assistant's payment webhook."""
    body = json.dumps(payment).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body)}
    request = urllib.request.Request(f"{servers.rasa_url}/payments/webhook", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def payment(loan_ref: str, amount: str, paid_at: datetime | None = None, payment_id: str | None = None) -> dict:
    paid_at = paid_at or datetime.now(timezone.utc) - timedelta(minutes=5)
    return {
        "payment_id": payment_id or f"e2e-pay-{next(_ids)}",
        "loan_ref": loan_ref,
        "paid_at": paid_at.isoformat(),
        "amount": amount,
        "currency": "GBP",
        "method": "card",
    }


def report(servers) -> dict:
    env = {**os.environ, **TEST_SETTINGS, "DATABASE_URL": servers.database_url}
    today = datetime.now(timezone.utc).date().isoformat()
    out = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--from", today, "--to", today, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def thanks_expected(now: datetime) -> bool:
    return conduct.within_contact_hours(now, "Europe/London")


def test_a_plan_agreed_over_sms_is_paid_by_webhook_completes_and_shows_in_the_report(servers):
    phone = new_phone()
    ref = servers.new_loan(phone=phone)
    sms = TextChannel(servers, "twilio", phone)
    sms.say("hi")
    assert "you're verified" in sms.say(DOB)
    reply = sms.say("I lost my job")
    plan = option_number(reply, r"3 monthly payments of £83\.33")
    assert "When would you like the first payment" in sms.say(plan)
    assert "To confirm: 3 monthly payments" in sms.say("in 10 days")
    assert re.search(r"reference is (AG-[A-Z0-9]{8})", sms.say("yes"))
    [agreement] = agreements_for(servers, ref)
    amounts = [str(i.amount) for i in agreement.instalments]
    assert amounts == ["83.33", "83.33", "83.34"]

    first = payment(ref, amounts[0])
    assert deliver(servers, first) == (200, {"payment_id": first["payment_id"], "status": "recorded", "reason": None})
    assert deliver(servers, first)[1]["status"] == "already_recorded"  # delivered again: recorded once
    for amount in amounts[1:]:
        assert deliver(servers, payment(ref, amount))[1]["status"] == "recorded"

    [agreement] = agreements_for(servers, ref)
    assert agreement.status == "completed"
    assert [i.status for i in agreement.instalments] == ["paid", "paid", "paid"]
    account = servers.store.account(ref)
    assert (account.overdue_amount, account.days_past_due, account.open_agreement) == (Decimal("0.00"), 0, None)
    assert len(servers.store.payments(loan_ref=ref)) == 3

    # at most one thank-you, on the borrower's SMS, within the contact hours
    deadline = time.time() + 20
    thanks = []
    while time.time() < deadline and not thanks:
        thanks = [t for t in sms.new_texts() if "thank you, we have received your payment" in t]
        if not thanks_expected(datetime.now(timezone.utc)):
            break
        time.sleep(0.5)
    thanked = [(a.trigger, a.outcome, a.skip_reason) for a in attempts_for(servers, ref)]
    if thanks_expected(datetime.now(timezone.utc)):
        assert len(thanks) == 1 and "Acme Lending" in thanks[0] and "£" not in thanks[0]
        assert ("payment_thanks", "sent", None) in thanked
    else:
        assert thanks == []
    assert [t for t in thanked if t[1] == "sent"] in ([], [("payment_thanks", "sent", None)])

    outcomes = report(servers)["outcomes"]
    assert outcomes["completed"] >= 1 and outcomes["plan_completion_rate"] is not None
    assert outcomes["by"]["channel"]["twilio"]["completed"] >= 1
    assert outcomes["by"]["reason_code"]["unemployment"]["completed"] >= 1


def promise(servers, loan_ref: str, days_ago: int, amount: str = "250.00"):
    """A promise made 10 days ago to pay by `days_ago` days ago."""
    made = datetime.now(timezone.utc) - timedelta(days=10)
    due = local_today("Europe/London") - timedelta(days=days_ago)
    proposal = AgreementProposal(
        kind="promise_to_pay",
        total_amount=Decimal(amount),
        currency="GBP",
        instalments=((due, Decimal(amount)),),
        terms={"promise_date": due.isoformat()},
    )
    return servers.store.record_agreement(loan_ref, proposal, idempotency_key=f"e2e-{loan_ref}", now=made).agreement


def test_a_missed_promise_gets_a_real_broken_promise_reminder(servers):
    phone = new_phone()
    ref = servers.new_loan(phone=phone, days_past_due=20)
    sms = TextChannel(servers, "twilio", phone)
    promise(servers, ref, days_ago=5)

    run = remind(servers)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    [agreement] = agreements_for(servers, ref)
    assert agreement.status == "broken" and agreement.instalments[0].status == "missed"
    assert [(a.trigger, a.outcome) for a in attempts_for(servers, ref)] == [("broken_promise", "sent")]
    opening = "\n".join(sms.new_texts())
    assert "Acme Lending" in opening and "date of birth" in opening
    for secret in ("£", "promise", "debt", ref):
        assert secret not in opening  # the opening never names the debt

    reply = sms.say(DOB)
    assert "you're verified" in reply
    assert "The payment of £250.00 you arranged for" in reply and "hasn't reached us" in reply
    assert "what made it hard" in reply.lower() or "what happened" in reply.lower() or "?" in reply

    remind(servers)  # reminded once per miss
    assert [a.outcome for a in attempts_for(servers, ref) if a.trigger == "broken_promise"] in (
        ["sent"],
        ["sent", "skipped"],
    )


def test_a_borrower_who_paid_gets_no_reminder(servers):
    phone = new_phone()
    ref = servers.new_loan(phone=phone, days_past_due=20)
    sms = TextChannel(servers, "twilio", phone)
    promise(servers, ref, days_ago=5)
    paid_at = datetime.combine(local_today("Europe/London") - timedelta(days=6), clock_time(9), tzinfo=timezone.utc)
    status, answer = deliver(servers, payment(ref, "250.00", paid_at=paid_at))
    assert (status, answer["status"]) == (200, "recorded")
    [agreement] = agreements_for(servers, ref)
    assert agreement.status == "completed"

    remind(servers)
    triggers = [a.trigger for a in attempts_for(servers, ref)]
    assert not {"broken_promise", "missed_instalment", "promise_due"} & set(triggers)
    assert set(triggers) <= {"payment_thanks"}
    texts = sms.new_texts()
    assert not any("We'd like a quick word" in t for t in texts)
    with servers.store.db.reader() as s:
        loan_id = s.scalar(select(models.Loan.id).where(models.Loan.loan_ref == ref))
        assert s.scalar(select(models.Payment.status).where(models.Payment.loan_id == loan_id)) == "applied"
