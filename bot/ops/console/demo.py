"""A demo operator for the console in development (`python -m bot seed-demo`, scripts/run.sh)."""

from __future__ import annotations

from bot.adapters.store import LoanStore
from bot.ops.console.security import hash_password, verify_password

DEMO_OPERATOR = "demo"
DEMO_PASSWORD = "demo-console-15"  # development only: printed by scripts/run.sh


def seed_demo_operator(store: LoanStore) -> tuple[str, str]:
    """The demo admin, with the demo password (set again if it was changed); idempotent."""
    found = store.operator_password_hash(DEMO_OPERATOR)
    if found is None:
        store.add_operator(DEMO_OPERATOR, "admin", hash_password(DEMO_PASSWORD), by="seed-demo")
    elif not found[0].active or found[0].role != "admin" or not verify_password(found[1], DEMO_PASSWORD):
        store.update_operator(
            DEMO_OPERATOR, by="seed-demo", role="admin", active=True, password_hash=hash_password(DEMO_PASSWORD)
        )
    return DEMO_OPERATOR, DEMO_PASSWORD
