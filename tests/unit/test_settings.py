"""Settings are read once and checked at start-up (bot/settings.py, bot/bootstrap.py)."""

from __future__ import annotations

import pytest

from bot import bootstrap
from bot.settings import DEV_SECRET, Settings, load_settings


def test_the_action_servers_deadline_must_be_below_rasas_timeout(monkeypatch):
    monkeypatch.setenv("ACTION_CALL_TIMEOUT", "10")
    monkeypatch.setenv("ACTION_DEADLINE_SECONDS", "8")
    settings = load_settings()
    assert (settings.action_deadline_seconds, settings.action_call_timeout) == (8.0, 10.0)
    for deadline in ("10", "12", "0"):
        monkeypatch.setenv("ACTION_DEADLINE_SECONDS", deadline)
        with pytest.raises(RuntimeError, match="ACTION_DEADLINE_SECONDS"):
            load_settings()


def test_production_refuses_the_development_secrets():
    with pytest.raises(RuntimeError, match="PAYMENT_LINK_SECRET"):
        Settings(app_env="production").check()
    secrets = dict.fromkeys(
        ("payment_link_secret", "widget_jwt_secret", "channel_identity_secret", "action_server_secret"), "s3cret"
    )
    Settings(app_env="production", widget_origins="https://app.example", **secrets).check()
    assert Settings().payment_link_secret == DEV_SECRET  # a developer's machine runs without any


def test_bootstrap_builds_the_services_once_and_hands_out_the_same(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'loans.db'}")
    try:
        booted = bootstrap.bootstrap(settings)
        assert bootstrap.services() is booted and booted.settings is settings
        assert booted.store.db.url == settings.database_url
        assert booted.policies.for_product("personal_loan").max_months >= 1
    finally:
        bootstrap.reset()
