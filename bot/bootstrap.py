"""The composition root: the settings and the long-lived objects built from them, once.

Entry points call `bootstrap()` at start-up (the action server, the CLI, the
Rasa-side components and channels) and hand what they need down. Rasa and
rasa-sdk instantiate our classes themselves, so those reach the booted objects
through `services()`; tests install their own with `bootstrap(settings)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.adapters.database import Database
from bot.adapters.handoff_destinations import DatabaseQueue, WebhookDestination
from bot.adapters.store import LoanStore
from bot.domain.policy import PolicyBook
from bot.services.handoff import HandoffDestination
from bot.settings import Settings, load_settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: LoanStore
    policies: PolicyBook
    handoffs: HandoffDestination


_current: Services | None = None


def bootstrap(settings: Settings | None = None) -> Services:
    """Build the services from `settings` (default: the environment and `.env`,
    checked) and make them this process's current ones."""
    global _current
    settings = settings or load_settings()
    store = LoanStore(
        Database(settings.database_url),
        max_attempts=settings.verification_max_attempts,
        lock_minutes=settings.verification_lock_minutes,
        max_lock_minutes=settings.verification_max_lock_minutes,
        attempt_secret=settings.verification_attempt_secret or settings.channel_identity_secret,
    )
    handoffs: HandoffDestination = (
        WebhookDestination(store, settings.handoff_webhook_url)
        if settings.handoff_destination == "webhook"
        else DatabaseQueue(store)
    )
    _current = Services(settings, store, PolicyBook.load(settings.policy_file), handoffs)
    return _current


def services() -> Services:
    """This process's services, bootstrapped from the environment on first use."""
    return _current if _current is not None else bootstrap()


def reset() -> None:
    """Forget the current services (tests that change the environment)."""
    global _current
    _current = None
