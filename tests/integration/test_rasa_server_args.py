"""How Rasa is started (bot.ops.endpoints.server_args, used by scripts/run.sh, the
cluster and the e2e tests): loopback and the widget page's origin unless told
otherwise (issue 12: Rasa listened on 0.0.0.0 and CORS reflected any Origin)."""

from __future__ import annotations

import pytest
import yaml

from bot.ops.cluster import plan
from bot.ops.endpoints import server_args, write_credentials
from bot.settings import PROJECT_ROOT, Settings, load_settings


def _option(args: list[str], name: str) -> list[str]:
    """The values after `name`, up to the next option."""
    start = args.index(name) + 1
    end = next((i for i in range(start, len(args)) if args[i].startswith("--")), len(args))
    return args[start:end]


def test_by_default_rasa_listens_on_loopback_and_only_the_widget_page_may_call_it():
    args = server_args(Settings())
    assert _option(args, "--interface") == ["127.0.0.1"]
    assert _option(args, "--cors") == ["http://127.0.0.1:8080", "http://localhost:8080"]
    assert "*" not in args and "--enable-api" not in args


def test_both_are_configurable_and_the_api_needs_a_token():
    settings = Settings(
        rasa_interface="0.0.0.0", widget_origins="https://app.acme.example", rasa_token="t0k3n-" + "x1y2z3" * 6
    )
    args = server_args(settings)
    assert _option(args, "--interface") == ["0.0.0.0"]
    assert _option(args, "--cors") == ["https://app.acme.example"]
    assert _option(args, "--auth-token") == [settings.rasa_token] and "--enable-api" in args


def test_the_cluster_replicas_listen_on_loopback_behind_the_proxy(tmp_path):
    settings = Settings(rasa_interface="10.0.0.5", widget_origins="https://app.acme.example")
    rasa, actions, conf = plan(
        settings,
        replicas=1,
        action_servers=1,
        port=8000,
        model=PROJECT_ROOT / "models" / "m.tar.gz",
        work=tmp_path,
        first_port=8010,
    )
    [replica] = rasa
    assert _option(replica.args, "--interface") == ["127.0.0.1"]
    assert _option(replica.args, "--cors") == ["https://app.acme.example"]
    assert "listen 10.0.0.5:8000;" in conf and "listen 127.0.0.1:8001;" in conf
    assert all(child.address.startswith("127.0.0.1:") for child in [*rasa, *actions])


def test_app_env_production_in_any_case_drops_the_rest_channel(tmp_path, monkeypatch):
    """Issue 12: APP_ENV=Production kept the REST channel on."""
    secrets = {
        "PAYMENT_LINK_SECRET": "0d6c9f1e8a7b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
        "WIDGET_JWT_SECRET": "W7hK2pQ9xZ4mN8vB3cR6tY1uJ5gF0dSaLeIoPqWz",
        "CHANNEL_IDENTITY_SECRET": "c1d2e3f4a5b6978877665544332211ffeeddccbb",
        "ACTION_SERVER_SECRET": "Zq8_Xw7-Vu6tSr5qPo4nMl3kJi2hGf1eDc0bA9yx",
    }
    for name, value in {**secrets, "APP_ENV": "Production", "WIDGET_ORIGINS": "https://app.acme.example"}.items():
        monkeypatch.setenv(name, value)
    credentials = write_credentials(tmp_path / "credentials.yml", load_settings(), PROJECT_ROOT / "credentials.yml")
    channels = yaml.safe_load(credentials.read_text())
    assert "channels.rest.StrictRestInput" not in channels and "rest" not in channels
    assert "channels.socketio.SecureSocketIOInput" in channels


def test_a_cluster_with_actions_in_the_replicas_has_no_action_server(tmp_path):
    shared = {"tracker_store_url": "postgresql://rasa@db/trackers", "lock_store_url": "redis://cache:6379/1"}
    kwargs = {"port": 8000, "model": PROJECT_ROOT / "models" / "m.tar.gz", "work": tmp_path, "first_port": 8010}
    rasa, actions, conf = plan(Settings(actions_in_process=True, **shared), replicas=2, action_servers=0, **kwargs)
    assert len(rasa) == 2 and actions == []
    assert "upstream actions" not in conf and "listen 127.0.0.1:8001;" not in conf
    assert yaml.safe_load((tmp_path / "endpoints.yml").read_text())["action_endpoint"]["in_process"] is True
    with pytest.raises(SystemExit, match="ACTIONS_IN_PROCESS"):  # no action server and nobody to run the actions
        plan(Settings(**shared), replicas=2, action_servers=0, **kwargs)
