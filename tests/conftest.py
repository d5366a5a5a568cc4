"""Shared fixtures: a migrated loan store on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from bot.adapters.database import Database, engine_for
from bot.ops.migrate import upgrade
from bot.adapters.store import LoanStore

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TODAY = date(2026, 11, 23)


def _postgres_database():
    """Create a throwaway PostgreSQL database; skip (or fail in CI) if the server is unreachable."""
    admin = create_engine(PG_URL, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = f"test_debt_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # connection refused, auth, ...
        admin.dispose()
        message = f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__}); PostgreSQL tests skipped"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " but REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip(message)
    base = PG_URL.rsplit("/", 1)[0]
    return admin, name, f"{base}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'loans.db'}"
        upgrade(url)
        yield url
        engine_for(url).dispose()
        return
    admin, name, url = _postgres_database()
    try:
        upgrade(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url():
    """An empty throwaway PostgreSQL database (no migrations)."""
    admin, name, url = _postgres_database()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(database_url) -> LoanStore:
    return LoanStore(Database(database_url), max_attempts=3, lock_minutes=30)


@pytest.fixture
def sqlite_store(tmp_path) -> LoanStore:
    url = f"sqlite:///{tmp_path / 'loans.db'}"
    upgrade(url)
    return LoanStore(Database(url), max_attempts=3, lock_minutes=30)
