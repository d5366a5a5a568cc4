"""Payments: reading them, allocating them oldest instalment first, and the lifecycle rules
of instalments, agreements and loans (bot.domain.payments)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.payments import (
    AgreementRules,
    InstalmentDue,
    LoanBalances,
    after_payment,
    agreement_outcome,
    allocate,
    days_past_due_bucket,
    instalment_status,
    read_payment,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
DAY = date(2026, 12, 1)
GOOD = {
    "payment_id": "pay_001",
    "loan_ref": "LN-10001",
    "paid_at": "2026-12-05T09:30:00+00:00",
    "amount": "125.50",
    "currency": "GBP",
    "method": "card",
}


# ---------------------------------------------------------------- reading a payment


def test_a_good_payment_is_read():
    payment, problems = read_payment(GOOD, NOW)
    assert problems == []
    assert payment is not None
    assert (payment.payment_id, payment.loan_ref, payment.amount, payment.currency, payment.method) == (
        "pay_001",
        "LN-10001",
        Decimal("125.50"),
        "GBP",
        "card",
    )
    assert payment.paid_at == datetime(2026, 12, 5, 9, 30, tzinfo=timezone.utc)


def test_references_currencies_and_methods_are_normalised():
    payment, _ = read_payment(
        {**GOOD, "loan_ref": "ln10001", "currency": "gbp", "method": "Bank_Transfer", "paid_at": "2026-12-05T09:30Z"},
        NOW,
    )
    assert payment is not None
    assert (payment.loan_ref, payment.currency, payment.method) == ("LN-10001", "GBP", "bank_transfer")


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("payment_id", "", "payment_id is required"),
        ("payment_id", "has space", "payment_id must be"),
        ("payment_id", "x" * 65, "payment_id must be"),
        ("loan_ref", "hello", "is not a reference"),
        ("paid_at", "yesterday", "not an ISO 8601 time"),
        ("paid_at", "2026-12-05T09:30:00", "needs a UTC offset"),
        ("paid_at", "2026-12-07T09:30:00+00:00", "in the future"),
        ("amount", "12,50", "must be a decimal amount"),
        ("amount", "NaN", "must be a decimal amount"),
        ("amount", "-5", "must be more than 0"),
        ("amount", "0", "must be more than 0"),
        ("amount", "10.001", "more decimal places than GBP allows"),
        ("currency", "POUNDS", "not an ISO 4217 code"),
        ("currency", "XYZ", "not an ISO 4217 code"),
        ("method", "credit card!", "method"),
    ],
)
def test_bad_fields_are_named(field, value, fragment):
    payment, problems = read_payment({**GOOD, field: value}, NOW)
    assert payment is None
    assert any(fragment in p for p in problems), problems


def test_amounts_and_times_must_be_strings():
    payment, problems = read_payment({**GOOD, "amount": 125.5, "paid_at": None}, NOW)
    assert payment is None
    assert "amount is required (a string)" in problems and "paid_at is required (a string)" in problems


def test_a_yen_amount_has_no_minor_units():
    assert read_payment({**GOOD, "currency": "JPY", "amount": "1500"}, NOW)[0] is not None
    assert read_payment({**GOOD, "currency": "JPY", "amount": "1500.5"}, NOW)[0] is None


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(list(GOOD) + ["other"]), st.one_of(st.text(max_size=80), st.none(), st.integers()))
)
def test_any_fields_give_a_payment_or_problems_never_an_exception(fields):
    payment, problems = read_payment(fields, NOW)
    assert (payment is None) == bool(problems)


# ---------------------------------------------------------------- allocation


def test_oldest_instalment_first_and_the_rest_to_the_balance():
    instalments = [
        InstalmentDue(2, DAY + timedelta(days=30), Decimal("100.00")),
        InstalmentDue(1, DAY, Decimal("100.00"), paid=Decimal("40.00")),
    ]
    allocation = allocate(Decimal("180.00"), instalments, outstanding=Decimal("1000.00"))
    assert allocation.to_instalments == ((1, Decimal("60.00")), (2, Decimal("100.00")))
    assert (allocation.to_balance, allocation.unapplied) == (Decimal("20.00"), Decimal(0))


def test_more_than_the_outstanding_balance_is_unapplied():
    allocation = allocate(Decimal("150.00"), [InstalmentDue(1, DAY, Decimal("100.00"))], outstanding=Decimal("120.00"))
    assert allocation.to_instalments == ((1, Decimal("100.00")),)
    assert (allocation.to_balance, allocation.unapplied) == (Decimal("20.00"), Decimal("30.00"))


def test_a_payment_must_be_positive():
    with pytest.raises(ValueError):
        allocate(Decimal(0), [], Decimal(10))


cents = st.integers(min_value=1, max_value=500_00).map(lambda n: Decimal(n).scaleb(-2))


@settings(max_examples=400, deadline=None)
@given(
    amounts=st.lists(cents, min_size=1, max_size=12),
    payments=st.lists(cents, min_size=1, max_size=15),
    extra=st.integers(min_value=0, max_value=300_00).map(lambda n: Decimal(n).scaleb(-2)),
    gaps=st.lists(st.integers(min_value=0, max_value=40), min_size=12, max_size=12),
)
def test_any_payment_sequence_conserves_every_penny_and_overpays_nothing(amounts, payments, extra, gaps):
    """Whatever arrives: instalments + balance + unapplied = what was paid, to the penny;
    no instalment receives more than it asks; money reaches an instalment only once every
    older one is paid in full; the balance never goes below zero."""
    due = [DAY + timedelta(days=sum(gaps[: n + 1])) for n in range(len(amounts))]
    paid = {n: Decimal(0) for n in range(len(amounts))}
    outstanding = sum(amounts, Decimal(0)) + extra
    to_balance = unapplied = Decimal(0)
    for payment in payments:
        instalments = [InstalmentDue(n, due[n], amounts[n], paid[n]) for n in range(len(amounts))]
        allocation = allocate(payment, instalments, outstanding)
        assert allocation.total == payment
        order = sorted(range(len(amounts)), key=lambda n: (due[n], n))
        for key, share in allocation.to_instalments:
            assert share > 0
            assert all(paid[older] == amounts[older] for older in order[: order.index(key)])
            paid[key] += share
            assert paid[key] <= amounts[key]
        applied = payment - allocation.unapplied
        outstanding -= applied
        assert outstanding >= 0
        to_balance += allocation.to_balance
        unapplied += allocation.unapplied
    assert sum(paid.values(), Decimal(0)) + to_balance + unapplied == sum(payments, Decimal(0))
    assert all(share.as_tuple().exponent >= -2 for share in paid.values())


# ---------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(
    "paid, today, status",
    [
        ("50.00", DAY, "paid"),
        ("0", DAY, "scheduled"),
        ("20.00", DAY, "partially_paid"),
        ("0", DAY + timedelta(days=3), "scheduled"),  # within the 3 grace days
        ("20.00", DAY + timedelta(days=3), "partially_paid"),
        ("0", DAY + timedelta(days=4), "missed"),
        ("20.00", DAY + timedelta(days=4), "missed"),  # a shortfall after the grace days is a miss
        ("50.00", DAY + timedelta(days=40), "paid"),  # paid late in full
    ],
)
def test_instalment_status(paid, today, status):
    assert instalment_status(Decimal("50.00"), Decimal(paid), DAY, today, 3) == status


def test_a_missed_instalment_paid_later_becomes_paid_and_cancelled_ones_stay_cancelled():
    assert instalment_status(Decimal(50), Decimal(50), DAY, DAY + timedelta(days=9), 3, "missed") == "paid"
    assert instalment_status(Decimal(50), Decimal(0), DAY, DAY + timedelta(days=9), 3, "cancelled") == "cancelled"


RULES = AgreementRules(grace_days=3, missed_to_break_plan=2)


@pytest.mark.parametrize(
    "kind, statuses, outcome",
    [
        ("instalment_plan", ["paid", "paid", "paid"], "completed"),
        ("instalment_plan", ["paid", "missed", "scheduled"], None),
        ("instalment_plan", ["missed", "missed", "scheduled"], "broken"),
        ("instalment_plan", ["missed", "paid", "missed"], "broken"),
        ("hardship_deferral", ["paid", "partially_paid"], None),
        ("promise_to_pay", ["missed"], "broken"),
        ("pay_now", ["missed"], "broken"),
        ("settlement", ["paid"], "completed"),
        ("promise_to_pay", ["partially_paid"], None),
        ("instalment_plan", ["cancelled", "cancelled"], None),
    ],
)
def test_agreement_outcome(kind, statuses, outcome):
    assert agreement_outcome(kind, statuses, RULES) == outcome


def test_one_missed_instalment_breaks_a_plan_when_the_policy_says_so():
    assert agreement_outcome("instalment_plan", ["missed", "scheduled"], AgreementRules(3, 1)) == "broken"


def test_paying_everything_overdue_cures_the_loan():
    loan = LoanBalances(Decimal("1000.00"), Decimal("250.00"), 40, "delinquent")
    assert after_payment(loan, Decimal("100.00")) == LoanBalances(
        Decimal("900.00"), Decimal("150.00"), 40, "delinquent"
    )
    assert after_payment(loan, Decimal("250.00")) == LoanBalances(Decimal("750.00"), Decimal("0.00"), 0, "current")
    assert after_payment(loan, Decimal("1000.00")) == LoanBalances(Decimal("0.00"), Decimal(0), 0, "paid_off")


def test_a_loan_on_hold_stays_on_hold():
    loan = LoanBalances(Decimal("1000.00"), Decimal("250.00"), 40, "on_hold")
    assert after_payment(loan, Decimal("250.00")).status == "on_hold"


@pytest.mark.parametrize(
    "dpd, bucket", [(0, "current"), (1, "1-29"), (29, "1-29"), (30, "30-59"), (89, "60-89"), (90, "90+")]
)
def test_days_past_due_buckets(dpd, bucket):
    assert days_past_due_bucket(dpd) == bucket
