"""Rasa's endpoints and channels are chosen by settings alone."""

from __future__ import annotations

import stat

import yaml

from bot.ops.endpoints import SECRET_HEADER, endpoints_config, write_credentials, write_endpoints
from bot.settings import PROJECT_ROOT, Settings


def test_the_embedded_default_keeps_trackers_and_locks_in_memory():
    config = endpoints_config(Settings(action_server_secret="s" * 32))
    assert set(config) == {"action_endpoint", "tracker_store", "lock_store"}
    assert config["tracker_store"] == {"type": "components.tracker_store.MaskingInMemoryTrackerStore"}
    assert config["lock_store"] == {"type": "components.lock_store.BoundedInMemoryLockStore"}
    assert config["action_endpoint"]["headers"] == {SECRET_HEADER: "s" * 32}


def test_the_production_profile_from_settings():
    config = endpoints_config(
        Settings(
            tracker_store_url="postgresql://rasa:p%40ss@db.internal:5433/trackers",
            lock_store_url="redis://:secret@cache.internal:6380/2",
            event_broker_url="amqp://user:pw@mq.internal:5673/",
            event_broker_queue="analytics",
        ),
        action_server_url="http://actions.internal:5055/webhook",
    )
    assert config["action_endpoint"]["url"] == "http://actions.internal:5055/webhook"
    assert config["tracker_store"] == {
        "type": "components.tracker_store.CachingSQLTrackerStore",
        "dialect": "postgresql",
        "db": "trackers",
        "url": "db.internal",
        "port": 5433,
        "username": "rasa",
        "password": "p@ss",
    }
    lock = config["lock_store"]
    assert (lock["type"], lock["url"], lock["port"], lock["db"], lock["password"]) == (
        "components.lock_store.AtomicRedisLockStore",
        "cache.internal",
        6380,
        2,
        "secret",
    )
    broker = config["event_broker"]
    assert (broker["type"], broker["url"], broker["port"], broker["username"], broker["queues"]) == (
        "pika",
        "mq.internal",
        5673,
        "user",
        ["analytics"],
    )


def test_the_tracker_stores_commit_mode_goes_to_the_store_only_when_off():
    url = "postgresql://rasa@db.internal/trackers"
    assert "synchronous_commit" not in endpoints_config(Settings(tracker_store_url=url))["tracker_store"]
    off = endpoints_config(Settings(tracker_store_url=url, tracker_store_synchronous_commit="off"))
    assert off["tracker_store"]["synchronous_commit"] == "off"


def test_the_endpoints_file_is_private(tmp_path):
    path = write_endpoints(tmp_path / "endpoints.yml", Settings())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["action_endpoint"]["url"].endswith("/webhook")


def test_production_drops_the_unauthenticated_rest_channel(tmp_path):
    source = PROJECT_ROOT / "credentials.yml"
    dev = yaml.safe_load(write_credentials(tmp_path / "dev.yml", Settings(), source).read_text())
    prod = yaml.safe_load(write_credentials(tmp_path / "prod.yml", Settings(app_env="production"), source).read_text())
    rest = "channels.rest.StrictRestInput"
    assert rest in dev and rest not in prod
    assert set(prod) == set(dev) - {rest}


def test_the_rest_channel_refuses_malformed_bodies():
    from channels.rest import MAX_MESSAGE_CHARS, body_problem

    assert body_problem({"sender": "a", "message": "hi"}) is None
    assert body_problem({"sender": "a", "message": "", "metadata": {}}) is None
    for bad in (
        None,
        [],
        "hi",
        3,
        {"sender": "a"},
        {"message": "hi"},
        {"sender": 5, "message": "x"},
        {"sender": "", "message": "x"},
        {"sender": "a" * 129, "message": "x"},
        {"sender": "a", "message": {"text": "x"}},
        {"sender": "a", "message": "x" * (MAX_MESSAGE_CHARS + 1)},
        {"sender": "a", "message": "x", "metadata": "nope"},
    ):
        assert body_problem(bad), bad


def test_actions_in_the_replica_are_named_in_the_action_endpoint_only_when_asked():
    assert "in_process" not in endpoints_config(Settings())["action_endpoint"]
    config = endpoints_config(Settings(actions_in_process=True))["action_endpoint"]
    assert config["in_process"] is True and config["url"].endswith("/webhook")  # the URL stays
