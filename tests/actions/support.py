"""Shared fixtures and helpers for the action tests (test_actions*.py).

The actions run against rasa-sdk's real `CollectingDispatcher` and `Tracker`, the
parsed `domain.yml` and a fresh, migrated and seeded SQLite loan store per test.
The fixtures (`seeded_template`, `loans`, `today`) are in tests/actions/conftest.py;
`loans` is autouse, so every action test gets its own store.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
import string
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.agreements import ActionRecordAgreement
from actions.domain_file import load_domain
from bot import bootstrap
from bot.adapters.database import engine_for
from bot.adapters.orm import DelinquencyReason
from bot.adapters.store import LoanStore
from bot.domain.formatting import format_date, format_money
from bot.ops.demo import demo_rows
from bot.settings import BORROWER_TEXTS, DEV_SECRET, PROJECT_ROOT

ROOT = Path(PROJECT_ROOT)
DOMAIN = load_domain(ROOT / "domain.yml")  # a directory of topic files, merged

SEED_DAY = date(2026, 11, 23)  # the demo portfolio's "today" (next due dates, LN-10008's plan)
TZ = "Europe/London"  # every GBP demo borrower's time zone, and the default
PHONE = "0800 123 4567"
HOURS = "Monday to Friday, 9am to 5pm"
LENDER = "Acme Lending"

# Pinned so a developer's shell or .env cannot change what the tests expect.
ENVIRONMENT = {
    "APP_ENV": "development",
    "LENDER_NAME": LENDER,
    "LENDER_PHONE": PHONE,
    "LENDER_HOURS": HOURS,
    "PAYMENT_URL_TEMPLATE": "https://pay.acme-lending.example/pay?token={token}",
    "PAYMENT_LINK_SECRET": DEV_SECRET,
    "PAYMENT_LINK_TTL_MINUTES": "1440",
    "VERIFICATION_MAX_ATTEMPTS": "3",
    "VERIFICATION_LOCK_MINUTES": "30",
    "DATE_ORDER": "DMY",
    "DEFAULT_LANGUAGE": "en",
    "DEFAULT_TIMEZONE": TZ,
    "POLICY_FILE": str(ROOT / "collections_policy.yml"),
    "HANDOFF_DESTINATION": "database",
    "EMERGENCY_NUMBER": "999",
    **{f"{name.upper()}_ZH": "" for name in BORROWER_TEXTS},  # built-in Chinese for the defaults
}


def clear_caches() -> None:
    """Forget the booted services, so the next use reads the (patched) environment again."""
    bootstrap.reset()


def money(amount: str, currency: str = "GBP") -> str:
    return format_money(Decimal(amount), currency, "en")


def day(d: date) -> str:
    return format_date(d, "en")


def change_loan(store: LoanStore, loan_ref: str, **changes) -> None:
    """Overwrite some fields of one demo loan (e.g. a smaller overdue amount)."""
    row = next(r for r in demo_rows(SEED_DAY) if r["loan_ref"] == loan_ref)
    row.update(changes)
    store.upsert_loans([row])


# ---------------------------------------------------------------- trackers and running


def initial_slots() -> dict:
    slots = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}
    slots["requested_slot"] = None
    return slots


def verified(loan_ref: str = "LN-10001", **more) -> dict:
    return {"verified": True, "verified_loan_ref": loan_ref, "loan_ref": loan_ref, "date_of_birth": "checked", **more}


def with_ranking(trk: Tracker, ranked: list[tuple[str, float]]) -> Tracker:
    """The tracker with the classifier's whole ranking for the latest message."""
    trk.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranked]
    return trk


def tracker(
    slots: dict | None = None,
    *,
    intent: str = "affirm",
    text: str = "yes",
    channel: str = "rest",
    sender: str = "t1",
    extra_events: list | None = None,
    active_loop: dict | None = None,
    history: list | None = None,
    sent_at: float | None = None,
    entities: dict | None = None,
) -> Tracker:
    """A tracker whose latest user message has `intent` and `text`; `history` are earlier
    events (see `user_event`), `extra_events` come after the latest message."""
    all_slots = initial_slots()
    all_slots.update(slots or {})
    ranked = {"name": intent, "confidence": 1.0}
    # rasa-sdk reads the intent from `intent_ranking`, as Rasa sends it
    found = [{"entity": name, "value": value} for name, value in (entities or {}).items()]
    latest = {"intent": ranked, "intent_ranking": [ranked], "text": text, "entities": found}
    events = [
        *(history or []),
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "timestamp": sent_at if sent_at is not None else time.time(),
            "text": text,
            "parse_data": latest,
            "input_channel": channel,
        },
        *(extra_events or []),
    ]
    return Tracker(
        sender_id=sender,
        slots=all_slots,
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


def user_event(text: str, intent: str, channel: str = "rest") -> dict:
    """An earlier user message, as it appears in the tracker's events."""
    ranked = {"name": intent, "confidence": 1.0}
    parse_data = {"intent": ranked, "intent_ranking": [ranked], "text": text, "entities": []}
    return {"event": "user", "timestamp": 0, "text": text, "parse_data": parse_data, "input_channel": channel}


def bot_event(text: str) -> dict:
    return {"event": "bot", "timestamp": 0, "text": text}


def check_against_domain(dispatcher: CollectingDispatcher, trk: Tracker) -> None:
    """Each response exists and Rasa can fill all of its placeholders."""
    known = {k for k, v in trk.slots.items() if v is not None}
    for message in dispatcher.messages:
        name = message["response"]
        assert name in DOMAIN["responses"], f"{name} is not in domain.yml"
        for variation in DOMAIN["responses"][name]:
            fields = {f for _, f, _, _ in string.Formatter().parse(variation["text"]) if f}
            missing = fields - {k for k, v in message.items() if v is not None} - known
            assert not missing, f"{name}: no value for {sorted(missing)}"


def run(action: Action, trk: Tracker) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, DOMAIN))
    check_against_domain(dispatcher, trk)
    return dispatcher, events


def validate(action, slot: str, value, trk: Tracker) -> tuple[CollectingDispatcher, dict]:
    dispatcher = CollectingDispatcher()
    result = getattr(action, f"validate_{slot}")(value, dispatcher, trk, DOMAIN)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    check_against_domain(dispatcher, trk)
    return dispatcher, result


def names(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def message(dispatcher: CollectingDispatcher, name: str) -> dict:
    found = [m for m in dispatcher.messages if m["response"] == name]
    assert len(found) == 1, f"expected one {name}, got {names(dispatcher)}"
    return found[0]


def slots_of(events: list) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def buttons(msg: dict) -> list[tuple[str, str]]:
    return [(b["title"], b["payload"]) for b in msg["buttons"]]


def event_types(store: LoanStore, loan_ref: str | None = None) -> list[str]:
    return [e["event_type"] for e in store.audit_events(loan_ref)]


def snapshot(store: LoanStore) -> tuple:
    """Everything an action could write: agreements, reasons, audit events."""
    with store.db.reader() as s:
        reasons = s.scalar(select(func.count()).select_from(DelinquencyReason))
    return [a.to_json() for a in store.agreements()], reasons, store.audit_events()


def assert_nothing_about_the_loan(dispatcher: CollectingDispatcher) -> None:
    """Before verification: no amount, balance, product or name is said."""
    text = json.dumps(dispatcher.messages, default=str)
    for secret in ("£", "250", "3,200", "3200", "personal", "Amelia", "Clarke"):
        assert secret not in text, f"{secret!r} said before verification: {text}"


PLAN_3 = [("83.33", 0), ("83.33", 1), ("83.34", 2)]  # LN-10001's £250.00 over 3 months


def assert_read_back(events, kind: str, total: str, currency: str = "GBP", *, from_form: bool = True) -> dict:
    """A proposal was read back and waits for a yes; the form's slots were cleared."""
    slots = slots_of(events)
    if from_form:
        for name in ("promise_date", "plan_months", "plan_monthly_amount", "first_payment_date"):
            assert slots[name] is None
        assert slots["invalid_answers"] == 0
    assert slots["awaiting_confirmation"] is True
    pending = slots["pending_agreement"]
    assert pending["kind"] == kind
    assert pending["total_amount"] == total
    assert pending["currency"] == currency
    assert sum(Decimal(a) for _, a in pending["instalments"]) == Decimal(total)
    assert len(pending["terms"]["idempotency_key"]) == 32
    return pending


def propose(action: Action, slots: dict, loan_ref="LN-10001") -> dict:
    _, events = run(action, tracker(verified(loan_ref, **slots)))
    return slots_of(events)["pending_agreement"]


def confirm(pending, loan_ref="LN-10001", intent="affirm", sender="conv-9", text="yes", **slots):
    slots = verified(loan_ref, pending_agreement=pending, awaiting_confirmation=True, **slots)
    return run(ActionRecordAgreement(), tracker(slots, intent=intent, text=text, sender=sender))


def copy_sqlite_store(source: Path, target: Path, url: str) -> None:
    """Copy a SQLite loan store file (with its WAL sidecars) once `url`'s engine has
    let go of it: to run an action twice from the same store."""
    engine_for(url).dispose()
    for sidecar in ("", "-wal", "-shm"):
        file_from, file_to = Path(f"{source}{sidecar}"), Path(f"{target}{sidecar}")
        if file_from.exists():
            shutil.copyfile(file_from, file_to)
        elif file_to.exists():
            file_to.unlink()
