"""The loan store's PostgreSQL pool checks a connection only after it sat idle
(bot/adapters/database.py): a connection the server dropped meanwhile is
replaced before use; one used a moment ago goes out unchecked (no round trip),
so a drop in between fails that one statement and the pool is renewed."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from bot.adapters.database import _ping_after_idle


def _backend(conn) -> int:
    return conn.execute(text("SELECT pg_backend_pid()")).scalar()


@pytest.mark.postgres
@pytest.mark.parametrize("idle_seconds", [0.0, 3600.0])
def test_a_dropped_connection_is_replaced(postgres_url, idle_seconds):
    engine = create_engine(postgres_url, future=True, pool_size=1, max_overflow=0)
    _ping_after_idle(engine, idle_seconds)
    admin = create_engine(postgres_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            first = _backend(conn)
        with admin.connect() as other:  # the server drops the pooled connection
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        if idle_seconds:  # used a moment ago: not checked, its statement fails
            with pytest.raises(DBAPIError), engine.connect() as conn:
                _backend(conn)
        with engine.connect() as conn:  # checked after idling, or the pool renewed: a fresh connection
            assert _backend(conn) != first
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_a_connection_reader_reads_outside_a_transaction_and_gives_the_connection_back_as_it_was(postgres_url):
    """`Database.connection_reader` (the account every action reads): no session, no
    BEGIN / ROLLBACK round trips; the pooled connection goes back out of autocommit,
    so the next unit of work on it is a transaction again."""
    from psycopg2.extensions import STATUS_IN_TRANSACTION, STATUS_READY

    from bot.adapters.database import Database

    db = Database(postgres_url)
    try:
        with db.connection_reader() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi.autocommit and _backend(conn)
            assert dbapi.status == STATUS_READY  # the statement ran in no open transaction
        assert not dbapi.autocommit
        with db.transaction() as s:
            s.execute(text("SELECT 1"))
            assert s.connection().connection.dbapi_connection.status == STATUS_IN_TRANSACTION
    finally:
        db.engine.dispose()
