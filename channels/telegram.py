"""Telegram, with the webhook secret checked.

credentials.yml:

    channels.telegram.TelegramBotInput:    # POST /webhooks/telegram/webhook

Anything not given there comes from settings (TELEGRAM_BOT_TOKEN,
TELEGRAM_WEBHOOK_SECRET, TELEGRAM_API_BASE_URL). Telegram sends the
`secret_token` given to setWebhook in the X-Telegram-Bot-Api-Secret-Token
header; an update without the right one is refused (403). Rasa's stock
connector instead calls getMe on every update and sets the webhook whenever it
builds an output channel; this one does neither.

The conversation id is the chat id, which the connector vouches for to the
action server (bot.domain.identity). Buttons stay real (an inline keyboard); a typed
"2" chooses the second one too. Only private chats are served: a debt is
never discussed in a group.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from aiogram.utils.exceptions import TelegramAPIError, ValidationError
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.bootstrap import services
from channels.deliveries import claim_delivery, in_progress, run_turn
from channels.text_options import (
    MessagingInput,
    TurnCollector,
    identity_metadata,
    pending_buttons,
    resolve_reply,
    tracker_for,
)

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_DATA_LIMIT = 64  # bytes Telegram allows in a button's callback_data


class TelegramBotOutput(TelegramOutput):
    """Rasa's Telegram output, pointed at the configured API server, with one
    button per row (offer titles are long) and errors logged instead of raised."""

    def __init__(self, token: str, api_base_url: str) -> None:
        Bot.__init__(self, token, server=TelegramAPIServer.from_base(api_base_url))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        keyboard = InlineKeyboardMarkup()
        for number, button in enumerate(buttons, start=1):
            keyboard.row(InlineKeyboardButton(button["title"], callback_data=callback_data(button, number)))
        await self.send_message(recipient_id, text, reply_markup=keyboard)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        try:
            await super().send_response(recipient_id, message)
        except (TelegramAPIError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.error("telegram: could not send a message (%s)", type(exc).__name__)


def callback_data(button: dict, number: int) -> str:
    """The payload itself when Telegram allows it; else the option number, which
    the webhook maps back through the conversation like a typed "2"."""
    payload = str(button.get("payload") or button.get("title") or number)
    return payload if len(payload.encode()) <= CALLBACK_DATA_LIMIT else str(number)


class Malformed(ValueError):
    """An update Telegram would never send (wrongly shaped fields)."""


def read_update(body: bytes) -> Update:
    """The Update in a webhook body; Malformed when it isn't one."""
    try:
        data = json.loads(body or b"")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise Malformed("not an update")
        return Update(**data)
    except Malformed:
        raise
    except Exception as exc:  # json and aiogram raise assorted errors for bad shapes
        raise Malformed(type(exc).__name__) from None


def incoming(update: Update) -> tuple[Chat, str, str | None] | None:
    """(chat, text, callback query id) for a typed message or a tapped button; None for
    what isn't answered (edits, stickers, channel posts ...); Malformed for nonsense."""
    query = update.callback_query
    if query is not None:
        if not isinstance(query, CallbackQuery) or not isinstance(query.message, Message):
            raise Malformed("callback_query")
        message, text, query_id = query.message, query.data, query.id
    else:
        message = update.message
        if message is None:
            return None
        if not isinstance(message, Message):
            raise Malformed("message")
        text, query_id = message.text, None
    if not isinstance(message.chat, Chat) or not isinstance(message.chat.id, int):
        raise Malformed("chat")
    return (message.chat, text, query_id) if isinstance(text, str) else None


class TelegramBotInput(MessagingInput):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Values in credentials.yml win; the rest (secrets above all) come from settings."""
        credentials = credentials or {}
        settings = services().settings
        return cls(
            token=credentials.get("access_token") or settings.telegram_bot_token,
            webhook_secret=credentials.get("webhook_secret") or settings.telegram_webhook_secret,
            api_base_url=credentials.get("api_base_url") or settings.telegram_api_base_url,
        )

    def __init__(self, token: str, webhook_secret: str, api_base_url: str) -> None:
        super().__init__()
        self.token = token
        self.webhook_secret = webhook_secret
        self.api_base_url = api_base_url.rstrip("/")
        self._output: TelegramBotOutput | None = None

    def secret_ok(self, request: Request) -> bool:
        if not (self.webhook_secret and self.token):
            self._warn_once(
                "unconfigured",
                "telegram: TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are needed to verify "
                "updates; all are refused (403)",
            )
            return False
        given = request.headers.get(SECRET_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            logger.warning("telegram: update with a missing or wrong secret token refused (403)")
            return False
        return True

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self._webhook_blueprint("telegram_webhook")

        @webhook.listener("after_server_stop")
        async def close_session(_app: Sanic, _loop: Any) -> None:
            if self._output is not None and self._output._session is not None:
                await self._output._session.close()

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            self._app = request.app
            if not self.secret_ok(request):
                return response.text("forbidden", status=403)
            try:
                update = read_update(request.body)
                found = incoming(update)
            except Malformed:
                logger.warning("telegram: webhook body that is not a usable update refused (400)")
                return response.text("bad request", status=400)
            if found is None:
                return response.text("ok")
            chat, text, query_id = found
            if chat.type != "private":
                self._warn_once("group", "telegram: messages from group chats are ignored")
                return response.text("ok")
            agent = self._agent()
            delivery = claim_delivery(agent, self.name(), str(update.update_id))
            if delivery.state == "done":
                logger.info("telegram: repeated delivery of a handled update acknowledged")
                return response.text("ok")
            if delivery.state == "working":
                return in_progress().as_text()

            output = self.get_output_channel()
            if query_id and output is not None:
                try:
                    await output.answer_callback_query(query_id)  # stops the button's spinner
                except (TelegramAPIError, aiohttp.ClientError, asyncio.TimeoutError):
                    pass
            sender = str(chat.id)
            if text.split(maxsplit=1)[:1] == ["/start"]:
                text = "/greet"  # what Telegram sends when someone opens the bot
            text = resolve_reply(text, pending_buttons(await tracker_for(agent, sender)))
            collector = TurnCollector(self.name())
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=self.name(),
                metadata=identity_metadata("telegram", "telegram_chat_id", sender),
            )
            refusal = await run_turn(agent, lambda: on_new_message(message), self.name())
            if refusal is not None:
                delivery.failed()  # Telegram redelivers an update until it gets a 2xx
                return refusal.as_text()
            delivery.succeeded()
            await self.deliver(sender, collector.messages)
            return response.text("ok")

        return webhook

    def get_output_channel(self) -> OutputChannel | None:
        if self._output is None:
            try:
                self._output = TelegramBotOutput(self.token, self.api_base_url)
            except ValidationError:
                self._warn_once(
                    "no_output", "telegram: TELEGRAM_BOT_TOKEN is missing or malformed; replies are dropped"
                )
                return None
        return self._output
