"""Tests for bot.domain.formatting, the one place money and dates are rendered."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.formatting import (
    CURRENCY_LOCALE_HINTS,
    DEFAULT_LOCALES,
    format_date,
    format_datetime,
    format_money,
    format_percent,
    locale_for,
)

NNBSP = "\u202f"  # CLDR's narrow no-break space (en_US "2:30 PM")


def test_default_locales():
    assert DEFAULT_LOCALES == {"en": "en_GB", "zh": "zh_Hans_CN"}
    assert CURRENCY_LOCALE_HINTS["USD"] == "en_US"


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", "en_GB"),
        ("EN", "en_GB"),
        (" en ", "en_GB"),
        ("zh", "zh_Hans_CN"),
        ("zh-CN", "zh_Hans_CN"),
        ("zh_CN", "zh_Hans_CN"),
        ("zh-Hans-CN", "zh_Hans_CN"),
        ("zh_TW", "zh_Hant_TW"),
        ("en-US", "en_US"),
        ("en_US", "en_US"),
        ("en-gb", "en_GB"),
        ("en_IE", "en_IE"),
        (None, "en_GB"),
        ("", "en_GB"),
        ("   ", "en_GB"),
        ("xx", "en_GB"),
        ("fr", "en_GB"),  # a language the bot does not speak
        ("de_DE", "en_GB"),
        ("en_ZZ", "en_GB"),  # junk region
        ("'; DROP TABLE loans;--", "en_GB"),
        ("<b>", "en_GB"),
        ("😀", "en_GB"),
        ("e" * 10_000, "en_GB"),
        (42, "en_GB"),
    ],
)
def test_locale_for(language, expected):
    assert locale_for(language) == expected


@pytest.mark.parametrize(
    "amount, currency, language, expected",
    [
        ("1250", "GBP", "en", "£1,250.00"),
        ("1250", "USD", "en", "$1,250.00"),
        ("1250", "EUR", "en", "€1,250.00"),
        ("1250", "CNY", "en", "CN¥1,250.00"),
        ("1250", "USD", "en-US", "$1,250.00"),
        ("1250", "GBP", "en_US", "£1,250.00"),
        ("1250", "GBP", None, "£1,250.00"),
        ("1250", "GBP", "xx", "£1,250.00"),
        ("1250", "CNY", "zh", "¥1,250.00"),
        ("1250", "CNY", "zh-CN", "¥1,250.00"),
        ("1250", "USD", "zh", "US$1,250.00"),
        ("1250", "GBP", "zh", "£1,250.00"),
        ("1250", "JPY", "en", "JP¥1,250"),  # currency's own decimals
        ("0", "GBP", "en", "£0.00"),
        ("0.5", "GBP", "en", "£0.50"),
        ("1250.005", "GBP", "en", "£1,250.00"),  # banker's rounding, as babel does
        ("-50", "GBP", "en", "-£50.00"),
        ("1234567.89", "USD", "en", "$1,234,567.89"),
        ("1250", "gbp", "en", "£1,250.00"),
    ],
)
def test_format_money(amount, currency, language, expected):
    assert format_money(Decimal(amount), currency, language) == expected


def test_format_money_accepts_int():
    assert format_money(50, "GBP", "en") == "£50.00"


@pytest.mark.parametrize("bad", [50.0, "50", None, True])
def test_format_money_rejects_non_decimal(bad):
    with pytest.raises(TypeError):
        format_money(bad, "GBP", "en")


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity")])
def test_format_money_rejects_non_finite(bad):
    with pytest.raises(ValueError):
        format_money(bad, "GBP", "en")


@pytest.mark.parametrize("currency", ["", "XYZ", "££", "pounds", None, "GB"])
def test_format_money_rejects_unknown_currency(currency):
    with pytest.raises(ValueError):
        format_money(Decimal("1"), currency, "en")


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", "15 December 2026"),
        (None, "15 December 2026"),
        ("en_US", "December 15, 2026"),
        ("zh", "2026年12月15日"),
        ("zh-CN", "2026年12月15日"),
    ],
)
def test_format_date(language, expected):
    assert format_date(date(2026, 12, 15), language) == expected


def test_format_date_of_a_datetime_uses_its_date():
    assert format_date(datetime(2026, 12, 15, 23, 59), "en") == "15 December 2026"


def test_format_date_rejects_non_dates():
    with pytest.raises(TypeError):
        format_date("2026-12-15", "en")  # type: ignore[arg-type]


UTC_1430 = datetime(2026, 12, 15, 14, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "dt, tz, language, expected",
    [
        (UTC_1430, "Europe/London", "en", "15 December 2026, 14:30"),
        (UTC_1430, "Asia/Shanghai", "en", "15 December 2026, 22:30"),
        (UTC_1430, "Asia/Shanghai", "zh", "2026年12月15日 22:30"),
        (UTC_1430, "America/New_York", "en_US", f"December 15, 2026, 9:30{NNBSP}AM"),
        # crosses midnight into the next day in the borrower's zone
        (datetime(2026, 12, 15, 20, 0, tzinfo=timezone.utc), "Asia/Shanghai", "en", "16 December 2026, 04:00"),
        # summer time
        (datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc), "Europe/London", "en", "1 July 2026, 13:00"),
        # an aware datetime in another zone is converted, not relabelled
        (
            datetime(2026, 12, 15, 9, 30, tzinfo=ZoneInfo("America/New_York")),
            "Europe/London",
            "en",
            "15 December 2026, 14:30",
        ),
        (datetime(2026, 12, 15, 14, 30, tzinfo=timezone(timedelta(hours=2))), "UTC", "en", "15 December 2026, 12:30"),
    ],
)
def test_format_datetime(dt, tz, language, expected):
    assert format_datetime(dt, tz, language) == expected


def test_format_datetime_rejects_naive():
    with pytest.raises(ValueError):
        format_datetime(datetime(2026, 12, 15, 14, 30), "Europe/London", "en")


@pytest.mark.parametrize("tz", ["Not/AZone", "", "../../etc/passwd", None])
def test_format_datetime_rejects_unknown_zone(tz):
    with pytest.raises(ValueError):
        format_datetime(UTC_1430, tz, "en")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fraction, language, expected",
    [
        ("0.10", "en", "10%"),
        ("0.1", "zh", "10%"),
        ("0", "en", "0%"),
        ("1", "en", "100%"),
        ("0.125", "en", "12.5%"),
        ("0.0725", "en", "7.25%"),
        ("0.299", "en", "29.9%"),
        ("12.5", "en", "1,250%"),
    ],
)
def test_format_percent(fraction, language, expected):
    assert format_percent(Decimal(fraction), language) == expected


def test_format_percent_rejects_float():
    with pytest.raises(TypeError):
        format_percent(0.1, "en")  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["GBP", "USD", "EUR", "CNY", "JPY"]),
    st.one_of(st.none(), st.sampled_from(["en", "zh", "en_US", "zh-CN", "xx"]), st.text(max_size=20)),
)
def test_format_money_is_total_for_valid_money(amount, currency, language):
    shown = format_money(amount, currency, language)
    assert isinstance(shown, str) and any(ch.isdigit() for ch in shown)


@settings(max_examples=50, deadline=None)
@given(st.dates(), st.one_of(st.none(), st.text(max_size=20)))
def test_format_date_is_total(d, language):
    assert str(d.year) in format_date(d, language)
