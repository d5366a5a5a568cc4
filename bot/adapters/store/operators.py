"""The collections team's operators (issue 15): who may log in to the console, and the log-in throttle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.adapters.database import Database
from bot.adapters.orm import ConsoleLoginFailure
from bot.adapters.orm import Operator as OperatorRow
from bot.adapters.store import rows
from bot.domain.operators import OPERATOR_LANGUAGES, InvalidOperator, Operator, check_name, check_role

MAX_THROTTLE_KEY = 64


def _view(row: OperatorRow) -> Operator:
    return Operator(
        name=row.name,
        role=row.role,
        active=bool(row.active),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
        sessions_valid_after=row.sessions_valid_after,
        language=row.language,
    )


def _throttle_key(name: str) -> str:
    return name.strip().lower()[:MAX_THROTTLE_KEY]


class OperatorRecords:
    db: Database

    def add_operator(self, name: str, role: str, password_hash: str, *, by: str) -> Operator:
        """A new operator; InvalidOperator if the name is taken or not allowed."""
        name, role = check_name(name), check_role(role)
        with self.db.transaction() as s:
            if s.scalar(select(OperatorRow).where(OperatorRow.name == name)) is not None:
                raise InvalidOperator("an operator named %(name)s already exists", name=name)
            row = OperatorRow(name=name, role=role, password_hash=password_hash, active=True, created_at=rows.utcnow())
            s.add(row)
            rows.audit(s, "operator_added", operator=name, role=role, by=by)
            s.flush()
            return _view(row)

    def update_operator(
        self,
        name: str,
        *,
        by: str,
        role: str | None = None,
        active: bool | None = None,
        password_hash: str | None = None,
    ) -> Operator:
        """Change an operator's role, activity or password; any change ends their sessions."""
        with self.db.transaction() as s:
            row = s.scalar(select(OperatorRow).where(OperatorRow.name == name).with_for_update())
            if row is None:
                raise InvalidOperator("no operator named %(name)s", name=name)
            changes: dict[str, Any] = {}
            if role is not None and role != row.role:
                row.role = check_role(role)
                changes["role"] = role
            if active is not None and active != bool(row.active):
                row.active = active
                changes["active"] = active
            if password_hash is not None:
                row.password_hash = password_hash
                changes["password"] = "changed"
            if changes:
                row.sessions_valid_after = rows.utcnow()
                rows.audit(s, "operator_changed", operator=name, by=by, **changes)
            return _view(row)

    def set_operator_language(self, name: str, language: str | None) -> None:
        """The console language an operator chose for themselves (None: the lender's default).
        A preference, not a change of access: their sessions go on and nothing is audited."""
        if language is not None and language not in OPERATOR_LANGUAGES:
            raise InvalidOperator("language must be one of %(languages)s", languages=", ".join(OPERATOR_LANGUAGES))
        with self.db.transaction() as s:
            row = s.scalar(select(OperatorRow).where(OperatorRow.name == name).with_for_update())
            if row is None:
                raise InvalidOperator("no operator named %(name)s", name=name)
            row.language = language

    def operators(self) -> list[Operator]:
        with self.db.reader() as s:
            return [_view(r) for r in s.scalars(select(OperatorRow).order_by(OperatorRow.name))]

    def operator(self, name: str) -> Operator | None:
        with self.db.reader() as s:
            row = s.scalar(select(OperatorRow).where(OperatorRow.name == name))
            return _view(row) if row is not None else None

    def operator_password_hash(self, name: str) -> tuple[Operator, str] | None:
        with self.db.reader() as s:
            row = s.scalar(select(OperatorRow).where(OperatorRow.name == _throttle_key(name)))
            return (_view(row), row.password_hash) if row is not None else None

    def login_failures(self, name: str) -> tuple[int, datetime | None]:
        """Wrong passwords in a row for this log-in name as typed, and when the last one was."""
        with self.db.reader() as s:
            row = s.get(ConsoleLoginFailure, _throttle_key(name))
            return (row.failures, row.last_failure_at) if row is not None else (0, None)

    def record_login_failure(self, name: str, *, now: datetime) -> int:
        key = _throttle_key(name)
        with self.db.transaction() as s:
            row = s.get(ConsoleLoginFailure, key, with_for_update=True)
            if row is None:
                row = ConsoleLoginFailure(name=key, failures=0, last_failure_at=now)
                s.add(row)
            row.failures = (row.failures or 0) + 1
            row.last_failure_at = now
            if s.scalar(select(OperatorRow.id).where(OperatorRow.name == key)) is not None:
                rows.audit(s, "console_login_failed", operator=key, failures=row.failures, now=now)
            return int(row.failures)

    def record_login(self, name: str, *, now: datetime, password_hash: str | None = None) -> None:
        """A successful log-in: the failures are forgotten (and an outdated hash replaced)."""
        key = _throttle_key(name)
        with self.db.transaction() as s:
            failure = s.get(ConsoleLoginFailure, key)
            if failure is not None:
                s.delete(failure)
            row = s.scalar(select(OperatorRow).where(OperatorRow.name == key).with_for_update())
            if row is not None:
                row.last_login_at = now
                if password_hash:
                    row.password_hash = password_hash
                rows.audit(s, "console_login", operator=key, now=now)

    def end_sessions(self, name: str, *, now: datetime, why: str = "logout") -> None:
        """Every session of this operator signed before now is refused from now on."""
        with self.db.transaction() as s:
            row = s.scalar(select(OperatorRow).where(OperatorRow.name == name).with_for_update())
            if row is not None:
                row.sessions_valid_after = now
                rows.audit(s, "console_logout", operator=name, why=why, now=now)
