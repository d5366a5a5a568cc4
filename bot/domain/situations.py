"""What borrowers say besides "yes, let's pay", as the lender records it."""

from __future__ import annotations

_AMOUNT_WORDS = ("amount", "wrong", "charge", "fee", "interest", "balance", "too much", "figure")


def dispute_kind(text: str | None) -> str:
    """ "wrong_amount" when the borrower questions the figure, otherwise "not_owed"."""
    lowered = (text or "").lower()
    if any(w in lowered for w in _AMOUNT_WORDS):
        return "wrong_amount"
    return "not_owed"
