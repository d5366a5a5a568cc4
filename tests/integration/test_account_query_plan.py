"""The account read (bot/adapters/store/rows.py ACCOUNT) touches only the loan's own
agreement's instalments on PostgreSQL, whatever the planner's statistics say.

Issue 18: the production benchmark counted ~118 index scans on `instalments` a message.
On a table that grew since PostgreSQL last analysed it, the planner joined every open
agreement in the portfolio to its instalments first (outer joins may be reassociated)
and kept the loan's only afterwards: one instalments scan per open agreement, on every
action's account read. The instalments join now names the loan too."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from bot.adapters.store import rows
from bot.domain.agreements import AgreementProposal
from bot.ops.bench import add_bench_loans

pytestmark = pytest.mark.postgres


def _loops_on(plan: dict, table: str) -> int:
    """How many times the plan's nodes on `table` ran (PostgreSQL's EXPLAIN ANALYZE loops)."""
    own = plan["Actual Loops"] if plan.get("Relation Name") == table else 0
    below = sum(_loops_on(child, table) for child in plan.get("Plans", []))
    return own + below


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_account_read_scans_only_its_own_agreements_instalments_with_stale_statistics(store, database_url):
    refs = add_bench_loans(60, store)
    today = date.today()
    for i, ref in enumerate(refs[:50]):
        proposal = AgreementProposal(
            "instalment_plan",
            Decimal("250.00"),
            "GBP",
            tuple((today + timedelta(days=30 * k + 5), Decimal("50.00")) for k in range(5)),
            {"months": 5, "source": "menu"},
        )
        store.record_agreement(ref, proposal, idempotency_key=f"plan-{i}")
    # no ANALYZE: the statistics of the tables as they were before the agreements came
    statement = rows.ACCOUNT.params(loan_ref=refs[7]).compile(
        dialect=store.db.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    with store.db.engine.connect() as connection:
        [[plan]] = connection.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + str(statement).replace("%%", "%")))
        plan = plan if isinstance(plan, list) else json.loads(plan)
        account = rows.account(connection, refs[7])
    assert _loops_on(plan[0]["Plan"], "instalments") == 1
    assert account.open_agreement is not None and len(account.open_agreement.instalments) == 5
