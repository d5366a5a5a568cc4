"""The REST channel (development, tests and server-to-server use), made strict.

Rasa's stock RestInput answers a body that is not a JSON object with a 500,
lets the client name its own input channel, logs the text of a message whose
processing raised, and answers `200 []` for a message it did not process. This
one refuses malformed bodies (metadata nested too deep included) with a 400
that echoes nothing, always records the channel as "rest", drops any channel
identity from the client's metadata, and refuses a message it could not
process with 429 or 503 and Retry-After (channels.deliveries). Production
turns it off altogether (`python -m bot endpoints` drops it from the
credentials when APP_ENV=production).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response

from bot.domain.identity import METADATA_KEY, another_channels_conversation
from channels.deliveries import run_turn

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
MAX_MESSAGE_CHARS = 10_000
MAX_METADATA_DEPTH = 16  # nesting; Python's JSON and deepcopy recurse, 2,000 levels overflow the stack


def read_body(raw: bytes | None) -> Any:
    """The JSON body, or None when it is not JSON (or nested too deep to read)."""
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def depth(value: Any, limit: int) -> int:
    """How deeply `value` nests lists and objects, counting no further than `limit` + 1."""
    if limit < 0 or not isinstance(value, (dict, list)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((depth(child, limit - 1) for child in children), default=0)


def body_problem(body: Any) -> str | None:
    """Why a REST body cannot be processed, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object with sender and message"
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
        return f"sender must be a string of 1 to {MAX_SENDER_CHARS} characters"
    if another_channels_conversation(sender):
        # the widget's, an SMS/WhatsApp number's or a Telegram chat's: only that channel writes there
        return "sender must not have the form of another channel's conversation id"
    if not isinstance(message, str):
        return "message must be a string"
    if len(message) > MAX_MESSAGE_CHARS:
        return f"message must be at most {MAX_MESSAGE_CHARS} characters"
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "metadata must be a JSON object"
    if metadata is not None and depth(metadata, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
        return f"metadata must nest at most {MAX_METADATA_DEPTH} levels deep"
    return None


class StrictRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_input_channel(self, req) -> str:
        return self.name()  # never the client's say

    def blueprint(self, on_new_message):
        """Rasa's two routes, answering what Rasa's own answers `200 []`: a
        malformed body 400, a message refused or not processed 429 / 503 with
        Retry-After (channels.deliveries); an answer only when the turn ran."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request):
            body = read_body(request.body)
            problem = body_problem(body)
            if problem:
                logger.info("refused a malformed REST message")
                return response.json({"error": problem}, status=400)
            metadata = {k: v for k, v in (body.get("metadata") or {}).items() if k != METADATA_KEY}
            collector = CollectingOutputChannel()
            message = UserMessage(
                body["message"], collector, body["sender"], input_channel=self.name(), metadata=metadata or None
            )
            agent = getattr(request.app.ctx, "agent", None)
            refusal = await run_turn(agent, lambda: on_new_message(message), self.name())
            if refusal is not None:
                return refusal.as_json()
            return response.json(collector.messages)

        return webhook
