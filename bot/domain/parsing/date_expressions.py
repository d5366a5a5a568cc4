"""Where dates are in a message: the regexes for date expressions (which must
never be read as an amount or a number of months), durations, weekday and
month names, and small date helpers shared by the date parsers."""

from __future__ import annotations

import calendar
import re
from datetime import date

from ._common import _blank

_DATEPARSER_LANGUAGES = ["en", "zh"]

_MONTHS = "|".join(
    sorted(
        {m.lower() for m in calendar.month_name[1:]} | {m.lower() for m in calendar.month_abbr[1:]} | {"sept"},
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
_NUMERIC_DMY_RE = re.compile(r"(?<![0-9.,/-])([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4}|[0-9]{2})(?![0-9/.-])")
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
# A clock hour is 0-12 before am/pm: '£25pm' and '30 pm' are amounts a month, not times.
_TIME_RE = re.compile(
    r"(?<![£$€¥])\b(?:1[0-2]|0?[0-9])(?::[0-9]{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b[0-9]{1,2}:[0-9]{2}\b", re.I
)
_CJK_YMD_RE = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?")
_CJK_MD_RE = re.compile(r"(?<![0-9年])([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]")
_CJK_D_RE = re.compile(r"(?<![0-9月])([0-9]{1,2})\s*[日号]")
# A month by its number ('1月份', '3月底', '一月一次' once numerals are digits): not an
# amount. Not 3个月 (a length), 300月供 or 每月 (no number).
_CJK_MONTH_RE = re.compile(r"(?<![0-9年个])(?:1[0-2]|0?[1-9])\s*月(?![0-9]|供)")
_DATE_EXPRESSIONS = (
    _CJK_YMD_RE,
    _CJK_MD_RE,
    _CJK_D_RE,
    _CJK_MONTH_RE,
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
    r"hours?|hrs?|minutes?|mins?)\b|[0-9]+\s*(?:个月|天|个?(?:周|週|星期|礼拜|禮拜)|年|期)",
    re.I,
)


def _blank_dates(text: str) -> str:
    for pattern in _DATE_EXPRESSIONS:
        text = _blank(text, pattern)
    return text


_LONG_DIGITS_RE = re.compile(r"[0-9]{9,}")


def _for_dateparser(text: str) -> str:
    """dateparser is slow (superlinear) on long digit runs, none of which is a date."""
    return _LONG_DIGITS_RE.sub(" ", text).strip()


def _ymd(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None
