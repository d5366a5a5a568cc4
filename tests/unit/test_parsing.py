"""Tests for bot.domain.parsing: examples from the spec, hostile input, properties."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.formatting import format_money
from bot.domain.parsing import (
    FORTNIGHT,
    MONTH,
    WEEK,
    DateOfBirthParse,
    PeriodicAmount,
    monthly_equivalent,
    normalise_loan_ref,
    parse_amount,
    parse_currency_hint,
    parse_date_of_birth,
    parse_months,
    parse_past_date,
    parse_payment_date,
    parse_periodic_amount,
)

TODAY = date(2026, 11, 23)  # a Monday
assert TODAY.weekday() == 0

HOSTILE = [  # nothing in these is a loan ref, amount, date or plan length
    "",
    "   ",
    "\n\t \r\n",
    "😀",
    "😀🙏💸🔥" * 50,
    "'; DROP TABLE loans;--",
    "Robert'); DROP TABLE borrowers;--",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "<b><i>hello</i></b>",
    "{{ x }} %s%n {jndi:ldap://x}",
    "\x00\x01\x02",
    "\u202e\u202d",
    "a" * 10_000,
    "/" * 10_000,
    "the " * 2_500,
    "-" * 10_000,
    "(" * 10_000,
    "end of " * 1_500,
]
HOSTILE_NUMERIC = [  # must not raise or hang; any answer is acceptable
    "9" * 10_000,
    "1/" * 5_000,
    "1." * 5_000,
    "1," * 5_000,
    "£" * 5_000 + "1",
    "-1" * 5_000,
    "1st " * 2_500,
    "LN-1234 " * 1_250,
    "12/03/1985 " * 1_000,
]
PUBLIC_TEXT_FUNCS = [
    normalise_loan_ref,
    parse_amount,
    parse_periodic_amount,
    parse_currency_hint,
    parse_months,
    lambda t: parse_payment_date(t, TODAY),
    lambda t: parse_payment_date(t, TODAY, "MDY"),
    lambda t: parse_date_of_birth(t, TODAY),
]


def d(y: int, m: int, day: int) -> date:
    return date(y, m, day)


# --------------------------------------------------------------------------
# loan reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("LN-48213", "LN-48213"),
        ("ln48213", "LN-48213"),
        ("ln 48213", "LN-48213"),
        ("Ln-48213", "LN-48213"),
        ("my reference is Ln-48213 thanks", "LN-48213"),
        ("ref: LN-48213.", "LN-48213"),
        ("(ln48213)", "LN-48213"),
        ("ABCD-1234567890", "ABCD-1234567890"),
        ("ＬＮ－４８２１３", "LN-48213"),  # full-width, as typed on CJK keyboards
        ("LN-123", None),  # too few digits
        ("LN-12345678901", None),  # too many digits
        ("ABCDE-12345", None),  # too many letters
        ("L-12345", None),  # too few letters
        ("48213", None),
        ("I can pay in 2026", None),
        ("loan 48213", None),
        ("I owe 5000", None),
        ("GBP 5000", None),
        ("usd1200", None),
        ("no reference", None),
    ],
)
def test_normalise_loan_ref(text, expected):
    assert normalise_loan_ref(text) == expected


# --------------------------------------------------------------------------
# date of birth
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1985-03-12",
        "12 March 1985",
        "March 12, 1985",
        "12th of March 1985",
        "12th March 1985",
        "born on 12 March 1985",
        "my date of birth is 12 Mar 1985 thanks",
        "1985年3月12日",
    ],
)
def test_dob_unambiguous_12_march_1985(text):
    assert parse_date_of_birth(text, TODAY) == DateOfBirthParse(d(1985, 3, 12), (), None)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("25/12/1985", d(1985, 12, 25)),  # 25 > 12
        ("12/25/1985", d(1985, 12, 25)),
        ("05/05/1985", d(1985, 5, 5)),  # both readings are the same day
        ("1985/03/12", d(1985, 3, 12)),  # year first is never ambiguous
        ("31-01-1990", d(1990, 1, 31)),
    ],
)
def test_dob_numeric_unambiguous(text, expected):
    assert parse_date_of_birth(text, TODAY) == DateOfBirthParse(expected, (), None)


@pytest.mark.parametrize(
    "text, dmy, mdy",
    [
        ("12/03/1985", d(1985, 3, 12), d(1985, 12, 3)),
        ("03/04/1985", d(1985, 4, 3), d(1985, 3, 4)),
        ("12.03.1985", d(1985, 3, 12), d(1985, 12, 3)),
        ("12-03-1985", d(1985, 3, 12), d(1985, 12, 3)),
        ("my dob is 1/2/1970 ok", d(1970, 2, 1), d(1970, 1, 2)),
    ],
)
def test_dob_numeric_ambiguous(text, dmy, mdy):
    result = parse_date_of_birth(text, TODAY)
    assert result.value is None
    assert result.problem == "ambiguous"
    assert result.candidates == (dmy, mdy)


def test_dob_ambiguous_resolved_when_only_one_reading_is_plausible():
    # 11 Dec 2010 would make them 15 today; 12 Nov 2010 makes them 16.
    assert parse_date_of_birth("12/11/2010", TODAY) == DateOfBirthParse(d(2010, 11, 12), (), None)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("March 1985", "unparseable"),
        ("1985", "unparseable"),
        ("12 March", "unparseable"),
        ("today", "unparseable"),
        ("yesterday", "unparseable"),
        ("2 days ago", "unparseable"),
        ("31/02/1985", "unparseable"),
        ("1985-02-30", "unparseable"),
        ("13/13/1985", "unparseable"),
        ("not telling you", "unparseable"),
        ("01/01/2030", "in_future"),
        ("2027-01-01", "in_future"),
        ("24 November 2026", "in_future"),
        ("1 January 1800", "implausible"),
        ("1900-01-01", "implausible"),
        ("2015-06-01", "implausible"),  # eleven years old
        ("23 November 2026", "implausible"),  # born today
    ],
)
def test_dob_problems(text, problem):
    result = parse_date_of_birth(text, TODAY)
    assert result.value is None
    assert result.candidates == ()
    assert result.problem == problem


@pytest.mark.parametrize(
    "text, expected",
    [
        ("23 November 2010", d(2010, 11, 23)),  # sixteen today
        ("24 November 1906", d(1906, 11, 24)),  # 119
    ],
)
def test_dob_age_boundaries(text, expected):
    assert parse_date_of_birth(text, TODAY).value == expected


def test_dob_result_is_frozen():
    result = parse_date_of_birth("1985-03-12", TODAY)
    with pytest.raises(AttributeError):
        result.value = None  # type: ignore[misc]


# --------------------------------------------------------------------------
# amounts
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("£50", "50"),
        ("50", "50"),
        ("50.00", "50"),
        ("50.5", "50.5"),
        ("$1,200.50", "1200.50"),
        ("fifty dollars", "50"),
        ("fifty", "50"),
        ("Fifty, on Friday.", "50"),
        ("50 a month", "50"),
        ("£50 per month", "50"),
        ("£50/month", "50"),
        ("1.2k", "1200"),
        ("2k", "2000"),
        ("£1.5K", "1500"),
        ("2 grand", "2000"),
        ("one hundred and twenty", "120"),
        ("twenty-five pounds", "25"),
        ("120 quid", "120"),
        ("I can pay 120 on the 15th", "120"),
        ("on the 15th I can pay 120", "120"),
        ("I can pay fifty on the fifteenth", "50"),
        ("50 on 1/12", "50"),
        ("on 1/12 I'll pay 50", "50"),
        ("I'll pay 50 on 15 December", "50"),
        ("December 15th, 75", "75"),
        ("I can pay 50 at 3pm", "50"),
        ("in 2 weeks I can pay 50", "50"),
        ("I owe 2 loans, I can pay £50", "50"),
        ("LN-48213, paying 40", "40"),
        ("-50", "-50"),
        ("-£50", "-50"),
        ("£-50", "-50"),
        ("minus 50", "-50"),
        ("0", "0"),
        ("£0.00", "0"),
        ("zero", "0"),
        ("1.200,50 €", "1200.50"),
        ("€1,250", "1250"),
        ("US$30", "30"),
        ("50 USD", "50"),
        ("50元", "50"),
        ("１００", "100"),  # full-width digits
        ("<b>£50</b>", "50"),
        ("no wait - 60", "60"),  # a dash with a space is not a minus sign
        ("12.345", "12.345"),  # a lone dot is a decimal point, never thousands
        ("£1.234", "1.234"),
        ("1,234", "1234"),
        ("£1.234,56", "1234.56"),
    ],
)
def test_parse_amount(text, expected):
    result = parse_amount(text)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "I can't pay",
        "the 15th",
        "next Friday",
        "15/12",
        "2026-12-15",
        "6 months",
        "in 2 weeks",
        "10%",
        "LN-48213",
        "at 3pm",
        "£",
        "payday",
        "9" * 20,  # not an amount anyone owes
    ],
)
def test_parse_amount_none(text):
    assert parse_amount(text) is None


def test_parse_amount_never_returns_float():
    for text in ["50.5", "1.2k", "fifty", "£1,200.50"]:
        assert type(parse_amount(text)) is Decimal


# --------------------------------------------------------------------------
# amounts with a period (issue 17: affordability first)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, amount, period",
    [
        ("40 every fortnight", "40", FORTNIGHT),
        ("40 every 2 weeks", "40", FORTNIGHT),
        ("40 every two weeks", "40", FORTNIGHT),
        ("I can pay 40 every other week", "40", FORTNIGHT),
        ("£35 fortnightly", "35", FORTNIGHT),
        ("25 biweekly", "25", FORTNIGHT),
        ("£15pw", "15", WEEK),
        ("£15 p/w", "15", WEEK),
        ("10 a week", "10", WEEK),
        ("10 per week", "10", WEEK),
        ("£20 a week max", "20", WEEK),
        ("40/wk", "40", WEEK),
        ("weekly payments of 10", "10", WEEK),
        ("I can pay 10, weekly", "10", WEEK),
        ("forty quid a month", "40", MONTH),
        ("£100 pcm", "100", MONTH),
        ("£100pcm", "100", MONTH),
        ("£25pm", "25", MONTH),  # a currency: not 25 o'clock
        ("30 pm", "30", MONTH),  # no clock says 30 pm
        ("£40 p/m", "40", MONTH),
        ("50 a month", "50", MONTH),
        ("monthly payment of £90", "90", MONTH),
        ("每周100", "100", WEEK),
        ("每周能还100", "100", WEEK),
        ("每两周200", "200", FORTNIGHT),
        ("每隔一周200", "200", FORTNIGHT),
        ("每月300", "300", MONTH),
        ("每个月300元", "300", MONTH),
        # Chinese said with 一次 (once) or by the instalment, and digits beside numerals
        ("两周一次200", "200", FORTNIGHT),
        ("两周还一次200", "200", FORTNIGHT),
        # two weeks said first, right before the amount, as 一礼拜50 is a week's: a fortnight's
        ("两个星期200", "200", FORTNIGHT),
        ("俩礼拜200", "200", FORTNIGHT),
        ("200块两周一次", "200", FORTNIGHT),
        ("一周一次100", "100", WEEK),
        ("每周一次100", "100", WEEK),
        ("一个月一次300", "300", MONTH),
        ("一月一次300", "300", MONTH),
        ("每月还一次500", "500", MONTH),
        ("200一个月", "200", MONTH),
        ("分6期每期300", "300", MONTH),
        ("分六期，每期还500", "500", MONTH),
        # a length or a month by its number is not the amount
        ("两个礼拜还200", "200", None),
        ("两周后还200", "200", None),
        ("一月份还500", "500", None),
        ("3月底还500", "500", None),
        ("我一次性还清5000", "5000", None),
        # the amount said with a period wins over another one
        ("£480 is too much, I can do 25 a month", "25", MONTH),
        ("I get paid weekly, I can do 100 a month", "100", MONTH),
        # an amount and no period
        ("I can do 50", "50", None),
        ("in 2 weeks I can pay 50", "50", None),
        ("I can pay £50 in a week", "50", None),
        ("I can pay 50 at 3pm", "50", None),
    ],
)
def test_parse_periodic_amount(text, amount, period):
    assert parse_periodic_amount(text) == PeriodicAmount(Decimal(amount), period)


@pytest.mark.parametrize(
    "text",
    [
        "month",
        "a month",
        "just a bad month",
        "this month was hard",
        "it's been a bad month",
        "3 months ago I lost my job",
        "I lost my job 3 months ago",
        "every week is a struggle",
        "I get paid monthly",
        "这个月比较困难",
        "每个月都不够用",
    ],
)
def test_a_period_or_duration_without_an_amount_is_no_amount(text):
    """A reason that mentions a month is not an offer of an amount (issue 17 §8)."""
    assert parse_periodic_amount(text) is None
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    "text",
    ["10 a week", "40 every 2 weeks", "每两周200", "£15pw", "weekly payments of 10", "I can pay 40 every fortnight"],
)
def test_an_amount_per_week_or_fortnight_is_no_plan_length(text):
    assert parse_months(text) is None


@pytest.mark.parametrize(
    "amount, period, monthly",
    [
        ("40", FORTNIGHT, "86.66"),  # 86.666...
        ("10", WEEK, "43.33"),  # 43.333...
        ("15", WEEK, "65.00"),
        ("100", WEEK, "433.33"),
        ("12", WEEK, "52.00"),
        ("50", MONTH, "50"),
        ("12.345", MONTH, "12.345"),
    ],
)
def test_monthly_equivalent(amount, period, monthly):
    assert monthly_equivalent(Decimal(amount), period) == Decimal(monthly)
    assert PeriodicAmount(Decimal(amount), period).monthly == Decimal(monthly)


def test_an_amount_without_a_period_is_taken_as_monthly():
    assert PeriodicAmount(Decimal("50"), None).monthly == Decimal("50")


@given(st.integers(min_value=1, max_value=10**9), st.sampled_from([WEEK, FORTNIGHT]))
def test_monthly_equivalent_never_exceeds_what_was_said(pennies, period):
    amount = Decimal(pennies) / 100
    per_year = {WEEK: 52, FORTNIGHT: 26}[period]
    monthly = monthly_equivalent(amount, period)
    assert monthly.as_tuple().exponent == -2
    assert monthly * 12 <= amount * per_year < (monthly + Decimal("0.01")) * 12


_PERIOD_WORDS = {
    WEEK: ["a week", "per week", "every week", "each week", "weekly", "pw", "a wk"],
    FORTNIGHT: ["every fortnight", "a fortnight", "per fortnight", "fortnightly", "every 2 weeks", "every two weeks"],
    MONTH: ["a month", "per month", "every month", "monthly", "pcm", "p/m", "per calendar month"],
}


@given(
    st.integers(min_value=1, max_value=99_999),
    st.sampled_from(["", "£", "$"]),
    st.sampled_from(list(_PERIOD_WORDS)),
    st.data(),
    st.sampled_from(["", "I can do ", "i could pay about ", "maybe "]),
)
def test_parse_periodic_amount_properties(number, currency, period, data, lead):
    words = data.draw(st.sampled_from(_PERIOD_WORDS[period]))
    text = f"{lead}{currency}{number} {words}"
    assert parse_periodic_amount(text) == PeriodicAmount(Decimal(number), period), text
    assert parse_amount(text) == Decimal(number)
    assert parse_months(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("£50", "GBP"),
        ("$50", "USD"),
        ("US$50", "USD"),
        ("€", "EUR"),
        ("50 euros", "EUR"),
        ("¥", "CNY"),
        ("¥300", "CNY"),
        ("元", "CNY"),
        ("300元", "CNY"),
        ("300 RMB", "CNY"),
        ("fifty dollars", "USD"),
        ("50 bucks", "USD"),
        ("120 quid", "GBP"),
        ("50 pounds", "GBP"),
        ("50 GBP", "GBP"),
        ("usd 50", "USD"),
        ("C$50", "CAD"),
        ("HK$50", "HKD"),
        ("I owe 2 loans, I can pay £50", "GBP"),
        ("50", None),
        ("fifty", None),
        ("hello", None),
        ("Right, I can pay ALL NOW", None),  # 'ALL' is Albanian lek to price_parser
        ("a CUP of tea", None),
    ],
)
def test_parse_currency_hint(text, expected):
    assert parse_currency_hint(text) == expected


# --------------------------------------------------------------------------
# payment dates
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("next Friday", d(2026, 12, 4)),  # Friday of next week, as 下周五 (issue 13 §5)
        ("next friday please", d(2026, 12, 4)),
        ("friday", d(2026, 11, 27)),
        ("Friday", d(2026, 11, 27)),
        ("this monday", TODAY),
        ("next monday", d(2026, 11, 30)),
        ("the 15th", d(2026, 12, 15)),
        ("on the 15th", d(2026, 12, 15)),
        ("15th", d(2026, 12, 15)),
        ("by the 15", d(2026, 12, 15)),
        ("the 23rd", TODAY),  # today counts
        ("the 30th", d(2026, 11, 30)),
        ("the 31st", d(2026, 12, 31)),  # November has 30 days
        ("on the fifteenth", d(2026, 12, 15)),
        ("15th December", d(2026, 12, 15)),
        ("December 15th", d(2026, 12, 15)),
        ("15 Dec", d(2026, 12, 15)),
        ("15th November", d(2027, 11, 15)),  # next occurrence
        ("23 November", TODAY),
        ("end of the month", d(2026, 11, 30)),
        ("end of month", d(2026, 11, 30)),
        ("at the end of this month", d(2026, 11, 30)),
        ("end of next month", d(2026, 12, 31)),
        ("start of next month", d(2026, 12, 1)),
        ("15/12", d(2026, 12, 15)),
        ("1/12", d(2026, 12, 1)),
        ("15/11", d(2027, 11, 15)),
        ("15/12/2026", d(2026, 12, 15)),
        ("tomorrow", d(2026, 11, 24)),
        ("in 2 weeks", d(2026, 12, 7)),
        ("in two weeks", d(2026, 12, 7)),
        ("in 10 days", d(2026, 12, 3)),
        ("in a fortnight", d(2026, 12, 7)),
        ("next week", d(2026, 11, 30)),
        ("today", TODAY),
        ("2026-12-15", d(2026, 12, 15)),
        ("2020-01-01", d(2020, 1, 1)),  # past explicit dates are returned as-is
        ("15 December 2020", d(2020, 12, 15)),
        ("I can pay 120 on the 15th", d(2026, 12, 15)),
        ("I can pay 120 on the 1st", d(2026, 12, 1)),
        ("50 on 1/12", d(2026, 12, 1)),
        ("pay £50 on 15 December", d(2026, 12, 15)),
        ("I'll pay 50 on 15 December", d(2026, 12, 15)),
        ("pay fifty tomorrow", d(2026, 11, 24)),
        ("I may pay next week", d(2026, 11, 30)),
        ("2026年12月15日", d(2026, 12, 15)),
        ("12月15日", d(2026, 12, 15)),
        ("15号", d(2026, 12, 15)),
        ("明天", d(2026, 11, 24)),
        ("月底", d(2026, 11, 30)),
        ("下个月底", d(2026, 12, 31)),
        ("month end", d(2026, 11, 30)),
    ],
)
def test_parse_payment_date(text, expected):
    assert parse_payment_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text, order, expected",
    [
        ("15/12", "DMY", d(2026, 12, 15)),
        ("15/12", "MDY", None),  # month 15
        ("12/15", "MDY", d(2026, 12, 15)),
        ("12/15", "DMY", None),
        ("1/12", "MDY", d(2027, 1, 12)),
        ("12/15/2026", "MDY", d(2026, 12, 15)),
    ],
)
def test_parse_payment_date_order(text, order, expected):
    assert parse_payment_date(text, TODAY, order) == expected


def test_payment_date_29_february_waits_for_a_leap_year():
    assert parse_payment_date("29/02", TODAY) == d(2028, 2, 29)


@pytest.mark.parametrize(
    "text",
    [
        "payday",
        "when I get paid",
        "I can pay",
        "in march",  # a month is not a day
        "wait a sec",
        "hello",
        "120",
        "£50",
        "2026-02-30",
        "31/02",
    ],
)
def test_parse_payment_date_none(text):
    assert parse_payment_date(text, TODAY) is None


# --------------------------------------------------------------------------
# months
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("6 months", 6),
        ("the 6 month one", 6),
        ("the six month one", 6),
        ("6-month plan", 6),
        ("over six months", 6),
        ("12", 12),
        ("a year", 12),
        ("one year", 12),
        ("two years", 24),
        ("1.5 years", 18),
        ("twelve months please", 12),
        ("no wait - 12 months", 12),
        ("6 months, no wait, 12", 12),
        ("6 months... actually 9", 9),
        ("6 or 12 months", 12),
        ("£50 over 6 months", 6),
        ("6 months at 50 a month", 6),
        ("6 months at £50 starting on the 15th", 6),
        ("12个月", 12),
    ],
)
def test_parse_months(text, expected):
    assert parse_months(text) == expected


@pytest.mark.parametrize("text", ["hello", "", "£50", "the 15th", "2k", "next Friday"])
def test_parse_months_none(text):
    assert parse_months(text) is None


# --------------------------------------------------------------------------
# hostile input and properties
# --------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]) + f"[{len(t)}]")
def test_hostile_input_is_not_understood(text):
    assert normalise_loan_ref(text) is None
    assert parse_months(text) is None
    assert parse_amount(text) is None
    assert parse_periodic_amount(text) is None
    assert parse_currency_hint(text) is None
    assert parse_payment_date(text, TODAY) is None
    assert parse_date_of_birth(text, TODAY) == DateOfBirthParse(None, (), "unparseable")


@pytest.mark.parametrize("text", HOSTILE_NUMERIC, ids=lambda t: repr(t[:12]) + f"[{len(t)}]")
def test_hostile_numeric_input_is_total_and_quick(text):
    # CPU time: on a loaded machine the wall clock says more about the neighbours
    started = time.process_time()
    for fn in PUBLIC_TEXT_FUNCS:
        fn(text)
    assert time.process_time() - started < 3.0


@pytest.mark.parametrize("value", [None, 42, 4.2, b"LN-48213", ["LN-48213"], object()])
def test_non_string_input_is_not_understood(value):
    assert normalise_loan_ref(value) is None
    assert parse_amount(value) is None
    assert parse_periodic_amount(value) is None
    assert parse_currency_hint(value) is None
    assert parse_months(value) is None
    assert parse_payment_date(value, TODAY) is None
    assert parse_date_of_birth(value, TODAY) == DateOfBirthParse(None, (), "unparseable")


def test_long_messages_are_cheap():
    message = ("I can pay £50 on the 15th, loan LN-48213, over 6 months. " * 200)[:10_000]
    started = time.perf_counter()
    for fn in PUBLIC_TEXT_FUNCS:
        fn(message)
    assert time.perf_counter() - started < 3.0


def test_only_the_start_of_a_long_message_is_read():
    assert parse_amount("x" * 400 + " £50") is None
    assert parse_amount("£50 " + "x" * 400) == Decimal("50")


_PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(st.text(max_size=120))
def test_nothing_raises_on_arbitrary_text(text):
    assert normalise_loan_ref(text) is None or isinstance(normalise_loan_ref(text), str)
    amount = parse_amount(text)
    assert amount is None or isinstance(amount, Decimal)
    assert parse_currency_hint(text) is None or len(parse_currency_hint(text)) == 3
    months = parse_months(text)
    assert months is None or isinstance(months, int)
    for order in ("DMY", "MDY"):
        result = parse_payment_date(text, TODAY, order)
        assert result is None or isinstance(result, date)
    dob = parse_date_of_birth(text, TODAY)
    assert dob.problem in {None, "unparseable", "ambiguous", "in_future", "implausible"}
    assert (dob.value is None) == (dob.problem is not None)


@_PROPERTY
@given(
    st.lists(
        st.sampled_from(list("0123456789/.-,£$€¥k thenofdayLN") + ["st", "th", "May"]),
        max_size=40,
    ).map("".join)
)
def test_nothing_raises_on_number_soup(text):
    parse_amount(text)
    parse_months(text)
    parse_payment_date(text, TODAY)
    parse_payment_date(text, TODAY, "MDY")
    parse_date_of_birth(text, TODAY)
    normalise_loan_ref(text)


@_PROPERTY
@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["GBP", "USD", "EUR", "CNY"]),
    st.sampled_from(["en", "zh", "en_US"]),
)
def test_formatted_money_round_trips(amount, currency, language):
    shown = format_money(amount, currency, language)
    assert parse_amount(shown) == amount
    assert parse_currency_hint(shown) == currency


@_PROPERTY
@given(st.integers(min_value=0, max_value=999_999), st.sampled_from(["", "£", "$", "€"]))
def test_plain_amounts_round_trip(n, symbol):
    assert parse_amount(f"{symbol}{n}") == Decimal(n)
    assert parse_amount(f"{symbol}{n:,}") == Decimal(n)


@_PROPERTY
@given(st.integers(min_value=1, max_value=600))
def test_months_round_trip(n):
    assert parse_months(f"{n} months") == n
    assert parse_months(f"over {n} months please") == n


@_PROPERTY
@given(st.dates(min_value=date(1910, 1, 1), max_value=date(2010, 1, 1)))
def test_iso_dob_round_trips(dob):
    assert parse_date_of_birth(dob.isoformat(), TODAY) == DateOfBirthParse(dob, (), None)


@_PROPERTY
@given(st.integers(min_value=1, max_value=31))
def test_day_of_month_is_never_in_the_past(day):
    result = parse_payment_date(f"the {day}th", TODAY)
    assert result is not None and result >= TODAY and result.day == day


# --------------------------------------------------------------------------
# odd arguments and the last line of defence
# --------------------------------------------------------------------------


def test_today_may_be_a_datetime():
    from datetime import datetime

    now = datetime(2026, 11, 23, 9, 30)
    assert parse_payment_date("the 15th", now) == d(2026, 12, 15)
    assert parse_date_of_birth("1985-03-12", now).value == d(1985, 3, 12)


@pytest.mark.parametrize("today", [None, "2026-11-23", 20261123])
def test_bad_today_is_not_understood(today):
    assert parse_payment_date("tomorrow", today) is None
    assert parse_date_of_birth("1985-03-12", today).problem == "unparseable"


@pytest.mark.parametrize("order", ["XYZ", "", None])
def test_bad_date_order_does_not_raise(order):
    assert parse_payment_date("tomorrow", TODAY, order) in (None, d(2026, 11, 24))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("friday the 27th", d(2026, 11, 27)),
        ("I get paid on the 28th so I can pay then", d(2026, 11, 28)),
        ("I can pay 120 on the 15th of December", d(2026, 12, 15)),
    ],
)
def test_payment_date_in_sentences(text, expected):
    assert parse_payment_date(text, TODAY) == expected


def test_internal_bug_reads_as_not_understood(monkeypatch):
    import bot.domain.parsing as parsing
    from bot.domain.parsing import date_of_birth, dates, money, months, references

    def boom(*_args, **_kwargs):
        raise RuntimeError("bug")

    # each parser module holds its own reference to the shared _clean
    for module in (date_of_birth, dates, money, months, references):
        monkeypatch.setattr(module, "_clean", boom)
    assert parsing.parse_amount("£50") is None
    assert parsing.parse_months("6 months") is None
    assert parsing.parse_payment_date("tomorrow", TODAY) is None
    assert parsing.parse_currency_hint("£50") is None
    assert parsing.normalise_loan_ref("LN-48213") is None
    assert parsing.parse_date_of_birth("1985-03-12", TODAY).problem == "unparseable"


# ---------------------------------------------------------------- Simplified Chinese


@pytest.mark.parametrize(
    "text, expected",
    [
        ("下周五", date(2026, 12, 4)),  # Friday of next week (dateparser alone said a Monday)
        ("周五", date(2026, 11, 27)),  # the coming Friday
        ("这周五", date(2026, 11, 27)),
        ("本周日", date(2026, 11, 29)),
        ("星期天", date(2026, 11, 29)),
        ("下个星期三", date(2026, 12, 2)),
        ("下下周一", date(2026, 12, 7)),
        ("周一", TODAY),
        ("十二月十五日", date(2026, 12, 15)),
        ("十五号", date(2026, 12, 15)),
        ("下个月5号一次性还清", date(2026, 12, 5)),
        ("下下个月1号", date(2027, 1, 1)),
        ("下个月月底", date(2026, 12, 31)),
        ("下月底", date(2026, 12, 31)),
        ("月底", date(2026, 11, 30)),
        ("年底", None),
    ],
)
def test_chinese_payment_dates(text, expected):
    assert parse_payment_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("上周五", date(2026, 11, 20)),
        ("周五", date(2026, 11, 20)),  # the latest Friday
        ("上个礼拜三", date(2026, 11, 18)),
        ("11月20日", date(2026, 11, 20)),
        ("十一月二十日", date(2026, 11, 20)),
        ("12月20日", date(2025, 12, 20)),  # the latest 20 December
        ("2026年11月2日", date(2026, 11, 2)),
        ("20号", date(2026, 11, 20)),
        ("下周五", None),  # not in the past
    ],
)
def test_chinese_past_dates(text, expected):
    assert parse_past_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("五百块", "500"),
        ("每个月能还两百", "200"),
        ("我一个月能还五百", "500"),
        ("一千五", "1500"),
        ("五百吧", "500"),
        ("我想还三千五百元", "3500"),
        ("¥1,200", "1200"),
        ("我一个月能拿出5百块", "500"),
        ("每个月还五百可以吗", "500"),
        ("每月还两百行不行", "200"),
        ("1千5", "1500"),
        ("我能还一半", None),
        ("一次性还清", None),
        ("等一下", None),
        ("万一还不上", None),
    ],
)
def test_chinese_amounts(text, expected):
    assert parse_amount(text) == (Decimal(expected) if expected else None)


@pytest.mark.parametrize(
    "text, expected",
    [("分六期", 6), ("六个月", 6), ("十二期", 12), ("一年", 12), ("两年", 24), ("我想分三期还", 3), ("分成三期", 3)],
)
def test_chinese_plan_lengths(text, expected):
    assert parse_months(text) == expected


def test_number_words_read_with_language_tables_built_once_as_number_parser_reads_them(monkeypatch):
    """number_parser builds its language tables six times for every text it reads;
    they are built once per language and only read, so every text reads the same."""
    import number_parser.parser as np_parser

    from bot.domain.parsing import number_words

    texts = [
        "one hundred and twenty",
        "I can pay two thousand five hundred and fifty a month",
        "twenty first of march",
        "the fifteenth",
        "doscientos cincuenta",
        "три тысячи",
        "one, two. three",
        "a million and a half",
        "nothing here",
        "",
        "五百",
    ]
    ours = [number_words._words_to_digits(t) for t in texts]
    built: list[str] = []

    class Counting(number_words._LanguageData):  # type: ignore[misc, valid-type]
        def __init__(self, language):
            built.append(language)
            super().__init__(language)

    monkeypatch.setattr(np_parser, "LanguageData", Counting)  # number_parser as it is
    theirs = [number_words._words_to_digits(t) for t in texts]
    assert ours == theirs
    assert len(built) >= 6 * len(texts) - 6  # (what the kept tables save)
    monkeypatch.undo()
    assert np_parser.LanguageData is number_words._kept_language_data
    assert number_words._kept_language_data("en") is number_words._kept_language_data("en")
    with pytest.raises(ValueError):
        number_words._kept_language_data("xx")
