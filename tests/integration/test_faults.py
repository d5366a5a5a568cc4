"""The database goes away while an agreement is being written (PostgreSQL, for real).

The connection writing the agreement is terminated by the server between the
agreement row and its instalments. Nothing partial may be stored, the borrower
must be told it was not recorded, and saying yes again later must record it
exactly once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, text

from actions.agreements import ActionProposePlan
from bot.adapters.database import engine_for
from bot.bootstrap import services
from bot.domain.clock import local_today
from bot.ops.demo import seed_demo
from tests.actions.support import ENVIRONMENT, SEED_DAY, clear_caches, confirm, names, propose
from tests.services import postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_loans(monkeypatch):
    admin, name, url = postgres_database()
    from bot.ops.migrate import upgrade

    upgrade(url)
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", url)
    clear_caches()
    store = services().store
    seed_demo(store, SEED_DAY)
    yield store, url, admin
    clear_caches()
    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows(store) -> dict:
    with store.db.reader() as s:
        return {
            table: s.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("agreements", "instalments", "audit_events")
        }


def test_database_lost_mid_write_stores_nothing_and_a_retry_records_once(pg_loans):
    store, url, admin = pg_loans
    first = local_today("Europe/London") + timedelta(days=7)
    pending = propose(ActionProposePlan(), {"plan_months": "3", "first_payment_date": first.isoformat()}, "LN-10002")
    before = _rows(store)
    engine = engine_for(url)
    killed = []

    def kill_the_connection(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO INSTALMENTS") and not killed:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killed.append(pid)

    event.listen(engine, "before_cursor_execute", kill_the_connection)
    try:
        dispatcher, events = confirm(pending, loan_ref="LN-10002", sender="conv-fault")
    finally:
        event.remove(engine, "before_cursor_execute", kill_the_connection)

    assert killed, "the fault was injected"
    assert names(dispatcher) == ["utter_agreement_not_recorded"]
    assert events == []  # the proposal stays, so "yes" can be said again
    assert _rows(store) == before  # nothing partial: no agreement, no instalments, no audit event

    dispatcher, events = confirm(pending, loan_ref="LN-10002", sender="conv-fault")
    assert names(dispatcher)[0] == "utter_agreement_recorded"
    dispatcher, _ = confirm(pending, loan_ref="LN-10002", sender="conv-fault")  # a duplicate delivery
    recorded = [a for a in store.agreements() if a.loan_ref == "LN-10002"]
    assert len(recorded) == 1 and recorded[0].kind == "instalment_plan" and len(recorded[0].instalments) == 3
