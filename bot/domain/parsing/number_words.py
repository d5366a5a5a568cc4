"""Numbers written as words become digits: English cardinals and ordinals
(number_parser) and Chinese numerals."""

from __future__ import annotations

import re

from number_parser import parse as _number_words_to_digits
from number_parser import parse_ordinal

from ._common import _quiet
from .chinese_numerals import _CJK_NUMBER_RE, _cjk_number

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


def _words_to_digits(text: str) -> str:
    """'one hundred and twenty' -> '120' (ordinal words become '15th' first);
    Chinese numerals too ('五百' -> '500', '分六期' -> '分6期', read by cn2an)."""
    text = _ordinal_words_to_digits(text)
    out = _quiet(_number_words_to_digits, text)
    text = out if isinstance(out, str) else text
    return _CJK_NUMBER_RE.sub(_cjk_number, text)
