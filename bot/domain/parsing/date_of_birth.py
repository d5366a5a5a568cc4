"""Dates of birth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

import dateparser
from dateparser.search import search_dates
from dateutil.relativedelta import relativedelta

from ._common import _as_date, _clean, _quiet, _total
from .date_expressions import (
    _CJK_YMD_RE,
    _DATEPARSER_LANGUAGES,
    _ISO_DATE_RE,
    _NUMERIC_DMY_RE,
    _for_dateparser,
    _ymd,
)

_MIN_AGE_YEARS = 16
_MAX_AGE_YEARS = 120


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


def _dob_settings(today: date, order: str) -> dict[str, object]:
    return {
        "REQUIRE_PARTS": ["day", "month", "year"],
        "DATE_ORDER": order,
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": datetime.combine(today, time()),
        "STRICT_PARSING": True,
    }


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


@_total(_UNPARSEABLE)
def parse_date_of_birth(text: str, today: date) -> DateOfBirthParse:
    """Parse a typed date of birth.

    ISO (y-m-d) and y年m月d日 are never ambiguous; a numeric d/m/y with both
    parts <= 12 and different gives two candidates (d/m first). When only one
    candidate is a plausible date of birth it is taken as the value.
    """
    cleaned = _clean(text)
    as_of = _as_date(today)  # callers may pass a datetime, or anything
    if not cleaned or as_of is None:
        return _UNPARSEABLE
    today = as_of

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
