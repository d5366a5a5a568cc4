"""The REST channel (development, tests and server-to-server use), made strict.

Rasa's stock RestInput answers a body that is not a JSON object with a 500 and
lets the client name its own input channel. This one refuses malformed bodies
with a 400 that echoes nothing, always records the channel as "rest", and
drops any channel identity from the client's metadata. (Rasa still logs the
text of a message whose processing raised; another reason this channel is off
in production.) Production
turns it off altogether (`python -m bot endpoints` drops it from the
credentials when APP_ENV=production).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import response

from bot.domain.identity import METADATA_KEY

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
MAX_MESSAGE_CHARS = 10_000


def body_problem(body: Any) -> str | None:
    """Why a REST body cannot be processed, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object with sender and message"
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
        return f"sender must be a string of 1 to {MAX_SENDER_CHARS} characters"
    if not isinstance(message, str):
        return "message must be a string"
    if len(message) > MAX_MESSAGE_CHARS:
        return f"message must be at most {MAX_MESSAGE_CHARS} characters"
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "metadata must be a JSON object"
    return None


class StrictRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_input_channel(self, req) -> str:
        return self.name()  # never the client's say

    def get_metadata(self, request) -> dict | None:
        """Client metadata, minus any channel identity (only our connectors vouch)."""
        metadata = super().get_metadata(request)
        if isinstance(metadata, dict):
            metadata = {k: v for k, v in metadata.items() if k != METADATA_KEY}
        return metadata

    def blueprint(self, on_new_message):
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def well_formed(request):
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            try:
                body = json.loads(request.body or b"null")
            except (ValueError, UnicodeDecodeError):
                body = None
            problem = body_problem(body)
            if problem:
                logger.info("refused a malformed REST message")
                return response.json({"error": problem}, status=400)
            return None

        return blueprint
