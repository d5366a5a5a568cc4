"""Passwords, sessions and CSRF for the console.

- Passwords: argon2id (argon2-cffi's defaults); a hash made with older
  parameters is replaced at the next log-in.
- Sessions: a cookie signed with CONSOLE_SECRET (itsdangerous) carrying the
  operator's name, when they logged in and a CSRF token. It is signed again on
  every page the operator opens, and refused once it is older than
  CONSOLE_IDLE_MINUTES (the idle timeout), older than MAX_SESSION_HOURS, or
  signed before the operator's `sessions_valid_after` (log-out, a changed role or
  password, deactivation). HttpOnly, SameSite=Strict, Secure in production.
- CSRF: every POST carries the session's token (a form field or the
  X-CSRF-Token header), compared in constant time.
- Log-in throttling: bot.domain.operators.LoginThrottle, counted in the store per
  name as typed, so it holds across replicas.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.domain.operators import LoginThrottle, Operator
from bot.settings import DEV_SECRET

COOKIE = "console_session"
MAX_SESSION_HOURS = 12
_HASHER = PasswordHasher()
# Compared against when a name is unknown, so a log-in takes as long either way.
_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_time(password: str) -> None:
    """As long as checking a real password, for a name that does not exist."""
    verify_password(_DUMMY_HASH, password)


@dataclass(frozen=True)
class Session:
    operator: str | None  # None: not logged in yet (the log-in form's own CSRF token)
    csrf: str
    issued_at: float  # when the operator logged in (UNIX seconds)


class SessionCodec:
    def __init__(self, secret: str, idle_minutes: int):
        self._serializer = URLSafeTimedSerializer(secret or DEV_SECRET, salt="console-session")
        self.idle_seconds = max(60, idle_minutes * 60)

    def new(self, operator: str | None, now: datetime) -> Session:
        return Session(operator, secrets.token_urlsafe(32), now.timestamp())

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps({"op": session.operator, "csrf": session.csrf, "iat": session.issued_at})

    def loads(self, cookie: str | None, *, now: datetime) -> Session | None:
        """The session in a cookie, or None when it is missing, forged, idle too long or too old."""
        if not cookie or len(cookie) > 4096:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.idle_seconds)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        operator, issued_at = data.get("op"), data.get("iat")
        if operator is not None and not isinstance(operator, str):
            return None
        if not isinstance(issued_at, int | float) or now.timestamp() - issued_at > MAX_SESSION_HOURS * 3600:
            return None
        return Session(operator, data["csrf"], float(issued_at))


def session_valid_for(session: Session, operator: Operator | None) -> bool:
    """Whether a logged-in session still speaks for this operator."""
    if operator is None or not operator.active or session.operator != operator.name:
        return False
    ended = operator.sessions_valid_after
    return ended is None or session.issued_at > ended.timestamp()


def csrf_ok(session: Session | None, token: str | None) -> bool:
    if session is None or not token:
        return False
    return hmac.compare_digest(session.csrf.encode(), token.encode())


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


__all__ = ["COOKIE", "LoginThrottle", "Session", "SessionCodec", "csrf_ok", "hash_password", "verify_password"]
