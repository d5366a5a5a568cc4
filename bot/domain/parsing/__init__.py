"""Parsing of what borrowers type: loan references, dates of birth, amounts,
currencies, payment dates and plan lengths.

Pure Python. Every public function is total: any input (including non-strings,
10k-character messages, emoji, SQL, markup) gives a value or a "not understood"
result (None / ``problem="unparseable"``) and never raises. Only the first
``MAX_CHARS`` characters are looked at for dates, amounts and months.

The libraries do the parsing (dateparser, dateutil, price_parser,
number_parser); the small regexes in these modules only cover what they do not:
our own loan-reference format, locating which number in a sentence is a date
and which is an amount, and a few date phrases dateparser 1.2.0 gets wrong
("next Friday", "the 15th", "end of the month", "in a fortnight",
"2026年12月15日", strict d/m vs m/d).

Modules, lowest first (each imports only from those above it):

- ``_common``: text normalisation, the "never raise" decorator, quiet calls
- ``date_expressions``: where dates, times and durations are in a message
- ``chinese_numerals``: Chinese numerals to digits
- ``number_words``: number words (English and Chinese) to digits
- ``references``: loan references
- ``date_of_birth``: dates of birth
- ``details``: a loan reference and a date of birth given in one message
- ``money``: amounts and currency hints
- ``periods``: amounts with the period they are paid over ('40 every fortnight')
- ``dates``: payment dates and past dates
- ``months``: plan lengths
"""

from __future__ import annotations

from ._common import MAX_CHARS
from .date_of_birth import DateOfBirthParse, parse_date_of_birth
from .dates import parse_past_date, parse_payment_date
from .details import VerificationDetails, parse_loan_ref_given, parse_verification_details
from .money import parse_amount, parse_currency_hint
from .months import parse_months
from .number_words import _words_to_digits as words_to_digits
from .periods import FORTNIGHT, MONTH, WEEK, PeriodicAmount, monthly_equivalent, parse_periodic_amount
from .references import normalise_loan_ref

__all__ = [
    "FORTNIGHT",
    "MAX_CHARS",
    "MONTH",
    "WEEK",
    "DateOfBirthParse",
    "PeriodicAmount",
    "VerificationDetails",
    "monthly_equivalent",
    "normalise_loan_ref",
    "parse_amount",
    "parse_currency_hint",
    "parse_date_of_birth",
    "parse_loan_ref_given",
    "parse_months",
    "parse_past_date",
    "parse_payment_date",
    "parse_periodic_amount",
    "parse_verification_details",
    "words_to_digits",
]
