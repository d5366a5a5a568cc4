"""Hot spots of Rasa 3.6, fixed without changing what Rasa does.

Found with py-spy on the Rasa process under `python -m bot bench` (README,
"Benchmark", has the figures before and after):

1. Every action-server response is validated with `jsonschema.validate`, which
   checks the schema itself against its metaschema and builds a new validator
   each time: 32 ms per call here, about half of Rasa's CPU time. The schema
   never changes, so it is checked once and the validator kept (0.6 ms); the
   same best-matching error with the same message is raised for a bad response.
   Each event is then checked against the one branch of the schema's `oneOf`
   that its `event` name selects, instead of against all 23 (the other
   branches fail on that name anyway); anything this quick check does not
   pass goes through the whole schema, so errors are Rasa's own.
2. Every event read back from the tracker store or the action server looks its
   class up by walking all Event subclasses (`Event.resolve_by_type`); a found
   class is remembered by its type name (an unknown name still takes Rasa's
   own path, so its errors and defaults are unchanged).
3. Every action call opened a new HTTP client session and TCP connection to
   the action server (`EndpointConfig.request`); the action endpoint now keeps
   one session per event loop, whose idle connections it closes before the
   action server's keep-alive timeout (5 s in Sanic) can close them under it.

Installed by `components.patches.install()` (who calls it: that package's docstring).
"""

from __future__ import annotations

import asyncio
import weakref
from functools import lru_cache
from typing import Any

import aiohttp
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

from components.patches import Patch

ACTION_KEEPALIVE_SECONDS = 2.0  # below the action server's (Sanic's) 5 s keep-alive timeout

_rasa_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type] = {}


@lru_cache(maxsize=1)
def _response_validator():
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _per_event_validators() -> tuple[Any, dict[str, Any]] | None:
    """(validator of the response without its events' oneOf, event name -> validator
    of one event against its own branch), or None if the schema is not shaped so."""
    schema = RemoteAction.action_response_format_spec()
    events = schema.get("properties", {}).get("events", {})
    item = events.get("items", {})
    if set(events) != {"type", "items"} or "oneOf" not in item:
        return None
    base = {k: v for k, v in item.items() if k != "oneOf"}
    cls = validator_for(schema)
    by_name: dict[str, Any] = {}
    for branch in item["oneOf"]:
        name = branch.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_name:
            return None
        by_name[name] = cls({**base, "allOf": [branch]})
    outer = cls({**schema, "properties": {**schema["properties"], "events": {"type": events["type"]}}})
    return outer, by_name


def _quickly_valid(result: Any) -> bool:
    validators = _per_event_validators()
    if validators is None or not isinstance(result, dict):
        return False
    outer, by_name = validators
    if not outer.is_valid(result):
        return False
    for event in result.get("events") or []:
        # A name that is not a string (a list, say: unhashable) is for the whole schema to reject.
        name = event.get("event") if isinstance(event, dict) else None
        validator = by_name.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def _validate_action_result(self, result) -> bool:
    if _quickly_valid(result):
        return True
    error: ValidationError | None = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def _resolve_by_type(type_name: str, default: type | None = None) -> type | None:
    found = _event_classes.get(type_name)
    if found is None:
        found = _rasa_resolve_by_type(type_name, default)
        if found is not None and found is not default:
            _event_classes[type_name] = found
    return found


class _KeptSession:
    """`async with` over a session that stays open for the next call."""

    def __init__(self, session: aiohttp.ClientSession):
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info) -> None:
        return None


_rasa_session = EndpointConfig.session
# event loop -> {(url, headers, basic auth) of an action endpoint: its session}; forgotten with the loop
_kept_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, aiohttp.ClientSession]] = (
    weakref.WeakKeyDictionary()
)


def _action_session(self: EndpointConfig):
    """Rasa's own session for other endpoints; for the action server, one kept session per loop."""
    if not getattr(self, "_keep_session", False):
        return _rasa_session(self)
    sessions = _kept_sessions.setdefault(asyncio.get_running_loop(), {})
    key = (self.url, tuple(sorted((self.headers or {}).items())), tuple(sorted((self.basic_auth or {}).items())))
    session = sessions.get(key)
    if session is None or session.closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(  # as Rasa's EndpointConfig.session, plus the connector
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=ACTION_KEEPALIVE_SECONDS),
        )
        sessions[key] = session
    return _KeptSession(session)


async def close_kept_sessions() -> None:
    """Close this loop's kept action-server sessions (tests; a stopping server)."""
    for session in _kept_sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.close()


_rasa_remote_action_init = RemoteAction.__init__


def _remote_action_init(self, name, action_endpoint) -> None:
    _rasa_remote_action_init(self, name, action_endpoint)
    if action_endpoint is not None:
        action_endpoint._keep_session = True


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.core.actions.action.RemoteAction._validate_action_result",
        _validate_action_result,
        "validate action-server responses with a validator built once (32 ms -> 0.6 ms a call), same errors",
    ),
    Patch(
        "rasa.shared.core.events.Event.resolve_by_type",
        staticmethod(_resolve_by_type),
        "remember each event class found by its type name instead of walking all Event subclasses",
    ),
    Patch(
        "rasa.utils.endpoints.EndpointConfig.session",
        _action_session,
        "one kept HTTP session per event loop to the action server, instead of a new connection a call",
    ),
    Patch(
        "rasa.core.actions.action.RemoteAction.__init__",
        _remote_action_init,
        "mark the action endpoint, so that its calls use the kept session",
    ),
)
