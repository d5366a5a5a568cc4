"""The one database session helper: an engine per URL and a transactional session scope."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool);
        # a small pool keeps them, with the pragmas set once per connection.
        engine = create_engine(
            url,
            future=True,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    engine = create_engine(url, future=True, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    _ping_after_idle(engine, IDLE_PING_SECONDS)
    return engine


# Connections kept per process, and opened beyond them at a peak (closed when
# returned). The action server's threads (ACTION_THREADS, 8 by default) each hold
# at most one at a time, so its connections stay open and are reused.
POOL_SIZE = 10
MAX_OVERFLOW = 10


# A pooled connection idle for longer than this is checked (SELECT 1) before use.
IDLE_PING_SECONDS = 10.0


def _ping_after_idle(engine: Engine, seconds: float) -> None:
    """SQLAlchemy's `pool_pre_ping` for connections that sat idle: a connection
    used in the last `seconds` goes out without a round trip (pre-pinging every
    checkout was 9% of the action server's time under load, issue 18). One that
    fails the check is replaced (the pool retries on DisconnectionError); a
    connection broken while busy fails its statement, the action's transaction
    rolls back, and SQLAlchemy then replaces every connection of the pool."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < seconds:
            return  # just connected, or in use a moment ago
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()
        except Exception as exc:  # any failure: give the pool a fresh connection
            raise DisconnectionError() from exc


# The moment after which a transaction must not commit (see `commit_deadline`).
_commit_deadline: ContextVar[float | None] = ContextVar("commit_deadline", default=None)


class CommitDeadlinePassed(Exception):
    """The transaction was rolled back: its caller's deadline had passed."""


@contextmanager
def commit_deadline(deadline: float | None) -> Iterator[None]:
    """Transactions in this block roll back instead of committing after `deadline`
    (a `time.time()` value). The action server uses it so that nothing is recorded
    once Rasa has told the borrower that nothing was."""
    token = _commit_deadline.set(deadline)
    try:
        yield
    finally:
        _commit_deadline.reset(token)


class Database:
    """Owns the session factory for one database URL."""

    def __init__(self, url: str):
        self.url = url
        self.engine = engine_for(url)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)
        self._postgres = self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back everything on any error
        (and when a `commit_deadline` has passed)."""
        with self._sessions() as session, session.begin():
            yield session
            deadline = _commit_deadline.get()
            if deadline is not None and time.time() > deadline:
                raise CommitDeadlinePassed()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reading only.

        On PostgreSQL it reads outside a transaction (psycopg2's autocommit):
        at READ COMMITTED each statement has its own snapshot inside a
        transaction as outside one, so a reader's BEGIN and ROLLBACK were two
        round trips for nothing (issue 18). The flag is set on the pooled
        connection itself and back before it returns to the pool; psycopg2
        sends nothing for either (SQLAlchemy's AUTOCOMMIT isolation level
        would cost a SET at the next transaction on that connection).
        """
        with self._sessions() as session:
            if not self._postgres:
                yield session
                return
            connection = session.connection().connection.dbapi_connection
            connection.autocommit = True
            try:
                yield session
            finally:
                connection.autocommit = False

    @contextmanager
    def connection_reader(self) -> Iterator[Connection]:
        """`reader` for Core statements (no ORM entities): a pooled connection
        without a session. A session's unit of work, identity map and transaction
        bookkeeping cost a quarter of a one-statement read's CPU (issue 18: the
        account every action reads). Same autocommit handling as `reader`."""
        with self.engine.connect() as connection:
            if not self._postgres:
                yield connection
                return
            dbapi_connection = connection.connection.dbapi_connection
            dbapi_connection.autocommit = True
            try:
                yield connection
            finally:
                dbapi_connection.autocommit = False

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Whether this process got the named lock for the block (it never waits):
        a PostgreSQL advisory lock, so it holds across machines, or a file lock
        next to a SQLite database. Released when the block ends or the process dies."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                key = connection.execute(text("SELECT hashtext(:name)"), {"name": f"debtbot:{name}"}).scalar_one()
                got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
                try:
                    yield bool(got)
                finally:
                    if got:
                        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
            return
        path = self.url.split("///", 1)[-1]
        lock_path = Path(f"{path}.{name}.lock") if path and path != ":memory:" else Path(f"/tmp/debtbot.{name}.lock")
        with open(lock_path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
