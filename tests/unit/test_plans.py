import dataclasses
import math
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.plans import (
    AffordableOptions,
    CounterOffer,
    HardshipArrangement,
    Instalment,
    PlanOffer,
    SettlementOffer,
    affordable_options,
    build_schedule,
    check_first_due_date,
    check_promise,
    counter_offer,
    first_instalment_window,
    hardship_options,
    hardship_plan_at,
    minor_unit,
    plan_offers,
    promise_window,
    quantize,
    quantize_down,
    schedule_for_monthly_amount,
    settlement_offer,
)
from bot.domain.policy import PolicyBook

POLICY_FILE = Path(__file__).resolve().parents[2] / "collections_policy.yml"
BOOK = PolicyBook.load(POLICY_FILE)
DEFAULT = BOOK.default  # min 25.00, lengths 3/6/12, max 12; hardship 3 / 24 / 10.00
BNPL = BOOK.for_product("bnpl")
TODAY = date(2024, 1, 15)

D = Decimal


def amounts(plan):
    return [i.amount for i in plan.instalments] if isinstance(plan, PlanOffer) else [i.amount for i in plan]


def assert_monthly(instalments, first):
    assert all(isinstance(i, Instalment) for i in instalments)
    assert [i.sequence for i in instalments] == list(range(1, len(instalments) + 1))
    assert [i.due_date for i in instalments] == [first + relativedelta(months=n) for n in range(len(instalments))]


# --- quantize ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, currency, expected",
    [
        (D("1.005"), "GBP", D("1.01")),
        (D("1.004"), "GBP", D("1.00")),
        (D("2.5"), "EUR", D("2.50")),
        (D("1234.5"), "JPY", D("1235")),
        (D("1234.4"), "JPY", D("1234")),
        (D("1.0005"), "BHD", D("1.001")),
        (10, "USD", D("10.00")),
    ],
)
def test_quantize(amount, currency, expected):
    result = quantize(amount, currency)
    assert result == expected
    assert result.as_tuple().exponent == expected.as_tuple().exponent


def test_quantize_rejects_floats_and_unknown_currencies():
    with pytest.raises(TypeError):
        quantize(1.5, "GBP")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="currency"):
        quantize(D("1"), "ZZZ")
    with pytest.raises(ValueError, match="currency"):
        quantize(D("1"), "gbp")


def test_minor_unit():
    assert minor_unit("GBP") == D("0.01")
    assert minor_unit("JPY") == D("1")
    assert minor_unit("BHD") == D("0.001")


# --- build_schedule ----------------------------------------------------------------------


def test_build_schedule_remainder_goes_on_last_instalment():
    schedule = build_schedule(D("100.00"), "GBP", 3, date(2024, 3, 1))
    assert amounts(schedule) == [D("33.33"), D("33.33"), D("33.34")]
    assert sum(amounts(schedule)) == D("100.00")
    assert_monthly(schedule, date(2024, 3, 1))


def test_build_schedule_exactly_divisible():
    schedule = build_schedule(D("120.00"), "GBP", 3, date(2024, 3, 1))
    assert amounts(schedule) == [D("40.00")] * 3


def test_build_schedule_from_the_31st_clips_per_month_and_returns_to_31st():
    schedule = build_schedule(D("500.00"), "GBP", 5, date(2024, 1, 31))
    assert [i.due_date for i in schedule] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    non_leap = build_schedule(D("200.00"), "GBP", 2, date(2023, 1, 31))
    assert non_leap[1].due_date == date(2023, 2, 28)


def test_build_schedule_jpy_has_no_minor_units():
    schedule = build_schedule(D("10000"), "JPY", 3, TODAY)
    assert amounts(schedule) == [D("3333"), D("3333"), D("3334")]
    assert all(a.as_tuple().exponent == 0 for a in amounts(schedule))
    assert build_schedule(D("10000.00"), "JPY", 2, TODAY)[0].amount == D("5000")


def test_build_schedule_single_month():
    assert amounts(build_schedule(D("9.99"), "GBP", 1, TODAY)) == [D("9.99")]


@pytest.mark.parametrize(
    "total, months, message",
    [
        (D("0.02"), 3, "too small"),
        (D("0"), 3, "positive"),
        (D("-10.00"), 3, "positive"),
        (D("100.005"), 3, "decimal places"),
        (D("100.00"), 0, "months"),
    ],
)
def test_build_schedule_rejects_bad_input(total, months, message):
    with pytest.raises(ValueError, match=message):
        build_schedule(total, "GBP", months, TODAY)


def test_build_schedule_rejects_floats_and_datetimes():
    with pytest.raises(TypeError):
        build_schedule(100.0, "GBP", 3, TODAY)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build_schedule(D("100.00"), "GBP", 3, datetime(2024, 1, 1))


# --- schedule_for_monthly_amount ---------------------------------------------------------


def test_monthly_amount_schedule_final_is_remainder():
    schedule = schedule_for_monthly_amount(D("100.00"), "GBP", D("30.00"), date(2024, 1, 31))
    assert amounts(schedule) == [D("30.00"), D("30.00"), D("30.00"), D("10.00")]
    assert_monthly(schedule, date(2024, 1, 31))


def test_monthly_amount_schedule_exactly_divisible():
    schedule = schedule_for_monthly_amount(D("90.00"), "GBP", D("30.00"), TODAY)
    assert amounts(schedule) == [D("30.00")] * 3


def test_monthly_amount_covering_total_is_one_instalment():
    schedule = schedule_for_monthly_amount(D("90.00"), "GBP", D("100.00"), TODAY)
    assert amounts(schedule) == [D("90.00")]


def test_monthly_amount_must_be_in_minor_units():
    with pytest.raises(ValueError, match="decimal places"):
        schedule_for_monthly_amount(D("100"), "JPY", D("33.5"), TODAY)


# --- PlanOffer ---------------------------------------------------------------------------


def test_plan_offer_properties():
    plan = PlanOffer.of("GBP", build_schedule(D("100.00"), "GBP", 3, date(2024, 1, 31)))
    assert plan.months == 3
    assert plan.total == D("100.00")
    assert plan.instalment_amount == D("33.33")
    assert plan.final_amount == D("33.34")
    assert plan.first_due_date == date(2024, 1, 31)
    assert plan.last_due_date == date(2024, 3, 31)


def test_plan_offer_rejects_inconsistent_totals():
    schedule = build_schedule(D("100.00"), "GBP", 3, TODAY)
    with pytest.raises(ValueError):
        PlanOffer(3, "GBP", schedule, D("100.01"))
    with pytest.raises(ValueError):
        PlanOffer(2, "GBP", schedule, D("100.00"))


# --- windows and checks ------------------------------------------------------------------


def test_windows():
    assert first_instalment_window(DEFAULT, TODAY) == (TODAY, date(2024, 2, 14))
    assert promise_window(DEFAULT, TODAY) == (TODAY, date(2024, 1, 29))


@pytest.mark.parametrize(
    "day, expected",
    [
        (TODAY, None),
        (TODAY + timedelta(days=30), None),
        (TODAY - timedelta(days=1), "date_in_past"),
        (TODAY + timedelta(days=31), "date_too_far"),
    ],
)
def test_check_first_due_date(day, expected):
    assert check_first_due_date(day, DEFAULT, TODAY) == expected


@pytest.mark.parametrize(
    "amount, day, expected",
    [
        (D("250.00"), TODAY, None),
        (D("250"), TODAY + timedelta(days=14), None),
        (D("250.004"), TODAY, None),
        (D("0"), TODAY, "not_positive"),
        (D("-5.00"), TODAY, "not_positive"),
        (D("0.004"), TODAY, "not_positive"),
        (D("250.01"), TODAY, "above_overdue"),
        (D("249.99"), TODAY, "below_overdue"),
        (D("250.00"), TODAY - timedelta(days=1), "date_in_past"),
        (D("250.00"), TODAY + timedelta(days=15), "date_too_far"),
    ],
)
def test_check_promise(amount, day, expected):
    assert check_promise(amount, day, D("250.00"), "GBP", DEFAULT, TODAY) == expected


def test_check_promise_amount_problem_reported_before_date():
    assert check_promise(D("10.00"), TODAY + timedelta(days=99), D("250.00"), "GBP", DEFAULT, TODAY) == "below_overdue"


# --- plan_offers -------------------------------------------------------------------------


def test_plan_offers_all_lengths_for_a_large_balance():
    offers = plan_offers(D("1200.00"), "GBP", DEFAULT, date(2024, 1, 31))
    assert [o.months for o in offers] == [3, 6, 12]
    assert [o.instalment_amount for o in offers] == [D("400.00"), D("200.00"), D("100.00")]
    assert all(o.first_due_date == date(2024, 1, 31) for o in offers)
    assert offers[-1].last_due_date == date(2024, 12, 31)


def test_plan_offers_drop_lengths_below_minimum():
    offers = plan_offers(D("100.00"), "GBP", DEFAULT, TODAY)
    assert [o.months for o in offers] == [3]
    assert amounts(offers[0]) == [D("33.33"), D("33.33"), D("33.34")]


def test_plan_offers_minimum_is_inclusive():
    assert [o.months for o in plan_offers(D("150.00"), "GBP", DEFAULT, TODAY)] == [3, 6]
    assert [o.months for o in plan_offers(D("149.99"), "GBP", DEFAULT, TODAY)] == [3]


def test_plan_offers_tiny_balance_has_none():
    assert plan_offers(D("74.99"), "GBP", DEFAULT, TODAY) == []
    assert plan_offers(D("0.01"), "GBP", DEFAULT, TODAY) == []


def test_plan_offers_respect_max_months_even_if_listed():
    policy = dataclasses.replace(DEFAULT, plan_lengths=(12, 3, 6), max_months=6)
    assert [o.months for o in plan_offers(D("10000.00"), "GBP", policy, TODAY)] == [3, 6]


def test_plan_offers_per_product():
    assert [o.months for o in plan_offers(D("40.00"), "GBP", BNPL, TODAY)] == [2, 3, 4]
    assert plan_offers(D("40.00"), "GBP", DEFAULT, TODAY) == []
    loan = BOOK.for_product("personal_loan")
    assert [o.months for o in plan_offers(D("180.00"), "GBP", loan, TODAY)] == [3, 6]


def test_plan_offers_jpy():
    offers = plan_offers(D("100000"), "JPY", DEFAULT, TODAY)
    assert [o.instalment_amount for o in offers] == [D("33333"), D("16666"), D("8333")]
    assert [o.final_amount for o in offers] == [D("33334"), D("16670"), D("8337")]


# --- counter_offer -----------------------------------------------------------------------


def test_counter_offer_fits():
    offer = counter_offer(D("1000.00"), "GBP", D("100"), DEFAULT, date(2024, 1, 31))
    assert offer.status == "fits"
    assert offer.requested_amount == D("100.00")
    assert offer.implied_months == 10
    assert amounts(offer.plan) == [D("100.00")] * 10
    assert offer.plan.first_due_date == date(2024, 1, 31)


def test_counter_offer_fits_with_smaller_final_instalment():
    offer = counter_offer(D("1000.00"), "GBP", D("90.00"), DEFAULT, TODAY)
    assert (offer.status, offer.implied_months, offer.plan.months) == ("fits", 12, 12)
    assert offer.plan.instalment_amount == D("90.00")
    assert offer.plan.final_amount == D("10.00")


def test_counter_offer_too_long_proposes_no_plan_above_the_amount():
    """12 x £83.33 would be more a month than the £80 the borrower said (FCA CONC 7.3)."""
    offer = counter_offer(D("1000.00"), "GBP", D("80.00"), DEFAULT, TODAY)
    assert offer == CounterOffer("too_long", D("80.00"), 13, None)


@pytest.mark.parametrize(
    "total, monthly, months",
    [
        (D("200.00"), D("10.00"), 20),
        (D("1000.00"), D("20.00"), 50),
        (D("60.00"), D("20.00"), 3),
        (D("20.00"), D("10.00"), 2),
    ],
)
def test_counter_offer_below_minimum_proposes_no_plan(total, monthly, months):
    """A plan at the £25 minimum would be a multiple of what the borrower said they can afford."""
    assert counter_offer(total, "GBP", monthly, DEFAULT, TODAY) == CounterOffer("below_minimum", monthly, months, None)


@pytest.mark.parametrize("monthly", [D("1000.00"), D("1500"), D("1000.009")])
def test_counter_offer_covers_all(monthly):
    offer = counter_offer(D("1000.00"), "GBP", monthly, DEFAULT, TODAY)
    assert offer.status == "covers_all"
    assert offer.plan is None
    assert offer.implied_months == 1


@pytest.mark.parametrize("monthly", [D("0"), D("-10.00"), D("0.001")])
def test_counter_offer_rejects_non_positive_amounts(monthly):
    with pytest.raises(ValueError):
        counter_offer(D("1000.00"), "GBP", monthly, DEFAULT, TODAY)


def test_counter_offer_rounds_the_request_down():
    """Never a penny more a month than the borrower said."""
    offer = counter_offer(D("1000.00"), "GBP", D("99.999"), DEFAULT, TODAY)
    assert offer.requested_amount == D("99.99")
    assert offer.plan.instalment_amount == D("99.99")
    assert offer.plan.months == 11


def test_quantize_down():
    assert quantize_down(D("86.669"), "GBP") == D("86.66")
    assert quantize_down(D("9000.9"), "JPY") == D("9000")
    assert quantize_down(D("-1.005"), "GBP") == D("-1.00")


def test_counter_offer_jpy():
    offer = counter_offer(D("100000"), "JPY", D("9000"), DEFAULT, TODAY)
    assert offer.status == "fits"
    assert offer.plan.months == 12
    assert offer.plan.final_amount == D("1000")


# --- hardship ----------------------------------------------------------------------------


def test_hardship_options_for_a_typical_balance():
    options = hardship_options(D("1200.00"), "GBP", DEFAULT, date(2024, 1, 31))
    assert [o.holiday_months for o in options] == [0, 1, 2, 3]
    assert all(isinstance(o, HardshipArrangement) for o in options)
    assert all(o.plan.months == 24 and o.plan.instalment_amount == D("50.00") for o in options)
    assert [o.plan.first_due_date for o in options] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]


def test_hardship_small_balance_shortens_the_term_to_keep_the_minimum():
    options = hardship_options(D("95.00"), "GBP", DEFAULT, TODAY)
    assert len(options) == 4
    assert all(o.plan.months == 9 for o in options)
    assert options[0].plan.instalment_amount == D("10.55")
    assert options[0].plan.final_amount == D("10.60")


def test_hardship_tiny_balance_has_no_options():
    assert hardship_options(D("19.99"), "GBP", DEFAULT, TODAY) == []
    assert [o.plan.months for o in hardship_options(D("20.00"), "GBP", DEFAULT, TODAY)] == [2] * 4


def test_hardship_uses_the_products_policy():
    options = hardship_options(D("600.00"), "GBP", BNPL, TODAY)
    assert [o.holiday_months for o in options] == [0, 1]
    assert all(o.plan.months == 6 for o in options)


# --- settlement --------------------------------------------------------------------------


def test_settlement_not_offered_before_min_days_past_due():
    assert settlement_offer(D("1000.00"), "GBP", 89, DEFAULT, TODAY) is None
    assert settlement_offer(D("1000.00"), "GBP", 89, DEFAULT, TODAY, improved=True) is None


def test_settlement_initial_and_improved_offers():
    initial = settlement_offer(D("1000.00"), "GBP", 90, DEFAULT, TODAY)
    assert initial == SettlementOffer(D("1000.00"), D("0.10"), D("900.00"), "GBP", date(2024, 1, 29))
    improved = settlement_offer(D("1000.00"), "GBP", 120, DEFAULT, TODAY, improved=True)
    assert (improved.discount, improved.amount) == (D("0.25"), D("750.00"))


def test_settlement_rounds_in_the_lenders_favour():
    offer = settlement_offer(D("1000.01"), "GBP", 90, DEFAULT, TODAY, improved=True)
    assert offer.amount == D("750.01")  # 750.0075: half-up would give away more than 25%
    assert settlement_offer(D("9999"), "JPY", 90, DEFAULT, TODAY).amount == D("9000")


@pytest.mark.parametrize("days", [-1, 1.5, True])
def test_settlement_rejects_bad_days_past_due(days):
    with pytest.raises(ValueError):
        settlement_offer(D("1000.00"), "GBP", days, DEFAULT, TODAY)


# --- properties --------------------------------------------------------------------------

CURRENCIES = st.sampled_from(["GBP", "EUR", "JPY", "BHD"])
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def money(currency, min_units=1, max_units=10**9):
    unit = minor_unit(currency)
    return st.integers(min_units, max_units).map(lambda n: n * unit)


@st.composite
def policies(draw):
    """Valid product policies, built through PolicyBook.from_dict so they are validated."""
    max_months = draw(st.integers(2, 36))
    lengths = draw(st.lists(st.integers(2, max_months), min_size=1, max_size=5, unique=True))
    initial = draw(st.integers(0, 90))
    data = {
        "min_instalment": str(draw(st.integers(1, 10_000)) * D("0.01")),
        "max_months": max_months,
        "plan_lengths": lengths,
        "max_promise_days": draw(st.integers(1, 60)),
        "max_days_to_first_instalment": draw(st.integers(1, 60)),
        "hardship": {
            "max_holiday_months": draw(st.integers(1, 6)),
            "max_months": draw(st.integers(2, 60)),
            "min_instalment": str(draw(st.integers(1, 10_000)) * D("0.01")),
        },
        "settlement": {
            "min_days_past_due": draw(st.integers(1, 365)),
            "initial_discount": str(D(initial) / 100),
            "max_discount": str(D(draw(st.integers(initial, 99))) / 100),
            "max_days_to_pay": draw(st.integers(1, 60)),
        },
    }
    return PolicyBook.from_dict({"default": data}).default


@st.composite
def cases(draw, **money_kwargs):
    currency = draw(CURRENCIES)
    return currency, draw(money(currency, **money_kwargs)), draw(policies()), draw(DATES)


def effective_minimum(minimum, currency):
    """Policy minimums are currency-less; in a currency they are rounded up to minor units."""
    return minimum.quantize(minor_unit(currency), rounding=ROUND_CEILING)


def assert_plan_within_policy(plan, total, minimum, max_months, first):
    assert plan.total == total
    assert sum(i.amount for i in plan.instalments) == total
    assert 2 <= plan.months <= max_months
    assert all(i.amount >= minimum for i in plan.instalments[:-1])
    assert plan.final_amount > 0
    assert_monthly(plan.instalments, first)


@given(CURRENCIES.flatmap(lambda c: st.tuples(st.just(c), money(c))), st.integers(1, 60), DATES)
def test_build_schedule_properties(currency_total, months, first):
    currency, total = currency_total
    unit = minor_unit(currency)
    if total < months * unit:
        with pytest.raises(ValueError):
            build_schedule(total, currency, months, first)
        return
    schedule = build_schedule(total, currency, months, first)
    values = amounts(schedule)
    assert sum(values) == total
    assert len(set(values[:-1])) <= 1
    assert 0 <= values[-1] - values[0] < months * unit
    assert all(quantize(v, currency) == v for v in values)
    assert_monthly(schedule, first)


@given(CURRENCIES.flatmap(lambda c: st.tuples(st.just(c), money(c, max_units=10**7))), st.integers(1, 200), DATES)
def test_schedule_for_monthly_amount_properties(currency_total, divisor, first):
    currency, total = currency_total
    monthly = max(quantize(total / divisor, currency), minor_unit(currency))
    schedule = schedule_for_monthly_amount(total, currency, monthly, first)
    values = amounts(schedule)
    assert sum(values) == total
    assert all(v == monthly for v in values[:-1])
    assert 0 < values[-1] <= monthly
    assert_monthly(schedule, first)


@given(cases())
def test_plan_offers_properties(case):
    currency, total, policy, first = case
    minimum = effective_minimum(policy.min_instalment, currency)
    offers = plan_offers(total, currency, policy, first)
    assert [o.months for o in offers] == sorted(o.months for o in offers)
    for offer in offers:
        assert offer.months in policy.plan_lengths
        assert offer.instalment_amount >= minimum
        assert offer.final_amount >= offer.instalment_amount
        assert_plan_within_policy(offer, total, minimum, policy.max_months, first)
    for months in set(policy.plan_lengths) - {o.months for o in offers}:
        assert total / months < minimum or months > policy.max_months


@settings(max_examples=200)
@given(cases(), st.integers(1, 10**9))
def test_counter_offer_plan_always_satisfies_policy(case, requested_units):
    currency, total, policy, first = case
    minimum = effective_minimum(policy.min_instalment, currency)
    requested = requested_units * minor_unit(currency)
    offer = counter_offer(total, currency, requested, policy, first)
    assert offer.requested_amount == requested
    if offer.status == "covers_all":
        assert requested >= total and offer.plan is None
        return
    assert offer.implied_months == math.ceil(total / requested)
    if offer.status == "fits":
        assert offer.plan.instalment_amount == requested
        assert offer.plan.months == offer.implied_months
        assert_plan_within_policy(offer.plan, total, minimum, policy.max_months, first)
    elif offer.status == "below_minimum":
        assert requested < minimum and offer.plan is None
    else:
        assert offer.status == "too_long"
        assert offer.implied_months > policy.max_months and offer.plan is None


@settings(max_examples=200)
@given(cases(), st.integers(1, 10**12), st.sampled_from([0, 1, 2, 3]))
def test_counter_offer_never_asks_more_a_month_than_was_said(case, said_units, extra_digits):
    """Whatever the borrower says (to any number of decimal places), a plan offered for it
    never has an instalment above it."""
    currency, total, policy, first = case
    said = said_units * minor_unit(currency) / 10**extra_digits
    if quantize_down(said, currency) <= 0:
        return
    offer = counter_offer(total, currency, said, policy, first)
    assert offer.requested_amount <= said
    if offer.plan is not None:
        assert max(amounts(offer.plan)) <= said


@settings(max_examples=300)
@given(cases(), st.integers(1, 10**9))
def test_affordable_options_never_exceed_the_figure(case, said_units):
    currency, total, policy, today = case
    hardship = policy.hardship
    said = said_units * minor_unit(currency)
    options = affordable_options(total, currency, said, policy, today)
    assert options.monthly_amount == said
    assert options.below_hardship_minimum == (said < effective_minimum(hardship.min_instalment, currency))
    for arrangement in options.plans:
        assert arrangement.holiday_months == 0
        assert max(amounts(arrangement.plan)) <= said
        assert 2 <= arrangement.plan.months <= hardship.max_months
        assert arrangement.plan.total == total
    for arrangement in options.holidays:
        assert 1 <= arrangement.holiday_months <= hardship.max_holiday_months
        assert arrangement.plan.first_due_date == today + relativedelta(months=arrangement.holiday_months + 1)
        if options.plans:
            assert max(amounts(arrangement.plan)) <= said
    assert [a.holiday_months for a in options.holidays] == sorted({a.holiday_months for a in options.holidays})
    if options.below_hardship_minimum:
        assert options.plans == ()
    at = hardship_plan_at(total, currency, said, policy, today)
    if at is not None:
        assert options.plans[0] == at
        assert at.at_amount == said and at.plan.instalment_amount == said


@given(cases())
def test_hardship_options_properties(case):
    currency, total, policy, today = case
    hardship = policy.hardship
    minimum = effective_minimum(hardship.min_instalment, currency)
    options = hardship_options(total, currency, policy, today)
    if total < 2 * minimum:
        assert options == []
        return
    assert [o.holiday_months for o in options] == list(range(hardship.max_holiday_months + 1))
    for option in options:
        first = today + relativedelta(months=option.holiday_months + 1)
        assert_plan_within_policy(option.plan, total, minimum, hardship.max_months, first)
        assert option.plan.instalment_amount >= minimum


@given(cases(), st.integers(0, 1000), st.booleans())
def test_settlement_never_below_the_maximum_discount(case, days_past_due, improved):
    currency, total, policy, today = case
    offer = settlement_offer(total, currency, days_past_due, policy, today, improved=improved)
    if days_past_due < policy.settlement.min_days_past_due:
        assert offer is None
        return
    assert offer.amount >= total * (1 - policy.settlement.max_discount)
    assert offer.amount <= total
    assert quantize(offer.amount, currency) == offer.amount
    assert offer.pay_by == today + timedelta(days=policy.settlement.max_days_to_pay)
    initial = settlement_offer(total, currency, days_past_due, policy, today)
    assert offer.amount <= initial.amount


@given(policies(), DATES, st.integers(-100, 100))
def test_date_checks_match_the_windows(policy, today, offset):
    day = today + timedelta(days=offset)
    start, end = first_instalment_window(policy, today)
    assert (check_first_due_date(day, policy, today) is None) == (start <= day <= end)
    start, end = promise_window(policy, today)
    assert (check_promise(D("10.00"), day, D("10.00"), "GBP", policy, today) is None) == (start <= day <= end)


@given(cases())
def test_plans_starting_inside_the_window_stay_monthly(case):
    currency, total, policy, today = case
    start, end = first_instalment_window(policy, today)
    for first in (start, end):
        assert check_first_due_date(first, policy, today) is None
        for offer in plan_offers(total, currency, policy, first):
            assert start <= offer.first_due_date <= end
            assert offer.last_due_date == first + relativedelta(months=offer.months - 1)


def test_policy_minimum_is_rounded_up_in_a_currency_without_minor_units():
    policy = dataclasses.replace(DEFAULT, min_instalment=D("25.50"))
    assert [o.months for o in plan_offers(D("78"), "JPY", policy, TODAY)] == [3]
    assert plan_offers(D("77"), "JPY", policy, TODAY) == []
    offer = counter_offer(D("100"), "JPY", D("25"), policy, TODAY)
    assert offer == CounterOffer("below_minimum", D("25"), 4, None)


# --- affordability (FCA CONC 7.3) ---------------------------------------------------------
# LN-10002's £480.00 on a personal loan: standard plans from £30.00 over up to 12 months;
# hardship from £10.00 over up to 24 months, holidays of 1-3 months.
PERSONAL = BOOK.for_product("personal_loan")


def describe(arrangements):
    return [
        (a.holiday_months, a.at_amount, a.plan.months, a.plan.instalment_amount, a.plan.final_amount)
        for a in arrangements
    ]


def test_affordable_options_below_the_minimum_fit_the_figure():
    options = affordable_options(D("480.00"), "GBP", D("25"), PERSONAL, TODAY)
    assert options.monthly_amount == D("25.00") and not options.below_hardship_minimum
    # at their £25 (19 x £25 and a final £5), then the lowest hardship payment, 24 x £20
    assert describe(options.plans) == [
        (0, D("25.00"), 20, D("25.00"), D("5.00")),
        (0, None, 24, D("20.00"), D("20.00")),
    ]
    assert describe(options.holidays) == [(h, None, 24, D("20.00"), D("20.00")) for h in (1, 2, 3)]
    assert options.plans[0].plan.first_due_date == date(2024, 2, 15)


def test_affordable_options_at_the_lowest_payment_are_not_offered_twice():
    options = affordable_options(D("480.00"), "GBP", D("20.00"), PERSONAL, TODAY)
    assert describe(options.plans) == [(0, D("20.00"), 24, D("20.00"), D("20.00"))]


def test_affordable_options_when_only_their_figure_fits_the_holidays_keep_it():
    # the lowest plan (23 x £10.41, a final £10.57) would go 15p above £10.42 once
    options = affordable_options(D("250.00"), "GBP", D("10.42"), PERSONAL, TODAY)
    assert describe(options.plans) == [(0, D("10.42"), 24, D("10.42"), D("10.34"))]
    assert describe(options.holidays) == [(h, D("10.42"), 24, D("10.42"), D("10.34")) for h in (1, 2, 3)]


def test_affordable_options_when_nothing_fits_offer_only_a_holiday():
    # £900.00 at £20 would take 45 months; hardship allows 24 (24 x £37.50)
    options = affordable_options(D("900.00"), "GBP", D("20.00"), PERSONAL, TODAY)
    assert options.plans == () and not options.below_hardship_minimum
    assert describe(options.holidays) == [(h, None, 24, D("37.50"), D("37.50")) for h in (1, 2, 3)]


def test_affordable_options_below_the_hardship_minimum():
    options = affordable_options(D("480.00"), "GBP", D("5.00"), PERSONAL, TODAY)
    assert options.below_hardship_minimum and options.plans == ()
    assert [a.holiday_months for a in options.holidays] == [1, 2, 3]


def test_affordable_options_for_a_balance_too_small_for_hardship():
    options = affordable_options(D("15.00"), "GBP", D("5.00"), PERSONAL, TODAY)
    assert options == AffordableOptions(D("5.00"), (), (), True)


def test_affordable_options_round_the_figure_down():
    assert affordable_options(D("480.00"), "GBP", D("25.009"), PERSONAL, TODAY).monthly_amount == D("25.00")
    with pytest.raises(ValueError):
        affordable_options(D("480.00"), "GBP", D("0"), PERSONAL, TODAY)


@pytest.mark.parametrize(
    "monthly, holiday, allowed",
    [
        (D("25.00"), 0, True),
        (D("9.99"), 0, False),  # below the hardship minimum
        (D("19.99"), 0, False),  # 25 months: longer than hardship allows
        (D("480.00"), 0, False),  # one payment: not a plan
        (D("25.00"), 3, True),
        (D("25.00"), 4, False),  # a longer holiday than policy allows
    ],
)
def test_hardship_plan_at_the_borrowers_figure(monthly, holiday, allowed):
    arrangement = hardship_plan_at(D("480.00"), "GBP", monthly, PERSONAL, TODAY, holiday)
    assert (arrangement is not None) == allowed
    if arrangement is not None:
        assert arrangement.holiday_months == holiday and arrangement.at_amount == monthly
        assert arrangement.plan.first_due_date == TODAY + relativedelta(months=holiday + 1)
        assert arrangement.plan.total == D("480.00")
