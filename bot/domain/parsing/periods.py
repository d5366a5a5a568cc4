"""Amounts with the period they are paid over: '40 every fortnight', '£15pw',
'10 a week', '£100 pcm', '每周100', '每两周200', '每月300'.

A period counts only when it is said next to the amount: right after it ('10 a
week', '40 quid every 2 weeks, max') or right before it ('weekly payments of 10',
'每周能还100'). '3 months ago', 'a bad month' or 'in 2 weeks' are not periods, and
a word like 'month' without a number is no amount at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from ._common import _clean, _total
from .money import _Money, _money_candidates
from .number_words import _words_to_digits

WEEK = "week"
FORTNIGHT = "fortnight"
MONTH = "month"
PERIODS = (WEEK, FORTNIGHT, MONTH)

# Payments a year, per period: a month is 12 of them, so a weekly amount is x 52/12.
_PER_YEAR = {WEEK: 52, FORTNIGHT: 26, MONTH: 12}
_PENNY = Decimal("0.01")

_CJK_WEEK = r"(?:个)?(?:周|週|星期|礼拜|禮拜)"
_ONCE = r"(?:还|付|交)?\s*一\s*(?:次|期)(?!性)"  # '一次' / '还一次' (once), not 一次性 (in one go)
_MARKERS = (
    (
        FORTNIGHT,
        r"(?:a|per|each|every|/)\s*fortnight\b|\bfortnightly\b|\bbi-?weekly\b|"
        r"\b(?:every|each)\s+(?:2|other|second|alternate)\s+weeks?\b|"
        rf"每\s*(?:2|两|兩|俩|倆)\s*{_CJK_WEEK}|每隔\s*1\s*{_CJK_WEEK}|双周|雙周|"
        # '两周一次' (once every two weeks): without 每 only with 一次 after it, or as the
        # message's opening words right before the amount ('俩礼拜200', '两个礼拜一百五')
        rf"(?<![0-9])(?:2|两|兩|俩|倆)\s*{_CJK_WEEK}(?=\s*[,，]?\s*{_ONCE})|"
        rf"^(?:2|两|兩|俩|倆)\s*{_CJK_WEEK}(?=\s*(?:\d|$))",
    ),
    (
        WEEK,
        r"(?:\ba|\bper|\beach|\bevery|/)\s*(?:week|wk)s?\b|(?<![a-z-])weekly\b|(?<![a-z])p/?w\b|"
        rf"每\s*{_CJK_WEEK}|(?<![0-9])1\s*{_CJK_WEEK}|(?<![0-9一二三四五六七八九十两])一\s*{_CJK_WEEK}(?!\s*(?:后|以后|之后|内|前|左右))",
    ),
    (
        MONTH,
        r"(?:\ba|\bper|\beach|\bevery|/)\s*(?:calendar\s+)?(?:month|mth|mo)s?\b|\bmonthly\b|(?<![a-z])(?:pcm|p/?m)\b|"
        # 每期: every instalment, and the plans are monthly
        r"每\s*(?:个)?月|月供|(?<![0-9一二三四五六七八九十])月(?:付|还)|每\s*期|(?<![0-9])1\s*个月|"
        # '一月一次' (once a month); 一月 alone is January
        rf"(?<![0-9])1\s*月(?=\s*{_ONCE})",
    ),
)
_MARKER_RE = re.compile("|".join(f"(?P<{period}>{pattern})" for period, pattern in _MARKERS), re.I)

# Words that may stand between an amount and its period ('40 quid a week max',
# 'weekly payments of 10', '每周能还100').
_FILLER = (
    r"(?:max(?:imum)?|tops|at\s+(?:the\s+)?most|or\s+so|or\s+less|ish|only|just|roughly|about|around|"
    r"payments?|instalments?|installments?|of|i\s+(?:can|could)\s+(?:do|pay|afford|manage|give)|"
    r"能还|能付|可以还|可以付|还款|付款|能挤出来的|挤出来的|能挤出|挤出|能拿出来的|拿出来的|能拿出来|拿出来|能拿出|拿出|每次|还个|付个|给个|稳定|能不能改成|改成|改为|能给|"
    r"还|付|能|可以|大概|大约|约|最多|只能|就|一次|一期)"
)
_AFTER_RE = re.compile(rf"[\s,，]*(?:{_FILLER}[\s,，]*){{0,3}}", re.I)
_BEFORE_RE = re.compile(rf"[\s,:]*(?:{_FILLER}[\s,:]*){{0,4}}$", re.I)


@dataclass(frozen=True)
class PeriodicAmount:
    """An amount and the period it is paid over (None when the borrower named none)."""

    amount: Decimal
    period: str | None

    @property
    def monthly(self) -> Decimal:
        """What it comes to a month (an amount with no period is taken as monthly)."""
        return monthly_equivalent(self.amount, self.period or MONTH)


def monthly_equivalent(amount: Decimal, period: str) -> Decimal:
    """A weekly amount x 52/12, a fortnightly one x 26/12, rounded down to the penny so it
    never comes to more than what the borrower said; a monthly amount as it is."""
    if period == MONTH:
        return amount
    return (amount * _PER_YEAR[period] / 12).quantize(_PENNY, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class _Periodic:
    money: _Money
    period: str | None
    start: int  # the span of the amount and its period together
    end: int


def _period_of(match: re.Match[str]) -> str:
    return next(p for p in PERIODS if match.group(p) is not None)


def _with_periods(cleaned: str) -> list[_Periodic]:
    out = []
    for money in _money_candidates(cleaned):
        period, start, end = None, money.start, money.end
        filler = _AFTER_RE.match(cleaned, money.end)
        after = _MARKER_RE.match(cleaned, filler.end() if filler else money.end)
        if after is not None:
            period, end = _period_of(after), after.end()
        else:
            for before in _MARKER_RE.finditer(cleaned, max(0, money.start - 60), money.start):
                if _BEFORE_RE.fullmatch(cleaned, before.end(), money.start):
                    period, start = _period_of(before), before.start()
        out.append(_Periodic(money, period, start, end))
    return out


def _periodic_spans(cleaned: str) -> list[tuple[int, int]]:
    """Where the amounts paid over a period are, with their periods (for parse_months)."""
    return [(p.start, p.end) for p in _with_periods(cleaned) if p.period is not None]


@_total(None)
def parse_periodic_amount(text: str) -> PeriodicAmount | None:
    """The amount in a message and the period it is paid over, or None when there is
    no amount. An amount said with a period wins over one without, then one marked as
    money (a currency), then the first."""
    cleaned = _words_to_digits(_clean(text))
    if not cleaned:
        return None
    candidates = _with_periods(cleaned)
    if not candidates:
        return None
    best = max(candidates, key=lambda p: (p.period is not None, p.money.marked, -p.money.start))
    return PeriodicAmount(best.money.amount, best.period)
