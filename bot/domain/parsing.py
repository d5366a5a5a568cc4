"""Parsing of what borrowers type: loan references, dates of birth, amounts,
currencies, payment dates and plan lengths.

Pure Python. Every public function is total: any input (including non-strings,
10k-character messages, emoji, SQL, markup) gives a value or a "not understood"
result (None / ``problem="unparseable"``) and never raises. Only the first
``MAX_CHARS`` characters are looked at for dates, amounts and months.

The libraries do the parsing (dateparser, dateutil, price_parser,
number_parser); the small regexes below only cover what they do not:
our own loan-reference format, locating which number in a sentence is a date
and which is an amount, and a few date phrases dateparser 1.2.0 gets wrong
("next Friday", "the 15th", "end of the month", "in a fortnight",
"2026年12月15日", strict d/m vs m/d).
"""

from __future__ import annotations

import calendar
import functools
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import cn2an
import dateparser
from dateparser.search import search_dates
from dateutil.relativedelta import relativedelta
from number_parser import parse as _number_words_to_digits
from number_parser import parse_ordinal
from price_parser import Price

__all__ = [
    "MAX_CHARS",
    "DateOfBirthParse",
    "normalise_loan_ref",
    "parse_amount",
    "parse_currency_hint",
    "parse_date_of_birth",
    "parse_months",
    "parse_payment_date",
]

log = logging.getLogger(__name__)

MAX_CHARS = 300
"""Only this many characters of a message are parsed for dates/amounts/months."""

_LOAN_REF_MAX_CHARS = 2000
_DATEPARSER_LANGUAGES = ["en", "zh"]
_MIN_AGE_YEARS = 16
_MAX_AGE_YEARS = 120


# --------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[^<>]{0,200}>")
_SPACE_RE = re.compile(r"\s+")


def _clean(text: object, limit: int = MAX_CHARS) -> str:
    """Total normaliser: non-str -> "", NFKC (full-width digits), tags removed."""
    if not isinstance(text, str):
        return ""
    text = text[:limit]
    try:
        text = unicodedata.normalize("NFKC", text)
    except Exception:  # pragma: no cover - NFKC does not raise on str
        return ""
    text = _TAG_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


def _total(default):
    """Last line of defence for the public parsers: a bug in this module must
    not crash a conversation, so any exception is logged and read as "not
    understood"."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # the message text may be in the traceback: log the type only
                log.warning("%s failed (%s); treating input as not understood", fn.__name__, type(exc).__name__)
                return default

        return inner

    return wrap


def _as_date(today: object) -> date | None:
    if isinstance(today, datetime):
        return today.date()
    return today if isinstance(today, date) else None


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """Replace every match by spaces of the same length (keeps positions)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _quiet(fn, *args, **kwargs):
    """Call a third-party parser; any exception or warning means "no result"."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except Exception as exc:  # libraries raise all sorts on odd input
        log.debug("parser %s failed (%s)", getattr(fn, "__name__", fn), type(exc).__name__)
        return None


_MONTHS = "|".join(
    sorted(
        {m.lower() for m in calendar.month_name[1:]}
        | {m.lower() for m in calendar.month_abbr[1:]}
        | {"sept"},
        key=len,
        reverse=True,
    )
)
_WEEKDAYS = [d.lower() for d in calendar.day_name]  # monday .. sunday
_WEEKDAY_RE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\b",
    re.I,
)
_DAY = r"(?:3[01]|[12][0-9]|0?[1-9])"
_ORD = r"(?:st|nd|rd|th)"

# Date expressions that must never be read as an amount or a number of months.
_ISO_DATE_RE = re.compile(r"(?<![0-9])([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?![0-9])")
_NUMERIC_DMY_RE = re.compile(
    r"(?<![0-9.,/-])([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4}|[0-9]{2})(?![0-9/.-])"
)
_NUMERIC_DM_RE = re.compile(r"(?<![0-9.,/])([0-9]{1,2})/([0-9]{1,2})(?![0-9/])")
_MONTH_DATE_RE = re.compile(
    rf"\b(?:{_DAY}{_ORD}?\s+(?:of\s+)?(?:{_MONTHS})\.?(?:,?\s+[0-9]{{4}})?"
    rf"|(?:{_MONTHS})\.?\s+(?:the\s+)?{_DAY}{_ORD}?(?:,?\s+[0-9]{{4}})?"
    rf"|(?:{_MONTHS})\.?\s+[0-9]{{4}})\b",
    re.I,
)
_ORDINAL_DAY_RE = re.compile(rf"\b(?:the\s+)?({_DAY}){_ORD}\b", re.I)
_ON_THE_DAY_RE = re.compile(
    rf"\b(?:on|by|before|until|till|from|after)\s+the\s+({_DAY})\b"
    r"(?![.,]?[0-9]|\s*(?:months?|years?|weeks?|days?|mos?\b|k\b|%|-?\s*month))",
    re.I,
)
_TIME_RE = re.compile(
    r"\b[0-9]{1,2}(?::[0-9]{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b[0-9]{1,2}:[0-9]{2}\b", re.I
)
_CJK_YMD_RE = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?")
_CJK_MD_RE = re.compile(r"(?<![0-9年])([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]")
_CJK_D_RE = re.compile(r"(?<![0-9月])([0-9]{1,2})\s*[日号]")
_DATE_EXPRESSIONS = (
    _CJK_YMD_RE,
    _CJK_MD_RE,
    _CJK_D_RE,
    _ISO_DATE_RE,
    _NUMERIC_DMY_RE,
    _NUMERIC_DM_RE,
    _MONTH_DATE_RE,
    _ORDINAL_DAY_RE,
    _ON_THE_DAY_RE,
    _TIME_RE,
)
_DURATION_RE = re.compile(
    r"\b[0-9]+(?:\.[0-9]+)?\s*(?:days?|weeks?|fortnights?|months?|years?|yrs?|mos?|"
    r"hours?|hrs?|minutes?|mins?)\b|[0-9]+\s*(?:个月|天|周|星期|年)",
    re.I,
)


def _blank_dates(text: str) -> str:
    for pattern in _DATE_EXPRESSIONS:
        text = _blank(text, pattern)
    return text


_ORDINAL_WORD_RE = re.compile(
    r"\b(?:(?:twenty|thirty)[\s-])?(?:first|third|fourth|fifth|sixth|seventh|eighth|"
    r"ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|"
    r"seventeenth|eighteenth|nineteenth|twentieth|thirtieth)\b"
    r"|\b(?:(?:twenty|thirty)[\s-])second\b|(?<=\bthe )second\b",
    re.I,
)


def _suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _ordinal_words_to_digits(text: str) -> str:
    """'the fifteenth' -> 'the 15th'. number_parser.parse would turn it into a
    bare '15', losing the fact that it is a day of the month."""

    def repl(m: re.Match[str]) -> str:
        n = _quiet(parse_ordinal, m.group(0).lower())
        return f"{n}{_suffix(n)}" if isinstance(n, int) else m.group(0)

    return _ORDINAL_WORD_RE.sub(repl, text)


# A run of Chinese numerals, possibly mixed with digits ('五百', '5百', '1千5').
# A lone 一 is a number only before a unit: not in 一半 (half), 一下, 一点,
# 一次性, 一起. 万一 ("in case") is not a number.
_CJK_NUMBER_RE = re.compile(r"[0-9]*[零〇一二两三四五六七八九十百千万][0-9零〇一二两三四五六七八九十百千万]*")
_CJK_UNITS = "元块圆期个月年号日天周岁"


def _cjk_number(match: re.Match) -> str:
    run, after = match.group(0), match.string[match.end():match.end() + 1]
    if (run == "一" and after not in _CJK_UNITS) or run.startswith("万"):
        return run
    value = _quiet(cn2an.cn2an, run, "smart")
    return str(int(value)) if isinstance(value, (int, float)) and value == int(value) else run


def _words_to_digits(text: str) -> str:
    """'one hundred and twenty' -> '120' (ordinal words become '15th' first);
    Chinese numerals too ('五百' -> '500', '分六期' -> '分6期', read by cn2an)."""
    text = _ordinal_words_to_digits(text)
    out = _quiet(_number_words_to_digits, text)
    text = out if isinstance(out, str) else text
    return _CJK_NUMBER_RE.sub(_cjk_number, text)


# --------------------------------------------------------------------------
# loan reference
# --------------------------------------------------------------------------

_LOAN_REF_PATTERNS = (
    # most specific first: "LN-48213", then "ln48213", then "ln 48213"
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})-([0-9]{4,10})(?![0-9])"),
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})([0-9]{4,10})(?![0-9])"),
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4}) ([0-9]{4,10})(?![0-9])"),
)
# English words that precede a number in ordinary sentences ("in 2026",
# "loan 48213", "owe 5000"); never accepted as a prefix when a space separates.
_NOT_A_PREFIX = frozenset(
    "a an and are as at be but by can did do due for from get got had has have "
    "i in is it its me my no nr num of off on or our out owe owed paid pay ref "
    "refs so than that the then this till to too up upto us was we were will "
    "with you your loan loans year sum only just over date dob born plus "
    "about near".split()
)


_CURRENCY_PREFIXES = frozenset("gbp usd eur cny rmb jpy cad aud hkd nzd chf inr sgd".split())


def _blank_loan_refs(text: str) -> str:
    for pattern in _LOAN_REF_PATTERNS[:2]:
        text = pattern.sub(
            lambda m: m.group(0) if m.group(1).lower() in _CURRENCY_PREFIXES else " " * len(m.group(0)),
            text,
        )
    return text


@_total(None)
def normalise_loan_ref(text: str) -> str | None:
    """First loan reference in ``text`` as 'LN-48213', or None."""
    cleaned = _clean(text, _LOAN_REF_MAX_CHARS)
    for i, pattern in enumerate(_LOAN_REF_PATTERNS):
        for m in pattern.finditer(cleaned):
            prefix, digits = m.group(1), m.group(2)
            if prefix.lower() in _CURRENCY_PREFIXES or (i == 2 and prefix.lower() in _NOT_A_PREFIX):
                continue
            if not prefix.isascii():
                continue
            return f"{prefix.upper()}-{digits}"
    return None


# --------------------------------------------------------------------------
# date of birth
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DateOfBirthParse:
    value: date | None
    candidates: tuple[date, ...] = ()
    problem: str | None = None  # unparseable | ambiguous | in_future | implausible


_UNPARSEABLE = DateOfBirthParse(None, (), "unparseable")


def _dob_problem(d: date, today: date) -> str | None:
    if d > today:
        return "in_future"
    age = relativedelta(today, d).years
    if age < _MIN_AGE_YEARS or age > _MAX_AGE_YEARS:
        return "implausible"
    return None


def _dob_settings(today: date, order: str) -> dict:
    return {
        "REQUIRE_PARTS": ["day", "month", "year"],
        "DATE_ORDER": order,
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": datetime.combine(today, time()),
        "STRICT_PARSING": True,
    }


_LONG_DIGITS_RE = re.compile(r"[0-9]{9,}")


def _for_dateparser(text: str) -> str:
    """dateparser is slow (superlinear) on long digit runs, none of which is a date."""
    return _LONG_DIGITS_RE.sub(" ", text).strip()


def _dateparser_dob(fragment: str, today: date, order: str) -> date | None:
    dt = _quiet(
        dateparser.parse,
        _for_dateparser(fragment),
        settings=_dob_settings(today, order),
        languages=_DATEPARSER_LANGUAGES,
    )
    return dt.date() if isinstance(dt, datetime) else None


def _year_written(d: date, text: str) -> bool:
    """Reject relative phrases ('today', '2 days ago'): the year must be typed."""
    return str(d.year) in text or re.search(rf"(?<![0-9]){d.year % 100:02d}(?![0-9])", text) is not None


def _ymd(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


@_total(_UNPARSEABLE)
def parse_date_of_birth(text: str, today: date) -> DateOfBirthParse:
    """Parse a typed date of birth.

    ISO (y-m-d) and y年m月d日 are never ambiguous; a numeric d/m/y with both
    parts <= 12 and different gives two candidates (d/m first). When only one
    candidate is a plausible date of birth it is taken as the value.
    """
    cleaned = _clean(text)
    today = _as_date(today)  # type: ignore[assignment]
    if not cleaned or today is None:
        return _UNPARSEABLE

    parsed: date | None = None
    candidates: tuple[date, ...] = ()

    iso = _ISO_DATE_RE.search(cleaned) or _CJK_YMD_RE.search(cleaned)
    numeric = _NUMERIC_DMY_RE.search(cleaned)
    if iso:
        parsed = _ymd(*(int(g) for g in iso.groups()))
        if parsed is None:
            return _UNPARSEABLE
    elif numeric:
        fragment = numeric.group(0)
        first, second = int(numeric.group(1)), int(numeric.group(2))
        dmy = _dateparser_dob(fragment, today, "DMY")
        mdy = _dateparser_dob(fragment, today, "MDY")
        # our only decision: both parts could be a month -> two readings
        if first <= 12 and second <= 12 and first != second and dmy and mdy and dmy != mdy:
            candidates = (dmy, mdy)
        else:
            parsed = dmy or mdy
        if parsed is None and not candidates:
            return _UNPARSEABLE
    else:
        parsed = _dateparser_dob(cleaned, today, "DMY")
        if parsed is None:
            found = _quiet(
                search_dates,
                _for_dateparser(cleaned),
                settings=_dob_settings(today, "DMY"),
                languages=_DATEPARSER_LANGUAGES,
            )
            for _, dt in found or ():
                if isinstance(dt, datetime):
                    parsed = dt.date()
                    break
        if parsed is None or not _year_written(parsed, cleaned):
            return _UNPARSEABLE

    if candidates:
        plausible = tuple(c for c in candidates if _dob_problem(c, today) is None)
        if len(plausible) == 2:
            return DateOfBirthParse(None, candidates, "ambiguous")
        if len(plausible) == 1:
            return DateOfBirthParse(plausible[0], (), None)
        return DateOfBirthParse(None, (), _dob_problem(candidates[0], today))

    assert parsed is not None
    problem = _dob_problem(parsed, today)
    return DateOfBirthParse(parsed if problem is None else None, (), problem)


# --------------------------------------------------------------------------
# amounts and currencies
# --------------------------------------------------------------------------

_CURRENCY_WORDS = (
    r"quid|pounds?|sterling|dollars?|bucks|euros?|yuan|renminbi|rmb|gbp|usd|eur|cny"
)
_MONEY_RE = re.compile(
    r"(?<![0-9a-z.,])"
    r"(?P<sign>-|minus\s+)?"
    r"(?P<pre>(?:(?:us|hk|nz|au|ca|a|c)\$|cn¥|[£$€¥]|gbp|usd|eur|cny|rmb)\s*)?"
    r"(?P<sign2>-)?"
    r"(?P<num>[0-9]+(?:[.,][0-9]+)*)"
    r"(?P<mult>\s*(?:k|grand)\b)?"
    rf"(?P<post>\s*(?:[£$€¥元块]|(?:{_CURRENCY_WORDS})\b))?"
    r"(?![0-9a-z%])",
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


def _strip_for_amounts(text: str) -> str:
    """Blank everything that is a number but not money: dates, times, plan
    durations, percentages and loan references."""
    text = _blank_dates(text)
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
        if amount == amount.to_integral_value() and amount.as_tuple().exponent < 0:
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
_KNOWN_CODES = frozenset("GBP USD EUR CNY JPY CAD AUD HKD NZD CHF INR SGD".split())
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


# --------------------------------------------------------------------------
# payment dates
# --------------------------------------------------------------------------


def _next_day_of_month(day: int, today: date) -> date | None:
    """Next date on/after today whose day-of-month is ``day`` (skips short months)."""
    if not 1 <= day <= 31:
        return None
    first = today.replace(day=1)
    for k in range(13):
        month = first + relativedelta(months=k)
        candidate = _ymd(month.year, month.month, day)
        if candidate and candidate >= today:
            return candidate
    return None  # pragma: no cover - every day 1..31 occurs within 13 months


def _next_day_month(day: int, month: int, today: date) -> date | None:
    """Next occurrence on/after today of day/month (29 Feb waits for a leap year)."""
    for year in range(today.year, today.year + 9):
        candidate = _ymd(year, month, day)
        if candidate and candidate >= today:
            return candidate
    return None


_END_OF_MONTH_RE = re.compile(
    r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<next>next\s+)?month|month[\s-]end)\b"
    r"|(?P<next_cjk>下个?月)月?[底末]|月[底末]",
    re.I,
)
_START_OF_NEXT_MONTH_RE = re.compile(
    r"\b(?:start|beginning)\s+of\s+(?:the\s+)?next\s+month\b|下个?月初", re.I
)


def _end_of_month(text: str, today: date) -> date | None:
    m = _END_OF_MONTH_RE.search(text)
    if m:
        base = today + relativedelta(months=1) if m.group("next") or m.group("next_cjk") else today
        return base + relativedelta(day=31)
    if _START_OF_NEXT_MONTH_RE.search(text):
        return today.replace(day=1) + relativedelta(months=1)
    return None


_NEXT_WEEKDAY_RE = re.compile(
    r"\b(?P<which>next|this|coming)\s+(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\b",
    re.I,
)


def _weekday_index(word: str) -> int | None:
    word = word.lower()
    for i, name in enumerate(_WEEKDAYS):
        if name.startswith(word[:3]):
            return i
    return None


def _next_or_this_weekday(text: str, today: date) -> date | None:
    """'next Friday' / 'this Friday': the first such weekday after today
    ('this' also accepts today). dateparser 1.2.0 returns None for these."""
    m = _NEXT_WEEKDAY_RE.search(text)
    if not m:
        return None
    index = _weekday_index(m.group("day"))
    if index is None:  # pragma: no cover - the regex only matches weekdays
        return None
    ahead = (index - today.weekday()) % 7
    if ahead == 0 and m.group("which").lower() != "this":
        ahead = 7
    return today + timedelta(days=ahead)


_FORTNIGHT_RE = re.compile(r"\b(?:in\s+)?a\s+fortnight\b|\bfortnight'?s\s+time\b", re.I)


def _numeric_date(text: str, today: date, date_order: str) -> tuple[bool, date | None]:
    """Strict d/m(/y) or m/d(/y). Returns (found, value); found with value None
    means the form was there but is not a valid date in ``date_order``
    (dateparser would silently swap day and month)."""
    m = _NUMERIC_DMY_RE.search(text)
    year: int | None = None
    if m:
        year = int(m.group(3))
        year = year + 2000 if year < 100 else year
    else:
        m = _NUMERIC_DM_RE.search(text)
    if not m:
        return False, None
    a, b = int(m.group(1)), int(m.group(2))
    day, month = (b, a) if date_order.upper().startswith("M") else (a, b)
    if not 1 <= month <= 12:
        return True, None
    if year is not None:
        return True, _ymd(year, month, day)
    return True, _next_day_month(day, month, today)


# 下个月5号 / 这个月20号 / 本月底 is left to _end_of_month
_CJK_MONTH_DAY_RE = re.compile(r"(?P<which>下下|下|这|本)个?月\s*(?P<day>[0-9]{1,2})\s*[日号]")
_CJK_MONTH_OFFSET = {"下下": 2, "下": 1, "这": 0, "本": 0}


def _cjk_date(text: str, today: date) -> tuple[bool, date | None]:
    if m := _CJK_YMD_RE.search(text):
        return True, _ymd(*(int(g) for g in m.groups()))
    if m := _CJK_MONTH_DAY_RE.search(text):
        month = today.replace(day=1) + relativedelta(months=_CJK_MONTH_OFFSET[m.group("which")])
        return True, _ymd(month.year, month.month, int(m.group("day")))
    if m := _CJK_MD_RE.search(text):
        return True, _next_day_month(int(m.group(2)), int(m.group(1)), today)
    if m := _CJK_D_RE.search(text):
        return True, _next_day_of_month(int(m.group(1)), today)
    if (value := _cjk_weekday(text, today, future=True)) is not None:
        return True, value
    return False, None


# 周五 / 星期五 / 礼拜五, with 这/本 (this week), 下 (next week), 下下, 上 (last week).
# Weeks start on Monday. dateparser 1.2.0 reads 下周五 as a Monday.
_CJK_WEEKDAY_RE = re.compile(r"(?P<which>下下|下|上上|上|这|本|今)?\s*个?\s*(?:周|星期|礼拜)(?P<day>[1-7一二三四五六日天])")
_CJK_WEEKDAY_INDEX = {**{str(i + 1): i for i in range(7)}, **dict(zip("一二三四五六", range(6))), "日": 6, "天": 6}
_CJK_WEEK_OFFSET = {"下下": 2, "下": 1, "上": -1, "上上": -2, "这": 0, "本": 0, "今": 0}


def _cjk_weekday(text: str, today: date, *, future: bool) -> date | None:
    """The day a Chinese weekday names. Without 下/上/这, the next (future) or the
    latest (past) such day, today included."""
    m = _CJK_WEEKDAY_RE.search(text)
    if not m:
        return None
    index = _CJK_WEEKDAY_INDEX[m.group("day")]
    if m.group("which"):
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=_CJK_WEEK_OFFSET[m.group("which")], days=index)
    if future:
        return today + timedelta(days=(index - today.weekday()) % 7)
    return today - timedelta(days=(today.weekday() - index) % 7)


_YEAR_RE = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
_BARE_DAY_RE = re.compile(rf"^\s*(?:on\s+)?the\s+({_DAY})\s*$", re.I)


def _day_of_month(text: str) -> int | None:
    """'the 15th', 'on the 15th', 'by the 15' -- but not '15th December'."""
    if _MONTH_DATE_RE.search(text):
        return None
    for pattern in (_ORDINAL_DAY_RE, _ON_THE_DAY_RE, _BARE_DAY_RE):
        if m := pattern.search(text):
            return int(m.group(1))
    return None


# search_dates finds these in ordinary sentences ("I may pay", "wait a sec").
_FALSE_DATE_MATCHES = frozenset(
    {"may", "sec", "a sec", "second", "a second", "min", "a min", "minute", "a minute",
     "sun", "sat", "mar", "wed"}
)


def _dateparser_payment(text: str, today: date, date_order: str) -> date | None:
    base = datetime.combine(today, time())
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
        "DATE_ORDER": date_order,
        # a month alone ("in March") is not a date to pay on
        "REQUIRE_PARTS": ["day", "month"],
    }
    text = _for_dateparser(text)
    if not text:
        return None
    for use_settings in (settings, {k: v for k, v in settings.items() if k != "REQUIRE_PARTS"}):
        dt = _quiet(dateparser.parse, text, settings=use_settings, languages=_DATEPARSER_LANGUAGES)
        if not isinstance(dt, datetime):
            found = _quiet(search_dates, text, settings=use_settings, languages=_DATEPARSER_LANGUAGES)
            for matched, candidate in found or ():
                if matched.strip().lower() in _FALSE_DATE_MATCHES or not isinstance(candidate, datetime):
                    continue
                dt = candidate
                break
        if isinstance(dt, datetime):
            return dt.date()
        if not _WEEKDAY_RE.search(text):  # only weekdays need the lenient pass
            break
    return None


@_total(None)
def parse_payment_date(text: str, today: date, date_order: str = "DMY") -> date | None:
    """The date a borrower offers to pay on.

    Dates without a year are the next occurrence on/after ``today``; explicit
    past dates are returned as they are (the caller checks the window).
    """
    cleaned = _words_to_digits(_clean(text))
    today = _as_date(today)  # type: ignore[assignment]
    if not cleaned or today is None or not isinstance(date_order, str):
        return None

    if m := _ISO_DATE_RE.search(cleaned):
        return _ymd(*(int(g) for g in m.groups()))
    found, value = _cjk_date(cleaned, today)
    if found:
        return value
    if (value := _end_of_month(cleaned, today)) is not None:
        return value
    if (value := _next_or_this_weekday(cleaned, today)) is not None:
        return value
    if _FORTNIGHT_RE.search(cleaned):
        return today + timedelta(days=14)
    found, value = _numeric_date(cleaned, today, date_order)
    if found:
        return value
    if (day := _day_of_month(cleaned)) is not None:
        return _next_day_of_month(day, today)

    # Hand the rest to dateparser, without the amount ("pay 50 on 15 Dec").
    picked = _pick_money(_money_candidates(cleaned))
    if picked is not None:
        cleaned = (cleaned[: picked.start] + " " + cleaned[picked.end :]).strip()
    if not cleaned:
        return None
    value = _dateparser_payment(cleaned, today, date_order)
    if value is not None and _MONTH_DATE_RE.search(cleaned) and not _YEAR_RE.search(cleaned):
        # dateparser's "future" skips today ("23 November" on 23 Nov -> next year)
        value = _next_day_month(value.day, value.month, today)
    return value


# --------------------------------------------------------------------------
# months
# --------------------------------------------------------------------------

_ONE_AS_PRONOUN_RE = re.compile(r"\b(months?|years?|that|this|which|other)\s+one\b", re.I)
_A_YEAR_RE = re.compile(r"\b(?:a|an|one)\s+year\b|一年", re.I)
_MONTHS_NUMBER_RE = re.compile(
    r"(?<![0-9a-z.,£$€¥-])(?P<num>[0-9]+(?:\.[0-9]+)?)"
    r"(?:\s*(?:-\s*)?(?P<unit>months?|mths?|mos?|years?|yrs?)\b|\s*(?P<unit_cjk>个月|年))?"
    r"(?![0-9a-z%£$€¥元])",
    re.I,
)
_CORRECTION_RE = re.compile(r"\b(?:no|nope|wait|actually|sorry|instead|rather|make\s+it|change)\b", re.I)


@_total(None)
def parse_months(text: str) -> int | None:
    """Number of months for a plan. 'a year' is 12; the LAST number mentioned
    wins, so corrections ('6 months, no wait 12') work; numbers with a unit
    ('6 months') beat bare ones unless the bare one comes after a correction
    word."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    cleaned = _ONE_AS_PRONOUN_RE.sub(r"\1", cleaned)  # "the 6 month one"
    cleaned = _A_YEAR_RE.sub("12 months", cleaned)
    cleaned = _words_to_digits(cleaned)
    # a year spelled as a word ("one year") comes back as "1 year"
    stripped = _blank_dates(cleaned)
    for m in _MONEY_RE.finditer(stripped):  # drop money, keep bare numbers
        if m.group("pre") or m.group("post") or m.group("mult"):
            stripped = stripped[: m.start()] + " " * (m.end() - m.start()) + stripped[m.end() :]

    strong: list[tuple[int, int]] = []
    bare: list[tuple[int, int]] = []
    for m in _MONTHS_NUMBER_RE.finditer(stripped):
        try:
            value = Decimal(m.group("num"))
        except InvalidOperation:  # pragma: no cover - regex guarantees digits
            continue
        unit = (m.group("unit") or m.group("unit_cjk") or "").lower()
        if unit.startswith(("y", "年")):
            value *= 12
        if value != value.to_integral_value() or len(m.group("num")) > 6:
            continue
        (strong if unit else bare).append((m.start(), int(value)))

    if strong:
        last_pos, last_value = strong[-1]
        later_bare = [b for b in bare if b[0] > last_pos]
        if later_bare and _CORRECTION_RE.search(stripped[last_pos : later_bare[-1][0]]):
            return later_bare[-1][1]
        return last_value
    if bare:
        return bare[-1][1]
    return None


_FUTURE_WORDS_RE = re.compile(r"\b(next|tomorrow|in \d+ (days?|weeks?|months?))\b", re.I)


def _previous_day_of_month(day: int, today: date) -> date | None:
    """The most recent `day` of a month on or before today."""
    for back in range(0, 12):
        first = (today.replace(day=1) - relativedelta(months=back))
        if day <= calendar.monthrange(first.year, first.month)[1]:
            candidate = first.replace(day=day)
            if candidate <= today:
                return candidate
    return None


@_total(None)
def parse_past_date(text: str, today: date, date_order: str = "DMY") -> date | None:
    """A date on or before today, e.g. when a borrower says they already paid:
    "yesterday", "last Monday", "on Friday", "20 November", "20/11", "the 20th",
    "2026-11-18", "2 days ago". Dates without a year are the latest occurrence."""
    cleaned = _words_to_digits(_clean(text))
    today = _as_date(today)  # type: ignore[assignment]
    if not cleaned or today is None or not isinstance(date_order, str):
        return None
    if _FUTURE_WORDS_RE.search(cleaned):
        return None
    if m := _ISO_DATE_RE.search(cleaned):
        value = _ymd(*(int(g) for g in m.groups()))
        return value if value is not None and value <= today else None
    if (m := _WEEKDAY_RE.search(cleaned)) is not None and (index := _weekday_index(m.group(1))) is not None:
        back = (today.weekday() - index) % 7 or (7 if re.search(r"\blast\b", cleaned, re.I) else 0)
        return today - timedelta(days=back)
    if (value := _cjk_weekday(cleaned, today, future=False)) is not None:
        return value if value <= today else None
    if m := _CJK_YMD_RE.search(cleaned):
        value = _ymd(*(int(g) for g in m.groups()))
        return value if value is not None and value <= today else None
    if m := _CJK_MD_RE.search(cleaned):  # 11月20日: the latest 20 November
        value = _ymd(today.year, int(m.group(1)), int(m.group(2)))
        if value is not None and value > today:
            value = _ymd(today.year - 1, int(m.group(1)), int(m.group(2)))
        return value
    if m := _CJK_D_RE.search(cleaned):
        return _previous_day_of_month(int(m.group(1)), today)
    found, value = _numeric_date(cleaned, today, date_order)
    if found:
        if value is not None and value > today and not _YEAR_RE.search(cleaned):
            value = value - relativedelta(years=1)
        return value if value is not None and value <= today else None
    if (day := _day_of_month(cleaned)) is not None:
        return _previous_day_of_month(day, today)
    settings = {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": datetime.combine(today, time()), "DATE_ORDER": date_order}
    prepared = _for_dateparser(cleaned)
    if not prepared:
        return None
    parsed = _quiet(dateparser.parse, prepared, settings=settings, languages=_DATEPARSER_LANGUAGES)
    if not isinstance(parsed, datetime):
        parsed = None
        for matched, candidate in _quiet(search_dates, prepared, settings=settings, languages=_DATEPARSER_LANGUAGES) or ():
            if matched.strip().lower() not in _FALSE_DATE_MATCHES and isinstance(candidate, datetime):
                parsed = candidate
                break
    if parsed is None:
        return None
    value = parsed.date()
    if value > today and not _YEAR_RE.search(cleaned):
        value = value - relativedelta(years=1)
    return value if value <= today else None
