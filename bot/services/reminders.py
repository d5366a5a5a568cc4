"""Proactive payment reminders: `python -m bot remind`.

Chooses which loans to remind now, applies the contact rules of
`bot.domain.conduct` (opt-outs, collection holds, vulnerability, contact hours, 7
attempts in 7 days, no arrears reminder within 7 days of a conversation; per the
loan's market: CN's window until 22:00 and its caps per day, per borrower and per
number, `conduct.MARKETS`) and starts a conversation on the borrower's preferred
channel through Rasa's HTTP API (`trigger_intent`, bot/adapters/rasa_trigger.py).
Every attempt and every skip is recorded in `contact_attempts`. What the rules
need from the loan store arrives as one `OutreachSnapshot`
(bot/adapters/store/outreach.py), so the rules here are plain Python. The first thing the borrower reads names
the lender, not the debt (`utter_reminder_opening` in domain.yml, in the
borrower's own language: `action_set_reminder_language`); nothing in the trigger
call itself is shown to them.

Triggers, most important first (one reminder per loan per run):

- `final_notice`: the loan's escalation (bot/domain/escalation.py) is at its final
  notice and the borrower has not been told yet; sent once per escalation. The
  opening is the usual one; the notice itself is said after verification
  (actions/outcomes.py), when the notice period starts.
- `broken_promise` (a promise to pay or pay-now agreement) / `missed_instalment`:
  an instalment of the open agreement, or of one broken in the last
  MISSED_LOOKBACK_DAYS, is really missed: not paid in full by payments
  (bot/adapters/store/payments.py) `grace_days` (collections_policy.yml) after
  its due date, in the borrower's own date. A paid instalment is never reminded,
  before or after its date. Reminded once per miss: not again once a reminder
  went out after the latest miss became one. `python -m bot remind` first brings
  the agreements up to date (`review_agreements`: misses and broken agreements
  written and audited); the plan computes the same statuses, so a dry run agrees.
- `requested_reminder`: the borrower asked for a reminder on this date (their
  local date) when they took time to decide (bot/services/deferral.py; the audit
  event `reminder_requested`), and has not made an arrangement since. It is sent
  on that date only, under the same contact rules, except the quiet days after a
  conversation: the borrower asked for it in that conversation.
- `promise_due` / `instalment_due`: a scheduled instalment falls due in exactly
  REMINDER_DUE_IN_DAYS days (the borrower's local date).
- `newly_overdue` (1 day past due) / `days_past_due_N`: the loan's days past due
  is one of REMINDER_DAYS_PAST_DUE, it has an overdue amount and no active
  agreement (an arrangement in place is reminded through its instalments).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain import conduct
from bot.domain.payments import MISSED, PARTIALLY_PAID, SCHEDULED, instalment_status
from bot.settings import Settings

INTENT = "EXTERNAL_payment_reminder"
# Rasa connector (output channel) for each preferred channel.
CONNECTORS = {"sms": "twilio", "whatsapp": "whatsapp", "telegram": "telegram", "wechat": "wechat"}
# The names an opt-out may be recorded under: actions store the input channel
# the borrower wrote on (Rasa's connector name), the importer and tests the plain name.
OPT_OUT_NAMES = {
    "sms": {"sms", "twilio", "twilio_sms"},
    "whatsapp": {"whatsapp", "twilio_whatsapp"},
    "telegram": {"telegram"},
    "wechat": {"wechat"},
}
MISSED_TRIGGERS = ("broken_promise", "missed_instalment")
FINAL_NOTICE_TRIGGER = "final_notice"
REQUESTED_TRIGGER = "requested_reminder"
# A borrower may ask for a reminder at most this many days ahead; requests are
# looked up this far back (bot/services/deferral.py offers a date a few days out).
MAX_REQUESTED_DAYS_AHEAD = 14
PROMISE_KINDS = ("promise_to_pay", "pay_now")  # agreements whose instalment is a promise to pay by a date
# A broken agreement's misses are still reminded (once) this long after it broke.
MISSED_LOOKBACK_DAYS = 14
# A timeout may still have reached the borrower: it counts as a contact.
UNCONFIRMED = "rasa_timeout_unconfirmed"


@dataclass(frozen=True)
class ReminderRules:
    """The lender's reminder settings (REMINDER_*, CONTACT_HOURS_*, MAX_CONTACTS_PER_7_DAYS)."""

    days_past_due: frozenset[int] = frozenset({1, 7, 14, 30, 60})
    due_in_days: int = 3
    start_hour: int = 8
    end_hour: int = 21
    max_per_7_days: int = conduct.MAX_ATTEMPTS_PER_7_DAYS
    # Days after its due date before an unpaid instalment is missed, per product
    # (collections_policy.yml `agreements.grace_days`; `with_grace_days`).
    grace_days: Mapping[str, int] = field(default_factory=dict)
    default_grace_days: int = 0

    def grace_for(self, product: str) -> int:
        return self.grace_days.get(product, self.default_grace_days)

    def with_grace_days(self, by_product: Mapping[str, int], default: int) -> ReminderRules:
        return replace(self, grace_days=dict(by_product), default_grace_days=default)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderRules:
        try:
            days = frozenset(int(d) for d in settings.reminder_days_past_due.split(",") if d.strip())
        except ValueError:
            raise ValueError(
                f"REMINDER_DAYS_PAST_DUE must be whole numbers separated by commas, not {settings.reminder_days_past_due!r}"
            ) from None
        if any(d < 1 for d in days) or settings.reminder_due_in_days < 0:
            raise ValueError("REMINDER_DAYS_PAST_DUE must be 1 or more and REMINDER_DUE_IN_DAYS 0 or more")
        return cls(
            days_past_due=days,
            due_in_days=settings.reminder_due_in_days,
            start_hour=settings.contact_hours_start,
            end_hour=settings.contact_hours_end,
            max_per_7_days=settings.max_contacts_per_7_days,
        )


@dataclass(frozen=True)
class Reminder:
    """One planned reminder: send it, or skip it and say why."""

    loan_id: int
    borrower_id: int
    loan_ref: str
    trigger: str
    channel: str
    conversation_id: str | None
    skip_reason: str | None = None
    language: str = "en"  # the borrower's: the opening is written in it (it says nothing about a debt)

    @property
    def send(self) -> bool:
        return self.skip_reason is None

    def to_json(self) -> dict[str, str | None]:
        """What operators see: the loan reference, never names, phone numbers or chat ids."""
        return {
            "loan_ref": self.loan_ref,
            "trigger": self.trigger,
            "channel": self.channel,
            "action": "send" if self.send else "skip",
            "reason": self.skip_reason,
        }


@dataclass(frozen=True)
class Result:
    reminder: Reminder
    outcome: str  # sent | skipped | failed
    reason: str | None = None
    recorded: bool = True  # False for a skip already recorded today (not written twice)

    def to_json(self) -> dict[str, str | None]:
        r = self.reminder
        return {
            "loan_ref": r.loan_ref,
            "trigger": r.trigger,
            "channel": r.channel,
            "outcome": self.outcome,
            "reason": self.reason,
        }


class ReminderFailed(Exception):
    """Rasa did not start the conversation; the message is the reason recorded."""


class TriggerIntent(Protocol):
    """Starts the conversation (bot.adapters.rasa_trigger.RasaTrigger); raises ReminderFailed."""

    def __call__(self, conversation_id: str, connector: str, loan_ref: str, language: str | None = None) -> None: ...


@dataclass(frozen=True)
class ArrangementInstalment:
    due_date: date
    amount: Decimal
    paid: Decimal  # what payments have covered
    status: str  # as stored: scheduled, partially_paid, paid, missed, cancelled, superseded


@dataclass(frozen=True)
class Arrangement:
    """The loan's open agreement (or one broken in the last MISSED_LOOKBACK_DAYS), as reminders see it."""

    kind: str
    instalments: tuple[ArrangementInstalment, ...]
    created_at: datetime | None = None
    status: str = "active"  # or "broken"


@dataclass(frozen=True)
class BorrowerContact:
    id: int
    timezone: str
    language: str
    preferred_channel: str
    phone: str | None
    telegram_chat_id: str | None
    vulnerable: bool
    opted_out: tuple[str, ...]  # channels, or "all"
    wechat_openid: str | None = None  # on the lender's Official Account


@dataclass(frozen=True)
class ReminderCandidate:
    loan_id: int
    loan_ref: str
    days_past_due: int
    overdue_amount: Decimal
    borrower: BorrowerContact
    arrangement: Arrangement | None
    product: str = ""
    market: str = conduct.DEFAULT_MARKET  # whose contact rules apply (conduct.MARKETS)


@dataclass(frozen=True)
class SentReminder:
    loan_id: int | None
    borrower_id: int
    trigger: str
    created_at: datetime
    conversation_id: str | None = None  # the number or chat it went to


@dataclass(frozen=True)
class RequestedReminder:
    """A reminder the borrower asked for: on their local date `on`, asked at `requested_at`."""

    on: date
    requested_at: datetime


@dataclass(frozen=True)
class OutreachSnapshot:
    """What the loan store knows that the contact rules need, read in one go."""

    candidates: list[ReminderCandidate]  # in loan reference order
    holds: dict[int, set[str]]  # loan id -> kinds of open dispute / fraud cases
    # to these borrowers in the last 7 days, to their numbers and chats in the last 2 days,
    # or missed-payment reminders of these loans
    sent: list[SentReminder]
    last_conversation: dict[int, datetime]  # loan id -> latest verification within the quiet days
    # loan id -> the latest reminder the borrower asked for, made in the last MAX_REQUESTED_DAYS_AHEAD + 1 days
    requested: dict[int, RequestedReminder] = field(default_factory=dict)
    # loan id -> when its escalation opened, for final notices the borrower has not been told of
    final_notices: dict[int, datetime] = field(default_factory=dict)


class OutreachStore(Protocol):
    """The loan store's side of reminders (bot.adapters.store.outreach)."""

    def outreach_snapshot(
        self,
        *,
        days_past_due: frozenset[int],
        latest_due: date,
        now: datetime,
        missed_triggers: tuple[str, ...],
        quiet_days: int,
    ) -> OutreachSnapshot: ...

    def record_contact_attempt(self, reminder: Reminder, outcome: str, reason: str | None, now: datetime) -> bool: ...


# ---------------------------------------------------------------- planning


def conversation_id_for(borrower: BorrowerContact, channel: str) -> str | None:
    """The channel's own conversation id: the phone number, "whatsapp:" + it, the Telegram
    chat id, or "wechat:" + the OpenID (channels/wechat.py)."""
    if channel == "sms":
        return borrower.phone or None
    if channel == "whatsapp":
        return f"whatsapp:{borrower.phone}" if borrower.phone else None
    if channel == "telegram":
        return borrower.telegram_chat_id or None
    if channel == "wechat":
        return f"wechat:{borrower.wechat_openid}" if borrower.wechat_openid else None
    return None


def plan_reminders(store: OutreachStore, rules: ReminderRules, now: datetime) -> list[Reminder]:
    """Every loan with a trigger now, in loan reference order, each with send or a skip reason."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    snapshot = store.outreach_snapshot(
        days_past_due=rules.days_past_due,
        # no borrower is more than a day ahead of UTC
        latest_due=now.astimezone(timezone.utc).date() + timedelta(days=rules.due_in_days + 1),
        now=now,
        missed_triggers=(*MISSED_TRIGGERS, FINAL_NOTICE_TRIGGER),
        quiet_days=conduct.QUIET_DAYS_AFTER_CONVERSATION,
    )
    week_ago = now - timedelta(days=7)
    sent_this_week = Counter(a.borrower_id for a in snapshot.sent if week_ago < a.created_at <= now)
    # every contact of the last 7 days, this run's included, for the caps per day
    recent = [a for a in snapshot.sent if week_ago < a.created_at <= now]
    sent_by_loan: dict[int | None, list[SentReminder]] = defaultdict(list)
    for attempt in snapshot.sent:
        sent_by_loan[attempt.loan_id].append(attempt)
    plan = []
    for loan in snapshot.candidates:
        borrower = loan.borrower
        zone = _zone(borrower.timezone)
        today = now.astimezone(zone).date()
        loan_sent = sent_by_loan[loan.loan_id]
        trigger = _trigger(
            loan,
            today,
            rules,
            loan_sent,
            zone,
            snapshot.requested.get(loan.loan_id),
            snapshot.final_notices.get(loan.loan_id),
        )
        if trigger is None:
            continue
        channel = borrower.preferred_channel
        reason = _skip_reason(
            loan,
            channel,
            trigger,
            snapshot.holds.get(loan.loan_id, set()),
            loan_sent,
            snapshot.last_conversation.get(loan.loan_id),
            sent_this_week,
            rules,
            now,
            today,
            zone,
            recent,
        )
        reminder = Reminder(
            loan_id=loan.loan_id,
            borrower_id=borrower.id,
            loan_ref=loan.loan_ref,
            trigger=trigger,
            channel=channel,
            conversation_id=conversation_id_for(borrower, channel),
            skip_reason=reason,
            language=borrower.language,
        )
        if reminder.send:
            sent_this_week[borrower.id] += 1  # counts towards the cap for the borrower's other loans
            recent.append(SentReminder(loan.loan_id, borrower.id, trigger, now, reminder.conversation_id))
        plan.append(reminder)
    return plan


def _trigger(
    loan: ReminderCandidate,
    today: date,
    rules: ReminderRules,
    loan_sent: list[SentReminder],
    zone: tzinfo,
    requested: RequestedReminder | None = None,
    final_notice_opened: datetime | None = None,
) -> str | None:
    """The most important reason to remind this loan today, or None."""
    if final_notice_opened is not None and not any(
        a.trigger == FINAL_NOTICE_TRIGGER and a.created_at >= final_notice_opened for a in loan_sent
    ):
        return FINAL_NOTICE_TRIGGER
    arrangement = loan.arrangement
    grace = rules.grace_for(loan.product)
    if arrangement is not None:
        promise = arrangement.kind in PROMISE_KINDS
        states = [
            (i.due_date, instalment_status(i.amount, i.paid, i.due_date, today, grace, i.status))
            for i in arrangement.instalments
        ]
        missed = [due for due, status in states if status == MISSED]
        if missed:
            trigger = "broken_promise" if promise else "missed_instalment"
            # Once per miss: a reminder sent on an earlier day after the latest miss
            # became one covers it (one sent today still shows, as already reminded).
            since = _midnight(max(missed) + timedelta(days=grace + 1), zone)
            until = _midnight(today, zone)
            if not any(a.trigger == trigger and since <= a.created_at < until for a in loan_sent):
                return trigger
        if arrangement.status != "active":
            arrangement = None  # broken: reminded of its miss once, then like a loan without one
    asked_for_today = requested_today(requested, arrangement, today)
    if arrangement is not None:
        scheduled = [due for due, status in states if status in (SCHEDULED, PARTIALLY_PAID)]
        if asked_for_today:
            return REQUESTED_TRIGGER
        if any(due == today + timedelta(days=rules.due_in_days) for due in scheduled):
            return "promise_due" if promise else "instalment_due"
        return None
    if asked_for_today:
        return REQUESTED_TRIGGER
    if loan.days_past_due in rules.days_past_due and loan.overdue_amount > 0:
        return "newly_overdue" if loan.days_past_due == 1 else f"days_past_due_{loan.days_past_due}"
    return None


def requested_today(requested: RequestedReminder | None, arrangement: Arrangement | None, today: date) -> bool:
    """The borrower asked to be reminded today, and has not made an arrangement since asking."""
    if requested is None or requested.on != today:
        return False
    agreed_since = (
        arrangement is not None
        and arrangement.created_at is not None
        and arrangement.created_at > requested.requested_at
    )
    return not agreed_since


def contact_refusal(
    borrower: BorrowerContact, channel: str, hold_kinds: set[str] | frozenset[str] | tuple[str, ...]
) -> str | None:
    """Why the borrower may not be contacted on `channel` at all (opted out, a collection
    hold, vulnerable, no connector or address), or None. The rules that depend on the
    moment (hours, caps, today's reminders) are the run's (`_skip_reason`)."""
    opted_out = borrower.opted_out
    if "all" in opted_out:
        return "opted_out_all"
    if any(conduct.opted_out(name, opted_out) for name in OPT_OUT_NAMES.get(channel, {channel})):
        return "opted_out_channel"
    block = conduct.collection_block(open_cases=tuple(sorted(hold_kinds)), vulnerable=borrower.vulnerable)
    if block is not None:
        return block.reason  # dispute_open, fraud_claim_open or vulnerable
    if channel not in CONNECTORS:
        return "unsupported_channel"
    if conversation_id_for(borrower, channel) is None:
        return "no_address"
    return None


def _skip_reason(
    loan: ReminderCandidate,
    channel: str,
    trigger: str,
    hold_kinds: set[str],
    loan_sent: list[SentReminder],
    last_conversation: datetime | None,
    sent_this_week: Counter[int],
    rules: ReminderRules,
    now: datetime,
    today: date,
    zone: tzinfo,
    recent: list[SentReminder] | None = None,
) -> str | None:
    """Why this loan must not be contacted now (None: send). The first rule that applies wins."""
    borrower = loan.borrower
    refusal = contact_refusal(borrower, channel, hold_kinds)
    if refusal is not None:
        return refusal
    if any(a.created_at >= _midnight(today, zone) for a in loan_sent):
        return "already_reminded_today"
    if _arrears_trigger(trigger) and conduct.spoke_recently(last_conversation, now):
        return "recent_conversation"  # reminders of an arrangement's own dates still go
    if not conduct.within_contact_hours(
        now, borrower.timezone, start_hour=rules.start_hour, end_hour=rules.end_hour, market=loan.market
    ):
        return "outside_contact_hours"
    if not conduct.within_weekly_limit(sent_this_week[borrower.id], rules.max_per_7_days, market=loan.market):
        return "weekly_limit"
    to_borrower, to_address = sent_today(recent or [], borrower.id, conversation_id_for(borrower, channel), today, zone)
    return conduct.within_daily_limits(to_borrower, to_address, market=loan.market)


def sent_today(
    sent: list[SentReminder], borrower_id: int, address: str | None, today: date, zone: tzinfo
) -> tuple[int, int]:
    """Contacts sent on the borrower's local `today`: to the borrower, and to `address`
    (their number or chat, whoever it was sent for)."""
    since = _midnight(today, zone)
    todays = [a for a in sent if a.created_at >= since]
    to_borrower = sum(1 for a in todays if a.borrower_id == borrower_id)
    number = _number(address)
    to_address = sum(1 for a in todays if number is not None and _number(a.conversation_id) == number)
    return to_borrower, to_address


def _number(conversation_id: str | None) -> str | None:
    """SMS and WhatsApp reach the same phone number."""
    if not conversation_id:
        return None
    return conversation_id.removeprefix("whatsapp:")


def _arrears_trigger(trigger: str) -> bool:
    return trigger in ("newly_overdue", FINAL_NOTICE_TRIGGER) or trigger.startswith("days_past_due_")


def zone_for(name: str) -> tzinfo:
    """The borrower's time zone; UTC for an unknown one (contact hours refuse it anyway)."""
    return _zone(name)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except Exception:  # unknown zone from imported data: contact hours will refuse it anyway
        return timezone.utc


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def start_of_local_day(now: datetime, timezone_name: str) -> datetime:
    """Midnight of `now`'s date in the borrower's time zone, in UTC."""
    zone = _zone(timezone_name)
    return _midnight(now.astimezone(zone).date(), zone)


# ---------------------------------------------------------------- running


def run_reminders(
    store: OutreachStore, rules: ReminderRules, now: datetime, trigger_intent: TriggerIntent
) -> list[Result]:
    """Plan, send each reminder and record every attempt and skip in contact_attempts.

    `trigger_intent(conversation_id, connector, loan_ref, language)` starts the conversation
    (a RasaTrigger) and raises ReminderFailed on an error; the run goes on.
    For a dry run, call `plan_reminders` instead: it contacts nobody and writes nothing.
    """
    plan = plan_reminders(store, rules, now)
    results = []
    for reminder in plan:
        if not reminder.send:
            recorded = store.record_contact_attempt(reminder, "skipped", reminder.skip_reason, now)
            results.append(Result(reminder, "skipped", reminder.skip_reason, recorded))
            continue
        try:
            trigger_intent(
                reminder.conversation_id or "", CONNECTORS[reminder.channel], reminder.loan_ref, reminder.language
            )
        except ReminderFailed as failure:
            if str(failure) == "rasa_timeout":
                # Rasa may have sent it after we stopped waiting: count it as sent,
                # so the caps and "already reminded today" hold.
                store.record_contact_attempt(reminder, "sent", UNCONFIRMED, now)
                results.append(Result(reminder, "sent", UNCONFIRMED))
                continue
            store.record_contact_attempt(reminder, "failed", str(failure), now)
            results.append(Result(reminder, "failed", str(failure)))
            continue
        store.record_contact_attempt(reminder, "sent", None, now)
        results.append(Result(reminder, "sent"))
    return results


def summary(results: list[Result]) -> dict[str, int]:
    counts = Counter(r.outcome for r in results)
    return {"sent": counts["sent"], "skipped": counts["skipped"], "failed": counts["failed"]}
