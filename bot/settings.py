"""Settings, read once from the environment and an optional `.env` file.

Every setting has a safe default for a developer's machine. In production
(`APP_ENV=production`) the secrets must be set: `Settings.check()` refuses the
development defaults.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEV_SECRET = "development-only-secret-change-me"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return raw if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'loans.db'}"
    policy_file: Path = PROJECT_ROOT / "collections_policy.yml"
    lender_name: str = "Acme Lending"
    lender_phone: str = "0800 123 4567"
    lender_hours: str = "Monday to Friday, 9am to 5pm"
    payment_url_template: str = "https://pay.acme-lending.example/pay?token={token}"
    payment_link_secret: str = DEV_SECRET
    payment_link_ttl_minutes: int = 60 * 24
    verification_max_attempts: int = 3
    verification_lock_minutes: int = 30
    date_order: str = "DMY"
    default_language: str = "en"
    default_timezone: str = "Europe/London"
    handoff_destination: str = "database"
    handoff_webhook_url: str = ""
    handoff_reply_hours: int = 24
    crisis_line: str = "Samaritans, free on 116 123, any time of day or night"
    debt_advice: str = "MoneyHelper, free and impartial, on 0800 138 7777 or moneyhelper.org.uk"

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    def check(self) -> None:
        """Refuse to run production with development secrets."""
        if self.production and self.payment_link_secret == DEV_SECRET:
            raise RuntimeError("PAYMENT_LINK_SECRET must be set when APP_ENV=production")
        if self.handoff_destination not in ("database", "webhook"):
            raise RuntimeError("HANDOFF_DESTINATION must be database or webhook")
        if self.handoff_destination == "webhook" and not self.handoff_webhook_url:
            raise RuntimeError("HANDOFF_WEBHOOK_URL is needed when HANDOFF_DESTINATION=webhook")
        if self.date_order not in ("DMY", "MDY", "YMD"):
            raise RuntimeError("DATE_ORDER must be one of DMY, MDY, YMD")


def load_settings() -> Settings:
    """Read settings from the environment (after loading `.env`, which never overrides)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    defaults = Settings()
    policy = Path(_str("POLICY_FILE", str(defaults.policy_file)))
    if not policy.is_absolute():
        policy = PROJECT_ROOT / policy
    settings = Settings(
        app_env=_str("APP_ENV", defaults.app_env),
        database_url=_str("DATABASE_URL", defaults.database_url),
        policy_file=policy,
        lender_name=_str("LENDER_NAME", defaults.lender_name),
        lender_phone=_str("LENDER_PHONE", defaults.lender_phone),
        lender_hours=_str("LENDER_HOURS", defaults.lender_hours),
        payment_url_template=_str("PAYMENT_URL_TEMPLATE", defaults.payment_url_template),
        payment_link_secret=_str("PAYMENT_LINK_SECRET", defaults.payment_link_secret),
        payment_link_ttl_minutes=_int("PAYMENT_LINK_TTL_MINUTES", defaults.payment_link_ttl_minutes),
        verification_max_attempts=_int("VERIFICATION_MAX_ATTEMPTS", defaults.verification_max_attempts),
        verification_lock_minutes=_int("VERIFICATION_LOCK_MINUTES", defaults.verification_lock_minutes),
        date_order=_str("DATE_ORDER", defaults.date_order).upper(),
        default_language=_str("DEFAULT_LANGUAGE", defaults.default_language),
        default_timezone=_str("DEFAULT_TIMEZONE", defaults.default_timezone),
        handoff_destination=_str("HANDOFF_DESTINATION", defaults.handoff_destination),
        handoff_webhook_url=_str("HANDOFF_WEBHOOK_URL", defaults.handoff_webhook_url),
        handoff_reply_hours=_int("HANDOFF_REPLY_HOURS", defaults.handoff_reply_hours),
        crisis_line=_str("CRISIS_LINE", defaults.crisis_line),
        debt_advice=_str("DEBT_ADVICE", defaults.debt_advice),
    )
    settings.check()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
