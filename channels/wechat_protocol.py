"""The WeChat Official Account (公众号) message protocol, without I/O.

- **Signatures.** WeChat signs every call to the server URL: `signature` is the
  SHA-1 of the token, `timestamp` and `nonce` sorted and joined. In encrypted
  mode (安全模式) `msg_signature` adds the `Encrypt` field to the four.
- **Encrypted mode.** `WECHAT_ENCODING_AES_KEY` (43 characters from the
  console) is the base64 of a 32-byte AES-256 key, whose first 16 bytes are the
  CBC initialisation vector. The plaintext is 16 random bytes, the message's
  length (4 bytes, network order), the message and the app id, padded PKCS#7
  to a multiple of 32 bytes; the whole is sent as base64.
- **XML.** Bodies are parsed with defusedxml (no DTD, no entities, no external
  references) after a size check; only the root's direct children are read.
  Replies are built here, so text always travels as escaped CDATA.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException

MAX_BODY_BYTES = 64 * 1024  # a WeChat message is a few hundred bytes; an event rarely over 2 KB
TEXT_LIMIT_BYTES = 2048  # the longest text message WeChat delivers, passive reply or customer-service
_BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class BadMessage(ValueError):
    """A body that is not a message WeChat would send (the caller answers 400)."""


# ---------------------------------------------------------------- signatures


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """SHA-1 over the sorted strings joined: `signature`, or `msg_signature` with `Encrypt`."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *extra])).encode()).hexdigest()


def signature_ok(given: str | None, token: str, timestamp: str | None, nonce: str | None, *extra: str) -> bool:
    if not (given and token and timestamp and nonce):
        return False
    return hmac.compare_digest(given.lower().encode(), signature(token, timestamp, nonce, *extra).encode())


# ---------------------------------------------------------------- encrypted mode


def aes_key(encoding_aes_key: str) -> bytes:
    """The AES key behind the console's EncodingAESKey; ValueError if it is not one."""
    if not re.fullmatch(r"[A-Za-z0-9+/]{43}", encoding_aes_key or ""):
        raise ValueError("WECHAT_ENCODING_AES_KEY must be the 43 letters and digits the console shows")
    return base64.b64decode(encoding_aes_key + "=")


class WeChatCrypto:
    """Encrypts and decrypts the `Encrypt` field for one Official Account."""

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self._key = aes_key(encoding_aes_key)
        self.app_id = app_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        body = message.encode()
        plain = (random_prefix or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        pad = _BLOCK - len(plain) % _BLOCK
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The message inside; BadMessage if it was not encrypted with our key for our app id."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise BadMessage("Encrypt is not base64") from None
        if not data or len(data) % 16:
            raise BadMessage("Encrypt is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) - pad < 20:
            raise BadMessage("bad padding")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        body, app_id = content[4 : 4 + length], content[4 + length :]
        if len(body) != length or not hmac.compare_digest(app_id, self.app_id.encode()):
            raise BadMessage("not for this app id")
        try:
            return body.decode()
        except UnicodeDecodeError:
            raise BadMessage("not UTF-8") from None


# ---------------------------------------------------------------- XML


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The `<xml>` root's direct children with no children of their own, as text."""
    raw = body.encode() if isinstance(body, str) else body
    if not raw or len(raw) > MAX_BODY_BYTES:
        raise BadMessage("empty or too large")
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError, LookupError, UnicodeError, RecursionError):
        raise BadMessage("not well-formed XML, or XML with a DTD or entities") from None
    if root.tag != "xml":
        raise BadMessage("the root is not <xml>")
    return {child.tag: child.text or "" for child in root if isinstance(child.tag, str) and len(child) == 0}


def cdata(text: str) -> str:
    """Text as CDATA ("]]>" split across two sections; characters XML cannot carry dropped)."""
    return "<![CDATA[" + _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, created: int) -> str:
    """A passive reply: one text message to the follower who wrote."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(created)}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def encrypted_reply(crypto: WeChatCrypto, token: str, reply: str, timestamp: str, nonce: str) -> str:
    """A passive reply in encrypted mode: the reply encrypted and signed."""
    encrypted = crypto.encrypt(reply)
    return (
        f"<xml><Encrypt>{cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{cdata(signature(token, timestamp, nonce, encrypted))}</MsgSignature>"
        f"<TimeStamp>{cdata(timestamp)}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )


# ---------------------------------------------------------------- texts


def pack_texts(texts: list[str], limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """A turn's messages as few WeChat texts as fit `limit` bytes each: consecutive
    messages joined by a blank line; one too long for a message split at line breaks
    (or, failing that, between characters)."""
    pieces: list[str] = []
    for text in (t.strip() for t in texts):
        if text:
            pieces.extend(_split(text, limit))
    packed: list[str] = []
    for piece in pieces:
        if packed and len((packed[-1] + "\n\n" + piece).encode()) <= limit:
            packed[-1] += "\n\n" + piece
        else:
            packed.append(piece)
    return packed


def _split(text: str, limit: int) -> list[str]:
    if len(text.encode()) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        while len(line.encode()) > limit:  # one line longer than a message
            cut = len(line.encode()[:limit].decode(errors="ignore"))
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        parts.append(current)
    return parts
