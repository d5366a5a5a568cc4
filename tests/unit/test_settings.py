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


STRONG = {
    "payment_link_secret": "0d6c9f1e8a7b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
    "widget_jwt_secret": "W7hK2pQ9xZ4mN8vB3cR6tY1uJ5gF0dSaLeIoPqWz",
    "channel_identity_secret": "c1d2e3f4a5b6978877665544332211ffeeddccbb",
    "action_server_secret": "Zq8_Xw7-Vu6tSr5qPo4nMl3kJi2hGf1eDc0bA9yx",
}
PRODUCTION = {"app_env": "production", "widget_origins": "https://app.acme.example", **STRONG}


def test_production_refuses_the_development_secrets():
    with pytest.raises(RuntimeError, match="PAYMENT_LINK_SECRET"):
        Settings(app_env="production").check()
    Settings(**PRODUCTION).check()
    assert Settings().payment_link_secret == DEV_SECRET  # a developer's machine runs without any


@pytest.mark.parametrize("value", ["production", "Production", "PRODUCTION", " production "])
def test_app_env_production_in_any_case_is_production(monkeypatch, value):
    """Issue 12: APP_ENV=Production was silently development (REST on, dev secrets, /demo/token)."""
    monkeypatch.setenv("APP_ENV", value)
    with pytest.raises(RuntimeError, match="PAYMENT_LINK_SECRET must be set"):
        load_settings()
    for name, secret in STRONG.items():
        monkeypatch.setenv(name.upper(), secret)
    monkeypatch.setenv("WIDGET_ORIGINS", "https://app.acme.example")
    settings = load_settings()
    assert settings.app_env == "production" and settings.production


@pytest.mark.parametrize("value", ["prod", "staging", "test", "dev", "Développement", "production1"])
def test_an_unknown_app_env_refuses_to_start(monkeypatch, value):
    monkeypatch.setenv("APP_ENV", value)
    with pytest.raises(RuntimeError, match="APP_ENV must be one of development, production"):
        load_settings()
    with pytest.raises(RuntimeError, match="APP_ENV"):
        Settings(app_env=value).check()
    assert Settings(app_env=value).production  # used unchecked, it fails closed


def test_app_env_development_in_any_case(monkeypatch):
    monkeypatch.setenv("APP_ENV", "Development")
    settings = load_settings()
    assert settings.app_env == "development" and not settings.production


@pytest.mark.parametrize(
    "name, value",
    [
        ("payment_link_secret", "x"),  # one character
        ("widget_jwt_secret", "s3cret"),
        ("channel_identity_secret", "a" * 64),  # long, but no randomness
        ("action_server_secret", "abab" * 16),
        ("rasa_token", "short-token"),
        ("telegram_webhook_secret", "1234567890123456789012345678901"),  # 31 characters
    ],
)
def test_production_refuses_short_or_repetitive_secrets(name, value):
    """Issue 12: production accepted one-character secrets."""
    with pytest.raises(RuntimeError, match=f"{name.upper()} is too weak"):
        Settings(**{**PRODUCTION, name: value}).check()
    Settings(**{**PRODUCTION, "app_env": "development", name: value}).check()  # a developer's machine may


@pytest.mark.parametrize(
    "a, b",
    [
        ("widget_jwt_secret", "channel_identity_secret"),
        ("payment_link_secret", "action_server_secret"),
        ("channel_identity_secret", "rasa_token"),
    ],
)
def test_production_refuses_one_secret_for_two_purposes(a, b):
    """Issue 12: production accepted the same secret for the widget and the channel identity."""
    with pytest.raises(RuntimeError, match="must be different secrets"):
        Settings(**{**PRODUCTION, b: PRODUCTION[a]}).check()


def test_origins_default_to_the_widget_page_and_production_needs_https_ones():
    assert Settings().allowed_origins() == ("http://127.0.0.1:8080", "http://localhost:8080")
    assert Settings(web_port=9000).allowed_origins()[0] == "http://127.0.0.1:9000"
    assert Settings(widget_origins=" https://a.example/, http://localhost:3000").allowed_origins() == (
        "https://a.example",
        "http://localhost:3000",
    )
    for origins in ("", "*", "https://a.example,*", "http://app.acme.example"):
        with pytest.raises(RuntimeError, match="WIDGET_ORIGINS"):
            Settings(**{**PRODUCTION, "widget_origins": origins}).check()
    for origins in ("app.acme.example", "https://a.example/path", "javascript:alert(1)", "https://a.example:99999x"):
        with pytest.raises(RuntimeError, match="WIDGET_ORIGINS must be"):
            Settings(widget_origins=origins).check()
    Settings(widget_origins="*").check()  # a developer may open it to any page
    Settings(**{**PRODUCTION, "widget_origins": "https://app.acme.example, https://[::1]:8443"}).check()


def test_rasa_listens_on_loopback_unless_told_otherwise(monkeypatch):
    assert load_settings().rasa_interface == "127.0.0.1"
    monkeypatch.setenv("RASA_INTERFACE", "0.0.0.0")
    assert load_settings().rasa_interface == "0.0.0.0"


def test_bootstrap_builds_the_services_once_and_hands_out_the_same(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'loans.db'}")
    try:
        booted = bootstrap.bootstrap(settings)
        assert bootstrap.services() is booted and booted.settings is settings
        assert booted.store.db.url == settings.database_url
        assert booted.policies.for_product("personal_loan").max_months >= 1
    finally:
        bootstrap.reset()


def test_the_action_threads_and_the_tracker_stores_commit_mode_are_checked(monkeypatch):
    assert (Settings().action_threads, Settings().tracker_store_synchronous_commit) == (8, "on")
    monkeypatch.setenv("ACTION_THREADS", "0")
    monkeypatch.setenv("TRACKER_STORE_SYNCHRONOUS_COMMIT", "OFF")
    settings = load_settings()
    assert (settings.action_threads, settings.tracker_store_synchronous_commit) == (0, "off")
    for threads in ("-1", "65"):
        monkeypatch.setenv("ACTION_THREADS", threads)
        with pytest.raises(RuntimeError, match="ACTION_THREADS"):
            load_settings()
    monkeypatch.setenv("ACTION_THREADS", "4")
    monkeypatch.setenv("TRACKER_STORE_SYNCHRONOUS_COMMIT", "local")
    with pytest.raises(RuntimeError, match="TRACKER_STORE_SYNCHRONOUS_COMMIT"):
        load_settings()
