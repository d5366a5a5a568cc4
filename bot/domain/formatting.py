"""The ONE place money, dates, times and percentages are rendered for borrowers.

Everything goes through Babel so that en and zh borrowers see their own
conventions. Callers pass a language as the conversation knows it ("en",
"zh-CN", "en_US", None ...); :func:`locale_for` turns it into a Babel locale.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.lists import format_list

__all__ = [
    "CURRENCY_LOCALE_HINTS",
    "DEFAULT_LOCALE",
    "DEFAULT_LOCALES",
    "format_choices",
    "format_date",
    "format_datetime",
    "format_day",
    "format_money",
    "format_percent",
    "locale_for",
]

DEFAULT_LOCALE = "en_GB"
DEFAULT_LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}

# For English, render a currency in the locale where its symbol is the plain
# one: en_GB would show "US$1,250.00", en_US shows "$1,250.00".
CURRENCY_LOCALE_HINTS = {"USD": "en_US", "GBP": "en_GB", "EUR": "en_IE"}

_PERCENT_PATTERN = "#,##0.##%"  # 10% / 12.5% / 7.25%


def locale_for(language: str | None) -> str:
    """Babel locale name for a conversation language.

    Bare languages map through DEFAULT_LOCALES ("zh" -> "zh_Hans_CN"); a full
    locale ("en_US", "zh-TW", "zh-Hans-CN") is honoured when its language is
    one the bot speaks. Anything else (None, "", "fr", "xx", junk) -> en_GB.
    """
    if not isinstance(language, str):
        return DEFAULT_LOCALE
    tag = language.strip().replace("-", "_")
    if not tag or len(tag) > 35:
        return DEFAULT_LOCALE
    try:
        parsed = Locale.parse(tag)
    except (ValueError, TypeError, UnknownLocaleError):
        return DEFAULT_LOCALE
    if parsed.language not in DEFAULT_LOCALES:
        return DEFAULT_LOCALE
    default = DEFAULT_LOCALES[parsed.language]
    if "_" not in tag:  # bare language: our chosen default region
        return default
    asked_territory = tag.rsplit("_", 1)[-1].upper()
    if len(asked_territory) in (2, 3) and parsed.territory != asked_territory:
        return default  # babel guessed a region for junk like "en_ZZ"
    return str(parsed)


def _check_amount(amount: Decimal) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError("money must be a finite Decimal")
    return amount


def _check_currency(currency: str) -> str:
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if len(code) != 3 or not babel_numbers.is_currency(code):
        raise ValueError(f"unknown ISO 4217 currency: {currency!r}")
    return code


def format_money(amount: Decimal, currency: str, language: str | None) -> str:
    """'£1,250.00', '$1,250.00' (en), '¥1,250.00' (zh, CNY), 'US$1,250.00' (zh, USD).

    Uses the currency's own number of decimals (JPY has none).
    """
    amount = _check_amount(amount)
    code = _check_currency(currency)
    locale = locale_for(language)
    if Locale.parse(locale).language == "en":
        locale = CURRENCY_LOCALE_HINTS.get(code, locale)
    return babel_numbers.format_currency(amount, code, locale=locale, currency_digits=True)


def format_date(d: date, language: str | None) -> str:
    """'15 December 2026' (en) / '2026年12月15日' (zh)."""
    if not isinstance(d, date):
        raise TypeError(f"expected a date, not {type(d).__name__}")
    if isinstance(d, datetime):
        d = d.date()
    return babel_dates.format_date(d, format="long", locale=locale_for(language))


def format_day(d: date, language: str | None) -> str:
    """The date with its weekday, for read-backs of a day the borrower named ("next
    Friday", 下周五): 'Friday, 4 December 2026' (en) / '2026年12月4日星期五' (zh)."""
    if not isinstance(d, date):
        raise TypeError(f"expected a date, not {type(d).__name__}")
    if isinstance(d, datetime):
        d = d.date()
    return babel_dates.format_date(d, format="full", locale=locale_for(language))


def format_datetime(dt: datetime, tz: str, language: str | None) -> str:
    """'15 December 2026, 14:30' in the borrower's time zone ``tz`` (IANA name).

    ``dt`` must be timezone-aware (ValueError otherwise).
    """
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, not {type(dt).__name__}")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError("format_datetime needs a timezone-aware datetime")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone: {tz!r}") from exc
    local = dt.astimezone(zone)
    locale = Locale.parse(locale_for(language))
    day = babel_dates.format_date(local.date(), format="long", locale=locale)
    clock = babel_dates.format_time(local, format="short", tzinfo=zone, locale=locale)
    # the locale's own way of joining a date and a time ("{1}, {0}" / "{1} {0}")
    joiner = str(locale.datetime_formats.get("medium", "{1} {0}"))
    return joiner.replace("{1}", day).replace("{0}", clock)


def format_percent(fraction: Decimal, language: str | None) -> str:
    """Decimal('0.10') -> '10%'; keeps up to two decimals ('0.125' -> '12.5%')."""
    fraction = _check_amount(fraction)
    return babel_numbers.format_percent(fraction, format=_PERCENT_PATTERN, locale=locale_for(language))


def format_choices(choices: list[str], language: str | None) -> str:
    """Alternatives joined with "or" the locale's way: '1, 2 or 3' (en) / '1、2或3' (zh)."""
    return format_list([str(c) for c in choices], style="or", locale=locale_for(language))


# How a channel is named to the borrower (connector name -> display name).
_CHANNEL_NAMES = {
    "en": {
        "twilio": "SMS",
        "sms": "SMS",
        "whatsapp": "WhatsApp",
        "telegram": "Telegram",
        "wechat": "WeChat",
        "socketio": "this chat",
        "web": "this chat",
        "rest": "this chat",
    },
    "zh": {
        "twilio": "短信",
        "sms": "短信",
        "whatsapp": "WhatsApp",
        "telegram": "Telegram",
        "wechat": "微信",
        "socketio": "本聊天窗口",
        "web": "本聊天窗口",
        "rest": "本聊天窗口",
    },
}


def format_channel(channel: str | None, language: str | None) -> str:
    names = _CHANNEL_NAMES["zh" if locale_for(language).startswith("zh") else "en"]
    return names.get(channel or "", names["rest"])


def money_str(amount: Decimal, currency: str) -> str:
    """An amount as a plain decimal string with the currency's minor units (e.g. "450.00"),
    for machines (JSON, the audit log), not for borrowers."""
    return str(amount.quantize(Decimal(1).scaleb(-babel_numbers.get_currency_precision(currency))))
