"""What becomes of an agreement as payments arrive and days pass (issue 14), and the
reminders that follow: only real misses (after the policy's grace days, unpaid after
payments) are reminded, a borrower who paid is not, and a broken promise is reminded
once. The review (`review_agreements`) on SQLite and PostgreSQL; `python -m bot remind`
runs it before it plans."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.adapters.rasa_trigger import RasaTrigger
from bot.adapters.store import LoanStore
from bot.domain.agreements import AgreementProposal
from bot.domain.payments import AgreementRules, IncomingPayment
from bot.services.reminders import ReminderRules, plan_reminders, run_reminders
from tests.integration.test_reminders import FakeRasa, add_loan, attempts
from tests.integration.test_reminders import run_cli as remind_cli

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # 10:00 in London
TODAY = NOW.date()
POLICY = AgreementRules(grace_days=3, missed_to_break_plan=2)
RULES = ReminderRules().with_grace_days({}, 3)


def rules_for(_product):
    return POLICY


@pytest.fixture
def rasa():
    fake = FakeRasa()
    yield fake
    fake.close()


def agree(store, ref, kind, due_offsets, amount="50.00", created=NOW - timedelta(days=40)):
    """An agreement made 40 days ago whose instalments fall `due_offsets` days from today."""
    proposal = AgreementProposal(
        kind=kind,
        total_amount=Decimal(amount) * len(due_offsets),
        currency="GBP",
        instalments=tuple((TODAY + timedelta(days=d), Decimal(amount)) for d in due_offsets),
        terms={"months": len(due_offsets), "source": "menu"},
    )
    return store.record_agreement(ref, proposal, idempotency_key=f"key-{ref}", now=created).agreement


def pay(store, ref, amount, payment_id=None, now=NOW):
    p = IncomingPayment(payment_id or f"pay-{ref}-{amount}", ref, now, Decimal(amount), "GBP", "card")
    return store.record_payment(p, source="webhook", rules_for=rules_for, now=now)


def decisions(store, now=NOW):
    return {r.loan_ref: (r.trigger, r.skip_reason) for r in plan_reminders(store, RULES, now)}


def statuses(store, ref):
    [agreement, *_] = store.loan_report(ref)["agreements"]
    return agreement["status"], [i["status"] for i in agreement["instalments"]]


def test_only_real_misses_are_reminded(store):
    db = store.db
    for ref in ("LN-GRACE", "LN-LATE", "LN-PAID", "LN-PART", "LN-EARLY", "LN-PROM"):
        add_loan(db, ref, dpd=20, overdue="150.00")
    agree(store, "LN-GRACE", "instalment_plan", [-3, 27])  # within the 3 grace days: not yet missed
    agree(store, "LN-LATE", "instalment_plan", [-4, 26])  # missed
    agree(store, "LN-PAID", "instalment_plan", [-10, 20])
    pay(store, "LN-PAID", "50.00", now=NOW - timedelta(days=11))  # paid before it fell due
    agree(store, "LN-PART", "instalment_plan", [-10, 20])
    pay(store, "LN-PART", "20.00", now=NOW - timedelta(days=9))  # a shortfall is a miss
    agree(store, "LN-EARLY", "instalment_plan", [3, 33])
    pay(store, "LN-EARLY", "50.00")  # paid before its reminder three days ahead
    agree(store, "LN-PROM", "promise_to_pay", [3])
    assert decisions(store) == {
        "LN-LATE": ("missed_instalment", None),
        "LN-PART": ("missed_instalment", None),
        "LN-PROM": ("promise_due", None),
    }


def test_the_review_marks_misses_and_breaks_agreements_by_the_policy_audited(store):
    db = store.db
    for ref in ("LN-ONE", "LN-TWO", "LN-PROMISE", "LN-KEPT"):
        add_loan(db, ref, dpd=20, overdue="150.00")
    agree(store, "LN-ONE", "instalment_plan", [-5, 25])
    agree(store, "LN-TWO", "instalment_plan", [-35, -5, 25])
    agree(store, "LN-PROMISE", "promise_to_pay", [-4])
    agree(store, "LN-KEPT", "promise_to_pay", [-4])
    pay(store, "LN-KEPT", "50.00", now=NOW - timedelta(days=5))
    assert statuses(store, "LN-KEPT") == ("completed", ["paid"])

    assert store.review_agreements(rules_for=rules_for, now=NOW) == {
        "reviewed": 3,
        "missed": 4,
        "broken": 2,
        "completed": 0,
    }
    assert statuses(store, "LN-ONE") == ("active", ["missed", "scheduled"])
    assert statuses(store, "LN-TWO") == ("broken", ["missed", "missed", "superseded"])
    assert statuses(store, "LN-PROMISE") == ("broken", ["missed"])
    types = [e["event_type"] for e in store.audit_events("LN-TWO")]
    assert types.count("instalment_missed") == 2 and types[-1] == "agreement_broken"
    broken = next(e for e in store.audit_events("LN-PROMISE") if e["event_type"] == "agreement_broken")
    assert broken["details"] == {
        "agreement_ref": broken["details"]["agreement_ref"],
        "kind": "promise_to_pay",
        "missed": 1,
    }
    # again: nothing more to do
    assert store.review_agreements(rules_for=rules_for, now=NOW)["missed"] == 0
    assert store.account("LN-TWO").open_agreement is None


def test_a_missed_instalment_paid_late_is_paid_and_not_reminded(store):
    add_loan(store.db, "LN-LATEPAY", dpd=20, overdue="150.00")
    agree(store, "LN-LATEPAY", "instalment_plan", [-6, 24])
    store.review_agreements(rules_for=rules_for, now=NOW)
    assert statuses(store, "LN-LATEPAY") == ("active", ["missed", "scheduled"])
    pay(store, "LN-LATEPAY", "50.00")
    assert statuses(store, "LN-LATEPAY") == ("active", ["paid", "scheduled"])
    assert decisions(store) == {}


def test_a_broken_promise_is_reminded_once_then_like_any_arrears(store, rasa):
    add_loan(store.db, "LN-BROKE", dpd=20, overdue="150.00")
    agree(store, "LN-BROKE", "promise_to_pay", [-4])
    store.review_agreements(rules_for=rules_for, now=NOW)
    assert store.account("LN-BROKE").open_agreement is None
    assert decisions(store) == {"LN-BROKE": ("broken_promise", None)}
    run_reminders(LoanStore(store.db), RULES, NOW, RasaTrigger(rasa.url))
    assert [(a.trigger, a.outcome) for a in attempts(store.db)] == [("broken_promise", "sent")]
    assert decisions(store, NOW + timedelta(days=1)) == {}
    assert decisions(store, NOW + timedelta(days=20)) == {}  # the loan is not at a reminder day


def test_remind_reviews_first_so_a_paid_promise_gets_nothing_and_a_missed_one_a_reminder(sqlite_store, rasa):
    store = sqlite_store
    for ref in ("LN-CLIPAID", "LN-CLIMISS"):
        add_loan(store.db, ref, dpd=20, overdue="150.00")
        agree(store, ref, "promise_to_pay", [-4], amount="150.00")
    pay(store, "LN-CLIPAID", "150.00", now=NOW - timedelta(days=5))

    dry = json.loads(
        remind_cli(store.db.url, "--dry-run", "--json", "--now", NOW.isoformat(), rasa_url=rasa.url).stdout
    )
    assert [(r["loan_ref"], r["trigger"], r["action"]) for r in dry["plan"]] == [
        ("LN-CLIMISS", "broken_promise", "send")
    ]
    assert statuses(store, "LN-CLIMISS") == ("active", ["scheduled"])  # a dry run writes nothing

    out = remind_cli(store.db.url, "--json", "--now", NOW.isoformat(), rasa_url=rasa.url)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["agreements"] == {"reviewed": 1, "missed": 1, "broken": 1, "completed": 0}
    assert [(r["loan_ref"], r["trigger"], r["outcome"]) for r in result["results"]] == [
        ("LN-CLIMISS", "broken_promise", "sent")
    ]
    assert statuses(store, "LN-CLIMISS") == ("broken", ["missed"])
    assert statuses(store, "LN-CLIPAID") == ("completed", ["paid"])
    assert [r["json"]["entities"]["loan_ref"] for r in rasa.requests] == ["LN-CLIMISS"]


def test_review_only_marks_misses_and_contacts_nobody(sqlite_store, rasa):
    store = sqlite_store
    add_loan(store.db, "LN-REVIEW", dpd=20, overdue="150.00")
    agree(store, "LN-REVIEW", "promise_to_pay", [-4], amount="150.00")
    out = remind_cli(store.db.url, "--review-only", "--json", "--now", NOW.isoformat(), rasa_url=rasa.url)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["agreements"] == {"reviewed": 1, "missed": 1, "broken": 1, "completed": 0}
    assert statuses(store, "LN-REVIEW") == ("broken", ["missed"])
    assert rasa.requests == [] and attempts(store.db) == []
