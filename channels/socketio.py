"""The in-app widget's socket.io channel, with the conversation bound by the server.

Rasa's stock socket.io channel lets the client name the conversation (the
`session_id` of `session_request` and of every message), so anyone who learns
an id can read and write that conversation. Here the server decides, once, when
the socket connects, and ignores any `session_id` or metadata a client sends:

- **logged-in borrower**: the host app's widget token (JWT HS256,
  `WIDGET_JWT_SECRET`) comes in the socket.io v4 `auth` payload (`{"token": ...}`).
  Every message carries a signed channel identity, so the assistant asks only
  for the date of birth. The conversation belongs to this device, not to the
  loan: a new random `web-…` conversation, or the one named by a resume ticket
  (`{"token": ..., "ticket": ...}`) signed for the same loan (and the same
  host-app user, the token's `sub`, when it names one). Another device, or
  anyone else holding a token for the loan, starts a conversation of its own and
  must give the date of birth again; it never sees this one's history;
- **anonymous visitor**: a new random `web-anon-…` conversation, or the one named
  by an anonymous resume ticket (`{"ticket": ...}`);
- **invalid or expired token**: treated as anonymous (the borrower can still
  verify by typing the loan reference); `session_confirm` says
  `token_rejected: true` so the host app can log the borrower in again.

A ticket is signed by this server (CHANNEL_IDENTITY_SECRET), names one
conversation and, for a borrower's, the loan; it lasts 24 hours from its last
use. A forged, unsigned or expired ticket, an anonymous ticket with a token, or
a borrower's ticket without a token for that loan, gets a fresh conversation.

After `session_request` the socket receives `session_confirm` (with a fresh
ticket) and then `history`: the user and bot messages of the conversation's
current session, replayed from the tracker store, so a reload on the same device
shows the conversation again. A message that could not be processed (its
conversation's queue full, or a failure) gets `message_refused`: the domain's
`utter_message_not_processed` in the borrower's language and `retry_after`
seconds; nothing was done with it (channels/deliveries.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from socketio import AsyncRedisManager, AsyncServer
from socketio.exceptions import ConnectionRefusedError as Refused

from bot.domain.clock import utcnow
from bot.domain.identity import (
    METADATA_KEY,
    WEB_CONVERSATION_PREFIX,
    ChannelIdentity,
    InvalidIdentity,
    mint_channel_identity,
    read_widget_login,
)
from channels.deliveries import refusal_text, run_turn

logger = logging.getLogger(__name__)

CHANNEL = "web"
REFUSED_EVENT = "message_refused"  # a message that was not processed (channels/deliveries.py)
BORROWER_PREFIX = WEB_CONVERSATION_PREFIX  # a logged-in borrower's conversation on one device
ANONYMOUS_PREFIX = WEB_CONVERSATION_PREFIX + "anon-"
_CONVERSATION_ID = re.compile(r"web-(anon-)?[0-9a-f]{32}")
MAX_MESSAGE_CHARS = 2000  # longer messages are cut; nobody types more into a chat box
MAX_PAYLOAD_BYTES = 64 * 1024  # engine.io closes sockets that send bigger packets
MAX_TOKEN_CHARS = 4096
DOB_MASK = "••••••"
RESUME_TICKET_HOURS = 24
TICKET_CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True)
class Binding:
    """The conversation one socket is bound to, decided when it connects."""

    conversation_id: str
    loan_ref: str | None = None  # set when a valid widget token vouched for it
    ticket: str | None = None  # resumes this conversation on this device (with the token, for a borrower's)
    token_rejected: bool = False

    def confirmation(self) -> dict[str, Any]:
        return {
            "session_id": self.conversation_id,
            "ticket": self.ticket,
            "identified": self.loan_ref is not None,
            "token_rejected": self.token_rejected,
        }


def new_conversation_id(*, anonymous: bool) -> str:
    return (ANONYMOUS_PREFIX if anonymous else BORROWER_PREFIX) + uuid.uuid4().hex


def sign_ticket(
    conversation_id: str, secret: str, *, now: datetime, loan_ref: str | None = None, subject: str | None = None
) -> str:
    """A resume ticket: for an anonymous conversation, or for a borrower's together
    with the loan (and the host app's user, when the token names one)."""
    issued = int(now.timestamp())
    return f"{conversation_id}.{issued}.{_ticket_mac(conversation_id, issued, loan_ref, subject, secret)}"


def _ticket_mac(conversation_id: str, issued: int, loan_ref: str | None, subject: str | None, secret: str) -> str:
    if loan_ref is None:
        message = f"resume:{conversation_id}:{issued}"
    else:  # JSON, so no loan reference or user id can pass for another
        message = json.dumps(["resume", conversation_id, issued, loan_ref, subject])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def read_ticket(
    ticket: object, secret: str, *, now: datetime, loan_ref: str | None = None, subject: str | None = None
) -> str | None:
    """The conversation a ticket signed by us names, else None.

    Without `loan_ref` only an anonymous conversation can be resumed; with it
    (the loan a valid widget token vouches for, and its `sub`) only a borrower's
    conversation whose ticket was signed for that same loan and user. A ticket
    lasts RESUME_TICKET_HOURS from its last use (every connection gets a fresh
    one), so a shared device forgets.
    """
    if not isinstance(ticket, str) or len(ticket) > 200 or ticket.count(".") != 2:
        return None
    conversation_id, issued_text, mac = ticket.split(".")
    if not _CONVERSATION_ID.fullmatch(conversation_id) or not issued_text.isdigit() or len(issued_text) > 12:
        return None
    if conversation_id.startswith(ANONYMOUS_PREFIX) != (loan_ref is None):
        return None
    issued = int(issued_text)
    if not hmac.compare_digest(_ticket_mac(conversation_id, issued, loan_ref, subject, secret), mac):
        return None
    age = now.timestamp() - issued
    if not -TICKET_CLOCK_SKEW_SECONDS <= age <= RESUME_TICKET_HOURS * 3600:
        return None
    return conversation_id


def message_text(data: object) -> str | None:
    """The text of a `user_uttered` payload, or None for anything unusable."""
    if isinstance(data, str):  # a bare string is accepted too
        text = data
    elif isinstance(data, dict) and isinstance(data.get("message"), str):
        text = data["message"]
    else:
        return None
    text = text.strip()[:MAX_MESSAGE_CHARS]
    return text or None


def _event_time(event: dict) -> float:
    try:
        return float(event.get("timestamp") or 0)
    except (TypeError, ValueError):
        return 0.0


def history_messages(events: list[dict], *, session_minutes: float, now: datetime) -> list[dict]:
    """User and bot messages of the conversation's current session, as the widget shows them.

    An expired session (idle longer than the domain's session expiration time)
    is not replayed: the next message starts a new one, and an old account
    summary should not reappear to whoever opens the page later. A button
    payload the borrower clicked is shown as the button's title.
    """
    # A session begins with action_session_start, whose greeting comes before its session_started.
    starts = [i for i, e in enumerate(events) if e.get("event") == "action" and e.get("name") == "action_session_start"]
    starts = starts or [i for i, e in enumerate(events) if e.get("event") == "session_started"]
    current = events[starts[-1] :] if starts else events
    if not current:
        return []
    if session_minutes > 0 and now.timestamp() - _event_time(current[-1]) > session_minutes * 60:
        return []

    messages: list[dict] = []
    titles: dict[str, str] = {}  # payload -> title of the latest buttons shown
    # The borrower's first message is what started the session: the widget showed it
    # before the greeting, though the tracker logs it after.
    opening = current[0].get("event") == "action" and current[0].get("name") == "action_session_start"
    asked_for_dob = False  # a date of birth typed as an answer is never shown again
    for event in current:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "requested_slot":
            asked_for_dob = event.get("value") == "date_of_birth"
        elif kind == "bot":
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in (event.get("data") or {}).get("buttons") or []
                if isinstance(b, dict)
            ]
            if buttons:
                titles = {b["payload"]: b["title"] for b in buttons}
            parts = (event.get("text") or "").strip().split("\n\n")
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                if part or (last and buttons):
                    messages.append({"sender": "bot", "text": part, "buttons": buttons if last else []})
        elif kind == "user":
            text = event.get("text") or ""
            external = (event.get("metadata") or {}).get("is_external") or text.startswith("EXTERNAL: ")
            if not external:  # reminders and other server-triggered intents are not the borrower's words
                message = {"sender": "user", "text": DOB_MASK if asked_for_dob else titles.get(text, text)}
                if opening:
                    messages.insert(0, message)
                else:
                    messages.append(message)
            opening = False
        elif kind == "action" and event.get("name") not in ("action_session_start", "action_listen"):
            opening = False
    return messages


class _AppBlueprint(SocketBlueprint):
    """Remembers the Sanic app it is registered on: the agent (tracker store) lives there."""

    def register(self, app: Sanic, options: dict) -> None:
        self.ctx.app = app
        super().register(app, options)


class SecureSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with server-bound conversations (see the module docstring).

    credentials.yml:

        channels.socketio.SecureSocketIOInput:
          user_message_evt: user_uttered
          bot_message_evt: bot_uttered

    Secrets and allowed origins come from the settings (WIDGET_JWT_SECRET,
    CHANNEL_IDENTITY_SECRET, WIDGET_ORIGINS: by default only the widget page's
    own origin), never from credentials.yml.
    """

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        from bot.bootstrap import services

        credentials = credentials or {}
        settings = services().settings
        return cls(
            widget_secret=settings.widget_jwt_secret,
            identity_secret=settings.channel_identity_secret,
            origins=",".join(settings.allowed_origins()),
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            redis_url=settings.lock_store_url,
        )

    def __init__(
        self,
        *,
        widget_secret: str,
        identity_secret: str,
        origins: str = "*",
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
        redis_url: str = "",
    ) -> None:
        super().__init__(user_message_evt, bot_message_evt, socketio_path=socketio_path)
        # With several replicas a borrower's socket is open on one of them, but a
        # reply may start on another (a reminder through the HTTP API); through
        # Redis, python-socketio delivers it to the replica holding the socket.
        self.redis_url = redis_url
        self.widget_secret = widget_secret
        self.identity_secret = identity_secret
        self.origins = {o.strip().rstrip("/") for o in origins.split(",") if o.strip()}
        self.bindings: dict[str, Binding] = {}  # socket id -> binding

    # --- the decisions (no socket involved) ---

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers always send Origin; other clients may not, and could fake it anyway."""
        return "*" in self.origins or not origin or origin.rstrip("/") in self.origins

    def bind(self, auth: object, *, now: datetime) -> Binding:
        """The conversation for a new socket: decided here, never by the client.

        Verification belongs to the device's conversation: a token alone (a
        second device, a copied or leaked token) always starts a new one, so the
        date of birth is asked again and no earlier history is shown.
        """
        auth = auth if isinstance(auth, dict) else {}
        token = auth.get("token")
        token_rejected = False
        loan_ref: str | None = None
        subject: str | None = None
        if token:
            try:
                if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
                    raise InvalidIdentity("not a token")
                login = read_widget_login(token, self.widget_secret, now=now)
                loan_ref, subject = login.loan_ref, login.subject
            except InvalidIdentity as exc:
                logger.info("widget token refused (%s): continuing as an anonymous visitor", exc)
                token_rejected = True
        secret = self.identity_secret
        conversation_id = read_ticket(auth.get("ticket"), secret, now=now, loan_ref=loan_ref, subject=subject)
        if conversation_id is None:
            conversation_id = new_conversation_id(anonymous=loan_ref is None)
        return Binding(
            conversation_id,
            loan_ref=loan_ref,
            ticket=sign_ticket(conversation_id, secret, now=now, loan_ref=loan_ref, subject=subject),
            token_rejected=token_rejected,
        )

    def metadata_for(self, binding: Binding, *, now: datetime) -> dict[str, Any]:
        """Only what the server vouches for; a client's own metadata is never passed on."""
        if binding.loan_ref is None:
            return {}
        identity = ChannelIdentity(CHANNEL, "loan_ref", binding.loan_ref)
        return {
            METADATA_KEY: mint_channel_identity(
                identity, self.identity_secret, now=now, conversation_id=binding.conversation_id
            )
        }

    # --- the socket ---

    async def history(self, app: Sanic | None, conversation_id: str) -> list[dict]:
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return []
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return []
        session_minutes = agent.domain.session_config.session_expiration_time if agent.domain else 0
        events = [event.as_dict() for event in tracker.events]
        return history_messages(events, session_minutes=session_minutes, now=utcnow())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # CORS is left to Sanic (rasa run --cors); the widget uses WebSocket only,
        # and the Origin header is checked in `connect`.
        manager = AsyncRedisManager(self.redis_url, channel="debtbot-socketio") if self.redis_url else None
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=MAX_PAYLOAD_BYTES, client_manager=manager
        )
        blueprint = _AppBlueprint(sio, self.socketio_path, "secure_socketio_webhook", __name__)
        self.sio = sio

        @blueprint.route("/", methods=["GET"])
        async def health(_request):
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: dict, auth: object = None) -> None:
            if not self.origin_allowed(environ.get("HTTP_ORIGIN")):
                raise Refused("origin not allowed")
            try:
                binding = self.bind(auth, now=utcnow())
            except Exception as exc:  # a hostile handshake never breaks the server: a fresh conversation
                logger.error(
                    "could not read a widget handshake (%s): a fresh anonymous conversation", type(exc).__name__
                )
                binding = self.bind(None, now=utcnow())
            self.bindings[sid] = binding
            await sio.enter_room(sid, binding.conversation_id)

        @sio.on("disconnect")
        async def disconnect(sid: str, *_reason: Any) -> None:
            self.bindings.pop(sid, None)

        @sio.on("session_request")
        async def session_request(sid: str, _data: object = None) -> None:
            binding = self.bindings.get(sid)
            if binding is None:
                return
            await sio.emit("session_confirm", binding.confirmation(), room=sid)
            try:
                messages = await self.history(getattr(blueprint.ctx, "app", None), binding.conversation_id)
            except Exception as exc:  # a history we can't read must not break the chat
                logger.error("could not replay the conversation history: %s", type(exc).__name__)
                messages = []
            await sio.emit("history", {"messages": messages}, room=sid)

        @sio.on(self.user_message_evt)
        async def user_message(sid: str, data: object = None) -> None:
            binding = self.bindings.get(sid)
            text = message_text(data)
            if binding is None or text is None:
                return
            message = UserMessage(
                text,
                SocketIOOutput(sio, self.bot_message_evt),
                binding.conversation_id,
                input_channel=self.name(),
                metadata=self.metadata_for(binding, now=utcnow()),
            )
            agent = getattr(getattr(getattr(blueprint.ctx, "app", None), "ctx", None), "agent", None)
            refusal = await run_turn(agent, lambda: on_new_message(message), self.name())
            if refusal is not None:  # nothing was done with it: the borrower is asked to send it again
                text = await refusal_text(agent, binding.conversation_id, self.name())
                await sio.emit(
                    REFUSED_EVENT,
                    {"text": text, "retry_after": refusal.retry_after, "status": refusal.status},
                    room=sid,
                )

        return blueprint
