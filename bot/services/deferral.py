"""Not now is an answer (issue 17): "let me think about it", "I need to check with my partner".

A borrower who wants time to decide is not pressed. For a verified borrower the
deferral is recorded once per conversation and step (the audit event
`decision_deferred`, with the step and the kind of arrangement that was read
back, if one was), so the report counts it as an outcome; whatever was on the
table stays open. A reminder a few days later is offered when the contact rules
allow one on the borrower's preferred channel; if they accept, the date is
recorded (`reminder_requested`) and `python -m bot remind` sends it on that day,
within the contact hours and the other rules (bot/services/reminders.py,
trigger `requested_reminder`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from bot.domain.steps.lexicon import _CJK, RATHER_NOT_SAY_ZH
from bot.services.reminders import MAX_REQUESTED_DAYS_AHEAD, BorrowerContact, contact_refusal

# The reminder offered: this many days after the borrower's today (their local date).
REMIND_AFTER_DAYS = 3

# Where in the conversation the borrower asked for time (a form's own name while one is active).
READ_BACK = "read_back"  # terms were read back and wait for a yes
OFFERS = "offers"  # the options were shown
REASON = "reason"  # asked what happened, before any options
CONVERSATION = "conversation"  # anywhere else after verification


# Chinese: the classifier has Chinese examples for few intents yet (README,
# "Languages"), so it files much other Chinese text under defer_decision ("我失业了",
# "这不是我的贷款"). A Chinese message counts as a deferral only in these words.
_DEFERRAL_ZH = re.compile(
    r"(?<!不)考虑|想想|想一想|想一下|想清楚|想好|斟酌|商量|问问|决定|回复您|答复|联系您|告诉您|预算|收支|算算|算一下|算一算|咨询一下再|"
    # "later, then": 过两天再说, 晚点再说, 明天再回复你, 等会再说吧, 我回去算一算再说
    r"(?:以后|之后|过几天|过两天|过一阵|回头|明天|后天|晚点|晚些|改天|等等|等会儿?|等一下|一会儿?|回去)(?:[^，。,.!?！？]{0,6})再(?:说|定|看|回复|答复|决定|联系|选|聊)|"
    rf"再说吧|{RATHER_NOT_SAY_ZH}"
)


def sounds_like_deferral(text: str) -> bool:
    """Whether a message the classifier read as `defer_decision` can be taken as one:
    any text without Chinese (a button, English), or Chinese that asks for time in words."""
    return not _CJK.search(text or "") or bool(_DEFERRAL_ZH.search(text))


def deferral_step(
    *, awaiting_confirmation: bool, active_form: str | None, offers_shown: bool, reason_given: bool
) -> str:
    """The step a deferral is recorded against (one record per conversation and step)."""
    if awaiting_confirmation:
        return READ_BACK
    if active_form:
        return active_form
    if offers_shown:
        return OFFERS
    if not reason_given:
        return REASON
    return CONVERSATION


@dataclass(frozen=True)
class ReminderContact:
    """How a reminder would reach the borrower, and what stands in its way."""

    borrower: BorrowerContact
    hold_kinds: tuple[str, ...]  # open disputes or fraud claims


class DeferralStore(Protocol):
    """The loan store's side (bot.adapters.store.deferrals)."""

    def record_deferral(
        self,
        loan_ref: str,
        *,
        step: str,
        pending_kind: str | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> bool: ...

    def reminder_contact(self, loan_ref: str) -> ReminderContact: ...

    def record_reminder_request(
        self,
        loan_ref: str,
        *,
        on: date,
        reminder_channel: str,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> bool: ...


def record_deferral(
    store: DeferralStore,
    loan_ref: str,
    *,
    step: str,
    pending_kind: str | None,
    conversation_id: str | None,
    channel: str | None,
) -> bool:
    """Record that the borrower took time to decide; False if this conversation
    already recorded a deferral at this step (counted once)."""
    return store.record_deferral(
        loan_ref, step=step, pending_kind=pending_kind, conversation_id=conversation_id, channel=channel
    )


@dataclass(frozen=True)
class ReminderOffer:
    on: date  # the borrower's local date
    channel: str  # their preferred channel, which reminders use


def reminder_offer(store: DeferralStore, loan_ref: str, today: date) -> ReminderOffer | None:
    """The reminder to offer (a few days after the borrower's today, on their preferred
    channel), or None when the contact rules would not let one be sent there: an
    opt-out, a collection hold, a vulnerability flag, no address for the channel.

    Any day has contact hours (bot.domain.conduct.CONTACT_WINDOW); the reminder run
    sends it only within them, in the borrower's own time zone."""
    contact = store.reminder_contact(loan_ref)
    channel = contact.borrower.preferred_channel
    if contact_refusal(contact.borrower, channel, contact.hold_kinds) is not None:
        return None
    return ReminderOffer(on=today + timedelta(days=REMIND_AFTER_DAYS), channel=channel)


@dataclass(frozen=True)
class ReminderRequest:
    status: str  # scheduled | not_allowed | bad_date
    on: date | None = None
    channel: str | None = None


def request_reminder(
    store: DeferralStore,
    loan_ref: str,
    on: date | None,
    today: date,
    *,
    conversation_id: str | None,
    channel: str | None,
) -> ReminderRequest:
    """The borrower accepted the reminder: record its date (`on`, or the one offered when
    none came with the answer). A date that is not between tomorrow and
    MAX_REQUESTED_DAYS_AHEAD days ahead is refused (a payload can be typed), and so is
    a reminder the contact rules no longer allow."""
    offer = reminder_offer(store, loan_ref, today)
    if offer is None:
        return ReminderRequest("not_allowed")
    on = on or offer.on
    if not today < on <= today + timedelta(days=MAX_REQUESTED_DAYS_AHEAD):
        return ReminderRequest("bad_date")
    store.record_reminder_request(
        loan_ref, on=on, reminder_channel=offer.channel, conversation_id=conversation_id, channel=channel
    )
    return ReminderRequest("scheduled", on=on, channel=offer.channel)
