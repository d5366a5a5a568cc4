"""Personal data that borrowers type, masked before it is stored or logged.

Borrowers type things the assistant must not keep: their date of birth (the
verification answer), card numbers, national ID numbers. Rasa stores every
message in its tracker store and logs messages at debug level, so the text is
masked on the way into both (components/tracker_store.py, `install_log_masking`).

Masked, wherever they appear in a message:
- card-like numbers: 13 to 19 digits, spaces or dashes allowed between them;
- national ID numbers: China's resident identity number (18 characters, the
  last may be X), the UK National Insurance number (HMRC's allocation rules)
  and the US Social Security number (nine bare digits only when python-stdnum
  says they are a valid one);
- dates with a year at least `OLD_DATE_YEARS` back: no payment, promise or plan
  date is that old, a date of birth always is.
An answer to "what is your date of birth?" is masked whole (`MASK`), however it
was written.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from stdnum.us import ssn

from bot.domain.clock import utcnow

MASK = "••••••"
OLD_DATE_YEARS = 10

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"'?\d{2}(?:\d{2})?"

_CARD_LIKE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_CN_RESIDENT_ID = re.compile(r"(?<!\w)\d{17}[\dXx](?!\w)")
_SSN_SHAPED = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")
_BARE_NINE = re.compile(r"(?<![\w-])\d{9}(?![\w-])")
# HMRC: the first letter is not D F I Q U V, the second not D F I O Q U V, and
# BG GB KN NK NT TN ZZ are never issued.
_NINO = re.compile(
    r"(?<!\w)(?!(?:BG|GB|KN|NK|NT|TN|ZZ))[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?: ?\d{2}){3} ?[A-D](?!\w)",
    re.IGNORECASE,
)

# Each date pattern names its year group.
_DATES = [
    re.compile(r"(?<!\d)(?P<year>\d{4})\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?!\d)"),
    re.compile(r"(?<![\d/.-])\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*(?P<year>\d{2}(?:\d{2})?)(?![\d/.-])"),
    re.compile(rf"(?<!\w){_DAY}\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+(?P<year>{_YEAR})(?!\w)", re.IGNORECASE),
    re.compile(rf"(?<!\w)(?:{_MONTHS})\.?\s+{_DAY},?\s+(?P<year>{_YEAR})(?!\w)", re.IGNORECASE),
    re.compile(r"(?<!\d)(?P<compact>\d{8})(?!\d)"),
]


def mask_personal_data(text: str, today: date | None = None) -> str:
    """The text with every card-like number, ID number and old date replaced by MASK."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    today = today or utcnow().date()
    text = _CN_RESIDENT_ID.sub(MASK, text)
    text = _CARD_LIKE.sub(MASK, text)
    text = _SSN_SHAPED.sub(MASK, text)
    text = _BARE_NINE.sub(lambda m: MASK if ssn.is_valid(m.group(0)) else m.group(0), text)
    text = _NINO.sub(MASK, text)
    for pattern in _DATES:
        text = pattern.sub(lambda m: MASK if _is_old(m, today) else m.group(0), text)
    return text


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
    if len(year_text) == 2:  # '85 is 1985, 05 is 2005
        year += 2000 if year <= today.year % 100 else 1900
    return year <= today.year - OLD_DATE_YEARS


class _MaskingRecordFactory:
    """Wraps the log-record factory so every record's message is masked,
    whichever logger or handler it goes to (Rasa logs user messages at debug)."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call is the logger's problem, not ours
            return record
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record


def install_log_masking() -> None:
    """Mask personal data in every log record of this process (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(factory))
