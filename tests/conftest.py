"""Shared fixtures: a migrated loan store on SQLite and on PostgreSQL (tests/services.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.adapters.database import Database, engine_for
from bot.adapters.store import LoanStore
from bot.ops.migrate import upgrade
from tests.services import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'loans.db'}"
        upgrade(url)
        yield url
        engine_for(url).dispose()
        return
    admin, name, url = postgres_database()
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
    admin, name, url = postgres_database()
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
