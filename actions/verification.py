"""Verification: loan reference and date of birth before anything about the loan is said."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from actions.common import (
    SafeFormValidation,
    conversation,
    fmt_for,
    identified_loan_ref,
    reject,
    settings,
    store,
    stuck,
    today_for,
)
from bot.domain.clock import utcnow
from bot.domain.parsing import normalise_loan_ref, parse_date_of_birth
from bot.domain.privacy import seal, unseal
from bot.services.verification import verify_borrower


def dob_choice_payload(candidate: date, secret: str) -> str:
    return "/inform" + json.dumps({"dob_choice": seal(candidate.isoformat(), secret)})


class ValidateVerifyForm(SafeFormValidation):
    def name(self) -> str:
        return "validate_verify_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        if tracker.get_slot("verified") or tracker.get_slot("verification_locked") or stuck(tracker):
            return []
        return domain_slots

    async def extract_loan_ref(self, dispatcher, tracker, domain) -> dict:
        """A loan the channel vouches for fills the first factor (also after a retry)."""
        if tracker.get_slot("loan_ref") or tracker.get_slot("verified"):
            return {}
        loan_ref = identified_loan_ref(tracker)
        return {"loan_ref": loan_ref} if loan_ref else {}

    def validate_loan_ref(self, value: Any, dispatcher, tracker, domain) -> dict:
        loan_ref = normalise_loan_ref(str(value or ""))
        if loan_ref is None:
            return reject(dispatcher, tracker, "loan_ref", "utter_loan_ref_invalid")
        return {"loan_ref": loan_ref, "invalid_answers": 0}

    def validate_date_of_birth(self, value: Any, dispatcher, tracker, domain) -> dict:
        """Dates of birth are masked before the conversation is stored, buttons
        included (components/tracker_store.py), so each reading offered for an
        ambiguous date is sealed into its payload, an `inform` intent that fills
        the form's slot with its text; the title shows the date."""
        fmt = fmt_for(tracker)
        typed = str(value or "")
        secret = settings().action_server_secret
        # A tapped (or, on SMS, numbered) reading of an ambiguous date carries it sealed.
        parsed = parse_date_of_birth(unseal(typed, secret) or typed, today_for(None))
        if parsed.problem == "ambiguous" and parsed.candidates:
            dispatcher.utter_message(
                response="utter_dob_ambiguous",
                buttons=[{"title": fmt.date(d), "payload": dob_choice_payload(d, secret)} for d in parsed.candidates],
            )
            return {"date_of_birth": None}
        if parsed.value is None:
            return reject(dispatcher, tracker, "date_of_birth", response="utter_dob_invalid")

        loan_ref = tracker.get_slot("loan_ref")
        if not loan_ref:
            return {"date_of_birth": None}
        s = settings()
        attempt = verify_borrower(
            store(),
            loan_ref,
            parsed.value,
            # The channel vouches for this very loan (its signed identity): the attempt
            # counts on the borrower's own path, which strangers' guesses cannot lock.
            vouched=identified_loan_ref(tracker) == loan_ref,
            failures_so_far=int(tracker.get_slot("verification_failures") or 0),
            now=utcnow(),
            **conversation(tracker),
        )
        if attempt.account is not None:
            account = attempt.account
            dispatcher.utter_message(response="utter_verified", first_name=account.borrower_first_name)
            # The date of birth itself is not kept in the conversation.
            return {
                "invalid_answers": 0,
                "date_of_birth": "checked",
                "verified": True,
                "verified_loan_ref": loan_ref,
                "language": account.language,
                "lender_name": s.text("lender_name", account.language),
            }
        if attempt.locked_until is not None:
            # The form ends (required_slots is empty); action_account_summary explains.
            return {
                "verification_locked": True,
                "locked_until": attempt.locked_until.isoformat(),
                "verification_failures": attempt.failures,
                "date_of_birth": None,
            }
        dispatcher.utter_message(response="utter_verification_failed", attempts_left=attempt.attempts_left)
        return {"loan_ref": None, "date_of_birth": None, "verification_failures": attempt.failures}
