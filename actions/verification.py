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
    latest_text,
    reject,
    render,
    settings,
    store,
    stuck,
    today_for,
)
from bot.domain.accounts import AccountView
from bot.domain.clock import utcnow
from bot.domain.names import address_as
from bot.domain.parsing import (
    VerificationDetails,
    normalise_loan_ref,
    parse_loan_ref_given,
    parse_verification_details,
)
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
        """A loan the channel vouches for fills the first factor (also after a retry);
        else a reference in the message, whatever was asked and however the message
        was classified ("借款编号LN-10007，生日1988年2月2日")."""
        if tracker.get_slot("loan_ref") or tracker.get_slot("verified"):
            return {}
        loan_ref = identified_loan_ref(tracker) or typed_loan_ref(tracker)
        return {"loan_ref": loan_ref} if loan_ref else {}

    async def extract_date_of_birth(self, dispatcher, tracker, domain) -> dict:
        """A date of birth given with the loan reference in one message ("it's
        LN-10009, born 3 april 2000") fills the second factor too, so it is not asked
        again. (When the date of birth is the question, the form's own mapping has it.)"""
        if tracker.get_slot("date_of_birth") or tracker.get_slot("verified"):
            return {}
        if tracker.get_slot("requested_slot") == "date_of_birth":
            return {}
        # No reference typed ("hi", most answers): nothing to read a date of birth for.
        if typed_loan_ref(tracker) is None:
            return {}
        details = typed_details(tracker)
        if details.loan_ref is None or details.date_of_birth.problem == "unparseable":
            return {}
        return {"date_of_birth": latest_text(tracker)}

    def validate_loan_ref(self, value: Any, dispatcher, tracker, domain) -> dict:
        typed = str(value or "")
        loan_ref = normalise_loan_ref(typed)
        secret = settings().action_server_secret
        if loan_ref is None:
            given = parse_verification_details(typed, today_for(None)).date_of_birth.value
            if given is None:
                return reject(dispatcher, tracker, "loan_ref", "utter_loan_ref_invalid")
            # The date of birth came first: kept, sealed, until the reference comes.
            dispatcher.utter_message(response="utter_dob_noted_need_loan_ref")
            return {"loan_ref": None, "held_date_of_birth": seal(given.isoformat(), secret)}
        held = unseal(tracker.get_slot("held_date_of_birth") or "", secret)
        if held and not tracker.get_slot("date_of_birth"):
            tracker.slots["loan_ref"] = loan_ref
            checked = self._check(dispatcher, tracker, domain, loan_ref, date.fromisoformat(held))
            return {"loan_ref": loan_ref, "invalid_answers": 0, "held_date_of_birth": None, **checked}
        return {"loan_ref": loan_ref, "invalid_answers": 0}

    def validate_date_of_birth(self, value: Any, dispatcher, tracker, domain) -> dict:
        """Dates of birth are masked before the conversation is stored, buttons
        included (components/tracker_store.py), so each reading offered for an
        ambiguous date is sealed into its payload, an `inform` intent that fills
        the form's slot with its text; the title shows the date."""
        fmt = fmt_for(tracker)
        typed = str(value or "")
        secret = settings().action_server_secret
        # A tapped (or, on SMS, numbered) reading of an ambiguous date carries it sealed;
        # a loan reference typed with the date is no part of it.
        parsed = parse_verification_details(unseal(typed, secret) or typed, today_for(None)).date_of_birth
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
        return self._check(dispatcher, tracker, domain, loan_ref, parsed.value)

    def _check(self, dispatcher, tracker, domain, loan_ref: str, date_of_birth: date) -> dict:
        """One verification attempt (counted once, as any other) and what the borrower is told."""
        s = settings()
        attempt = verify_borrower(
            store(),
            loan_ref,
            date_of_birth,
            # The channel vouches for this very loan (its signed identity): the attempt
            # counts on the borrower's own path, which strangers' guesses cannot lock.
            vouched=identified_loan_ref(tracker) == loan_ref,
            failures_so_far=int(tracker.get_slot("verification_failures") or 0),
            now=utcnow(),
            **conversation(tracker),
        )
        if attempt.account is not None:
            account = attempt.account
            spoken = tracker.get_slot("borrower_language") or account.language
            greet(dispatcher, domain, account, spoken)
            # The date of birth itself is not kept in the conversation.
            return {
                "invalid_answers": 0,
                "date_of_birth": "checked",
                "held_date_of_birth": None,
                "verified": True,
                "verified_loan_ref": loan_ref,
                # The language on file, unless the borrower has shown theirs by writing it.
                "language": spoken,
                "lender_name": s.text("lender_name", spoken),
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


def typed_details(tracker) -> VerificationDetails:
    """The loan reference and date of birth in the latest message (never in a button's payload)."""
    text = latest_text(tracker)
    return parse_verification_details("" if text.startswith("/") else text, today_for(None))


def typed_loan_ref(tracker) -> str | None:
    """`typed_details(tracker).loan_ref`, without reading the message for a date of birth:
    the form's extraction runs on every answer while it is active, and dateparser's
    reading of one ("hi", "what do you need that for") is most of its cost."""
    text = latest_text(tracker)
    return parse_loan_ref_given("" if text.startswith("/") else text)


def greet(dispatcher, domain: dict, account: AccountView, language: str) -> None:
    """ "Thank you, Amelia" / "谢谢您，李女士": the borrower addressed as their language
    expects (bot.domain.names). This same step sets the language slot, and Rasa
    renders a response by the slots as they were before the step, so the text is
    rendered here from the domain in the language the conversation goes on in; the
    response's name stays with it (channels, transcripts)."""
    name = address_as(account.borrower_name, language) if account.borrower_name else account.borrower_first_name
    text = render(domain, "utter_verified", language, borrower_name=name)
    dispatcher.utter_message(response="utter_verified", text=text, borrower_name=name)
