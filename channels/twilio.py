"""SMS and WhatsApp through Twilio.

credentials.yml:

    channels.twilio.TwilioSMSInput:        # POST /webhooks/twilio/webhook
    channels.twilio.TwilioWhatsAppInput:   # POST /webhooks/whatsapp/webhook

Anything not given there comes from settings (TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TWILIO_SMS_NUMBER, TWILIO_WHATSAPP_NUMBER,
TWILIO_API_BASE_URL, PUBLIC_BASE_URL). Every webhook must carry a valid
X-Twilio-Signature (Rasa's stock connector does not check one); without an
auth token nothing can be verified, so every webhook is refused.

The conversation id is Twilio's `From` ("+447700900001" or
"whatsapp:+447700900001"), and the connector vouches for that number to the
action server (bot.domain.identity), so a known borrower is asked only for their date
of birth. Buttons become numbered options (channels.text_options).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.bootstrap import services
from channels.deliveries import claim_delivery, in_progress, run_turn
from channels.text_options import (
    MessagingInput,
    TurnCollector,
    identity_metadata,
    numbered_options,
    pending_buttons,
    reply_line,
    resolve_reply,
    tracker_for,
)

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WHATSAPP_PREFIX = "whatsapp:"
# Twilio's client logs every API call at INFO; keep that out of the assistant's log
# unless someone asks for it (set this logger to INFO or DEBUG).
HTTP_LOGGER = logging.getLogger("channels.twilio.http")
HTTP_LOGGER.setLevel(logging.WARNING)


class TwilioTextOutput(OutputChannel):
    """Sends through Twilio's Messages API; buttons become numbered options."""

    def __init__(self, channel_name: str, client: Client, from_number: str, agent: Callable[[], Any]) -> None:
        self._channel_name = channel_name
        self.client = client
        self.from_number = from_number
        self._agent = agent

    def name(self) -> str:
        return self._channel_name

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(to=recipient_id, body=text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list, **kwargs: Any) -> None:
        agent = self._agent()
        tracker = await tracker_for(agent, recipient_id)
        line = await reply_line(agent, tracker, self._channel_name, len(buttons))
        await self._send(to=recipient_id, body=numbered_options(text, buttons, line))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(to=recipient_id, media_url=[image])

    async def _send(self, **params: Any) -> None:
        """One message; a failure is logged (without the number or the text) and not retried."""
        try:
            await self.client.messages.create_async(from_=self.from_number, **params)
        except TwilioRestException as exc:
            logger.error("%s: Twilio refused a message (HTTP %s, error %s)", self._channel_name, exc.status, exc.code)
        except (TwilioException, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.error("%s: could not reach Twilio (%s)", self._channel_name, type(exc).__name__)


class TwilioSMSInput(MessagingInput):
    """Twilio SMS webhook with signature check, sender identity and numbered options."""

    identity_channel = "twilio_sms"  # bot.domain.identity.ChannelIdentity.channel

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def _number_from(cls, settings: Any) -> str:
        return settings.twilio_sms_number

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Values in credentials.yml win; the rest (secrets above all) come from settings."""
        credentials = credentials or {}
        settings = services().settings
        return cls(
            account_sid=credentials.get("account_sid") or settings.twilio_account_sid,
            auth_token=credentials.get("auth_token") or settings.twilio_auth_token,
            number=credentials.get("twilio_number") or cls._number_from(settings),
            public_base_url=credentials.get("public_base_url") or settings.public_base_url,
            api_base_url=credentials.get("api_base_url") or settings.twilio_api_base_url,
        )

    def __init__(self, account_sid: str, auth_token: str, number: str, public_base_url: str, api_base_url: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.number = number
        self.public_base_url = public_base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self._output: TwilioTextOutput | None = None

    # -- who may write ---------------------------------------------------

    def signature_ok(self, request: Request) -> bool:
        """Twilio signs the full URL it posted to plus the form fields, with the auth token."""
        if not self.auth_token:
            self._warn_once(
                "no_token",
                f"{self.name()}: TWILIO_AUTH_TOKEN is not set, so no webhook can be verified; all are refused (403)",
            )
            return False
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            logger.warning("%s: webhook without X-Twilio-Signature refused (403)", self.name())
            return False
        url = self.public_base_url + request.path
        if request.query_string:
            url += "?" + request.query_string
        if not RequestValidator(self.auth_token).validate(url, request.form, signature):
            logger.warning("%s: webhook with a bad X-Twilio-Signature refused (403)", self.name())
            return False
        return True

    def sender_ok(self, sender: str) -> bool:
        """SMS numbers must not carry the WhatsApp prefix (a webhook URL mixed up in the console)."""
        return bool(sender) and not sender.startswith(WHATSAPP_PREFIX)

    # -- Rasa plumbing ---------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self._webhook_blueprint(f"{self.name()}_webhook")

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            self._app = request.app
            if not self.signature_ok(request):
                return response.text("forbidden", status=403)
            sender = request.form.get("From") or ""
            body = request.form.get("Body")
            if not self.sender_ok(sender) or body is None or len(body) > 5000:
                logger.warning("%s: signed webhook without a usable From/Body refused (400)", self.name())
                return response.text("bad request", status=400)
            if not body.strip():  # a picture or a location only: nothing to answer
                return response.text(EMPTY_TWIML, content_type="text/xml")

            agent = self._agent()
            delivery = claim_delivery(agent, self.name(), request.form.get("MessageSid"))
            if delivery.state == "done":
                logger.info("%s: repeated delivery of a handled message acknowledged", self.name())
                return response.text(EMPTY_TWIML, content_type="text/xml")
            if delivery.state == "working":
                return in_progress().as_text()
            text = resolve_reply(body, pending_buttons(await tracker_for(agent, sender)))
            collector = TurnCollector(self.name())
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=self.name(),
                metadata=identity_metadata(self.identity_channel, "phone", sender),
            )
            refusal = await run_turn(agent, lambda: on_new_message(message), self.name())
            if refusal is not None:
                delivery.failed()  # Twilio's retry of this message will be handled
                return refusal.as_text()
            delivery.succeeded()
            await self.deliver(sender, collector.messages)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook

    def get_output_channel(self) -> OutputChannel | None:
        if self._output is None:
            if not (self.account_sid and self.auth_token and self.number):
                self._warn_once(
                    "no_output",
                    f"{self.name()}: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and the sending number "
                    "are needed to send messages; replies are dropped",
                )
                return None
            client = Client(
                self.account_sid,
                self.auth_token,
                http_client=AsyncTwilioHttpClient(pool_connections=False, logger=HTTP_LOGGER),
            )
            client.api.base_url = self.api_base_url  # a local fake in tests
            self._output = TwilioTextOutput(self.name(), client, self.number, self._agent)
        return self._output


class TwilioWhatsAppInput(TwilioSMSInput):
    """The same over WhatsApp: ids and the sending number carry the "whatsapp:" prefix."""

    identity_channel = "whatsapp"

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def _number_from(cls, settings: Any) -> str:
        number = settings.twilio_whatsapp_number
        return number if not number or number.startswith(WHATSAPP_PREFIX) else WHATSAPP_PREFIX + number

    def sender_ok(self, sender: str) -> bool:
        return sender.startswith(WHATSAPP_PREFIX) and len(sender) > len(WHATSAPP_PREFIX)
