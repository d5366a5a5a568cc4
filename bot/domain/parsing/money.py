"""Amounts of money and currency hints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price

from ._common import _blank, _clean, _quiet, _total
from .date_expressions import _DURATION_RE, _blank_dates
from .number_words import _words_to_digits
from .references import _blank_loan_refs

_CURRENCY_WORDS = r"quid|pounds?|sterling|dollars?|bucks|euros?|yuan|renminbi|rmb|gbp|usd|eur|cny"
_MONEY_RE = re.compile(
    r"(?<![0-9a-z.,])"
    r"(?P<sign>-|minus\s+)?"
    r"(?P<pre>(?:(?:us|hk|nz|au|ca|a|c)\$|cn¥|[£$€¥]|gbp|usd|eur|cny|rmb)\s*)?"
    r"(?P<sign2>-)?"
    r"(?P<num>[0-9]+(?:[.,][0-9]+)*)"
    r"(?P<mult>\s*(?:k|grand)\b)?"
    rf"(?P<post>\s*(?:[£$€¥元块]|(?:{_CURRENCY_WORDS})\b))?"
    # an amount ends before a letter, except a period written on ('£15pw', '£100pcm', '£25pm');
    # after 元 / 块 anything may follow ('200块两周一次')
    r"(?:(?![0-9a-z%])|(?<=[元块])|(?=(?:pw|pcm|pm|p/[wm])\b))",
    re.I,
)


_MAX_AMOUNT_DIGITS = 15  # more than this is not an amount anyone owes


@dataclass(frozen=True)
class _Money:
    start: int
    end: int
    amount: Decimal
    currency_text: str | None
    marked: bool  # has a currency or a 'k' -- clearly money, not just a number


# A weekday said by its number: 周五 (Friday; "周5" once numerals are digits), 星期一, 礼拜天.
# Not a number that goes on or is money itself: 每周100 and 每周5块 are amounts a week.
# Nor 两周一次 (once every two weeks).
_CJK_WEEKDAY_RE = re.compile(r"(?:周|週|星期|礼拜|禮拜)\s*[1-7一二三四五六日天](?![0-9.]|\s*[元块圆¥次期])")


def _strip_for_amounts(text: str) -> str:
    """Blank everything that is a number but not money: dates, weekdays, times,
    plan durations, percentages and loan references."""
    text = _blank(_blank_dates(text), _CJK_WEEKDAY_RE)
    text = _blank(text, _DURATION_RE)
    return _blank_loan_refs(text)


def _money_candidates(text: str) -> list[_Money]:
    out: list[_Money] = []
    for m in _MONEY_RE.finditer(_strip_for_amounts(text)):
        if sum(ch.isdigit() for ch in m.group("num")) > _MAX_AMOUNT_DIGITS:
            continue
        number = m.group("num")
        # A lone dot is a decimal point in the markets we serve ("12.345" is
        # twelve point three four five, not twelve thousand); price_parser
        # would read it as a thousands separator.
        separator = "." if number.count(".") == 1 and "," not in number else None
        price = _quiet(Price.fromstring, number, decimal_separator=separator)
        amount = getattr(price, "amount", None)
        if not isinstance(amount, Decimal) or not amount.is_finite():
            continue
        if m.group("mult"):
            amount *= 1000
        exponent = amount.as_tuple().exponent  # an int: the amount is finite
        if amount == amount.to_integral_value() and isinstance(exponent, int) and exponent < 0:
            amount = amount.quantize(Decimal(1))
        if m.group("sign") or m.group("sign2"):
            amount = -amount
        currency = (m.group("pre") or m.group("post") or "").strip() or None
        marked = currency is not None or m.group("mult") is not None
        out.append(_Money(m.start(), m.end(), amount, currency, marked))
    return out


def _pick_money(candidates: list[_Money]) -> _Money | None:
    """Prefer an amount that is marked as money (currency or 'k'); else the first."""
    for c in candidates:
        if c.marked:
            return c
    return candidates[0] if candidates else None


@_total(None)
def parse_amount(text: str) -> Decimal | None:
    """The amount of money in a message, sign kept; None when there is none.

    Numbers that belong to a date ('on the 15th', '1/12'), a time, a plan
    length ('6 months') or a loan reference are not amounts.
    """
    cleaned = _words_to_digits(_clean(text))
    if not cleaned:
        return None
    picked = _pick_money(_money_candidates(cleaned))
    return picked.amount if picked else None


_CURRENCY_TO_ISO = {
    "£": "GBP",
    "$": "USD",
    "us$": "USD",
    "€": "EUR",
    "¥": "CNY",
    "cn¥": "CNY",
    "元": "CNY",
    "块": "CNY",
    "人民币": "CNY",
    "rmb": "CNY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "c$": "CAD",
    "ca$": "CAD",
    "a$": "AUD",
    "au$": "AUD",
    "hk$": "HKD",
    "nz$": "NZD",
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "sterling": "GBP",
}
# ISO codes we believe when typed; price_parser also knows 'ALL', 'CUP', 'TOP'...
# which are ordinary English words in a borrower's message.
_KNOWN_CODES = frozenset(["GBP", "USD", "EUR", "CNY", "JPY", "CAD", "AUD", "HKD", "NZD", "CHF", "INR", "SGD"])
_CURRENCY_WORD_RE = re.compile(
    r"人民币|[元块£$€¥]|\b(?:us\$|quid|pounds?|sterling|dollars?|bucks|euros?|yuan|"
    r"renminbi|rmb|gbp|usd|eur|cny|jpy|cad|aud|hkd|nzd|chf|inr|sgd)\b",
    re.I,
)


def _currency_iso(token: str | None) -> str | None:
    if not token:
        return None
    token = token.strip()
    if token.upper() in _KNOWN_CODES:
        return token.upper()
    return _CURRENCY_TO_ISO.get(token.lower())


@_total(None)
def parse_currency_hint(text: str) -> str | None:
    """ISO code of the currency the borrower mentions ('$' is read as USD,
    '¥' as CNY), or None when there is no hint."""
    cleaned = _words_to_digits(_clean(text))
    if not cleaned:
        return None
    picked = _pick_money(_money_candidates(cleaned))
    if picked and (iso := _currency_iso(picked.currency_text)):
        return iso
    price = _quiet(Price.fromstring, cleaned)
    if (iso := _currency_iso(getattr(price, "currency", None))) is not None:
        return iso
    for m in _CURRENCY_WORD_RE.finditer(cleaned):
        if (iso := _currency_iso(m.group(0))) is not None:
            return iso
    return None
