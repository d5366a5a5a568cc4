"""Shared fixtures: a migrated loan store on SQLite and on PostgreSQL (tests/services.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text

from bot.adapters.database import Database, engine_for
from bot.adapters.store import LoanStore
from bot.ops.migrate import upgrade
from tests.services import postgres_database

# No per-example time limit: Hypothesis's 200 ms deadline failed tests/unit/test_plans.py on
# a loaded machine (a deadline measures the machine, not the property being checked).
settings.register_profile("project", deadline=None)
settings.load_profile("project")


def pytest_collection_modifyitems(config, items):
    """The held-out language tests first (tests/e2e/test_heldout.py: hundreds of conversations
    each, about half the e2e stage's work). `--dist load` hands each worker runs of consecutive
    tests (xdist 3.8): from the middle of the order, 11 of the 12 would go to one worker in one
    run, late, while the other ran out of work; first, they fill one worker's opening run (or,
    with --maxschedchunk 1, alternate between the workers) and the short tests balance the rest."""
    heldout = [item for item in items if item.nodeid.startswith("tests/e2e/test_heldout.py::")]
    if heldout:
        items[:] = heldout + [item for item in items if not item.nodeid.startswith("tests/e2e/test_heldout.py::")]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A loan store file migrated once; each test gets a copy (migrating is most of a test's setup)."""
    path = tmp_path_factory.mktemp("template") / "loans.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine_for(url).dispose()
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """A PostgreSQL database migrated once, the template each test's database is created from."""
    admin, name, url = postgres_database()
    try:
        upgrade(url)
        engine_for(url).dispose()
        yield name
    finally:
        _drop(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A migrated loan store of its own for the test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "loans.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        url = f"sqlite:///{path}"
        yield url
        engine_for(url).dispose()
        return
    admin, name, url = postgres_database(template=request.getfixturevalue("migrated_postgres"))
    try:
        yield url
    finally:
        engine_for(url).dispose()
        _drop(admin, name)


def _drop(admin, name: str) -> None:
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
        _drop(admin, name)


@pytest.fixture
def store(database_url) -> LoanStore:
    return LoanStore(Database(database_url), max_attempts=3, lock_minutes=30)


@pytest.fixture
def sqlite_store(tmp_path, migrated_sqlite) -> LoanStore:
    url = f"sqlite:///{tmp_path / 'loans.db'}"
    shutil.copyfile(migrated_sqlite, tmp_path / "loans.db")
    return LoanStore(Database(url), max_attempts=3, lock_minutes=30)
