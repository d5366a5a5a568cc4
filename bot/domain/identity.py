"""Who a channel says the borrower is: the first verification factor.

Two kinds of token, both JWT HS256:

- A **widget token**, signed by the lender's host app with `WIDGET_JWT_SECRET`
  for a logged-in borrower (`loan_ref`, optionally `sub` = the app's user id).
- A **channel identity**, signed by our own connectors with
  `CHANNEL_IDENTITY_SECRET` after they have checked the channel themselves (a
  valid widget token, a Twilio-signed webhook from a phone number, a
  Telegram-signed update from a chat id, a WeChat-signed message from an
  OpenID). It travels to the action server in the message metadata under
  `METADATA_KEY`, is good for ten minutes and for the one conversation it was
  minted for.

The action server trusts only a channel identity it can verify, never plain
metadata: the REST channel lets a client send any metadata it likes. Either way
the borrower still gives their date of birth before anything about the loan is
said.

Conversation ids: the widget's are random (`web-` + 32 hex digits, `web-anon-`
for anonymous visitors: one conversation per device, see channels/socketio.py);
SMS uses the phone number (`+447700900001`), WhatsApp `whatsapp:` + it,
Telegram the chat id (digits, negative for groups), WeChat `wechat:` + the
borrower's OpenID on the lender's Official Account. Only those channels may
write to such conversations: `another_channels_conversation` tells the REST
channel which sender ids to refuse.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
METADATA_KEY = "channel_identity"
IDENTITY_TTL = timedelta(minutes=10)
KINDS = ("loan_ref", "phone", "telegram_chat_id", "wechat_openid")
WEB_CONVERSATION_PREFIX = "web-"  # the widget's conversations (channels/socketio.py)
WECHAT_CONVERSATION_PREFIX = "wechat:"  # + the OpenID (channels/wechat.py)
# A WeChat OpenID: 28 letters, digits, "-" and "_" today; room is left for longer ones.
WECHAT_OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")
# Conversation ids the messaging channels use: a phone number (SMS), a scheme such
# as "whatsapp:" before it, a Telegram chat id.
_MESSAGING_CONVERSATION = re.compile(r"\+|[a-z][a-z0-9+.\-]*:|-?[0-9]+$")


class InvalidIdentity(Exception):
    """A token that is missing, forged, expired or not for this purpose."""


@dataclass(frozen=True)
class ChannelIdentity:
    channel: str  # web, twilio_sms, whatsapp, telegram, wechat
    kind: str  # loan_ref, phone, telegram_chat_id or wechat_openid
    value: str


@dataclass(frozen=True)
class WidgetLogin:
    """What a valid widget token says: the loan, and the host app's user when it names one."""

    loan_ref: str
    subject: str | None = None  # the `sub` claim (the host app's user id), if any


def read_widget_token(token: str, secret: str, *, now: datetime) -> str:
    """The loan reference a host app's token vouches for; raise InvalidIdentity otherwise."""
    return read_widget_login(token, secret, now=now).loan_ref


def read_widget_login(token: str, secret: str, *, now: datetime) -> WidgetLogin:
    """The loan (and user) a host app's token vouches for; raise InvalidIdentity otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "loan_ref"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidIdentity(type(exc).__name__) from None
    # Expiry is checked against our clock so tests (and a skewed host) behave.
    if _expiry(claims) <= now.timestamp():
        raise InvalidIdentity("expired")
    loan_ref = claims["loan_ref"]
    if not isinstance(loan_ref, str) or not 1 <= len(loan_ref) <= 32:
        raise InvalidIdentity("bad loan_ref claim")
    subject = claims.get("sub")
    if subject is not None and (not isinstance(subject, str) or len(subject) > 256):
        raise InvalidIdentity("bad sub claim")
    return WidgetLogin(loan_ref, subject or None)


def widget_token(loan_ref: str, secret: str, *, now: datetime, ttl: timedelta = timedelta(hours=1)) -> str:
    """What a host app signs for a logged-in borrower (used by the demo page and tests)."""
    claims = {"loan_ref": loan_ref, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def mint_channel_identity(identity: ChannelIdentity, secret: str, *, now: datetime, conversation_id: str) -> str:
    """Sign what a connector vouches for, for one conversation only (a token copied
    into another conversation is refused)."""
    if identity.kind not in KINDS:
        raise ValueError(f"unknown identity kind {identity.kind!r}")
    claims = {
        "purpose": "channel_identity",
        "conversation": conversation_id,
        "channel": identity.channel,
        "kind": identity.kind,
        "value": identity.value,
        "iat": int(now.timestamp()),
        "exp": int((now + IDENTITY_TTL).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_channel_identity(token: object, secret: str, *, now: datetime, conversation_id: str) -> ChannelIdentity:
    if not isinstance(token, str) or len(token) > 4096:
        raise InvalidIdentity("not a token")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"], "verify_exp": False})
    except jwt.PyJWTError as exc:
        raise InvalidIdentity(type(exc).__name__) from None
    if _expiry(claims) <= now.timestamp():
        raise InvalidIdentity("expired")
    if claims.get("purpose") != "channel_identity" or claims.get("kind") not in KINDS:
        raise InvalidIdentity("not a channel identity")
    if claims.get("conversation") != conversation_id:
        raise InvalidIdentity("for another conversation")
    return ChannelIdentity(str(claims["channel"]), str(claims["kind"]), str(claims["value"]))


def another_channels_conversation(conversation_id: str) -> bool:
    """Whether an id has the shape of a conversation that another channel owns
    (see the module docstring): the widget's, a phone number, a WhatsApp or
    other `scheme:` address, a Telegram chat id.

    The REST channel refuses such sender ids, so nobody writes into (or reads
    the replies of) a borrower's conversation on a channel that checked who
    they are.
    """
    text = conversation_id.strip().lower()
    return text.startswith(WEB_CONVERSATION_PREFIX) or _MESSAGING_CONVERSATION.match(text) is not None


def _expiry(claims: dict[str, Any]) -> int | float:
    """The `exp` claim as a number; anything else (text, a list, true, NaN) is refused."""
    exp = claims.get("exp")
    if (
        isinstance(exp, bool)
        or not isinstance(exp, (int, float))
        or (isinstance(exp, float) and not math.isfinite(exp))
    ):
        raise InvalidIdentity("bad exp claim")
    return exp
