"""Proactive payment reminders: `python -m bot remind`.

Chooses which loans to remind now, applies the contact rules of
`bot.domain.conduct` (opt-outs, collection holds, vulnerability, contact hours, 7
attempts in 7 days, no arrears reminder within 7 days of a conversation) and starts a conversation on the borrower's preferred
channel through Rasa's HTTP API (`trigger_intent`). Every attempt and every
skip is recorded in `contact_attempts`. The first thing the borrower reads names
the lender, not the debt (`utter_reminder_opening` in domain.yml, in the
borrower's own language: `action_set_reminder_language`); nothing in the trigger
call itself is shown to them.

Triggers, most important first (one reminder per loan per run):

- `broken_promise` (a promise to pay or pay-now agreement) / `missed_instalment`:
  a scheduled instalment of an active agreement fell due before the borrower's today. Nothing marks instalments paid
  yet, so "scheduled" with a past due date counts as missed. Reminded once per
  miss: not again once a reminder went out after the latest missed due date.
- `promise_due` / `instalment_due`: a scheduled instalment falls due in exactly
  REMINDER_DUE_IN_DAYS days (the borrower's local date).
- `newly_overdue` (1 day past due) / `days_past_due_N`: the loan's days past due
  is one of REMINDER_DAYS_PAST_DUE, it has an overdue amount and no active
  agreement (an arrangement in place is reminded through its instalments).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from bot.domain import conduct
from bot.adapters.database import Database
from bot.adapters.orm import (
    HOLD_CASE_KINDS,
    OPEN_AGREEMENT_STATUSES,
    Agreement,
    AuditEvent,
    Borrower,
    Case,
    ContactAttempt,
    Instalment,
    Loan,
)
from bot.settings import Settings

INTENT = "EXTERNAL_payment_reminder"
# Rasa connector (output channel) for each preferred channel.
CONNECTORS = {"sms": "twilio", "whatsapp": "whatsapp", "telegram": "telegram"}
# The names an opt-out may be recorded under: actions store the input channel
# the borrower wrote on (Rasa's connector name), the importer and tests the plain name.
OPT_OUT_NAMES = {
    "sms": {"sms", "twilio", "twilio_sms"},
    "whatsapp": {"whatsapp", "twilio_whatsapp"},
    "telegram": {"telegram"},
}
MISSED_TRIGGERS = ("broken_promise", "missed_instalment")
PROMISE_KINDS = ("promise_to_pay", "pay_now")  # agreements whose instalment is a promise to pay by a date
# Longer than Rasa takes for a turn (its action calls give up after 10 s each).
RASA_TIMEOUT_SECONDS = 30.0
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

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReminderRules":
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

    def to_json(self) -> dict:
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

    def to_json(self) -> dict:
        r = self.reminder
        return {"loan_ref": r.loan_ref, "trigger": r.trigger, "channel": r.channel,
                "outcome": self.outcome, "reason": self.reason}


class ReminderFailed(Exception):
    """Rasa did not start the conversation; the message is the reason recorded."""


class RasaTrigger:
    """Starts a conversation through Rasa's HTTP API (POST /conversations/{id}/trigger_intent)."""

    def __init__(self, rasa_url: str, token: str = "", timeout: float = RASA_TIMEOUT_SECONDS):
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def __call__(self, conversation_id: str, connector: str, loan_ref: str, language: str | None = None) -> None:
        # "+" and ":" stay as they are: Rasa's router does not unquote the path.
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='+:')}/trigger_intent"
        params = {"output_channel": connector}
        if self.token:
            params["token"] = self.token
        entities = {"loan_ref": loan_ref}
        if language:
            entities["language"] = language  # read by action_set_reminder_language
        body = {"name": INTENT, "entities": entities}
        try:
            response = requests.post(url, params=params, json=body, timeout=self.timeout)
        except requests.Timeout:
            raise ReminderFailed("rasa_timeout") from None
        except requests.RequestException:
            raise ReminderFailed("rasa_unreachable") from None
        if response.status_code != 200:
            raise ReminderFailed(f"rasa_http_{response.status_code}")


# ---------------------------------------------------------------- planning


def conversation_id_for(borrower: Borrower, channel: str) -> str | None:
    """The channel's own conversation id: the phone number, "whatsapp:" + it, or the Telegram chat id."""
    if channel == "sms":
        return borrower.phone or None
    if channel == "whatsapp":
        return f"whatsapp:{borrower.phone}" if borrower.phone else None
    if channel == "telegram":
        return borrower.telegram_chat_id or None
    return None


def plan_reminders(db: Database, rules: ReminderRules, now: datetime) -> list[Reminder]:
    """Every loan with a trigger now, in loan reference order, each with send or a skip reason."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with db.reader() as s:
        loans = _candidate_loans(s, rules, now)
        if not loans:
            return []
        loan_ids = [loan.id for loan in loans]
        borrower_ids = {loan.borrower_id for loan in loans}
        holds = defaultdict(set)
        for loan_id, kind in s.execute(
            select(Case.loan_id, Case.kind).where(
                Case.loan_id.in_(loan_ids), Case.status == "open", Case.kind.in_(HOLD_CASE_KINDS)
            )
        ):
            holds[loan_id].add(kind)
        sent = s.scalars(
            select(ContactAttempt).where(
                ContactAttempt.outcome == "sent",
                or_(
                    and_(ContactAttempt.borrower_id.in_(borrower_ids), ContactAttempt.created_at > now - timedelta(days=7)),
                    and_(ContactAttempt.loan_id.in_(loan_ids), ContactAttempt.trigger.in_(MISSED_TRIGGERS)),
                ),
            )
        ).all()

        # when each loan's borrower last passed verification (talked with us about it)
        last_conversation = dict(s.execute(
            select(AuditEvent.loan_id, func.max(AuditEvent.occurred_at))
            .where(AuditEvent.loan_id.in_(loan_ids), AuditEvent.event_type == "verification_passed",
                   AuditEvent.occurred_at > now - timedelta(days=conduct.QUIET_DAYS_AFTER_CONVERSATION))
            .group_by(AuditEvent.loan_id)
        ).all())

        week_ago = now - timedelta(days=7)
        sent_this_week = Counter(a.borrower_id for a in sent if week_ago < a.created_at <= now)
        sent_by_loan = defaultdict(list)
        for attempt in sent:
            sent_by_loan[attempt.loan_id].append(attempt)
        plan = []
        for loan in loans:
            borrower = loan.borrower
            zone = _zone(borrower.timezone)
            today = now.astimezone(zone).date()
            loan_sent = sent_by_loan[loan.id]
            trigger = _trigger(loan, today, rules, loan_sent, zone)
            if trigger is None:
                continue
            channel = borrower.preferred_channel
            reason = _skip_reason(loan, channel, trigger, holds[loan.id], loan_sent, last_conversation.get(loan.id),
                                  sent_this_week, rules, now, today, zone)
            reminder = Reminder(
                loan_id=loan.id,
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
            plan.append(reminder)
        return plan


def _candidate_loans(s, rules: ReminderRules, now: datetime) -> list[Loan]:
    """Loans at a reminder day past due, or with a scheduled instalment of an active agreement due soon or missed."""
    latest_due = now.astimezone(timezone.utc).date() + timedelta(days=rules.due_in_days + 1)  # no borrower is more than a day ahead of UTC
    with_instalments = (
        select(Agreement.loan_id)
        .join(Instalment, Instalment.agreement_id == Agreement.id)
        .where(
            Agreement.status.in_(OPEN_AGREEMENT_STATUSES),
            Instalment.status == "scheduled",
            Instalment.due_date <= latest_due,
        )
    )
    return s.scalars(
        select(Loan)
        .where(or_(Loan.days_past_due.in_(sorted(rules.days_past_due)), Loan.id.in_(with_instalments)))
        .options(
            selectinload(Loan.borrower).selectinload(Borrower.opt_outs),
            selectinload(Loan.agreements).selectinload(Agreement.instalments),
        )
        .order_by(Loan.loan_ref)
    ).all()


def _trigger(loan: Loan, today: date, rules: ReminderRules, loan_sent: list, zone) -> str | None:
    """The most important reason to remind this loan today, or None."""
    agreement = next((a for a in loan.agreements if a.status in OPEN_AGREEMENT_STATUSES), None)
    if agreement is not None:
        promise = agreement.kind in PROMISE_KINDS
        scheduled = [i for i in agreement.instalments if i.status == "scheduled"]
        missed = [i.due_date for i in scheduled if i.due_date < today]
        if missed:
            trigger = "broken_promise" if promise else "missed_instalment"
            # Once per miss: a reminder sent on an earlier day after the latest missed
            # due date covers it (one sent today still shows, as already reminded).
            since = _midnight(max(missed) + timedelta(days=1), zone)
            until = _midnight(today, zone)
            if not any(a.trigger == trigger and since <= a.created_at < until for a in loan_sent):
                return trigger
        if any(i.due_date == today + timedelta(days=rules.due_in_days) for i in scheduled):
            return "promise_due" if promise else "instalment_due"
        return None
    if loan.days_past_due in rules.days_past_due and loan.overdue_amount > 0:
        return "newly_overdue" if loan.days_past_due == 1 else f"days_past_due_{loan.days_past_due}"
    return None


def _skip_reason(loan, channel, trigger, hold_kinds, loan_sent, last_conversation, sent_this_week, rules, now, today,
                 zone) -> str | None:
    """Why this loan must not be contacted now (None: send). The first rule that applies wins."""
    borrower = loan.borrower
    opted_out = tuple(o.channel for o in borrower.opt_outs)
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
    if any(a.created_at >= _midnight(today, zone) for a in loan_sent):
        return "already_reminded_today"
    if _arrears_trigger(trigger) and conduct.spoke_recently(last_conversation, now):
        return "recent_conversation"  # reminders of an arrangement's own dates still go
    if not conduct.within_contact_hours(now, borrower.timezone, start_hour=rules.start_hour, end_hour=rules.end_hour):
        return "outside_contact_hours"
    if not conduct.within_weekly_limit(sent_this_week[borrower.id], rules.max_per_7_days):
        return "weekly_limit"
    return None


def _arrears_trigger(trigger: str) -> bool:
    return trigger == "newly_overdue" or trigger.startswith("days_past_due_")


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except Exception:  # unknown zone from imported data: contact hours will refuse it anyway
        return timezone.utc


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


# ---------------------------------------------------------------- running


def run_reminders(db: Database, rules: ReminderRules, now: datetime, trigger_intent) -> list[Result]:
    """Plan, send each reminder and record every attempt and skip in contact_attempts.

    `trigger_intent(conversation_id, connector, loan_ref, language)` starts the conversation
    (a RasaTrigger) and raises ReminderFailed on an error; the run goes on.
    For a dry run, call `plan_reminders` instead: it contacts nobody and writes nothing.
    """
    plan = plan_reminders(db, rules, now)
    results = []
    for reminder in plan:
        if not reminder.send:
            recorded = _record(db, reminder, "skipped", reminder.skip_reason, now)
            results.append(Result(reminder, "skipped", reminder.skip_reason, recorded))
            continue
        try:
            trigger_intent(reminder.conversation_id, CONNECTORS[reminder.channel], reminder.loan_ref,
                           reminder.language)
        except ReminderFailed as failure:
            if str(failure) == "rasa_timeout":
                # Rasa may have sent it after we stopped waiting: count it as sent,
                # so the caps and "already reminded today" hold.
                _record(db, reminder, "sent", UNCONFIRMED, now)
                results.append(Result(reminder, "sent", UNCONFIRMED))
                continue
            _record(db, reminder, "failed", str(failure), now)
            results.append(Result(reminder, "failed", str(failure)))
            continue
        _record(db, reminder, "sent", None, now)
        results.append(Result(reminder, "sent"))
    return results


def _record(db: Database, reminder: Reminder, outcome: str, reason: str | None, now: datetime) -> bool:
    """One contact_attempts row; a skip already recorded today for the same reason is not written again."""
    with db.transaction() as s:
        if outcome == "skipped":
            borrower_tz = s.scalar(select(Borrower.timezone).where(Borrower.id == reminder.borrower_id))
            zone = _zone(borrower_tz)
            since = _midnight(now.astimezone(zone).date(), zone)
            already = s.scalar(
                select(ContactAttempt.id).where(
                    ContactAttempt.loan_id == reminder.loan_id,
                    ContactAttempt.trigger == reminder.trigger,
                    ContactAttempt.outcome == "skipped",
                    ContactAttempt.skip_reason == reason,
                    ContactAttempt.created_at >= since,
                ).limit(1)
            )
            if already is not None:
                return False
        s.add(
            ContactAttempt(
                borrower_id=reminder.borrower_id,
                loan_id=reminder.loan_id,
                channel=reminder.channel,
                trigger=reminder.trigger,
                outcome=outcome,
                skip_reason=reason,
                conversation_id=reminder.conversation_id,
                created_at=now,
            )
        )
    return True


def summary(results: list[Result]) -> dict:
    counts = Counter(r.outcome for r in results)
    return {"sent": counts["sent"], "skipped": counts["skipped"], "failed": counts["failed"]}
