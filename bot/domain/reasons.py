"""Why a payment was missed: the reason codes and how NLU intents map onto them."""

from __future__ import annotations

REASON_CODES = (
    "unemployment",
    "reduced_income",
    "illness",
    "bereavement",
    "family_emergency",
    "unexpected_expense",
    "forgot",
    "payment_problem",
    "dispute",
    "already_paid",
    "fraud_not_my_loan",
    "over_indebted",
    "other",
)

# Intents that answer "why was the payment missed?" and the code each records.
INTENT_TO_REASON = {
    "reason_unemployment": "unemployment",
    "reason_reduced_income": "reduced_income",
    "reason_illness": "illness",
    "reason_bereavement": "bereavement",
    "reason_family_emergency": "family_emergency",
    "reason_unexpected_expense": "unexpected_expense",
    "reason_forgot": "forgot",
    "reason_payment_problem": "payment_problem",
    "reason_over_indebted": "over_indebted",
    "reason_other": "other",
    "dispute_debt": "dispute",
    "claim_already_paid": "already_paid",
    "not_my_loan": "fraud_not_my_loan",
}

# Reasons after which the assistant must not ask for payment in this conversation.
NO_COLLECTION_REASONS = frozenset({"dispute", "already_paid", "fraud_not_my_loan"})

# Reasons that indicate financial hardship (issue: hardship arrangements).
HARDSHIP_REASONS = frozenset(
    {"unemployment", "reduced_income", "illness", "bereavement", "family_emergency", "over_indebted"}
)


def reason_for_intent(intent: str | None) -> str:
    return INTENT_TO_REASON.get(intent or "", "other")
