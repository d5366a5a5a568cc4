"""Plan lengths in months ('6 months', 'a year', '分六期')."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ._common import _clean, _total
from .date_expressions import _blank_dates
from .money import _MONEY_RE
from .number_words import _words_to_digits
from .periods import _periodic_spans

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
    for start, end in _periodic_spans(cleaned):  # '10 a week', 'every 2 weeks 40': an amount, not months
        stripped = stripped[:start] + " " * (end - start) + stripped[end:]
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
