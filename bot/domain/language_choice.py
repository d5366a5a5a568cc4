"""A borrower asking for a language: which one, and whether a message is that request.

"Can we do this in English?", "请说中文", "Chinese please", "说英文吧": the borrower
chooses the language they are written to in (intent `choose_language`;
actions/language.py keeps the choice, components/patches/language.py stops following
each message's script while it stands). The classifier says that a language is asked
for; the words say which one: the last language named that is not refused ("I don't
understand Chinese, English please" -> English; "不要英文，说中文" -> Chinese). A
request to switch that names none ("can we switch languages?") means the other of
the two languages the assistant speaks; a language it does not speak ("can you
speak Spanish?") or a question ("what languages do you speak?") is answered with the
two to choose from.

"I don't speak English well, can I talk to a person" asks for a person, not a
language (request_human): the words of a request for a person win over a language
named (`asks_for_person`).
"""

from __future__ import annotations

import re

CHOOSE_LANGUAGE = "choose_language"
# How sure the classifier must be before a message at a step is read as a language
# request rather than an answer (the same bar as the other subjects that take over).
CLEAR = 0.5

_ENGLISH = r"(?<![A-Za-z])english(?![A-Za-z])|英文|英语|英語"
_CHINESE = (
    r"(?<![A-Za-z])(?:chinese|mandarin|putonghua|zhongwen)(?![A-Za-z])|"
    r"中文|汉语|漢語|华语|華語|普通话|普通話|国语|國語|中国话|中國話"
)
_NAMED = re.compile(rf"(?P<en>{_ENGLISH})|(?P<zh>{_CHINESE})", re.IGNORECASE)
# A language named only to be refused or left: "not in Chinese", "instead of English",
# "from English", "不要英文", "别用中文", "不会英文", "don't understand Chinese".
_REFUSED_BEFORE = re.compile(
    r"(?:(?<![A-Za-z])(?:not|no|non|stop|from)|instead of|rather than|"
    r"(?:don'?t|do not|can'?t|cannot|can not)\s+(?:\w+\s+)?(?:speak|read|understand|know|write|use)|"
    r"不要|别|別|不用|不会|不會|不懂|看不懂|听不懂|不太会|不太懂|不是)"
    r"\s*(?:in\s+|the\s+|用|说|說|讲|講)?\s*$",
    re.IGNORECASE,
)
# A mention of a language followed by its refusal: "English is hard for me", "英文看不懂".
_REFUSED_AFTER = re.compile(
    r"^\s*(?:is\s+|isn'?t\s+)?(?:too hard|hard|difficult|not good|no good|"
    r"不好|不行|看不懂|听不懂|不太好|不会|不懂|太难|不方便)",
    re.IGNORECASE,
)
_PERSON = re.compile(
    r"(?<![A-Za-z])(?:person|human|agent|someone|somebody|real people|staff|advisor|adviser|operator|"
    r"representative)(?![A-Za-z])|人工|真人|客服|转人|找人|工作人员|坐席",
    re.IGNORECASE,
)
# Languages the assistant does not speak: asked for, the borrower is told which it does.
_UNSPOKEN = re.compile(
    r"(?<![A-Za-z])(?:spanish|french|german|italian|portuguese|russian|arabic|hindi|urdu|bengali|punjabi|"
    r"japanese|korean|vietnamese|thai|tagalog|malay|indonesian|polish|romanian|turkish|cantonese|hokkien|"
    r"taiwanese)(?![A-Za-z])|西班牙语|法语|德语|日语|日文|韩语|韩文|俄语|阿拉伯语|越南语|泰语|粤语|广东话|"
    r"闽南语|客家话|上海话",
    re.IGNORECASE,
)
# Asking to switch without naming a language: with two, it means the other one.
_SWITCH = re.compile(
    r"(?<![A-Za-z])(?:switch|change|swap|other|another|different)(?![A-Za-z])|换|切换|改成|改用|另一种|别的语言|其他语言",
    re.IGNORECASE,
)
_ANY = rf"(?:{_ENGLISH}|{_CHINESE})"
# A message that is nothing but a language asked for ("English", "English please",
# "in Chinese", "中文", "说中文吧", "请用英文"): a choice whatever the classifier says.
_PLAIN = re.compile(
    rf"^\s*(?:(?:please|pls|can we|could we)\s+)?(?:(?:speak|in|use|switch to|change to)\s+)?{_ANY}"
    rf"(?:\s+(?:please|pls|only|is fine|ok))?\s*[.!?。！？]*\s*$|"
    rf"^\s*(?:请|麻烦)?您?(?:说|用|讲|講|换成|換成|改成|改用)?\s*{_ANY}\s*"
    rf"(?:吧|可以吗|可以嗎|好吗|好嗎|谢谢|謝謝)?\s*[。！？!?]*\s*$",
    re.IGNORECASE,
)


def _mentions(text: str) -> list[tuple[str, bool]]:
    """Each language the message names, in order, with whether it is refused."""
    found = []
    for match in _NAMED.finditer(text or ""):
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 20]
        refused = bool(_REFUSED_BEFORE.search(before) or _REFUSED_AFTER.search(after))
        found.append(("en" if match.group("en") else "zh", refused))
    return found


def language_named(text: str) -> str | None:
    """'en' or 'zh': the last language the message names that it does not refuse;
    None when it names neither (or refuses every one it names)."""
    return next((lang for lang, refused in reversed(_mentions(text)) if not refused), None)


def language_asked(text: str, current: str) -> str | None:
    """The language a request for one asks for: the one named; else the other of one
    refused ("我英文不好"); else, when it asks to switch ("can we change languages?"),
    the other of the language spoken (`current`). None when it does not say: a
    language the assistant does not speak ("can you speak Spanish?") or a question
    ("what languages do you speak?"); the borrower is then asked which."""
    named = language_named(text)
    if named:
        return named
    if _UNSPOKEN.search(text or ""):
        return None
    refused = [lang for lang, _ in _mentions(text)]
    if refused:
        return _other(refused[-1])
    return _other(current) if _SWITCH.search(text or "") else None


def _other(lang: str) -> str:
    return "zh" if lang == "en" else "en"


def asks_for_person(text: str) -> bool:
    """Whether the message asks for a person ("can I talk to someone who speaks Chinese"):
    a person asked for is a handoff, whatever language is named with it."""
    return bool(_PERSON.search(text or ""))


def chooses_language(text: str, intent: str | None, confidence: float) -> bool:
    """Whether a message asks for a language rather than answering the question on
    screen: the classifier says so clearly, or the message is a language and nothing
    else ("English please", "说中文吧"). A request for a person is not one."""
    if asks_for_person(text):
        return False
    if _PLAIN.search(text or ""):
        return True
    return intent == CHOOSE_LANGUAGE and confidence >= CLEAR
