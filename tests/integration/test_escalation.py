"""Escalation only for the unwilling (issue 14), on SQLite and PostgreSQL: the review
opens a final notice for loans far behind with repeated broken agreements or refusals,
never for a dispute, fraud claim, payment claim under review, vulnerability, an
arrangement in place or a recent payment; the notice period runs from when the
borrower was told; then a person reviews. The team's commands and the final-notice
reminder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.adapters.orm import Agreement, Loan
from bot.domain.agreements import AgreementProposal
from bot.domain.escalation import Standing, block, should_open, withdrawal
from bot.domain.payments import AgreementRules, IncomingPayment
from bot.domain.policy import EscalationPolicy
from bot.services.reminders import ReminderRules, plan_reminders
from tests.integration.test_cli import run_cli
from tests.integration.test_reminders import add_loan

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
POLICY = EscalationPolicy(min_days_past_due=90, broken_agreements=2, refusals=2, final_notice_days=14)


def policy_for(_product):
    return POLICY


def review(store, now=NOW):
    return store.review_escalations(policy_for=policy_for, floor_days_past_due=90, now=now)


def broken(store, ref, n=2):
    """`n` agreements of the loan broken in the last months."""
    with store.db.transaction() as s:
        loan = s.query(Loan).filter_by(loan_ref=ref).one()
        for i in range(n):
            s.add(
                Agreement(
                    agreement_ref=f"AG-{ref}-{i}",
                    loan=loan,
                    kind="promise_to_pay",
                    status="broken",
                    total_amount=Decimal("100.00"),
                    currency="GBP",
                    terms={},
                    idempotency_key=f"k-{ref}-{i}",
                    created_at=NOW - timedelta(days=60 + 30 * i),
                    ended_at=NOW - timedelta(days=40 + 30 * i),
                )
            )


def unwilling(store, ref, dpd=120, **kwargs):
    add_loan(store.db, ref, dpd=dpd, overdue="900.00", **kwargs)
    broken(store, ref)


def open_refs(store):
    return {e.loan_ref: e for e in store.escalations()}


def test_a_loan_far_behind_with_repeated_broken_agreements_gets_a_final_notice(store):
    unwilling(store, "LN-E1")
    assert review(store) == {"opened": 1, "queued_for_review": 0, "withdrawn": 0}
    [e] = store.escalations()
    assert (e.loan_ref, e.stage, e.status, e.notified_at) == ("LN-E1", "final_notice", "open", None)
    assert e.details["broken_agreements"] == 2 and e.details["days_past_due"] == 120
    assert e.details["policy"]["final_notice_days"] == 14
    assert review(store)["opened"] == 0  # one open escalation per loan
    assert [x["event_type"] for x in store.audit_events("LN-E1")][-1] == "escalation_opened"


def test_refusals_recorded_by_the_team_count(store):
    add_loan(store.db, "LN-E2", dpd=100, overdue="900.00")
    store.record_refusal("LN-E2", by="Sam (phone)", note="said they will not pay")
    assert review(store)["opened"] == 0
    store.record_refusal("LN-E2", by="Sam (phone)", note="refused again")
    assert review(store)["opened"] == 1


@pytest.mark.parametrize(
    "setup, ref",
    [
        (lambda store: store.open_case("LN-X", "dispute", "I don't owe this"), "dispute"),
        (lambda store: store.open_case("LN-X", "fraud_claim", "not my loan"), "fraud claim"),
        (lambda store: store.open_case("LN-X", "payment_claim", "I paid", details={"amount": "900"}), "payment claim"),
        (lambda store: store.flag_vulnerable("LN-X", "illness"), "vulnerable"),
        (lambda store: _arrangement(store), "an arrangement"),
        (lambda store: _payment(store, NOW - timedelta(days=5)), "a recent payment"),
    ],
)
def test_nothing_is_escalated_while_a_claim_a_vulnerability_an_arrangement_or_a_payment_says_otherwise(
    store, setup, ref
):
    unwilling(store, "LN-X")
    setup(store)
    assert review(store)["opened"] == 0, ref


def _arrangement(store):
    proposal = AgreementProposal(
        kind="promise_to_pay",
        total_amount=Decimal("100.00"),
        currency="GBP",
        instalments=((NOW.date() + timedelta(days=5), Decimal("100.00")),),
        terms={},
    )
    store.record_agreement("LN-X", proposal, idempotency_key="k-arr", now=NOW)


def _payment(store, when, ref="LN-X", payment_id="p-x"):
    payment = IncomingPayment(payment_id, ref, when, Decimal("10.00"), "GBP", "card")
    store.record_payment(payment, source="csv", rules_for=lambda _: AgreementRules(), now=when)


def test_not_far_enough_behind_or_not_often_enough_is_no_escalation(store):
    unwilling(store, "LN-E3", dpd=89)
    add_loan(store.db, "LN-E4", dpd=150, overdue="900.00")
    broken(store, "LN-E4", n=1)
    assert review(store)["opened"] == 0


def test_the_notice_period_runs_from_when_the_borrower_was_told_then_a_person_reviews(store):
    unwilling(store, "LN-E5")
    review(store)
    [e] = store.escalations()
    assert review(store, NOW + timedelta(days=30))["queued_for_review"] == 0  # never told: never queued
    assert store.record_final_notice(
        e.escalation_ref, how="conversation", conversation_id="c1", now=NOW + timedelta(days=1)
    )
    assert not store.record_final_notice(e.escalation_ref, how="letter", by="Sam")  # told once
    assert review(store, NOW + timedelta(days=14, hours=23))["queued_for_review"] == 0
    assert review(store, NOW + timedelta(days=15, minutes=1))["queued_for_review"] == 1
    [e] = store.escalations()
    assert (e.stage, e.status) == ("legal_review", "open") and e.review_queued_at is not None
    events = [x["event_type"] for x in store.audit_events("LN-E5")]
    assert events[-2:] == ["final_notice_given", "legal_review_queued"]


def test_a_payment_or_a_dispute_withdraws_an_escalation(store):
    unwilling(store, "LN-E6")
    unwilling(store, "LN-E7")
    review(store)
    _payment(store, NOW + timedelta(days=2), ref="LN-E6", payment_id="p-e6")
    store.open_case("LN-E7", "dispute", "that amount is wrong")
    assert review(store, NOW + timedelta(days=3)) == {"opened": 0, "queued_for_review": 0, "withdrawn": 2}
    outcomes = {e.loan_ref: (e.status, e.outcome) for e in store.escalations(status=None)}
    assert outcomes == {"LN-E6": ("withdrawn", "payment_received"), "LN-E7": ("withdrawn", "dispute_open")}
    # a payment in the last notice period keeps it from opening again at once
    assert review(store, NOW + timedelta(days=4))["opened"] == 0
    assert review(store, NOW + timedelta(days=20))["opened"] == 1  # LN-E6: no payment for 14 days; LN-E7 disputed


def test_a_person_decides_and_the_loan_is_left_alone_for_a_while(store):
    unwilling(store, "LN-E8")
    review(store)
    [e] = store.escalations()
    assert store.review_escalation(e.escalation_ref, "no_action", by="Alex", note="agreed by phone to wait", now=NOW)
    assert not store.review_escalation(e.escalation_ref, "proceed", by="Alex")
    assert review(store, NOW + timedelta(days=30))["opened"] == 0
    assert review(store, NOW + timedelta(days=91))["opened"] == 1


def test_the_final_notice_reminder_goes_once(store):
    unwilling(store, "LN-E9")
    review(store)
    rules = ReminderRules()
    plan = {r.loan_ref: (r.trigger, r.skip_reason) for r in plan_reminders(store, rules, NOW)}
    assert plan == {"LN-E9": ("final_notice", None)}
    reminder = next(r for r in plan_reminders(store, rules, NOW))
    store.record_contact_attempt(reminder, "sent", None, NOW)
    assert "LN-E9" not in {r.loan_ref for r in plan_reminders(store, rules, NOW + timedelta(days=1))}


def test_domain_rules():
    standing = Standing(120, Decimal("900"), 2, 0, (), False, False, None)
    kwargs = {"min_days_past_due": 90, "broken_agreements": 2, "refusals": 2, "final_notice_days": 14}
    assert should_open(standing, NOW, **kwargs)
    assert block(Standing(120, Decimal("0"), 2, 0, (), False, False, None), NOW, 14) == "nothing_overdue"
    assert (
        block(Standing(120, Decimal("9"), 2, 0, ("payment_claim",), False, False, None), NOW, 14)
        == "payment_claim_open"
    )
    assert not should_open(
        Standing(120, Decimal("9"), 2, 0, (), False, False, None, NOW - timedelta(days=10)), NOW, **kwargs
    )
    assert (
        withdrawal(Standing(120, Decimal("9"), 2, 0, (), False, False, NOW), NOW - timedelta(days=1), NOW)
        == "payment_received"
    )
    assert withdrawal(standing, NOW - timedelta(days=1), NOW) is None


def test_the_team_commands(database_url):
    assert run_cli(database_url, "seed-demo").returncode == 0
    for _ in range(2):
        out = run_cli(database_url, "record-refusal", "LN-10006", "--by", "Sam", "--note", "will not pay")
        assert out.returncode == 0, out.stderr
    out = run_cli(database_url, "remind", "--dry-run")
    assert out.returncode == 0  # a dry run reviews nothing
    assert json.loads(run_cli(database_url, "escalations", "--json").stdout) == []
    run_cli(database_url, "remind", "--now", "2026-11-23T03:00:00+00:00")  # reviews, then reminds (at night: none)
    [e] = json.loads(run_cli(database_url, "escalations", "--json").stdout)
    assert (e["loan_ref"], e["stage"], e["details"]["refusals"]) == ("LN-10006", "final_notice", 2)
    text = run_cli(database_url, "escalations").stdout
    assert e["escalation_ref"] in text and "final notice not yet given" in text
    out = run_cli(database_url, "notice-sent", e["escalation_ref"].lower(), "--how", "letter", "--by", "Sam")
    assert out.returncode == 0 and "notice period starts now" in out.stdout
    out = run_cli(database_url, "review-escalation", e["escalation_ref"], "--decision", "no_action", "--by", "Alex")
    assert out.returncode == 0 and "no legal step" in out.stdout
    assert json.loads(run_cli(database_url, "escalations", "--json").stdout) == []
    [closed] = json.loads(run_cli(database_url, "escalations", "--all", "--json").stdout)
    assert (closed["status"], closed["outcome"]) == ("reviewed", "no_action")
    assert run_cli(database_url, "review-escalation", "ES-NOPE", "--decision", "proceed", "--by", "A").returncode == 1
    assert run_cli(database_url, "record-refusal", "LN-99999", "--by", "A", "--note", "x").returncode == 1
