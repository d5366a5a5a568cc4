"""Custom actions run inside the Rasa replica when the action endpoint says `in_process: true`.

Rasa's `RemoteAction.run` builds the call's body, POSTs it to the action
endpoint (`EndpointConfig.request`) and reads the JSON answer. With
`in_process: true` in the action endpoint (`ACTIONS_IN_PROCESS=true`, written by
`python -m bot endpoints`), `request` hands that same body to
`actions.in_process.call` instead: the action server's webhook run in this
process, with the same JSON encoding and decoding on both sides, so the action
sees the tracker it would see over HTTP and Rasa gets the events it would get.
An answer of 400 or more raises Rasa's `ClientResponseError` with the body's
text, as `request` does for an HTTP answer, so a form's rejection and a failure
take Rasa's own paths (and action_guard's polite answer). Everything else of
`RemoteAction.run` (the body, the response's validation, the responses uttered,
the events read) is Rasa's and unchanged. Without the flag, and for every other
endpoint, `request` is Rasa's own.

What it saves per action call: the HTTP request and answer through aiohttp,
nginx and Sanic, and the action server's process wake-ups (docs/deploy.md,
"Actions in the replica", has the figures and the trade-off).

Installed by `components.patches.install()` (who calls it: that package's docstring).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from components.patches import Patch

IN_PROCESS = "in_process"  # the action endpoint's key (endpoints.yml)

_rasa_request = EndpointConfig.request


def runs_in_process(endpoint: EndpointConfig | None) -> bool:
    """Whether this endpoint is an action endpoint that runs its actions in this process."""
    return endpoint is not None and bool((endpoint.kwargs or {}).get(IN_PROCESS))


async def _request(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    if not runs_in_process(self) or method.lower() != "post" or subpath or "json" not in kwargs:
        return await _rasa_request(self, method, subpath, content_type, compress, **kwargs)
    from actions.in_process import call  # the actions load with the first call, not with Rasa

    status, body, text = await call(kwargs["json"])
    if status >= 400:
        raise ClientResponseError(status, HTTPStatus(status).phrase, text.encode())
    return body


PATCHES: tuple[Patch, ...] = (
    Patch(
        "rasa.utils.endpoints.EndpointConfig.request",
        _request,
        "with `in_process: true`, an action call runs the action server's webhook in this process (no HTTP)",
    ),
)
