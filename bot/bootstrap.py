"""Long-lived objects built once from the settings: the loan store and the policy book."""
from __future__ import annotations

from functools import lru_cache

from bot.adapters.database import Database
from bot.domain.policy import PolicyBook
from bot.settings import get_settings
from bot.adapters.store import LoanStore


@lru_cache(maxsize=1)
def loan_store() -> LoanStore:
    settings = get_settings()
    return LoanStore(
        Database(settings.database_url),
        max_attempts=settings.verification_max_attempts,
        lock_minutes=settings.verification_lock_minutes,
    )


@lru_cache(maxsize=1)
def policy_book() -> PolicyBook:
    return PolicyBook.load(get_settings().policy_file)


@lru_cache(maxsize=1)
def handoff_destination():
    from bot.services.handoff import DatabaseQueue, WebhookDestination

    settings = get_settings()
    if settings.handoff_destination == "webhook":
        return WebhookDestination(loan_store(), settings.handoff_webhook_url)
    return DatabaseQueue(loan_store())
