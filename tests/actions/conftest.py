"""Fixtures of the action tests: every test gets its own copy of a migrated SQLite
store seeded with the demo portfolio, and the settings pinned (tests/actions/support.py)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot import bootstrap
from bot.adapters.database import Database, engine_for
from bot.adapters.store import LoanStore
from bot.domain.clock import local_today
from bot.ops.demo import seed_demo
from bot.ops.migrate import upgrade
from tests.actions.support import ENVIRONMENT, SEED_DAY, TZ, clear_caches


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory) -> Path:
    """Migrated and seeded once; every test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("template") / "loans.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    seed_demo(LoanStore(Database(url)), SEED_DAY)
    with engine_for(url).connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine_for(url).dispose()
    return path


@pytest.fixture(autouse=True)
def loans(seeded_template, tmp_path, monkeypatch) -> LoanStore:
    """A fresh migrated SQLite store seeded with the demo portfolio; the actions use it."""
    path = tmp_path / "actions.db"
    for sidecar in ("", "-wal", "-shm"):
        source = Path(f"{seeded_template}{sidecar}")
        if source.exists():
            shutil.copyfile(source, f"{path}{sidecar}")
    url = f"sqlite:///{path}"
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", url)
    clear_caches()
    store = bootstrap.services().store
    assert store.count("loans") == 10 and store.count("agreements") == 1
    yield store
    clear_caches()
    engine_for(url).dispose()


@pytest.fixture
def today() -> date:
    """The borrower's local date, as the actions compute it."""
    return local_today(TZ)
