"""Verification details given together: a loan reference and a date of birth in one
message, in either order and either language ("it's LN-10009, born 3 april 2000",
"借款编号LN-10007，生日1988年2月2日", "DOB 12/03/1985 ref LN10001")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ._common import _clean, _total
from .date_of_birth import DateOfBirthParse, parse_date_of_birth
from .references import _CURRENCY_PREFIXES, _LOAN_REF_PATTERNS, _NOT_A_PREFIX, normalise_loan_ref

_NOTHING = DateOfBirthParse(None, (), "unparseable")


@dataclass(frozen=True)
class VerificationDetails:
    loan_ref: str | None  # 'LN-10009', or None when the message names none
    date_of_birth: DateOfBirthParse  # problem "unparseable" when the message has none


def _without_loan_ref(text: str, loan_ref: str) -> str:
    """`text` without the reference normalise_loan_ref found in it (same patterns, same order)."""
    for i, pattern in enumerate(_LOAN_REF_PATTERNS):
        for m in pattern.finditer(text):
            prefix = m.group(1).lower()
            if prefix in _CURRENCY_PREFIXES or (i == 2 and prefix in _NOT_A_PREFIX) or not prefix.isascii():
                continue
            if f"{m.group(1).upper()}-{m.group(2)}" == loan_ref:
                return text[: m.start()] + " " + text[m.end() :]
    return text


@_total(VerificationDetails(None, _NOTHING))
def parse_verification_details(text: str, today: date) -> VerificationDetails:
    """The loan reference and the date of birth a message gives, each on its own: the
    date of birth is read from the message without its loan reference, so the
    reference's digits are never taken for a date."""
    cleaned = _clean(text)
    if not cleaned:
        return VerificationDetails(None, _NOTHING)
    loan_ref = normalise_loan_ref(cleaned)
    rest = _without_loan_ref(cleaned, loan_ref) if loan_ref else cleaned
    return VerificationDetails(loan_ref, parse_date_of_birth(rest, today) if rest.strip() else _NOTHING)


@_total(None)
def parse_loan_ref_given(text: str) -> str | None:
    """`parse_verification_details(text, today).loan_ref` without reading a date of
    birth (dateparser, the costly part) that the caller would not use."""
    cleaned = _clean(text)
    return normalise_loan_ref(cleaned) if cleaned else None
