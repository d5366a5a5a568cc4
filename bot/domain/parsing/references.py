"""Loan references ('LN-48213', 'ln48213', 'ln 48213')."""

from __future__ import annotations

import re

from ._common import _clean, _total

_LOAN_REF_MAX_CHARS = 2000

_LOAN_REF_PATTERNS = (
    # most specific first: "LN-48213", then "ln48213", then "ln 48213"
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})-([0-9]{4,10})(?![0-9])"),
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4})([0-9]{4,10})(?![0-9])"),
    re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,4}) ([0-9]{4,10})(?![0-9])"),
)
# English words that precede a number in ordinary sentences ("in 2026",
# "loan 48213", "owe 5000"); never accepted as a prefix when a space separates.
_NOT_A_PREFIX = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "did",
        "do",
        "due",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "nr",
        "num",
        "of",
        "off",
        "on",
        "or",
        "our",
        "out",
        "owe",
        "owed",
        "paid",
        "pay",
        "ref",
        "refs",
        "so",
        "than",
        "that",
        "the",
        "then",
        "this",
        "till",
        "to",
        "too",
        "up",
        "upto",
        "us",
        "was",
        "we",
        "were",
        "will",
        "with",
        "you",
        "your",
        "loan",
        "loans",
        "year",
        "sum",
        "only",
        "just",
        "over",
        "date",
        "dob",
        "born",
        "plus",
        "about",
        "near",
        # a month before a year is a date ("1 June 1980"), not a reference
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "june",
        "jul",
        "july",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)


_CURRENCY_PREFIXES = frozenset(
    ["gbp", "usd", "eur", "cny", "rmb", "jpy", "cad", "aud", "hkd", "nzd", "chf", "inr", "sgd"]
)


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
