"""The payment webhook's signature (issue 14): HMAC-SHA256 over the timestamp and the body.

The sender (the lender's payment page or provider) sends

    X-Payment-Timestamp: 1765015200                 (Unix seconds)
    X-Payment-Signature: sha256=<hex HMAC-SHA256 of "1765015200." + body, keyed by PAYMENT_WEBHOOK_SECRET>

A timestamp further than the tolerance from our clock is refused, so a captured
delivery cannot be replayed later; within it a replay is harmless, because a payment
is recorded once per payment_id. Several signatures may be given, comma-separated
(while the secret is being rotated); one valid one is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TIMESTAMP_HEADER = "X-Payment-Timestamp"
SIGNATURE_HEADER = "X-Payment-Signature"
SCHEME = "sha256="
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-f]{64}")
MAX_SIGNATURES = 4


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header's value for this timestamp and body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SCHEME + digest


def signature_problem(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float, tolerance_seconds: int
) -> str | None:
    """Why a delivery's signature is not good (missing_signature, bad_timestamp,
    stale_timestamp, bad_signature), or None when it is."""
    if not secret:
        raise ValueError("no secret to check signatures with")
    if not timestamp or not signature:
        return "missing_signature"
    timestamp = timestamp.strip()
    if not _TIMESTAMP.fullmatch(timestamp):
        return "bad_timestamp"
    if abs(now - int(timestamp)) > tolerance_seconds:
        return "stale_timestamp"
    expected = sign(secret, timestamp, body)
    for part in signature.split(",")[:MAX_SIGNATURES]:
        candidate = part.strip().lower()
        if _HEX.fullmatch(candidate.removeprefix(SCHEME)) and hmac.compare_digest(candidate, expected):
            return None
    return "bad_signature"
