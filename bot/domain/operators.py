"""The collections team's people in the console: roles, what each may do, log-in throttling.

Agents work conversations (claim, take over, answer, hand back); supervisors also
close cases, clear vulnerability flags, reassign anyone's conversation and see the
reports; admins also manage operators. Each role has everything of the roles
below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

ROLES = ("agent", "supervisor", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}

# What needs more than an agent: the permission -> the lowest role that has it.
PERMISSIONS = {
    "work_conversations": "agent",
    "view_loans": "agent",
    "view_cases": "agent",
    "close_cases": "supervisor",
    "clear_vulnerability": "supervisor",
    "reassign_any": "supervisor",
    "view_reports": "supervisor",
    "manage_operators": "admin",
}

OPERATOR_NAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256


OPERATOR_LANGUAGES = ("en", "zh")  # the console's languages (bot/ops/console/i18n.py)


class InvalidOperator(ValueError):
    """A name, role or password the console refuses (the message says which and why).

    The message is a template with named values, so the console can show it in the
    operator's language (its catalogue has the template); str() is the English."""

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(template % values if values else template)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidOperator("role must be one of %(roles)s", roles=", ".join(ROLES))
    return role


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not OPERATOR_NAME.fullmatch(name):
        raise InvalidOperator(
            "name: 2-32 characters, lower-case letters, digits, '.', '_' or '-', starting with a letter"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidOperator("password: %(min)s to %(max)s characters", min=MIN_PASSWORD_CHARS, max=MAX_PASSWORD_CHARS)
    if password.strip() != password or not password.strip():
        raise InvalidOperator("password: no leading or trailing spaces")
    return password


def may(role: str, permission: str) -> bool:
    """Whether an operator with this role has this permission (unknown ones: nobody)."""
    needed = PERMISSIONS.get(permission)
    if needed is None or role not in _RANK:
        return False
    return _RANK[role] >= _RANK[needed]


@dataclass(frozen=True)
class Operator:
    name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None = None
    sessions_valid_after: datetime | None = None
    language: str | None = None  # the console's language they chose (None: the lender's default)

    def may(self, permission: str) -> bool:
        return self.active and may(self.role, permission)


@dataclass(frozen=True)
class LoginThrottle:
    """After `max_failures` wrong passwords in a row an operator's log-in is locked
    for `lock_minutes`, doubling with each further failure up to `max_lock_minutes`.
    A success resets the count. Applied to names that exist and to names that do
    not alike, so the answer never tells which names exist."""

    max_failures: int = 5
    lock_minutes: int = 5
    max_lock_minutes: int = 24 * 60

    def locked_until(self, failures: int, last_failure_at: datetime) -> datetime | None:
        """When a log-in with this many failures in a row may be tried again (None: now)."""
        if failures < self.max_failures:
            return None
        doublings = min(failures - self.max_failures, 20)
        minutes = min(self.lock_minutes * (2**doublings), self.max_lock_minutes)
        return last_failure_at + timedelta(minutes=minutes)

    def is_locked(self, failures: int, last_failure_at: datetime | None, now: datetime) -> bool:
        if last_failure_at is None:
            return False
        until = self.locked_until(failures, last_failure_at)
        return until is not None and now < until


class NotYours(Exception):
    """The conversation is claimed by another operator (or by nobody, for a step that needs a claim)."""

    def __init__(self, claimed_by: str | None):
        super().__init__(claimed_by or "nobody")
        self.claimed_by = claimed_by


class HandoffClosed(Exception):
    """The handoff is done: nothing more can be done with it in the console."""
