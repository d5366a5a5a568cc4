"""The action server's webhook, called inside the Rasa replica: no HTTP, no socket.

`ACTIONS_IN_PROCESS=true` (written by `python -m bot endpoints` into the action
endpoint as `in_process: true`) makes a Rasa replica run the custom actions
itself (components/patches/in_process_actions.py) through `call` below, instead
of POSTing each call to the action server. What an action gets and what Rasa
gets back are what the HTTP path gives, because every step of that path that
changes data is done here with the same code:

- the body Rasa would POST is encoded as aiohttp encodes it (`json.dumps`; the
  domain Rasa sends with a form's validation action, 100 KB here, encoded once:
  `encoded`) and read as Sanic reads it (`sanic.request.json_loads`: ujson's when it is
  installed, as here): the action's tracker is a new dict, sharing nothing with Rasa's
  tracker (an action that changed its tracker's dicts changes nothing in Rasa),
  with the same numbers, strings and types as over HTTP;
- the domain is filled in as the action server's middleware does
  (actions/server.py: the same dict, read once from domain.yml);
- rasa-sdk's `ActionExecutor.run` runs the action, registered from the same
  package ("actions") as `rasa_sdk.endpoint.create_app` registers it; the
  actions' own offloading to worker threads (actions/threads.py) is in their
  `run`, so it holds here too: their database waits never stop the replica's
  event loop;
- the answer is encoded as Sanic encodes it (`sanic.response.json`'s
  encoder) and read as aiohttp reads it (`json.loads`), with the
  status codes of rasa-sdk's webhook and of our error handler: 200, 400 for a
  rejection (with the action's name and message) or an unreadable call, 404 for
  an action not found.

What it leaves out: the shared secret (nothing crosses a network) and rasa-sdk's
version check, which only logs a warning (Rasa and rasa-sdk are one install
here). The trade-off against a separate action server is in docs/deploy.md
("Actions in the replica").
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from sanic import request as sanic_request
from sanic.response import BaseHTTPResponse

from actions.server import local_domain
from bot.bootstrap import services

# What Sanic reads a request body with (ujson's when installed) and writes `response.json` with.
_sanic_loads = sanic_request.json_loads
_sanic_dumps = BaseHTTPResponse._dumps

logger = logging.getLogger("actions.server")

ACTIONS_PACKAGE = "actions"


@lru_cache(maxsize=1)
def executor() -> ActionExecutor:
    """This process's rasa-sdk executor, with the actions registered as the action server does;
    the settings read and checked, and the services made, here on the event loop's thread as
    the action server does at start-up (not by the first worker threads at once)."""
    services()
    found = ActionExecutor()
    found.register_package(ACTIONS_PACKAGE)
    return found


# Rasa's domain as it sends it (Domain.as_dict(): the domain's own dict, the same object
# on every call and never changed once the model is loaded) and its JSON text.
_domain_text: tuple[dict, str] | None = None


def encoded(body: Any) -> str:
    """`json.dumps(body)`, what aiohttp sends. Rasa adds the domain last to the calls of
    actions that need it (every form's validate_ action); its text is made once per
    domain object and joined to the rest's as `json.dumps` joins a dict's items, so the
    text is the same, character for character. Anything else is `json.dumps(body)`."""
    global _domain_text
    domain = body.get("domain") if type(body) is dict else None
    if type(domain) is not dict or next(reversed(body)) != "domain":
        return json.dumps(body)
    try:
        kept = _domain_text
        if kept is None or kept[0] is not domain:
            kept = _domain_text = (domain, json.dumps(domain))
        rest = json.dumps({key: value for key, value in body.items() if key != "domain"})
    except Exception:  # whatever json.dumps raises for the whole body, it raises
        return json.dumps(body)
    return (rest[:-1] + ", " if rest != "{}" else "{") + '"domain": ' + kept[1] + "}"


def _answer(status: int, body: Any) -> tuple[int, Any, str]:
    """(status, the body as Rasa's aiohttp reads it, the body's text)."""
    text = _sanic_dumps(body)
    return status, json.loads(text), text


async def call(body: dict[str, Any]) -> tuple[int, Any, str]:
    """One action call, `body` the dict Rasa would POST to /webhook: (HTTP status the
    action server would answer, the JSON body as Rasa would read it, its text)."""
    actions = executor()  # settings that cannot be read fail here, as the action server's start-up
    action_call = _sanic_loads(encoded(body))  # aiohttp's encoding, Sanic's reading
    if isinstance(action_call, dict) and not action_call.get("domain"):
        action_call["domain"] = local_domain()
    try:
        result = await actions.run(action_call)
    except ActionExecutionRejection as e:
        logger.debug(e)
        return _answer(400, {"error": e.message, "action_name": e.action_name})
    except ActionNotFoundException as e:
        logger.error(e)
        return _answer(404, {"error": e.message, "action_name": e.action_name})
    except Exception as exc:  # as actions/server.py's no_echo: nothing of the call in the answer
        logger.error("unreadable action call: %s", type(exc).__name__)
        return _answer(400, {"error": "bad request"})
    return _answer(200, result)
