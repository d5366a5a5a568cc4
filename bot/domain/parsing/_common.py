"""Shared helpers of the parsers: the total text normaliser, the "never raise"
decorator, and the wrapper that calls third-party parsers quietly."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
import warnings
from collections.abc import Callable
from datetime import date, datetime
from typing import ParamSpec, TypeVar

# the package's logger, as before the split into modules
log = logging.getLogger(__package__)

MAX_CHARS = 300
"""Only this many characters of a message are parsed for dates/amounts/months."""

_TAG_RE = re.compile(r"<[^<>]{0,200}>")
_SPACE_RE = re.compile(r"\s+")

_P = ParamSpec("_P")
_R = TypeVar("_R")
_D = TypeVar("_D")


def _clean(text: object, limit: int = MAX_CHARS) -> str:
    """Total normaliser: non-str -> "", NFKC (full-width digits), tags removed."""
    if not isinstance(text, str):
        return ""
    text = text[:limit]
    try:
        text = unicodedata.normalize("NFKC", text)
    except Exception:  # pragma: no cover - NFKC does not raise on str
        return ""
    text = _TAG_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


def _total(default: _D) -> Callable[[Callable[_P, _R]], Callable[_P, _R | _D]]:
    """Last line of defence for the public parsers: a bug in this module must
    not crash a conversation, so any exception is logged and read as "not
    understood"."""

    def wrap(fn: Callable[_P, _R]) -> Callable[_P, _R | _D]:
        @functools.wraps(fn)
        def inner(*args: _P.args, **kwargs: _P.kwargs) -> _R | _D:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # the message text may be in the traceback: log the type only
                log.warning("%s failed (%s); treating input as not understood", fn.__name__, type(exc).__name__)
                return default

        return inner

    return wrap


def _as_date(today: object) -> date | None:
    if isinstance(today, datetime):
        return today.date()
    return today if isinstance(today, date) else None


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """Replace every match by spaces of the same length (keeps positions)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _quiet(fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R | None:
    """Call a third-party parser; any exception or warning means "no result"."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except Exception as exc:  # libraries raise all sorts on odd input
        log.debug("parser %s failed (%s)", getattr(fn, "__name__", fn), type(exc).__name__)
        return None
