"""Buttons on channels that only carry text (SMS, WhatsApp), and the helpers the
messaging connectors share.

Out: a message with buttons becomes its text, numbered lines "1. <title>", and
the domain response `utter_reply_with_number` ("Reply 1, 2 or 3.") in the
borrower's language. In: a reply such as "2", "option 2" or " 2. " chooses the
payload of that button. The buttons come from the conversation's tracker (the
last bot message with buttons since the borrower last wrote), so this works
after a restart and on any replica, and an old list never answers a new question.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic, response

from bot.bootstrap import services
from bot.domain.clock import utcnow
from bot.domain.formatting import format_choices
from bot.domain.identity import METADATA_KEY, ChannelIdentity, mint_channel_identity

logger = logging.getLogger(__name__)

REPLY_RESPONSE = "utter_reply_with_number"
_CHOICE = re.compile(r"^\s*(?:option|number|no\.?|#)?\s*(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


def chosen_number(text: str | None) -> int | None:
    """The option number a reply names ("2", "option 2", " 2. ", "#2"), else None."""
    match = _CHOICE.match(text or "")
    return int(match.group(1)) if match else None


def pending_buttons(tracker: DialogueStateTracker | None) -> list[dict]:
    """Buttons of the latest bot message that has some, if the borrower hasn't written since."""
    if tracker is None:
        return []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered) and (event.data or {}).get("buttons"):
            return list(event.data["buttons"])
    return []


def resolve_reply(text: str, buttons: list[dict]) -> str:
    """The payload of the button a numbered reply chooses; any other text unchanged."""
    number = chosen_number(text)
    if number is None or not 1 <= number <= len(buttons):
        return text
    return str(buttons[number - 1].get("payload") or buttons[number - 1].get("title") or text)


def numbered_options(text: str | None, buttons: list[dict], reply_line: str | None) -> str:
    """A message with buttons as plain text: the text, "1. <title>" lines, the reply line."""
    lines = [text.strip()] if text and text.strip() else []
    lines += [f"{i}. {button.get('title', '')}" for i, button in enumerate(buttons, start=1)]
    if reply_line:
        lines.append(reply_line)
    return "\n".join(lines)


def language_of(tracker: DialogueStateTracker | None) -> str:
    language = tracker.get_slot("language") if tracker is not None else None
    return language or services().settings.default_language


async def reply_line(agent: Any, tracker: DialogueStateTracker | None, channel: str, count: int) -> str | None:
    """`utter_reply_with_number` from the running agent's domain, choices in the borrower's language."""
    if agent is None or getattr(agent, "nlg", None) is None or count < 1:
        return None
    if tracker is None:
        slots = agent.domain.slots if getattr(agent, "domain", None) else []
        tracker = DialogueStateTracker("_", slots)
    choices = format_choices([str(i) for i in range(1, count + 1)], language_of(tracker))
    try:
        generated = await agent.nlg.generate(REPLY_RESPONSE, tracker, channel, choices=choices)
    except Exception as exc:  # an NLG server that is down must not lose the message
        logger.error("could not render %s (%s)", REPLY_RESPONSE, type(exc).__name__)
        return None
    return (generated or {}).get("text")


async def tracker_for(agent: Any, sender_id: str) -> DialogueStateTracker | None:
    """The conversation as stored (None if the agent or the conversation isn't there yet)."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        return await store.retrieve(sender_id)
    except Exception as exc:
        logger.error("could not read the conversation from the tracker store (%s)", type(exc).__name__)
        return None


def identity_metadata(channel: str, kind: str, value: str, conversation_id: str | None = None) -> dict:
    """Message metadata vouching for who wrote (the platform verified the sender).

    The sender (phone number or chat id) is also the conversation id unless one is given."""
    token = mint_channel_identity(
        ChannelIdentity(channel, kind, value),
        services().settings.channel_identity_secret,
        now=utcnow(),
        conversation_id=conversation_id or value,
    )
    return {METADATA_KEY: token}


class TurnCollector(CollectingOutputChannel):
    """Collects a turn's replies so they are sent once the tracker is saved (the
    borrower's language may have been set in that very turn). It carries the
    connector's name so channel-specific response variations still apply."""

    def __init__(self, channel_name: str) -> None:
        super().__init__()
        self._channel_name = channel_name

    def name(self) -> str:
        return self._channel_name


class MessagingInput(InputChannel):
    """What the Twilio and Telegram connectors share: the Sanic app they run in
    (its agent holds the tracker and lock stores), a health route, warnings
    logged once, and delivering a turn's replies."""

    def __init__(self) -> None:
        self._app: Sanic | None = None
        self._warned: set[str] = set()

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logging.getLogger(type(self).__module__).warning(message)

    def _agent(self) -> Any:
        return getattr(self._app.ctx, "agent", None) if self._app is not None else None

    def _webhook_blueprint(self, name: str) -> Blueprint:
        webhook = Blueprint(name, type(self).__module__)

        @webhook.listener("before_server_start")
        async def remember_app(app: Sanic, _loop: Any) -> None:
            self._app = app  # for replies started by the API (trigger_intent reminders)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Any) -> Any:
            return response.json({"status": "ok"})

        return webhook

    def get_output_channel(self) -> OutputChannel | None:
        raise NotImplementedError

    async def deliver(self, recipient: str, messages: list[dict]) -> None:
        """Send a turn's replies once the turn is saved (see TurnCollector)."""
        output = self.get_output_channel()
        if output is None:
            return
        for message in messages:
            await output.send_response(recipient, {k: v for k, v in message.items() if k != "recipient_id"})
