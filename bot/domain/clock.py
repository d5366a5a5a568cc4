"""The one source of the current time: timezone-aware, UTC."""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """Today's date where the borrower is."""
    now = now or utcnow()
    tz: tzinfo
    try:
        tz = ZoneInfo(tz_name)
    except Exception:  # unknown zone name from imported data: fall back to UTC
        tz = timezone.utc
    return now.astimezone(tz).date()
