"""Numbers written as words become digits: English cardinals and ordinals
(number_parser) and Chinese numerals."""

from __future__ import annotations

import re
from typing import Any

import number_parser.parser
from number_parser import parse as _number_words_to_digits
from number_parser import parse_ordinal

from ._common import _quiet
from .chinese_numerals import _CJK_NUMBER_RE, _cjk_number

# (the class itself, should this module be imported again)
_LanguageData = getattr(number_parser.parser, "_original_LanguageData", number_parser.parser.LanguageData)
number_parser.parser._original_LanguageData = _LanguageData
_language_tables: dict[str, Any] = {}


def _kept_language_data(language: str) -> Any:
    """number_parser's `LanguageData(language)`, built once per language. `parse` builds
    it six times for every text it reads (once per language it tries, then once more),
    the action server's largest cost after the database; the tables are only read."""
    found = _language_tables.get(language)
    if found is None:
        found = _language_tables[language] = _LanguageData(language)  # (an unknown language raises, as before)
    return found


number_parser.parser.LanguageData = _kept_language_data

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
