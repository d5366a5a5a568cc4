"""Proactive reminders (`python -m bot remind`): triggers, contact rules, recording, Rasa calls.

The database and the clock are set up by each test. Rasa's HTTP API is stood in
for by a small local HTTP server that records the trigger_intent calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot.adapters.orm import Agreement, AuditEvent, Borrower, Case, ContactAttempt, Instalment, Loan
from bot.adapters.rasa_trigger import RasaTrigger
from bot.adapters.store import LoanStore
from bot.services.reminders import ReminderRules, plan_reminders, run_reminders, summary
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # 10:00 London, 05:00 New York, 18:00 Shanghai
TODAY = NOW.date()
RULES = ReminderRules()  # 1,7,14,30,60 days past due; due in 3 days; 08:00-21:00; 7 in 7 days


# ---------------------------------------------------------------- a stand-in for Rasa's HTTP API


class FakeRasa:
    """Answers POST /conversations/{id}/trigger_intent like Rasa and remembers each call."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                url = urlsplit(self.path)
                fake.requests.append({"path": url.path, "query": parse_qs(url.query), "json": body})
                time.sleep(fake.delay)
                sender = url.path.split("/")[2]
                payload = {"tracker": {"sender_id": sender, "latest_message": {"intent": {"name": body["name"]}}}}
                if fake.status != 200:
                    payload = {"status": "failure", "reason": "ConversationError", "code": fake.status}
                data = json.dumps(payload).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rasa():
    fake = FakeRasa()
    yield fake
    fake.close()


@pytest.fixture
def db(sqlite_store):
    return sqlite_store.db


# ---------------------------------------------------------------- the portfolio each test builds


_phones = iter(range(900100, 999999))


def add_loan(
    db,
    ref,
    *,
    dpd=0,
    tz="Europe/London",
    channel="sms",
    phone="auto",
    chat_id=None,
    openid=None,
    vulnerable=False,
    borrower_id=None,
    overdue="100.00",
    language="en",
) -> int:
    """A borrower (or an existing one) with one loan; returns the borrower id."""
    with db.transaction() as s:
        borrower = (
            s.get(Borrower, borrower_id)
            if borrower_id
            else Borrower(
                full_name="Pat Example",
                date_of_birth=date(1980, 5, 17),
                phone=f"+447700{next(_phones)}" if phone == "auto" else phone,
                timezone=tz,
                language=language,
                contact_preferences={},
                preferred_channel=channel,
                telegram_chat_id=chat_id,
                wechat_openid=openid,
                vulnerable=vulnerable,
            )
        )
        s.add(
            Loan(
                loan_ref=ref,
                borrower=borrower,
                product="personal_loan",
                currency="GBP",
                principal=Decimal("1000.00"),
                outstanding_balance=Decimal("800.00"),
                overdue_amount=Decimal(overdue),
                days_past_due=dpd,
            )
        )
        s.flush()
        return borrower.id


def add_agreement(db, ref, kind, due_dates, *, status="scheduled"):
    with db.transaction() as s:
        loan = s.scalar(select(Loan).where(Loan.loan_ref == ref))
        agreement = Agreement(
            agreement_ref=f"AG-{ref}",
            loan=loan,
            kind=kind,
            status="active",
            total_amount=Decimal("50.00") * len(due_dates),
            currency="GBP",
            terms={},
            idempotency_key=f"key-{ref}",
        )
        s.add(agreement)
        for n, due in enumerate(due_dates, start=1):
            s.add(Instalment(agreement=agreement, sequence=n, due_date=due, amount=Decimal("50.00"), status=status))


def add_sent(db, borrower_id, when, *, n=1, loan_ref=None, trigger="days_past_due_7"):
    with db.transaction() as s:
        loan_id = s.scalar(select(Loan.id).where(Loan.loan_ref == loan_ref)) if loan_ref else None
        for _ in range(n):
            s.add(
                ContactAttempt(
                    borrower_id=borrower_id,
                    loan_id=loan_id,
                    channel="sms",
                    trigger=trigger,
                    outcome="sent",
                    created_at=when,
                )
            )


def attempts(db) -> list[ContactAttempt]:
    with db.reader() as s:
        return s.scalars(select(ContactAttempt).order_by(ContactAttempt.id)).all()


def decisions(db, now=NOW, rules=RULES) -> dict[str, tuple[str, str | None]]:
    """{loan_ref: (trigger, skip reason or None)}"""
    return {r.loan_ref: (r.trigger, r.skip_reason) for r in plan_reminders(LoanStore(db), rules, now)}


# ---------------------------------------------------------------- triggers


def test_each_trigger_is_selected(db):
    for ref, dpd in [("LN-1", 1), ("LN-7", 7), ("LN-8", 8), ("LN-60", 60), ("LN-14P", 0)]:
        add_loan(db, ref, dpd=dpd)
    add_loan(db, "LN-PAID", dpd=14, overdue="0.00")  # nothing overdue: no reminder
    for ref in ("LN-PLAN", "LN-PROM", "LN-MISS", "LN-BROK", "LN-SOON2"):
        add_loan(db, ref, dpd=20)
    add_agreement(db, "LN-PLAN", "instalment_plan", [TODAY + timedelta(days=3), TODAY + timedelta(days=33)])
    add_agreement(db, "LN-PROM", "promise_to_pay", [TODAY + timedelta(days=3)])
    add_agreement(db, "LN-MISS", "instalment_plan", [TODAY - timedelta(days=1), TODAY + timedelta(days=29)])
    add_agreement(db, "LN-BROK", "promise_to_pay", [TODAY - timedelta(days=2)])
    add_agreement(db, "LN-SOON2", "instalment_plan", [TODAY + timedelta(days=2)])  # not exactly 3 days
    assert {ref: trigger for ref, (trigger, _) in decisions(db).items()} == {
        "LN-1": "newly_overdue",
        "LN-7": "days_past_due_7",
        "LN-60": "days_past_due_60",
        "LN-PLAN": "instalment_due",
        "LN-PROM": "promise_due",
        "LN-MISS": "missed_instalment",
        "LN-BROK": "broken_promise",
    }


def test_one_reminder_per_loan_the_most_important_trigger(db):
    add_loan(db, "LN-A", dpd=7)  # at a reminder day, with a missed instalment and one due soon
    add_agreement(db, "LN-A", "instalment_plan", [TODAY - timedelta(days=5), TODAY + timedelta(days=3)])
    add_loan(db, "LN-B", dpd=14)  # at a reminder day, with an instalment due soon
    add_agreement(db, "LN-B", "instalment_plan", [TODAY + timedelta(days=3)])
    plan = plan_reminders(LoanStore(db), RULES, NOW)
    assert [(r.loan_ref, r.trigger) for r in plan] == [("LN-A", "missed_instalment"), ("LN-B", "instalment_due")]


def test_cancelled_instalments_and_inactive_agreements_are_not_reminded(db):
    add_loan(db, "LN-C")
    add_agreement(
        db, "LN-C", "instalment_plan", [TODAY - timedelta(days=1), TODAY + timedelta(days=3)], status="cancelled"
    )
    assert decisions(db) == {}


def test_due_dates_are_the_borrowers_own(db):
    # 20:00 UTC on the 23rd is 04:00 on the 24th in Shanghai: the 27th is 3 days away there, 4 in London.
    late = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)
    add_loan(db, "LN-SH", tz="Asia/Shanghai")
    add_loan(db, "LN-LDN", tz="Europe/London")
    for ref in ("LN-SH", "LN-LDN"):
        add_agreement(db, ref, "promise_to_pay", [date(2026, 11, 27)])
    assert decisions(db, now=late) == {"LN-SH": ("promise_due", "outside_contact_hours")}


def test_a_missed_instalment_is_reminded_once(db, rasa):
    add_loan(db, "LN-M")
    add_agreement(db, "LN-M", "instalment_plan", [TODAY - timedelta(days=1), TODAY + timedelta(days=29)])
    trigger = RasaTrigger(rasa.url)
    assert summary(run_reminders(LoanStore(db), RULES, NOW, trigger))["sent"] == 1
    assert decisions(db, now=NOW + timedelta(hours=2)) == {"LN-M": ("missed_instalment", "already_reminded_today")}
    assert decisions(db, now=NOW + timedelta(days=1)) == {}  # covered by yesterday's reminder
    # the next instalment is missed too: a new reminder
    assert decisions(db, now=NOW + timedelta(days=31)) == {"LN-M": ("missed_instalment", None)}


def test_days_past_due_setting_is_read_and_checked():
    rules = ReminderRules.from_settings(Settings(reminder_days_past_due="2, 10", reminder_due_in_days=5))
    assert rules.days_past_due == {2, 10} and rules.due_in_days == 5
    with pytest.raises(ValueError, match="REMINDER_DAYS_PAST_DUE"):
        ReminderRules.from_settings(Settings(reminder_days_past_due="1,seven"))


# ---------------------------------------------------------------- sending through Rasa


def test_reminders_start_conversations_on_the_preferred_channel(db, rasa):
    add_loan(db, "LN-SMS", dpd=7, channel="sms", phone="+447700900001")
    add_loan(db, "LN-WA", dpd=7, channel="whatsapp", phone="+447700900002")
    add_loan(db, "LN-TG", dpd=7, channel="telegram", phone=None, chat_id="7000012345")
    add_loan(db, "LN-WX", dpd=7, channel="wechat", openid="oWx-12_abcdefghijklmnopqrstu")
    results = run_reminders(LoanStore(db), RULES, NOW, RasaTrigger(rasa.url, token="s3cret"))
    assert summary(results) == {"sent": 4, "skipped": 0, "failed": 0}
    calls = {r["path"]: r for r in rasa.requests}
    assert set(calls) == {
        "/conversations/+447700900001/trigger_intent",
        "/conversations/whatsapp:+447700900002/trigger_intent",
        "/conversations/7000012345/trigger_intent",
        "/conversations/wechat:oWx-12_abcdefghijklmnopqrstu/trigger_intent",
    }
    assert calls["/conversations/+447700900001/trigger_intent"]["query"] == {
        "output_channel": ["twilio"],
        "token": ["s3cret"],
    }
    assert calls["/conversations/whatsapp:+447700900002/trigger_intent"]["query"]["output_channel"] == ["whatsapp"]
    assert calls["/conversations/7000012345/trigger_intent"]["query"]["output_channel"] == ["telegram"]
    wechat = calls["/conversations/wechat:oWx-12_abcdefghijklmnopqrstu/trigger_intent"]
    assert wechat["query"]["output_channel"] == ["wechat"]
    # The call carries only the intent, the loan reference and the language: no amounts, nothing a borrower reads.
    assert calls["/conversations/+447700900001/trigger_intent"]["json"] == {
        "name": "EXTERNAL_payment_reminder",
        "entities": {"loan_ref": "LN-SMS", "language": "en"},
    }
    recorded = {(a.channel, a.trigger, a.outcome, a.skip_reason, a.conversation_id) for a in attempts(db)}
    assert recorded == {
        ("sms", "days_past_due_7", "sent", None, "+447700900001"),
        ("whatsapp", "days_past_due_7", "sent", None, "whatsapp:+447700900002"),
        ("telegram", "days_past_due_7", "sent", None, "7000012345"),
        ("wechat", "days_past_due_7", "sent", None, "wechat:oWx-12_abcdefghijklmnopqrstu"),
    }
    assert all(a.created_at == NOW for a in attempts(db))


def test_a_reminder_is_started_in_the_borrower_language(db, rasa):
    add_loan(db, "LN-ZH", dpd=7, phone="+8613800138000", tz="Asia/Shanghai", language="zh")
    assert summary(run_reminders(LoanStore(db), RULES, NOW, RasaTrigger(rasa.url)))["sent"] == 1  # 18:00 in Shanghai
    [call] = rasa.requests
    assert call["json"]["entities"] == {"loan_ref": "LN-ZH", "language": "zh"}


def test_a_rasa_error_is_recorded_as_failed_and_the_run_goes_on(db, rasa):
    add_loan(db, "LN-F1", dpd=7)
    add_loan(db, "LN-F2", dpd=14)
    rasa.status = 500
    results = run_reminders(LoanStore(db), RULES, NOW, RasaTrigger(rasa.url))
    assert [(r.reminder.loan_ref, r.outcome, r.reason) for r in results] == [
        ("LN-F1", "failed", "rasa_http_500"),
        ("LN-F2", "failed", "rasa_http_500"),
    ]
    assert [(a.outcome, a.skip_reason) for a in attempts(db)] == [("failed", "rasa_http_500")] * 2
    # a failure is not a reminder: the next run tries again
    rasa.status = 200
    assert summary(run_reminders(LoanStore(db), RULES, NOW + timedelta(minutes=15), RasaTrigger(rasa.url)))["sent"] == 2


def test_a_rasa_timeout_counts_as_sent_and_no_server_as_failed(db, rasa):
    add_loan(db, "LN-T", dpd=7)
    rasa.delay = 1.0
    # Rasa may deliver after we stop waiting: the attempt counts, so no second message today.
    [result] = run_reminders(LoanStore(db), RULES, NOW, RasaTrigger(rasa.url, timeout=0.2))
    assert (result.outcome, result.reason) == ("sent", "rasa_timeout_unconfirmed")
    [result] = run_reminders(LoanStore(db), RULES, NOW + timedelta(minutes=15), RasaTrigger(rasa.url))
    assert (result.outcome, result.reason) == ("skipped", "already_reminded_today")
    add_loan(db, "LN-U", dpd=7)
    [result] = [
        r
        for r in run_reminders(LoanStore(db), RULES, NOW, RasaTrigger("http://127.0.0.1:9", timeout=0.5))
        if r.reminder.loan_ref == "LN-U"
    ]
    assert (result.outcome, result.reason) == ("failed", "rasa_unreachable")


def test_dry_run_contacts_nobody_and_writes_nothing(db, rasa):
    add_loan(db, "LN-D1", dpd=7)
    add_loan(db, "LN-D2", dpd=7, phone=None)
    plan = plan_reminders(LoanStore(db), RULES, NOW)
    assert [(r.loan_ref, r.send, r.skip_reason) for r in plan] == [
        ("LN-D1", True, None),
        ("LN-D2", False, "no_address"),
    ]
    assert rasa.requests == [] and attempts(db) == []


# ---------------------------------------------------------------- who is never contacted


@pytest.mark.parametrize(
    "preferred, opted_out, reason",
    [
        ("sms", "sms", "opted_out_channel"),
        ("sms", "twilio", "opted_out_channel"),  # the Twilio SMS connector's name, as actions record it
        ("whatsapp", "whatsapp", "opted_out_channel"),
        ("telegram", "telegram", "opted_out_channel"),
        ("wechat", "wechat", "opted_out_channel"),  # an unsubscribe or a STOP on WeChat
        ("wechat", "all", "opted_out_all"),
        ("wechat", "sms", None),
        ("sms", "wechat", None),
        ("sms", "all", "opted_out_all"),
        ("telegram", "all", "opted_out_all"),
        ("sms", "whatsapp", None),  # another channel's opt-out does not stop SMS
        ("whatsapp", "sms", None),
    ],
)
def test_opt_outs_of_that_channel_or_all_are_honoured(db, sqlite_store, preferred, opted_out, reason):
    add_loan(db, "LN-O", dpd=7, channel=preferred, chat_id="555", openid="oOptOut0000000000000000000001")
    sqlite_store.record_opt_out("LN-O", opted_out)
    assert decisions(db) == {"LN-O": ("days_past_due_7", reason)}


def test_open_disputes_fraud_claims_and_vulnerability_stop_reminders(db, sqlite_store):
    for ref in ("LN-DIS", "LN-FRA", "LN-PAY", "LN-CLOSED"):
        add_loan(db, ref, dpd=7)
    add_loan(db, "LN-VUL", dpd=7, vulnerable=True)
    sqlite_store.open_case("LN-DIS", "dispute")
    sqlite_store.open_case("LN-FRA", "fraud_claim")
    sqlite_store.open_case("LN-PAY", "payment_claim")  # not a collection hold
    sqlite_store.open_case("LN-CLOSED", "dispute")
    with db.transaction() as s:
        s.scalar(select(Case).join(Loan).where(Loan.loan_ref == "LN-CLOSED")).status = "closed"
    assert decisions(db) == {
        "LN-CLOSED": ("days_past_due_7", None),
        "LN-DIS": ("days_past_due_7", "dispute_open"),
        "LN-FRA": ("days_past_due_7", "fraud_claim_open"),
        "LN-PAY": ("days_past_due_7", None),
        "LN-VUL": ("days_past_due_7", "vulnerable"),
    }


def test_no_address_for_the_preferred_channel(db):
    add_loan(db, "LN-NOPHONE", dpd=7, channel="sms", phone=None)
    add_loan(db, "LN-NOWA", dpd=7, channel="whatsapp", phone=None)
    add_loan(db, "LN-NOTG", dpd=7, channel="telegram", chat_id=None)
    add_loan(db, "LN-NOWX", dpd=7, channel="wechat", openid=None)
    assert {ref: reason for ref, (_, reason) in decisions(db).items()} == {
        "LN-NOPHONE": "no_address",
        "LN-NOTG": "no_address",
        "LN-NOWA": "no_address",
        "LN-NOWX": "no_address",
    }


@pytest.mark.parametrize(
    "utc, tz, allowed",
    [
        ("07:59", "Europe/London", False),  # 07:59 in London (GMT in November)
        ("08:00", "Europe/London", True),
        ("20:59", "Europe/London", True),
        ("21:00", "Europe/London", False),  # at 21:00: too late
        ("12:59", "America/New_York", False),  # 07:59 in New York
        ("13:00", "America/New_York", True),  # 08:00 in New York
        ("12:59", "Asia/Shanghai", True),  # 20:59 in Shanghai
        ("13:00", "Asia/Shanghai", False),  # 21:00 in Shanghai
        ("23:30", "Asia/Shanghai", False),  # 07:30 next day in Shanghai
    ],
)
def test_contact_only_between_8_and_21_in_the_borrowers_time_zone(db, utc, tz, allowed):
    add_loan(db, "LN-H", dpd=7, tz=tz)
    now = datetime.combine(TODAY, datetime.strptime(utc, "%H:%M").time(), tzinfo=timezone.utc)
    [(_trigger, reason)] = decisions(db, now=now).values()
    assert reason == (None if allowed else "outside_contact_hours")


def test_contact_hours_can_be_narrowed_but_not_widened(db):
    add_loan(db, "LN-H", dpd=7)
    narrow = ReminderRules(start_hour=9, end_hour=17)
    wide = ReminderRules(start_hour=6, end_hour=23)
    at = lambda hh, mm: datetime(2026, 11, 23, hh, mm, tzinfo=timezone.utc)  # noqa: E731
    assert decisions(db, at(8, 30), narrow)["LN-H"][1] == "outside_contact_hours"
    assert decisions(db, at(17, 0), narrow)["LN-H"][1] == "outside_contact_hours"
    assert decisions(db, at(7, 0), wide)["LN-H"][1] == "outside_contact_hours"
    assert decisions(db, at(21, 30), wide)["LN-H"][1] == "outside_contact_hours"


def test_at_most_7_sent_attempts_in_a_rolling_7_days(db):
    capped = add_loan(db, "LN-CAP", dpd=7)
    add_sent(db, capped, NOW - timedelta(days=6), n=7)  # counted
    old = add_loan(db, "LN-OLD", dpd=7)
    add_sent(db, old, NOW - timedelta(days=8), n=7)  # outside the 7 days
    add_sent(db, old, NOW - timedelta(days=6), n=6)
    with db.transaction() as s:  # skips and failures are not contacts
        for outcome in ("skipped", "failed"):
            s.add(
                ContactAttempt(
                    borrower_id=old, channel="sms", trigger="x", outcome=outcome, created_at=NOW - timedelta(days=1)
                )
            )
    assert decisions(db) == {"LN-CAP": ("days_past_due_7", "weekly_limit"), "LN-OLD": ("days_past_due_7", None)}


def test_the_weekly_limit_counts_this_runs_reminders_across_a_borrowers_loans(db):
    borrower = add_loan(db, "LN-X1", dpd=7)
    add_loan(db, "LN-X2", dpd=14, borrower_id=borrower)
    add_sent(db, borrower, NOW - timedelta(days=2), n=6)
    assert decisions(db) == {"LN-X1": ("days_past_due_7", None), "LN-X2": ("days_past_due_14", "weekly_limit")}
    assert decisions(db, rules=ReminderRules(max_per_7_days=3))["LN-X1"][1] == "weekly_limit"
    assert decisions(db, rules=ReminderRules(max_per_7_days=50))["LN-X2"][1] == "weekly_limit"  # never above 7


def spoke_with_us(db, ref, when, event_type="verification_passed"):
    with db.transaction() as s:
        loan = s.scalar(select(Loan).where(Loan.loan_ref == ref))
        s.add(
            AuditEvent(
                event_type=event_type,
                loan_id=loan.id,
                borrower_id=loan.borrower_id,
                conversation_id="c",
                channel="twilio",
                details={},
                occurred_at=when,
            )
        )


def test_no_arrears_reminder_within_7_days_of_a_conversation(store):
    db = store.db
    for ref in ("LN-TALKED", "LN-TALKED-8", "LN-TRIED", "LN-NEW"):
        add_loan(db, ref, dpd=7)
    add_loan(db, "LN-PLAN")
    add_agreement(db, "LN-PLAN", "instalment_plan", [TODAY + timedelta(days=3)])
    spoke_with_us(db, "LN-TALKED", NOW - timedelta(days=6, hours=23))
    spoke_with_us(db, "LN-TALKED-8", NOW - timedelta(days=7, minutes=1))
    spoke_with_us(
        db, "LN-TRIED", NOW - timedelta(days=1), event_type="verification_failed"
    )  # not a conversation about it
    spoke_with_us(db, "LN-PLAN", NOW - timedelta(days=1))
    assert decisions(db) == {
        "LN-NEW": ("days_past_due_7", None),
        "LN-PLAN": ("instalment_due", None),  # the arrangement's own reminder still goes
        "LN-TALKED": ("days_past_due_7", "recent_conversation"),
        "LN-TALKED-8": ("days_past_due_7", None),
        "LN-TRIED": ("days_past_due_7", None),
    }


def test_already_reminded_today_and_reruns_are_safe(db, rasa):
    add_loan(db, "LN-R", dpd=7, tz="America/New_York")
    add_loan(db, "LN-S", dpd=7, phone=None)
    trigger = RasaTrigger(rasa.url)
    first = run_reminders(
        LoanStore(db), RULES, datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc), trigger
    )  # 09:00 New York
    assert summary(first) == {"sent": 1, "skipped": 1, "failed": 0}
    for minutes in (15, 30):
        again = run_reminders(LoanStore(db), RULES, datetime(2026, 11, 23, 14, minutes, tzinfo=timezone.utc), trigger)
        assert [(r.reminder.loan_ref, r.outcome, r.reason) for r in again] == [
            ("LN-R", "skipped", "already_reminded_today"),
            ("LN-S", "skipped", "no_address"),
        ]
    assert len(rasa.requests) == 1
    # each skip is recorded once a day, not once a run
    assert sorted((a.outcome, a.skip_reason) for a in attempts(db)) == [
        ("sent", None),
        ("skipped", "already_reminded_today"),
        ("skipped", "no_address"),
    ]
    # 01:00 UTC on the 24th is still the 23rd in New York
    assert decisions(db, now=datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc))["LN-R"][1] == "already_reminded_today"
    # the next local day it may go again (if the loan is still at a reminder day)
    assert decisions(db, now=datetime(2026, 11, 24, 14, 0, tzinfo=timezone.utc))["LN-R"][1] is None


def test_sends_and_skips_are_recorded_on_both_databases(store, rasa):
    """The recording path on SQLite and PostgreSQL."""
    db = store.db
    add_loan(db, "LN-P1", dpd=7, phone="+447700900201")
    add_loan(db, "LN-P2", dpd=7, phone="+447700900202")
    store.record_opt_out("LN-P2", "all")
    for minutes in (0, 30):
        run_reminders(LoanStore(db), RULES, NOW + timedelta(minutes=minutes), RasaTrigger(rasa.url))
    recorded = [(a.trigger, a.outcome, a.skip_reason, a.conversation_id, a.created_at) for a in attempts(db)]
    assert sorted(recorded, key=lambda r: (r[1], r[2] or "")) == [
        ("days_past_due_7", "sent", None, "+447700900201", NOW),
        ("days_past_due_7", "skipped", "already_reminded_today", "+447700900201", NOW + timedelta(minutes=30)),
        ("days_past_due_7", "skipped", "opted_out_all", "+447700900202", NOW),
    ]
    assert len(rasa.requests) == 1


# ---------------------------------------------------------------- the command line


def run_cli(database_url: str, *args: str, rasa_url: str = "http://127.0.0.1:9") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "RASA_URL": rasa_url, "RASA_TOKEN": ""}
    return subprocess.run(
        [sys.executable, "-m", "bot", "remind", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_dry_run_prints_the_plan_without_names_or_numbers(db, rasa):
    add_loan(db, "LN-CLI1", dpd=7, phone="+447700900301")
    add_loan(db, "LN-CLI2", dpd=1, tz="America/New_York", phone="+12025550302")
    out = run_cli(db.url, "--dry-run", "--now", "2026-11-23T10:00:00Z", rasa_url=rasa.url)
    assert out.returncode == 0, out.stderr
    assert "LN-CLI1" in out.stdout and "days_past_due_7" in out.stdout and "send" in out.stdout
    assert "LN-CLI2" in out.stdout and "skip: outside_contact_hours" in out.stdout
    for secret in ("Pat", "Example", "+44", "7700900301", "2025550302", "1980"):
        assert secret not in out.stdout
    as_json = json.loads(run_cli(db.url, "--dry-run", "--json", "--now", "2026-11-23T10:00:00+00:00").stdout)
    assert as_json["plan"] == [
        {"loan_ref": "LN-CLI1", "trigger": "days_past_due_7", "channel": "sms", "action": "send", "reason": None},
        {
            "loan_ref": "LN-CLI2",
            "trigger": "newly_overdue",
            "channel": "sms",
            "action": "skip",
            "reason": "outside_contact_hours",
        },
    ]
    assert rasa.requests == [] and attempts(db) == []


def test_cli_sends_prints_a_summary_and_fails_when_an_attempt_failed(db, rasa):
    add_loan(db, "LN-CLI3", dpd=7)
    add_loan(db, "LN-CLI4", dpd=30, phone=None)
    out = run_cli(db.url, "--now", "2026-11-23T10:00:00Z", rasa_url=rasa.url)
    assert out.returncode == 0, out.stderr
    assert "1 sent, 1 skipped, 0 failed" in out.stdout
    add_loan(db, "LN-CLI5", dpd=14)
    rasa.status = 500
    out = run_cli(db.url, "--json", "--now", "2026-11-23T10:30:00Z", rasa_url=rasa.url)
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert (result["sent"], result["failed"]) == (0, 1)
    assert {
        "loan_ref": "LN-CLI5",
        "trigger": "days_past_due_14",
        "channel": "sms",
        "outcome": "failed",
        "reason": "rasa_http_500",
    } in result["results"]


def test_cli_refuses_a_time_without_a_zone(db):
    out = run_cli(db.url, "--dry-run", "--now", "2026-11-23T10:00:00")
    assert out.returncode == 2 and "UTC offset" in out.stderr


def test_only_one_run_at_a_time_on_both_databases(store, rasa):
    """While one run holds the lock (here: the test), another contacts nobody."""
    from bot.adapters.database import Database

    add_loan(store.db, "LN-LOCK", dpd=7, phone="+447700900401")
    with store.db.exclusive("remind") as first:
        assert first is True
        with Database(store.db.url).exclusive("remind") as second:  # another process's view
            assert second is False
        out = run_cli(store.db.url, "--now", "2026-11-23T10:00:00Z", rasa_url=rasa.url)
        assert out.returncode == 3 and "another run is in progress" in out.stderr
        assert rasa.requests == [] and attempts(store.db) == []
    out = run_cli(store.db.url, "--now", "2026-11-23T10:00:00Z", rasa_url=rasa.url)
    assert out.returncode == 0, out.stderr
    assert len(rasa.requests) == 1


# ---------------------------------------------------------------- a reminder the borrower asked for (issue 17)


def asked_for(monkeypatch, store, ref, on, *, at=NOW - timedelta(days=3), conversation_id="c"):
    """The borrower took time to decide and pressed "Remind me on `on`" at `at`."""
    monkeypatch.setattr("bot.adapters.store.rows.utcnow", lambda: at)
    store.record_reminder_request(ref, on=on, reminder_channel="sms", conversation_id=conversation_id)
    monkeypatch.undo()


def test_a_requested_reminder_goes_on_its_date_only(db, monkeypatch, rasa):
    store = LoanStore(db)
    add_loan(db, "LN-ASK", dpd=20)  # at no reminder day
    asked_for(monkeypatch, store, "LN-ASK", TODAY)
    spoke_with_us(db, "LN-ASK", NOW - timedelta(days=3))  # the conversation they asked in
    assert decisions(db) == {"LN-ASK": ("requested_reminder", None)}  # no quiet days: they asked for it
    assert decisions(db, now=NOW - timedelta(days=1)) == {}
    assert decisions(db, now=NOW + timedelta(days=1)) == {}
    assert summary(run_reminders(store, RULES, NOW, RasaTrigger(rasa.url)))["sent"] == 1
    [attempt] = attempts(db)
    assert (attempt.trigger, attempt.outcome) == ("requested_reminder", "sent")
    assert decisions(db, now=NOW + timedelta(hours=1)) == {"LN-ASK": ("requested_reminder", "already_reminded_today")}


def test_a_requested_reminder_keeps_to_the_contact_rules(db, monkeypatch):
    store = LoanStore(db)
    for ref in ("LN-OPT", "LN-HOLD", "LN-LATE"):
        add_loan(db, ref, dpd=20, tz="America/New_York" if ref == "LN-LATE" else "Europe/London")
        asked_for(monkeypatch, store, ref, TODAY)
    store.record_opt_out("LN-OPT", "all")
    store.open_case("LN-HOLD", "dispute")
    assert decisions(db) == {
        "LN-HOLD": ("requested_reminder", "dispute_open"),
        "LN-LATE": ("requested_reminder", "outside_contact_hours"),  # 05:00 in New York
        "LN-OPT": ("requested_reminder", "opted_out_all"),
    }


def test_the_borrowers_own_date_and_the_latest_request_count(db, monkeypatch):
    store = LoanStore(db)
    add_loan(db, "LN-SH", dpd=20, tz="Asia/Shanghai")  # 18:00 on the 23rd there
    add_loan(db, "LN-TWICE", dpd=20)
    asked_for(monkeypatch, store, "LN-SH", TODAY)
    asked_for(monkeypatch, store, "LN-TWICE", TODAY, at=NOW - timedelta(days=4))
    asked_for(monkeypatch, store, "LN-TWICE", TODAY + timedelta(days=2), at=NOW - timedelta(days=2))
    assert decisions(db) == {"LN-SH": ("requested_reminder", None)}
    assert decisions(db, now=NOW + timedelta(days=2))["LN-TWICE"] == ("requested_reminder", None)


def test_an_arrangement_made_after_asking_replaces_the_reminder(db, monkeypatch):
    store = LoanStore(db)
    add_loan(db, "LN-AGREED", dpd=20)
    add_loan(db, "LN-HAD-ONE", dpd=20)
    add_agreement(db, "LN-HAD-ONE", "instalment_plan", [TODAY + timedelta(days=20)])  # made before asking
    with db.transaction() as s:
        s.execute(Agreement.__table__.update().values(created_at=NOW - timedelta(days=10)))
    asked_for(monkeypatch, store, "LN-AGREED", TODAY)
    asked_for(monkeypatch, store, "LN-HAD-ONE", TODAY)
    add_agreement(db, "LN-AGREED", "promise_to_pay", [TODAY + timedelta(days=5)])  # made since (now)
    assert decisions(db) == {"LN-HAD-ONE": ("requested_reminder", None)}


def test_a_missed_payment_comes_first_and_a_request_before_the_arrears_days(db, monkeypatch):
    store = LoanStore(db)
    add_loan(db, "LN-MISSED", dpd=20)
    add_agreement(db, "LN-MISSED", "instalment_plan", [TODAY - timedelta(days=1)])
    with db.transaction() as s:
        s.execute(Agreement.__table__.update().values(created_at=NOW - timedelta(days=40)))
    add_loan(db, "LN-DPD7", dpd=7)
    for ref in ("LN-MISSED", "LN-DPD7"):
        asked_for(monkeypatch, store, ref, TODAY)
    assert decisions(db) == {
        "LN-DPD7": ("requested_reminder", None),
        "LN-MISSED": ("missed_instalment", None),
    }
