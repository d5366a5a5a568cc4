"""Payment dates (the date a borrower offers to pay on) and past dates (when a
borrower says they already paid)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta

import dateparser
from dateparser.search import search_dates
from dateutil.relativedelta import relativedelta

from ._common import _as_date, _clean, _quiet, _total
from .date_expressions import (
    _CJK_D_RE,
    _CJK_MD_RE,
    _CJK_YMD_RE,
    _DATEPARSER_LANGUAGES,
    _DAY,
    _ISO_DATE_RE,
    _MONTH_DATE_RE,
    _NUMERIC_DM_RE,
    _NUMERIC_DMY_RE,
    _ON_THE_DAY_RE,
    _ORDINAL_DAY_RE,
    _WEEKDAY_RE,
    _WEEKDAYS,
    _for_dateparser,
    _ymd,
)
from .money import _money_candidates, _pick_money
from .number_words import _words_to_digits


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
_START_OF_NEXT_MONTH_RE = re.compile(r"\b(?:start|beginning)\s+of\s+(?:the\s+)?next\s+month\b|下个?月初", re.I)


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
    """'this Friday' / 'coming Friday': the first such weekday from today ('this' also
    accepts today). 'next Friday': Friday of next week (weeks start on Monday), as
    下周五 is read in Chinese: on a Thursday, 8 days ahead, not tomorrow; on a
    Saturday, 6 days ahead. The date is read back before anything is recorded.
    dateparser 1.2.0 returns None for these."""
    m = _NEXT_WEEKDAY_RE.search(text)
    if not m:
        return None
    index = _weekday_index(m.group("day"))
    if index is None:  # pragma: no cover - the regex only matches weekdays
        return None
    which = m.group("which").lower()
    if which == "next":
        return today - timedelta(days=today.weekday()) + timedelta(weeks=1, days=index)
    ahead = (index - today.weekday()) % 7
    if ahead == 0 and which != "this":
        ahead = 7
    return today + timedelta(days=ahead)


# A weekday on its own ("on Friday", "friday"): full names and the unmistakable
# abbreviations only ('sun', 'sat', 'wed', 'mon' are words too).
_BARE_WEEKDAY_RE = re.compile(
    r"(?<!\blast )(?<!\bnext )\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tues|weds|thurs|fri)\b",
    re.I,
)


def _bare_weekday(text: str, today: date) -> date | None:
    """'Friday' alone: the first Friday from today, today included, as 周五 is read in
    Chinese (said on a Friday, it is today; the read-back shows the date)."""
    if _MONTH_DATE_RE.search(text):
        return None  # '15 December, a Friday': the date says it
    m = _BARE_WEEKDAY_RE.search(text)
    if not m:
        return None
    index = _weekday_index(m.group(1))
    if index is None:  # pragma: no cover - the regex only matches weekdays
        return None
    return today + timedelta(days=(index - today.weekday()) % 7)


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
_CJK_WEEKDAY_RE = re.compile(
    r"(?P<which>下下|下|上上|上|这|本|今)?\s*个?\s*(?:周|星期|礼拜)(?P<day>[1-7一二三四五六日天])"
)
_CJK_WEEKDAY_INDEX = {
    **{str(i + 1): i for i in range(7)},
    **dict(zip("一二三四五六", range(6), strict=False)),
    "日": 6,
    "天": 6,
}
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
    {"may", "sec", "a sec", "second", "a second", "min", "a min", "minute", "a minute", "sun", "sat", "mar", "wed"}
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
    as_of = _as_date(today)  # callers may pass a datetime, or anything
    if not cleaned or as_of is None or not isinstance(date_order, str):
        return None
    today = as_of

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
    if (value := _bare_weekday(cleaned, today)) is not None:
        return value

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
# past dates
# --------------------------------------------------------------------------

_FUTURE_WORDS_RE = re.compile(r"\b(next|tomorrow|in \d+ (days?|weeks?|months?))\b", re.I)


def _previous_day_of_month(day: int, today: date) -> date | None:
    """The most recent `day` of a month on or before today."""
    for back in range(0, 12):
        first = today.replace(day=1) - relativedelta(months=back)
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
    as_of = _as_date(today)  # callers may pass a datetime, or anything
    if not cleaned or as_of is None or not isinstance(date_order, str):
        return None
    today = as_of
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
        for matched, candidate in (
            _quiet(search_dates, prepared, settings=settings, languages=_DATEPARSER_LANGUAGES) or ()
        ):
            if matched.strip().lower() not in _FALSE_DATE_MATCHES and isinstance(candidate, datetime):
                parsed = candidate
                break
    if parsed is None:
        return None
    value = parsed.date()
    if value > today and not _YEAR_RE.search(cleaned):
        value = value - relativedelta(years=1)
    return value if value <= today else None
