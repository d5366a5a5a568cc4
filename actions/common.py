"""Shared helpers for the action server: the store, the borrower's account, and rendering.

Actions stay thin: they read slots, call `bot/`, and utter responses from the
domain with values formatted by `bot.domain.formatting` in the borrower's language.
"""

from __future__ import annotations

import functools
import logging
import time
import weakref
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

from rasa_sdk import Action, FormValidationAction, Tracker

from actions.threads import off_the_event_loop
from bot.adapters.database import CommitDeadlinePassed, commit_deadline
from bot.adapters.store import LoanStore
from bot.bootstrap import services
from bot.domain import formatting, steps
from bot.domain.accounts import AccountView
from bot.domain.clock import local_today, utcnow
from bot.domain.identity import METADATA_KEY, ChannelIdentity, InvalidIdentity, read_channel_identity
from bot.domain.parsing import normalise_loan_ref
from bot.domain.policy import ProductPolicy
from bot.settings import Settings

logger = logging.getLogger(__name__)


def store() -> LoanStore:
    return services().store


def settings() -> Settings:
    return services().settings


def language(tracker: Tracker) -> str:
    return tracker.get_slot("language") or settings().default_language


class Conversation(TypedDict):
    conversation_id: str
    channel: str | None


def conversation(tracker: Tracker) -> Conversation:
    """Who and where, for the audit log (never the borrower's words)."""
    return {"conversation_id": tracker.sender_id, "channel": tracker.get_latest_input_channel()}


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def borrower_words(tracker: Tracker) -> str:
    """What the borrower said, for a case or a reason: the text, or, when they pressed one
    of the meanings offered for an unsure message ("/dispute_debt"), the words that
    message had (the team reads words, not payloads)."""
    text = latest_text(tracker)
    if not text.startswith("/"):
        return text
    users = [e for e in tracker.events or [] if e.get("event") == "user"]
    if len(users) >= 2:
        before = users[-2].get("text") or ""
        if before and not before.startswith("/"):
            return before
    return ""


def this_turn(tracker: Tracker) -> list[dict[str, Any]]:
    """The events after the latest user message: what this turn has done so far."""
    events = list(tracker.events or [])
    start = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return events[start + 1 :]


def chosen_at_step(tracker: Tracker, slot: str) -> str | None:
    """The value action_step_answer gave `slot` in this turn (an option the borrower
    pointed at), if it did. Only the step's own events count (up to the FollowupAction
    it ends with): a form it hands on to re-reads the message on activation and sets the
    slot to the words again ("twelve monthly payments" for the 12-month plan)."""
    value, in_step = None, False
    for event in this_turn(tracker):
        kind = event.get("event")
        if kind == "action":
            in_step = event.get("name") == "action_step_answer"
            if in_step:
                value = None  # a later step answer in the same turn counts, not an earlier one
        elif kind == "followup":
            in_step = False
        elif in_step and kind == "slot" and event.get("name") == slot:
            value = event.get("value")
    return value


def handed_on_by_step(tracker: Tracker) -> bool:
    """Whether action_step_answer read this turn's message as an answer to its step and
    handed on to the running action (the step's reading then stands: it is not re-judged
    from the classifier's intent)."""
    return any(e.get("event") == "action" and e.get("name") == "action_step_answer" for e in this_turn(tracker))


def read_back_reading(tracker: Tracker) -> steps.Reading:
    """The latest message read as an answer to the read-back, knowing the figures it gave."""
    restated = steps.restated_numbers(tracker.get_slot("pending_agreement"), utcnow().date())
    return steps.read_at_read_back(latest_text(tracker), intent_ranking(tracker), restated)


def intent_ranking(tracker: Tracker) -> list[tuple[str, float]]:
    """The classifier's ranking of the latest message, best first."""
    message = tracker.latest_message or {}
    ranked = [(str(i.get("name")), float(i.get("confidence") or 0)) for i in message.get("intent_ranking") or []]
    if not ranked and message.get("intent"):
        ranked = [(str(message["intent"].get("name")), float(message["intent"].get("confidence") or 0))]
    return ranked


def verified_account(tracker: Tracker) -> AccountView | None:
    """The account, only once this conversation has verified the borrower."""
    loan_ref = tracker.get_slot("verified_loan_ref")
    if not tracker.get_slot("verified") or not loan_ref:
        return None
    return store().account(loan_ref)


def require_account(dispatcher, tracker: Tracker) -> AccountView | None:
    """The verified account, or None after telling the borrower to verify first."""
    account = verified_account(tracker)
    if account is None:
        dispatcher.utter_message(response="utter_verify_first")
    return account


def identified_loan_ref(tracker: Tracker) -> str | None:
    """The loan a channel vouches for (a signed widget login, the phone a signed
    SMS came from): the first verification factor. The date of birth is still asked.

    A widget login names the reference itself: it counts whether or not the
    loan is on file, so the next question (the date of birth) never tells
    whether a loan exists; an unknown one then fails like a wrong date.
    """
    identity = channel_identity(tracker)
    if identity is None:
        return None
    if identity.kind == "loan_ref":
        return normalise_loan_ref(identity.value)
    return store().candidate_loan(identity.kind, identity.value)


def channel_identity(tracker: Tracker) -> ChannelIdentity | None:
    """Who the channel says is writing, if one of our connectors signed it.

    Only a channel identity signed by our connectors counts (bot.domain.identity); plain
    metadata from a client does not.
    """
    for metadata in (
        (tracker.latest_message or {}).get("metadata"),
        tracker.get_slot("session_started_metadata"),
    ):
        if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
            continue
        try:
            identity = read_channel_identity(
                metadata[METADATA_KEY],
                settings().channel_identity_secret,
                now=utcnow(),
                conversation_id=tracker.sender_id,
            )
        except InvalidIdentity as exc:
            logger.warning("ignored a channel identity that did not verify (%s)", exc)
            continue
        return identity
    return None


def policy_for(account: AccountView) -> ProductPolicy:
    return services().policies.for_product(account.product)


def today_for(account: AccountView | None) -> date:
    return local_today(account.timezone if account else settings().default_timezone)


class Fmt:
    """Money and dates for one borrower's language."""

    def __init__(self, lang: str, currency: str | None = None):
        self.lang = lang
        self.currency = currency

    def money(self, amount: Decimal, currency: str | None = None) -> str:
        currency = currency or self.currency
        if currency is None:
            raise ValueError("money needs a currency")
        return formatting.format_money(amount, currency, self.lang)

    def day(self, value: date) -> str:
        """With the weekday: the read-back of a day the borrower named (issue 13 §5)."""
        return formatting.format_day(value, self.lang)

    def date(self, value: date) -> str:
        return formatting.format_date(value, self.lang)


def fmt_for(tracker: Tracker, account: AccountView | None = None) -> Fmt:
    return Fmt(language(tracker), account.currency if account else None)


def render(domain: dict, name: str, lang: str, **values: Any) -> str:
    """Render a response fragment from the domain (for button titles and read-backs).

    Picks the variation whose `language` condition matches, else the first one
    without a condition.
    """
    variations = (domain.get("responses") or {}).get(name) or []
    chosen = None
    for variation in variations:
        conditions = variation.get("condition") or []
        if not conditions and chosen is None:
            chosen = variation
        if any(c.get("name") == "language" and c.get("value") == lang for c in conditions):
            chosen = variation
            break
    if chosen is None:
        raise KeyError(f"no response {name!r} in the domain")
    return chosen["text"].format(**values)


def product_name(domain: dict, product: str, lang: str) -> str:
    """The loan product as borrowers call it: `utter_product_<code>` in the
    domain, or the generic `utter_product_other` ("loan") for a product without one."""
    name = f"utter_product_{product}"
    return render(domain, name if name in (domain.get("responses") or {}) else "utter_product_other", lang)


def contact_values(tracker: Tracker) -> dict[str, str]:
    """How to reach the lender, in the borrower's language."""
    s, lang = settings(), language(tracker)
    return {
        "lender_phone": s.lender_phone,
        "lender_hours": s.text("lender_hours", lang),
        "lender_name": s.text("lender_name", lang),
    }


MAX_INVALID_ANSWERS = 2


def reject(dispatcher, tracker: Tracker, slot: str, response: str | None = None, **values: Any) -> dict:
    """An answer a form can't use: explain, and after the second miss in a row stop
    asking the same question and offer a person instead (the form then ends)."""
    if response:
        dispatcher.utter_message(response=response, **values)
    misses = int(tracker.get_slot("invalid_answers") or 0) + 1
    if misses >= MAX_INVALID_ANSWERS:
        dispatcher.utter_message(response="utter_stuck_offer_help")
    return {slot: None, "invalid_answers": misses}


def stuck(tracker: Tracker) -> bool:
    return int(tracker.get_slot("invalid_answers") or 0) >= MAX_INVALID_ANSWERS


class TrackerMemo:
    """A value computed once per Tracker object, i.e. once per action call (rasa-sdk builds
    a Tracker for each call). Tracker defines `__eq__` and so can't be a dict or
    WeakKeyDictionary key: the memo is keyed by identity and forgets a tracker when it is
    garbage-collected."""

    def __init__(self, compute: Callable[[Tracker], Any]):
        self._compute = compute
        self._values: dict[int, Any] = {}

    def get(self, tracker: Tracker) -> Any:
        key = id(tracker)
        if key not in self._values:
            self._values[key] = self._compute(tracker)
            weakref.finalize(tracker, self._values.pop, key, None)
        return self._values[key]


class GuardedFormValidation:
    """Mixin for form validation actions: the form stops asking after two unusable
    answers in a row (see `reject`). Not an Action itself, so it isn't registered."""

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        return [] if stuck(tracker) else domain_slots


def _deadline(tracker: Tracker, action_name: str) -> float | None:
    """When Rasa stops waiting for this turn: the borrower's current message
    plus the ACTION_DEADLINE_SECONDS setting, which is below Rasa's
    ACTION_CALL_TIMEOUT (None when the turn has no such message).

    Only the current turn counts: a user message followed by action_listen
    belongs to an earlier turn (e.g. the last session, when
    action_session_start runs before the new message is logged).
    """
    if action_name == "action_session_start":
        return None
    for event in reversed(tracker.events or []):
        if event.get("event") == "action" and event.get("name") == "action_listen":
            return None
        if event.get("event") == "user":
            sent = event.get("timestamp")
            return sent + settings().action_deadline_seconds if isinstance(sent, (int, float)) else None
    return None


def _past_deadline(tracker: Tracker, action_name: str) -> bool:
    deadline = _deadline(tracker, action_name)
    return deadline is not None and time.time() > deadline


def _polite_failure(run):
    """An unexpected error inside an action must not leave the borrower without an answer
    (or return the tracker, with personal data, in a 500): say so politely, log the type only.

    The action runs in one of the action server's worker threads (actions/threads.py), so
    its database round trips no longer stop the server's event loop."""

    async def guarded(self, dispatcher, tracker, domain):
        if _past_deadline(tracker, self.name()):
            # Rasa has already told the borrower nothing was recorded
            # (components/action_guard.py); acting now would make that untrue.
            logger.warning("action %s refused: the call arrived after Rasa's deadline", self.name())
            return []
        try:
            # ...and what the action writes is rolled back if the deadline passes meanwhile.
            with commit_deadline(_deadline(tracker, self.name())):
                return await run(self, dispatcher, tracker, domain)
        except CommitDeadlinePassed:
            logger.warning("action %s: nothing recorded, Rasa's deadline passed during the action", self.name())
            dispatcher.messages.clear()
            return []
        except Exception as exc:
            _say_something_went_wrong(self, dispatcher, tracker, exc)
            return []

    @functools.wraps(run)
    async def wrapper(self, dispatcher, tracker, domain):
        try:
            threads = settings().action_threads
            return await off_the_event_loop(guarded(self, dispatcher, tracker, domain), threads)
        except Exception as exc:  # no thread took it (the pool is stopping), or no settings
            _say_something_went_wrong(self, dispatcher, tracker, exc)
            return []

    return wrapper


def _say_something_went_wrong(action, dispatcher, tracker: Tracker, exc: Exception) -> None:
    logger.error("action %s failed: %s", action.name(), type(exc).__name__)
    dispatcher.messages.clear()
    dispatcher.utter_message(response="utter_something_went_wrong", **contact_values(tracker))


class SafeAction(Action, metaclass=ABCMeta):
    """Base class of every action here: `run` is wrapped by `_polite_failure`.
    Abstract, so the action server does not register it."""

    @abstractmethod
    def name(self) -> str: ...

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            cls.run = _polite_failure(cls.run)


class SafeFormValidation(FormValidationAction, metaclass=ABCMeta):
    """Form validation with the same polite failure."""

    @abstractmethod
    def name(self) -> str: ...

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "run" not in cls.__dict__:
            cls.run = _polite_failure(FormValidationAction.run)
