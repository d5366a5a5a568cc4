"""WeChat Official Account (公众号), the messaging channel of Chinese borrowers.

credentials.yml:

    channels.wechat.WeChatInput:     # GET and POST /webhooks/wechat/webhook

Anything not given there comes from settings (WECHAT_TOKEN, WECHAT_APP_ID,
WECHAT_APP_SECRET, WECHAT_ENCODING_AES_KEY, WECHAT_API_BASE_URL,
WECHAT_REPLY_SECONDS, WECHAT_TEMPLATE_ID, WECHAT_TEMPLATE_FIELD). The protocol
itself (signatures, encrypted mode, XML) is channels/wechat_protocol.py.

- `GET /webhook` is the console's server-URL check: `echostr` comes back only
  when `signature` matches WECHAT_TOKEN; anything else gets 403.
- `POST /webhook` carries a follower's message as XML, signed the same way
  (403 otherwise). With WECHAT_ENCODING_AES_KEY set, encrypted messages
  (安全模式, and 兼容模式's encrypted copy) are checked with `msg_signature`,
  decrypted and answered encrypted; plaintext ones (明文模式) are answered in
  plaintext, so switching modes in the console needs no restart. Text (and the
  text WeChat recognised in a voice message) is answered; `subscribe` counts as
  a greeting; `unsubscribe` is recorded as an opt-out of WeChat for every
  borrower with that OpenID and the borrower verified in the conversation.
- WeChat waits 5 seconds for an answer. A turn finished within
  WECHAT_REPLY_SECONDS (4.5) is the webhook's own (passive) reply, encrypted in
  encrypted mode; a slower one is acknowledged with "success" and its replies
  go through the customer-service message API when ready (also when a turn's
  replies are longer than one message). The access token is fetched from
  `stable_token` (the same token for every replica), cached, and fetched again
  when WeChat says it expired.
- A message WeChat retries (same MsgId; events by sender, time and event) is
  handled once across replicas (channels.deliveries); a retry is
  acknowledged with "success", never answered twice.
- The conversation id is "wechat:" + the OpenID, which the connector vouches
  for to the action server (bot.domain.identity): a borrower whose
  `wechat_openid` is on file is asked only for the date of birth. WeChat has
  no buttons, so they become numbered options (channels.text_options).
- Messages the assistant starts (`python -m bot remind`, through Rasa's
  trigger_intent) may reach a follower who has not written in 48 hours, which
  only template messages may: the reminder's opening
  (`utter_reminder_opening`, which never names the debt) goes as the
  WECHAT_TEMPLATE_ID template with the text in WECHAT_TEMPLATE_FIELD, anything
  after it as customer-service messages (refused by WeChat outside the 48
  hours, and logged; the borrower's reply continues the conversation).

Bad input never gets a 5xx: it is 400, 403 or 413, and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.bootstrap import services
from bot.domain.identity import WECHAT_CONVERSATION_PREFIX, WECHAT_OPENID
from channels.deliveries import Delivery, Refusal, claim_delivery, refusal_text, run_turn
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
from channels.wechat_protocol import (
    MAX_BODY_BYTES,
    BadMessage,
    WeChatCrypto,
    encrypted_reply,
    pack_texts,
    parse_xml,
    signature_ok,
    text_reply,
)

logger = logging.getLogger(__name__)

SUCCESS = "success"  # what WeChat takes as "received, no reply"
REMINDER_OPENING = "utter_reminder_opening"
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid or expired access token: fetch a new one and retry once
OUT_OF_WINDOW = 45015  # the follower has not written in 48 hours: only template messages may go
MAX_TEXT_CHARS = 5000
API_TIMEOUT = aiohttp.ClientTimeout(total=10)
TOKEN_MARGIN_SECONDS = 300  # refresh this long before WeChat says the token expires


def conversation_id(openid: str) -> str:
    return WECHAT_CONVERSATION_PREFIX + openid


def openid_of(conversation: str) -> str:
    return conversation.removeprefix(WECHAT_CONVERSATION_PREFIX)


class WeChatAPI:
    """The Official Account's server API: the access token, customer-service and
    template messages. Failures are logged (never the OpenID or the text) and
    reported as False; nothing is raised to the conversation."""

    def __init__(self, app_id: str, app_secret: str, base_url: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.base_url = base_url.rstrip("/")
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock: asyncio.Lock | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.app_secret)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._token_lock = None  # both belong to the event loop that is ending

    async def _post(self, path: str, body: dict, params: dict | None = None) -> dict:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=API_TIMEOUT)
        data = json.dumps(body, ensure_ascii=False).encode()  # WeChat shows \\u escapes literally
        async with self._session.post(
            self.base_url + path,
            params=params,
            data=data,
            headers={"Content-Type": "application/json; charset=utf-8"},
        ) as reply:
            result = await reply.json(content_type=None)
        return result if isinstance(result, dict) else {}

    async def access_token(self, *, stale: str | None = None) -> str | None:
        """The cached token, or a new one once it is near expiry or `stale` (refused by WeChat)."""
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if self._token and self._token != stale and time.monotonic() < self._token_until:
                return self._token
            try:
                result = await self._post(
                    "/cgi-bin/stable_token",
                    {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret},
                )
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                logger.error("wechat: could not get an access token (%s)", type(exc).__name__)
                return None
            token, expires = result.get("access_token"), result.get("expires_in")
            if not isinstance(token, str) or not token:
                logger.error("wechat: WeChat refused an access token (error %s)", result.get("errcode"))
                self._token = None
                return None
            lifetime = float(expires) if isinstance(expires, (int, float)) else 7200.0
            self._token = token
            self._token_until = time.monotonic() + max(60.0, lifetime - TOKEN_MARGIN_SECONDS)
            return token

    async def _call(self, path: str, body: dict) -> int:
        """WeChat's errcode (0 is success; -2 when WeChat could not be reached or asked)."""
        token = await self.access_token()
        for attempt in range(2):
            if token is None:
                return -2
            try:
                result = await self._post(path, body, params={"access_token": token})
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                logger.error("wechat: could not reach WeChat (%s)", type(exc).__name__)
                return -2
            code = result.get("errcode", 0)
            code = code if isinstance(code, int) else -2
            if code in TOKEN_ERRORS and attempt == 0:
                token = await self.access_token(stale=token)
                continue
            return code
        return -2

    async def send_text(self, openid: str, text: str) -> bool:
        """A customer-service message (within 48 hours of the follower's last message)."""
        code = await self._call(
            "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}}
        )
        if code == OUT_OF_WINDOW:
            logger.warning("wechat: a message was not sent: the follower has not written in 48 hours (45015)")
        elif code:
            logger.error("wechat: WeChat refused a customer-service message (error %s)", code)
        return code == 0

    async def send_template(self, openid: str, template_id: str, field: str, text: str) -> bool:
        """A template message: the one kind WeChat delivers outside the 48 hours."""
        code = await self._call(
            "/cgi-bin/message/template/send",
            {"touser": openid, "template_id": template_id, "data": {field: {"value": text}}},
        )
        if code:
            logger.error("wechat: WeChat refused a template message (error %s)", code)
        return code == 0


async def render_message(agent: Any, tracker: Any, message: dict) -> str:
    """One bot message as WeChat text: its text, and buttons as numbered options."""
    text = message.get("text") or ""
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if buttons:
        text = numbered_options(text, buttons, await reply_line(agent, tracker, "wechat", len(buttons)))
    if message.get("image"):
        text = f"{text}\n{message['image']}".strip()
    return text


class WeChatOutput(OutputChannel):
    """Messages the assistant starts through Rasa's HTTP API (reminders): the
    reminder's opening as a template message, anything else as customer-service
    messages. Replies to the follower's own messages do not come through here."""

    def __init__(self, api: WeChatAPI, template_id: str, template_field: str, agent: Callable[[], Any]) -> None:
        self.api = api
        self.template_id = template_id
        self.template_field = template_field
        self._agent = agent

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        openid = openid_of(recipient_id)
        agent = self._agent()
        text = await render_message(agent, await tracker_for(agent, recipient_id), message)
        if not text:
            return
        if message.get("utter_action") == REMINDER_OPENING:
            if not self.template_id:
                logger.error("wechat: WECHAT_TEMPLATE_ID is not set; a reminder's opening went as a normal message")
            else:
                await self.api.send_template(openid, self.template_id, self.template_field, text)
                return
        for part in pack_texts([text]):
            await self.api.send_text(openid, part)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class WeChatInput(MessagingInput):
    """The Official Account's server URL: signatures, encrypted mode, replies within 5 seconds."""

    identity_channel = "wechat"  # bot.domain.identity.ChannelIdentity.channel

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Values in credentials.yml win; the rest (secrets above all) come from settings."""
        credentials = credentials or {}
        settings = services().settings
        return cls(
            token=credentials.get("token") or settings.wechat_token,
            app_id=credentials.get("app_id") or settings.wechat_app_id,
            app_secret=credentials.get("app_secret") or settings.wechat_app_secret,
            encoding_aes_key=credentials.get("encoding_aes_key") or settings.wechat_encoding_aes_key,
            api_base_url=credentials.get("api_base_url") or settings.wechat_api_base_url,
            reply_seconds=float(credentials.get("reply_seconds") or settings.wechat_reply_seconds),
            template_id=credentials.get("template_id") or settings.wechat_template_id,
            template_field=credentials.get("template_field") or settings.wechat_template_field,
        )

    def __init__(
        self,
        token: str,
        app_id: str,
        app_secret: str,
        encoding_aes_key: str = "",
        api_base_url: str = "https://api.weixin.qq.com",
        reply_seconds: float = 4.5,
        template_id: str = "",
        template_field: str = "content",
    ) -> None:
        super().__init__()
        self.token = token
        self.reply_seconds = reply_seconds
        self.api = WeChatAPI(app_id, app_secret, api_base_url)
        self.template_id = template_id
        self.template_field = template_field
        self.crypto: WeChatCrypto | None = None
        self._bad_key = False
        if encoding_aes_key:
            try:
                self.crypto = WeChatCrypto(encoding_aes_key, app_id)
            except ValueError:
                self._bad_key = True  # every message is refused (403), and why is logged once
        self._output: WeChatOutput | None = None
        self._background: set[asyncio.Task] = set()

    # -- who may write ---------------------------------------------------

    def signed(self, request: Request) -> bool:
        """The query's `signature` over WECHAT_TOKEN, `timestamp` and `nonce`."""
        if not self.token:
            self._warn_once(
                "no_token", "wechat: WECHAT_TOKEN is not set, so nothing can be verified; all refused (403)"
            )
            return False
        args = request.args
        if not signature_ok(args.get("signature"), self.token, args.get("timestamp"), args.get("nonce")):
            logger.warning("wechat: a call with a missing or wrong signature was refused (403)")
            return False
        return True

    def _message(self, request: Request) -> dict[str, str] | HTTPResponse:
        """The follower's message from a signed body (decrypted when encrypted), or the refusal.

        The fields carry `Encrypt` when the message came encrypted, so the reply is too."""
        if len(request.body or b"") > MAX_BODY_BYTES:
            logger.warning("wechat: a body over %d bytes was refused (413)", MAX_BODY_BYTES)
            return response.text("payload too large", status=413)
        try:
            fields = parse_xml(request.body)
        except BadMessage:
            logger.warning("wechat: a signed body that is not a WeChat message was refused (400)")
            return response.text("bad request", status=400)
        encrypted = request.args.get("encrypt_type") == "aes" or "Encrypt" in fields
        if self.crypto is None:
            if encrypted and "MsgType" not in fields:  # 安全模式 without the key (兼容模式 has plaintext too)
                self._warn_once(
                    "no_key",
                    "wechat: an encrypted message arrived and WECHAT_ENCODING_AES_KEY is not set; refused (400)",
                )
                return response.text("bad request", status=400)
            return {name: value for name, value in fields.items() if name != "Encrypt"}
        if not encrypted:
            return fields  # plaintext mode (signed like every call): answered in plaintext
        if not fields.get("Encrypt"):
            logger.warning("wechat: a message marked encrypted without Encrypt was refused (400)")
            return response.text("bad request", status=400)
        args = request.args
        if not signature_ok(
            args.get("msg_signature"), self.token, args.get("timestamp"), args.get("nonce"), fields["Encrypt"]
        ):
            logger.warning("wechat: an encrypted message with a missing or wrong msg_signature was refused (403)")
            return response.text("forbidden", status=403)
        try:
            return {**parse_xml(self.crypto.decrypt(fields["Encrypt"])), "Encrypt": fields["Encrypt"]}
        except BadMessage:
            logger.warning("wechat: an encrypted message that does not decrypt for this account was refused (400)")
            return response.text("bad request", status=400)

    # -- Rasa plumbing ---------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self._webhook_blueprint("wechat_webhook")

        @webhook.listener("after_server_stop")
        async def close_session(_app: Sanic, _loop: Any) -> None:
            for task in list(self._background):
                task.cancel()
            await self.api.close()

        @webhook.route("/webhook", methods=["GET"])
        async def url_check(request: Request) -> HTTPResponse:
            """The console's server-URL check: echo `echostr` to a signed call."""
            echostr = request.args.get("echostr") or ""
            if not self.signed(request):
                return response.text("forbidden", status=403)
            if not echostr or len(echostr) > 128:
                return response.text("bad request", status=400)
            return response.text(echostr)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            started = time.monotonic()
            self._app = request.app
            if self._bad_key:
                self._warn_once("bad_key", "wechat: WECHAT_ENCODING_AES_KEY is not a valid key; all refused (403)")
                return response.text("forbidden", status=403)
            if not self.signed(request):
                return response.text("forbidden", status=403)
            fields = self._message(request)
            if isinstance(fields, HTTPResponse):
                return fields
            return await self._handle(request, fields, on_new_message, started)

        return webhook

    async def _handle(
        self,
        request: Request,
        fields: dict[str, str],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        started: float,
    ) -> HTTPResponse:
        openid = fields.get("FromUserName", "").strip()
        account = fields.get("ToUserName", "").strip()
        query_openid = request.args.get("openid")
        if (
            not WECHAT_OPENID.fullmatch(openid)
            or not account
            or len(account) > 64
            or query_openid not in (None, openid)
        ):
            logger.warning("wechat: a signed message without a usable sender was refused (400)")
            return response.text("bad request", status=400)
        msg_type = fields.get("MsgType", "").strip().lower()
        event = fields.get("Event", "").strip().lower()
        if msg_type == "event":
            message_id = f"event:{openid}:{fields.get('CreateTime', '').strip()}:{event}"
            if event == "unsubscribe":
                return await self._unsubscribe(openid, message_id)
            if event != "subscribe":
                return response.text(SUCCESS)  # menu clicks, scans, locations ...: nothing to answer
            text: str | None = "/greet"  # following the account: the assistant introduces itself
        elif msg_type == "text":
            message_id, text = fields.get("MsgId", "").strip(), fields.get("Content")
        elif msg_type == "voice" and fields.get("Recognition", "").strip():
            message_id, text = fields.get("MsgId", "").strip(), fields["Recognition"]  # WeChat's own transcript
        else:
            return response.text(SUCCESS)  # pictures, stickers, links ...: not answered
        if text is None or len(text) > MAX_TEXT_CHARS or len(message_id) > 128:
            logger.warning("wechat: a signed message without usable text was refused (400)")
            return response.text("bad request", status=400)
        if not text.strip():
            return response.text(SUCCESS)

        agent = self._agent()
        delivery = claim_delivery(agent, self.name(), message_id or None)
        if delivery.state != "new":
            # A retry: handled (or being handled) once; its replies go once.
            logger.info("wechat: a repeated delivery of a message was acknowledged (%s)", delivery.state)
            return response.text(SUCCESS)
        sender = conversation_id(openid)
        text = resolve_reply(text, pending_buttons(await tracker_for(agent, sender)))
        collector = TurnCollector(self.name())
        message = UserMessage(
            text,
            collector,
            sender,
            input_channel=self.name(),
            metadata=identity_metadata(self.identity_channel, "wechat_openid", openid, conversation_id=sender),
        )
        turn = asyncio.ensure_future(run_turn(agent, lambda: on_new_message(message), self.name()))
        budget = self.reply_seconds - (time.monotonic() - started)
        done, _ = await asyncio.wait({turn}, timeout=max(0.0, budget))
        if turn not in done:
            # Too slow for WeChat's 5 seconds: acknowledge now, send through the API when done.
            self._in_background(self._reply_later(turn, delivery, collector, sender))
            return response.text(SUCCESS)
        refusal = turn.result()
        texts = await self._outcome(refusal, delivery, collector, sender)
        if texts is None:
            return refusal.as_text() if refusal is not None else response.text(SUCCESS)
        if len(texts) > 1:  # more than one message: all through the API, in order
            self._in_background(self._send_all(openid, texts))
            return response.text(SUCCESS)
        if not texts:
            return response.text(SUCCESS)
        reply = text_reply(openid, account, texts[0], int(time.time()))
        if self.crypto is not None and "Encrypt" in fields:  # answered the way it came
            reply = encrypted_reply(self.crypto, self.token, reply, str(int(time.time())), secrets.token_hex(8))
        return response.text(reply, content_type="application/xml")

    async def _outcome(
        self, refusal: Refusal | None, delivery: Delivery, collector: TurnCollector, sender: str
    ) -> list[str] | None:
        """What the follower reads after a turn: its replies, or after a refusal "please send
        it again" in their language (None when even that cannot be said)."""
        agent = self._agent()
        if refusal is not None:
            delivery.failed()  # a retry of this message will be handled
            apology = await refusal_text(agent, sender, self.name())
            return pack_texts([apology]) if apology else None
        delivery.succeeded()
        tracker = await tracker_for(agent, sender)
        return pack_texts([await render_message(agent, tracker, m) for m in collector.messages])

    async def _reply_later(
        self, turn: asyncio.Future, delivery: Delivery, collector: TurnCollector, sender: str
    ) -> None:
        texts = await self._outcome(await turn, delivery, collector, sender)
        await self._send_all(openid_of(sender), texts or [])

    async def _send_all(self, openid: str, texts: list[str]) -> None:
        for text in texts:
            if not await self.api.send_text(openid, text):
                return  # the rest would be out of order

    def _in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _unsubscribe(self, openid: str, message_id: str) -> HTTPResponse:
        """Unfollowing the account is an opt-out of WeChat: for every borrower with this
        OpenID on file and the borrower verified in this conversation. Nothing is sent."""
        agent = self._agent()
        delivery = claim_delivery(agent, self.name(), message_id)
        if delivery.state != "new":
            return response.text(SUCCESS)
        sender = conversation_id(openid)
        tracker = await tracker_for(agent, sender)
        verified = (
            tracker.get_slot("verified_loan_ref") if tracker is not None and tracker.get_slot("verified") else None
        )
        try:
            count = await asyncio.get_running_loop().run_in_executor(None, record_unsubscribe, openid, sender, verified)
        except Exception as exc:  # the database is down: WeChat retries, the opt-out must not be lost
            delivery.failed()
            logger.error("wechat: an unsubscribe could not be recorded (%s; 503)", type(exc).__name__)
            return response.text("the opt-out could not be recorded; send it again", status=503)
        delivery.succeeded()
        logger.info("wechat: an unsubscribe was recorded as an opt-out of WeChat for %d borrower(s)", count)
        return response.text(SUCCESS)

    def get_output_channel(self) -> OutputChannel | None:
        if self._output is None:
            if not self.api.configured:
                self._warn_once(
                    "no_output", "wechat: WECHAT_APP_ID and WECHAT_APP_SECRET are needed to send messages; dropped"
                )
                return None
            self._output = WeChatOutput(self.api, self.template_id, self.template_field, self._agent)
        return self._output


def record_unsubscribe(openid: str, conversation: str, verified_loan_ref: str | None) -> int:
    """Opt every borrower at this OpenID (and the one verified in the conversation) out of WeChat."""
    store = services().store
    loans = set(store.loans_at_address("wechat_openid", openid))
    if verified_loan_ref:
        loans.add(verified_loan_ref)
    for loan_ref in sorted(loans):
        store.record_opt_out(loan_ref, "wechat", conversation_id=conversation, requested_on="wechat")
    return len(loans)
