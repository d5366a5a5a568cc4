"""Reading a message as the step expects it first (issue 17).

At the reason question ("What made it hard to pay?"), the offers ("Which would suit
you best?") and the read-back ("To confirm: … Is that right?") a borrower answers the
question asked far more often than they change the subject. The intent classifier knows nothing of the question, so
"that's not right" reads as a dispute and "fine, thanks" as a thank-you. These
functions take the message text and the classifier's ranking and say what the
message means *at this step*; `Reading.meaning == TOPIC` hands the message back to
the ordinary rules (a new subject: a crisis, a person, a question, an opt-out …).

The same function runs in Rasa's process (components/step_policy.py, to choose the
next action) and in the action server (actions/steps.py, to act), so both read the
message the same way. Nothing here acts: recording still needs `YES`.

Modules (each imports only from those above it):

- ``lexicon``: the words the readers look for
- ``reading``: what a message can mean (``Reading``) and what the readers share
- ``reason``, ``offers``, ``read_back``: one reader per step
"""

from __future__ import annotations

from .lexicon import ALWAYS_TOPIC, CLEAR_CONFIDENCE, CONSEQUENTIAL, QUESTIONS
from .offers import read_at_offers
from .read_back import read_at_read_back, restated_numbers
from .reading import (
    AMOUNT,
    CANT_AFFORD,
    CHANGE_AMOUNT,
    CHANGE_DATE,
    CHANGE_KIND,
    CHANGE_MONTHS,
    CHOICE,
    CONFIRM_FIRST,
    CORRECTION,
    HARDSHIP,
    HUMAN,
    NO,
    NONE_WORK,
    NOT_NOW,
    OFFERS,
    OPTIONS,
    PAID_CLAIM,
    QUESTION,
    READ_BACK,
    REASON,
    REASON_STEP,
    SETTLEMENT,
    TOPIC,
    UNCLEAR,
    WORRY,
    YES,
    Ranking,
    Reading,
    amount_with_period,
    consequential_unclear,
    date_words,
    months_named,
    months_wanted,
    plainly_terms,
    without_lengths_left,
)
from .reason import question_after_reason, read_at_reason

__all__ = [
    "ALWAYS_TOPIC",
    "AMOUNT",
    "CANT_AFFORD",
    "CHANGE_AMOUNT",
    "CHANGE_DATE",
    "CHANGE_KIND",
    "CHANGE_MONTHS",
    "CHOICE",
    "CLEAR_CONFIDENCE",
    "CONFIRM_FIRST",
    "CONSEQUENTIAL",
    "CORRECTION",
    "HARDSHIP",
    "HUMAN",
    "NO",
    "NONE_WORK",
    "NOT_NOW",
    "OFFERS",
    "OPTIONS",
    "PAID_CLAIM",
    "QUESTION",
    "QUESTIONS",
    "READ_BACK",
    "REASON",
    "REASON_STEP",
    "SETTLEMENT",
    "TOPIC",
    "UNCLEAR",
    "WORRY",
    "YES",
    "Ranking",
    "Reading",
    "amount_with_period",
    "consequential_unclear",
    "date_words",
    "months_named",
    "months_wanted",
    "plainly_terms",
    "question_after_reason",
    "read_at_offers",
    "read_at_read_back",
    "read_at_reason",
    "restated_numbers",
    "without_lengths_left",
]
