"""Personal data that borrowers type, masked before it is stored or logged.

Borrowers type things the assistant must not keep: their date of birth (the
verification answer), card numbers, national ID numbers. Rasa stores every
message in its tracker store and logs messages at debug level, so the text is
masked on the way into both (components/tracker_store.py, `install_log_masking`),
and so is what the lender keeps of the borrower's words (reasons, cases,
handoff transcripts). The assistant never repeats free text back.

Masked, wherever they appear in a message:
- card-like numbers: 13 to 19 digits, bare or split by spaces or dashes, or
  in groups of up to 6 digits split by dots (`4111.1111.1111.1111`; a
  timestamp such as `1733256333.1234567` is not one);
- national ID numbers: China's resident identity number (18 characters, the
  last may be X; spaced 6-8-4 or not), the UK National Insurance number
  (HMRC's allocation rules) and the US Social Security number (nine bare
  digits only when python-stdnum says they are a valid one);
- dates with a year at least `OLD_DATE_YEARS` back: no payment, promise or plan
  date is that old, a date of birth always is. Numeric (`09/09/1970`,
  `1970-09-09`, `1970年9月9日`, `19700909`) or with the month's name in any
  order and with any of `-./` or spaces (`9-Sep-1970`, `Sep 9, 1970`). A
  two-digit year is the nearest one not more than two years ahead.
An answer to "what is your date of birth?" is masked whole (`MASK`), however it
was written.

Chinese puts no space between words and numbers, so a number counts as one
when no ASCII letter or digit touches it (`身份证号11010519491231002X`);
full-width digits (`４１１１`) count as digits; a `\\uXXXX` or `\\n` escape
before it (JSON and repr() in log lines) counts as a space.

Kept, because the conversation needs them: amounts (`50`, `1,250.00`,
`¥500`), loan and case references (`LN-10002`), recent and coming dates
(`3 Dec 2026`), and phone numbers (a number after `+`, and anything under 13
digits): the borrower gives one to be called back on, and the lender holds it
already. Not recognised: numbers glued to English words (`card4111...`) and
dates written in Chinese numerals (a date-of-birth answer is masked whole).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import sys
import threading
import traceback
import unicodedata
import warnings
from collections.abc import Callable
from datetime import date
from types import TracebackType
from typing import Any, TextIO

from cryptography.fernet import Fernet, InvalidToken
from stdnum.us import ssn

from bot.domain.clock import utcnow

MASK = "••••••"
OLD_DATE_YEARS = 10
TWO_DIGIT_YEARS_AHEAD = 2

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# The same, once the first letter is read (patterns start with a character class).
_MONTHS_AFTER_FIRST = (
    r"(?:(?<=j)(?:an(?:uary)?|une?|uly?)|(?<=f)eb(?:ruary)?|(?<=m)(?:ar(?:ch)?|ay)|(?<=a)(?:pr(?:il)?|ug(?:ust)?)"
    r"|(?<=s)ep(?:t(?:ember)?)?|(?<=o)ct(?:ober)?|(?<=n)ov(?:ember)?|(?<=d)ec(?:ember)?)"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"'?\d{2}(?:\d{2})?"
_SEP = r"[\s./-]"

# Full-width digits, letters and separators (Chinese keyboards) read as ASCII;
# one character for one, so a match's position is the same in the original.
_FULL_WIDTH: dict[int, int | str] = {0xFF10 + i: ord("0") + i for i in range(10)}
_FULL_WIDTH.update({0xFF21 + i: ord("A") + i for i in range(26)})
_FULL_WIDTH.update({0xFF41 + i: ord("a") + i for i in range(26)})
_FULL_WIDTH.update({0x3000: " ", 0x00A0: " ", 0x202F: " ", 0xFF0E: ".", 0xFF0F: "/"})
_FULL_WIDTH.update(dict.fromkeys([0xFF0D, 0x2010, 0x2011, 0x2012, 0x2013, 0x2212], "-"))
_ASCII_VIEW = str.maketrans(_FULL_WIDTH)


def _starts(first: str, after_none_of: str = "", *, after_letters: bool = False) -> str:
    """`first` (a character class) where a number starts: no ASCII digit or
    letter (unless `after_letters`), nor any of `after_none_of`, before it, or
    an escape (`\\u8eab`, `\\n`). The class comes first so that the search
    skips to where it can match."""
    before = ("0-9" if after_letters else "0-9A-Za-z_") + re.escape(after_none_of)
    return (
        rf"{first}(?:(?<![{before}]{first})"
        rf"|(?<=\\u[0-9A-Fa-f]{{4}}{first})|(?<=\\[nrtfv]{first}))"
    )


def _ends(before_none_of: str = "") -> str:
    """A number ends where no ASCII letter or digit follows (nor one of
    `before_none_of` followed by a digit: `1.5` goes on, `1.` ends)."""
    tail = rf"(?![{re.escape(before_none_of)}][0-9])" if before_none_of else ""
    return r"(?![0-9A-Za-z_])" + tail


_D = "[0-9]"
_CARD_LIKE = re.compile(_starts(_D, "+-") + r"(?:(?:[ -]| {2})?\d){12,18}" + _ends(" -"))
_CARD_DOTTED = re.compile(_starts(_D, "+.-") + r"\d{0,5}(?:\.\d{1,6}){2,6}" + _ends(".-"))  # 13 to 19 digits
_CN_RESIDENT_ID = re.compile(_starts(_D, "-") + r"\d{5}[ -]?\d{8}[ -]?\d{3}[\dXx]" + _ends("-"))
_SSN_SHAPED = re.compile(_starts(_D, "-") + r"\d{2}([- ])\d{2}\1\d{4}" + _ends("-"))
_BARE_NINE = re.compile(_starts(_D, "-") + r"\d{8}" + _ends("-"))
# HMRC: the first letter is not D F I Q U V, the second not D F I O Q U V, and
# BG GB KN NK NT TN ZZ are never issued.
_NINO = re.compile(
    _starts("[A-CEGHJ-PR-TW-Z]") + r"[A-CEGHJ-NPR-TW-Z](?<!BG|GB|KN|NK|NT|TN|ZZ)(?:[ -]?\d{2}){3}[ -]?[A-D]" + _ends(),
    re.IGNORECASE,
)

# Each date pattern names its year group.
_DATES = [
    re.compile(
        rf"(?P<year>{_starts(_D, after_letters=True)}\d{{3}})\s*[-/.年]\s*\d{{1,2}}\s*[-/.月]\s*\d{{1,2}}(?:\s*[日号])?"
        + _ends("/.-")
    ),
    re.compile(
        rf"(?P<year>{_starts(_D, after_letters=True)}\d)\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}(?:\s*[日号])?(?![0-9])"
    ),
    re.compile(_starts(_D, "/.-") + r"\d?\s*[-/.]\s*\d{1,2}\s*[-/.]\s*(?P<year>\d{2}(?:\d{2})?)" + _ends("/.-")),
    re.compile(
        _starts(_D) + rf"\d?(?:st|nd|rd|th)?{_SEP}*(?:of\s+)?(?:{_MONTHS})\.?,?{_SEP}*(?P<year>{_YEAR})" + _ends(),
        re.IGNORECASE,
    ),
    re.compile(
        _starts("[ADFJMNOS]") + rf"{_MONTHS_AFTER_FIRST}\.?{_SEP}*{_DAY},?[\s,./-]+(?P<year>{_YEAR})" + _ends(),
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?P<year>{_starts(_D)}\d{{3}}){_SEP}*(?:{_MONTHS})\.?{_SEP}*{_DAY}" + _ends(),
        re.IGNORECASE,
    ),
    re.compile(rf"(?P<compact>{_starts(_D, '.,', after_letters=True)}\d{{7}})(?![0-9])(?![.,][0-9])"),
]
_DIGIT = re.compile(r"[0-9]")


def mask_personal_data(text: str, today: date | None = None) -> str:
    """The text with every card-like number, ID number and old date replaced by MASK."""
    if not text:
        return text
    view = text.translate(_ASCII_VIEW)
    if _DIGIT.search(view) is None:
        return text
    today = today or utcnow().date()
    spans = [m.span() for pattern in (_CN_RESIDENT_ID, _CARD_LIKE, _SSN_SHAPED, _NINO) for m in pattern.finditer(view)]
    spans += [m.span() for m in _CARD_DOTTED.finditer(view) if 13 <= len(m.group(0).replace(".", "")) <= 19]
    spans += [m.span() for m in _BARE_NINE.finditer(view) if ssn.is_valid(m.group(0))]
    spans += [m.span() for pattern in _DATES for m in pattern.finditer(view) if _is_old(m, today)]
    if not spans:
        return text
    parts, end = [], 0
    for start, stop in sorted(spans):
        if start >= end:
            parts += [text[end:start], MASK]
        end = max(end, stop)
    return "".join(parts) + text[end:]


# ---------------------------------------------------------------- sealed choices

SEALED_PREFIX = "sealed:"
_SEALED = re.compile(re.escape(SEALED_PREFIX) + r"([A-Za-z0-9_\-]+=*)")


def seal(value: str, secret: str) -> str:
    """A button payload that carries `value` encrypted (Fernet), so the stored
    conversation never holds it: the two readings of an ambiguous date of birth.
    Text channels answer buttons by number from the stored conversation, so the
    payload must stay usable there."""
    return SEALED_PREFIX + _fernet(secret).encrypt(value.encode()).decode()


def unseal(text: str, secret: str, max_age_seconds: int = 3600) -> str | None:
    """The value sealed anywhere in `text`, if it is ours and recent; else None."""
    match = _SEALED.search(text or "")
    if match is None:
        return None
    try:
        return _fernet(secret).decrypt(match.group(1).encode(), ttl=max_age_seconds).decode()
    except (InvalidToken, ValueError):
        return None


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"sealed-choice:" + secret.encode()).digest()))


def _is_old(match: re.Match[str], today: date) -> bool:
    groups = match.groupdict()
    if groups.get("compact"):
        digits = groups["compact"]
        years = [int(digits[:4]), int(digits[4:])]  # yyyymmdd or ddmmyyyy
        return any(1900 <= y <= today.year - OLD_DATE_YEARS for y in years)
    year_text = groups["year"].lstrip("'")
    year = int(year_text)
    if len(year_text) == 2:  # '85 is 1985, 05 is 2005, 27 (in 2026) is 2027
        year += today.year - today.year % 100
        if year > today.year + TWO_DIGIT_YEARS_AHEAD:
            year -= 100
    return year <= today.year - OLD_DATE_YEARS


# ---------------------------------------------------------------- logs and warnings

# A JSON \uXXXX escape (not itself escaped): Rasa's JSON log lines write Chinese
# and full-width digits this way.
# Escapes the masking must read unescaped: full-width digits, letters and
# separators, and whatever follows a digit (年, 月 in a date).
_ESCAPES_TO_READ = re.compile(
    r"\\u(?:ff[0-5][0-9a-f]|3000|00a0|202f|201[0-3]|2212)|(?<!\\u[0-9a-f]{3})[0-9]\\u", re.IGNORECASE
)
_JSON_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9A-Fa-f]{4})")


def mask_log_text(text: str) -> str:
    """`mask_personal_data` for a log line, which may be JSON with its
    non-ASCII characters escaped: if masking the unescaped line changes it,
    the line is written unescaped (still valid JSON) and masked."""
    masked = mask_personal_data(text)
    if _ESCAPES_TO_READ.search(masked) is None:  # an escape before a number is a boundary already
        return masked
    readable = _JSON_ESCAPE.sub(_unescape, masked)
    masked_readable = mask_personal_data(readable)
    return masked_readable if masked_readable != readable else masked


def _unescape(match: re.Match[str]) -> str:
    char = chr(int(match.group(2), 16))
    if unicodedata.category(char).startswith("C") or char in '"\\':  # controls, surrogates: kept escaped
        return match.group(0)
    return match.group(1) + char


class _MaskingRecordFactory:
    """Wraps the log-record factory so every record is masked, whichever logger
    or handler it goes to: its message (Rasa logs user messages at debug; its
    structured log lines are JSON), the text of its exception (an exception's
    message may quote the borrower) and its stack."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call is the logger's problem, not ours
            message = None
        if message is not None:
            masked = mask_log_text(message)
            if masked != message:
                record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters write exc_text when it is set (and cache it there); one
            # that quotes personal data is kept only as masked text.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_log_text(text)
            if record.exc_text != text:
                record.exc_info = None
        if record.stack_info:
            record.stack_info = mask_log_text(record.stack_info)
        return record


class _MaskingShowWarning:
    """Wraps `warnings.showwarning`: a warning's text can quote the borrower
    (Rasa warns "Failed to parse arguments in line '<the message>'" for a
    message starting with "/" that it cannot read) and Python prints warnings
    without the logging module."""

    def __init__(self, wrapped: Callable[..., None]) -> None:
        self.wrapped = wrapped

    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        self.wrapped(mask_log_text(str(message)), category, filename, lineno, file, line and mask_log_text(line))


def _masked_crash(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """What Python prints for an uncaught exception, masked (it bypasses logging)."""
    sys.stderr.write(mask_personal_data("".join(traceback.format_exception(exc_type, exc, tb))))


def _masked_thread_crash(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    sys.stderr.write(f"Exception in thread {name}:\n")
    _masked_crash(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)


def install_log_masking() -> None:
    """Mask personal data in every log record and every warning of this process
    (idempotent). Warnings go to the logging module (logger `py.warnings`), so
    they are written where and how the logs are; an uncaught exception's
    traceback (the process's or a thread's) is printed masked too."""
    sys.excepthook = _masked_crash
    threading.excepthook = _masked_thread_crash
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(factory))
    logging.captureWarnings(True)
    if not isinstance(warnings.showwarning, _MaskingShowWarning):
        warnings.showwarning = _MaskingShowWarning(warnings.showwarning)
