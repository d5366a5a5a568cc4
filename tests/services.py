"""The real services some tests need, and what to do when one is missing.

A test that needs PostgreSQL, Redis or RabbitMQ is skipped (and listed as
skipped) when the server is not reachable, unless the matching flag is set:
REQUIRE_POSTGRES=1, REQUIRE_REDIS=1 or REQUIRE_RABBITMQ=1 (`.ci/run` sets all
three), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TODAY = date(2026, 11, 23)  # the stores' tests' "today"


def unavailable(service: str, message: str) -> NoReturn:
    """Skip the test, or fail it when REQUIRE_<SERVICE>=1."""
    flag = f"REQUIRE_{service.upper()}"
    if os.environ.get(flag) == "1":
        pytest.fail(f"{message} but {flag}=1", pytrace=False)
    pytest.skip(message)


def postgres_database(template: str | None = None) -> tuple[Engine, str, str]:
    """Create a throwaway PostgreSQL database, a copy of `template` if one is named:
    (admin engine, its name, its URL)."""
    admin = create_engine(PG_URL, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = f"test_debt_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    except Exception as exc:  # connection refused, auth, ...
        admin.dispose()
        unavailable(
            "postgres", f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__}); PostgreSQL tests skipped"
        )
    base = PG_URL.rsplit("/", 1)[0]
    return admin, name, f"{base}/{name}"
