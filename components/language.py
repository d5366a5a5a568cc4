"""The language a borrower writes in, message by message.

A message written mostly in Chinese characters is Chinese ("ok 好的",
"借款编号LN-10007，生日…"); a message mostly in English with a few Chinese
characters in it ("I lost my job, 身份证号…") is read as English.
Latin-script text is English only when the language detector (lingua, which is
built for short text) says so with some confidence against other languages that
share short words: "ok", "k", "lol", "LN-10007", "500", "2", an emoji or a
button's payload say nothing about the borrower's language, and so change
nothing (`None`). The conversation keeps the language last shown
(components/patches/language.py puts it in the `language` slot).
"""

from __future__ import annotations

import re
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]{2,}")
_LATIN = re.compile(r"[A-Za-z]")
# Chinese when its characters are at least a third of the letters' count: one character
# says as much as a short English word.
_HAN_WEIGHT = 3

# Languages whose short words English shares ("ok", "no", "stop", "hello"): with
# them in the running, a two-letter message is rarely English with confidence.
_RIVALS = (
    Language.FRENCH,
    Language.GERMAN,
    Language.SPANISH,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.DUTCH,
    Language.INDONESIAN,
    Language.MALAY,
    Language.TAGALOG,
)
# English is shown by a message lingua rates English at least this confident
# (its confidences over the ten languages sum to 1), or by one of several words
# that lingua ranks English first.
_ENGLISH_CONFIDENCE = 0.35
_ENGLISH_WORDS = 3
MAX_DETECTED_CHARS = 500  # the opening of a long message says enough


def script_of(text: str) -> str:
    """ "zh" for a message written mostly in Chinese characters, else "en": which
    intent model reads it (components/intent_classifier.py) and, for "zh", the
    language it shows."""
    han = len(_HAN.findall(text))
    return "zh" if han and han * _HAN_WEIGHT >= len(_LATIN.findall(text)) else "en"


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, *_RIVALS).with_preloaded_language_models().build()


def build_detector() -> None:
    """Build the language detector now (about 2 s: lingua reads its ten languages'
    models) rather than at the first message that needs it. The intent classifier's
    `load` calls it, so a replica pays it while the model loads, before it takes a
    message; the detector is the same object either way (`_detector` is cached)."""
    _detector()


def detect_language(text: str | None) -> str | None:
    """'zh', 'en', or None when the message does not show a language."""
    text = (text or "").strip()[:MAX_DETECTED_CHARS]
    if not text or text.startswith("/"):  # nothing, or a button's payload
        return None
    if script_of(text) == "zh":
        return "zh"
    text = _HAN.sub(" ", text)  # the English around a few Chinese characters
    words = len(_WORD.findall(text))
    if words == 0:
        return None
    top = _detector().compute_language_confidence_values(text)[0]
    if top.language != Language.ENGLISH:
        return None
    if top.value >= _ENGLISH_CONFIDENCE or words >= _ENGLISH_WORDS:
        return "en"
    return None
