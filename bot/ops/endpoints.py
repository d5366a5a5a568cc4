"""Rasa's endpoints file, built from settings: `python -m bot endpoints --out var/endpoints.yml`.

One set of settings (`.env`) selects the profile. Embedded default: the action
server on localhost, trackers and locks in memory. Production: TRACKER_STORE_URL
(PostgreSQL, Rasa's SQLTrackerStore masking personal data and keeping recent sessions in memory: components.tracker_store.CachingSQLTrackerStore), LOCK_STORE_URL (Redis, RedisLockStore)
and optionally EVENT_BROKER_URL (RabbitMQ, Rasa's pika broker). The file holds
the action server's secret, so it is written readable by its owner only.

`server_args` are the `rasa run` options the settings imply: the address to
listen on (RASA_INTERFACE, loopback by default), the origins a browser may call
from (WIDGET_ORIGINS, by default only the widget page's) and the HTTP API only
with RASA_TOKEN.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from sqlalchemy.engine import make_url

from bot.settings import Settings

SECRET_HEADER = "X-Action-Secret"


def endpoints_config(settings: Settings, *, action_server_url: str | None = None) -> dict:
    config: dict = {
        "action_endpoint": {
            "url": action_server_url or settings.action_server_url,
            "headers": {SECRET_HEADER: settings.action_server_secret},
            # The action server reads the domain from domain.yml (actions/server.py).
            "enable_selective_domain": True,
        }
    }
    if settings.actions_in_process:
        # The replica runs the actions itself (components/patches/in_process_actions.py);
        # the URL stays for anything that names the endpoint.
        config["action_endpoint"]["in_process"] = True
    # Both stores mask personal data before it is stored (components/tracker_store.py).
    if settings.tracker_store_url:
        config["tracker_store"] = _sql_tracker_store(settings.tracker_store_url)
        if settings.tracker_store_synchronous_commit != "on":
            config["tracker_store"]["synchronous_commit"] = settings.tracker_store_synchronous_commit
    else:
        config["tracker_store"] = {"type": "components.tracker_store.MaskingInMemoryTrackerStore"}
    # Both lock stores bound each conversation's queue (components/lock_store.py).
    if settings.lock_store_url:
        config["lock_store"] = _redis_lock_store(settings.lock_store_url)
    else:
        config["lock_store"] = {"type": "components.lock_store.BoundedInMemoryLockStore"}
    if settings.event_broker_url:
        config["event_broker"] = _pika_broker(settings.event_broker_url, settings.event_broker_queue)
    return config


def server_args(settings: Settings, *, interface: str | None = None) -> list[str]:
    """`rasa run` options from settings (scripts/run.sh, `python -m bot cluster`, the e2e tests).

    Rasa's defaults fail open: it listens on every interface, and `--cors "*"`
    reflects any Origin with credentials allowed.
    """
    args = ["--interface", interface or settings.rasa_interface, "--cors", *settings.allowed_origins()]
    if settings.rasa_token:
        args += ["--enable-api", "--auth-token", settings.rasa_token]
    return args


def write_endpoints(path: Path, settings: Settings, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(endpoints_config(settings, **kwargs), sort_keys=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when an older, readable file was there
    with os.fdopen(fd, "w") as handle:
        handle.write("# Written by `python -m bot endpoints` from settings; do not edit.\n" + text)
    return path


def write_credentials(path: Path, settings: Settings, source: Path) -> Path:
    """Rasa's credentials for this profile: the repository's channels, without the
    unauthenticated REST channel in production (borrowers reach the assistant
    through the signed channels only)."""
    channels = yaml.safe_load(source.read_text()) or {}
    if settings.production:
        for unauthenticated in ("rest", "channels.rest.StrictRestInput"):
            channels.pop(unauthenticated, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `python -m bot endpoints` from credentials.yml; do not edit.\n"
        + yaml.safe_dump(channels, sort_keys=False)
    )
    return path


def _sql_tracker_store(url: str) -> dict:
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    store = {"type": "components.tracker_store.CachingSQLTrackerStore", "dialect": dialect, "db": parsed.database}
    if dialect != "sqlite":
        store.update(
            url=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            username=parsed.username or "",
            password=parsed.password or "",
        )
    return store


def _redis_lock_store(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("LOCK_STORE_URL must be a redis:// URL")
    return {
        # Rasa's RedisLockStore with atomic updates (see components/lock_store.py)
        "type": "components.lock_store.AtomicRedisLockStore",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
        "key_prefix": "debtbot",
    }


def _pika_broker(url: str, queue: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise ValueError("EVENT_BROKER_URL must be an amqp:// URL")
    return {
        "type": "pika",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5672,
        "username": unquote(parts.username or "guest"),
        "password": unquote(parts.password or "guest"),
        "queues": [queue],
    }
