"""Links to the lender's own payment page: a signed, expiring token naming the loan and amount.

The assistant never takes card details in chat; the payment page verifies the
token with the same secret (`verify_payment_token`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import jwt

ALGORITHM = "HS256"


def payment_link(
    *,
    loan_ref: str,
    amount: Decimal,
    currency: str,
    url_template: str,
    secret: str,
    ttl_minutes: int,
    now: datetime,
) -> str:
    claims = {
        "loan_ref": loan_ref,
        "amount": str(amount),
        "currency": currency,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=ttl_minutes)).timestamp()),
        "purpose": "payment",
    }
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return url_template.format(token=quote(token, safe=""))


def verify_payment_token(token: str, secret: str) -> dict[str, Any]:
    """Raise jwt.InvalidTokenError (incl. expiry) unless the token is ours and current."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat"]})
    if claims.get("purpose") != "payment":
        raise jwt.InvalidTokenError("not a payment token")
    return claims
