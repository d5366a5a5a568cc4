"""Held-out borrower language, scored end to end (issue 17).

The messages in tests/heldout/<lang>/<step>.yml were written apart from the training
data. Each one is sent in its own fresh, verified conversation at its step, on a new
loan of its own (see "The fork" below), and that one turn is observed: what the loan store
gained (`db_observations`, a before/after diff) and what Rasa's tracker shows after
the message's `user` event (`dialogue_observations`). `judge` says whether what
happened is sensible for the message's label, whether the borrower was asked to
rephrase, and which consequential actions nobody asked for were taken ("unintended").
`table` prints the result per step. The rules are tests/heldout's README and the
scoring notes of issue 17; the classification needs no servers
(tests/unit/test_heldout_scoring.py).

Read more strictly or more widely than the issue's notes, on purpose: a turn with an
unintended action or a failed action (utter_something_went_wrong) is never sensible; a
dispute may open a fraud claim (the labels count "not mine" as a dispute, the assistant
files it as a fraud claim, with the same hold); a settlement request is sensible with
an answer and the options again, or with a settlement read back. utter_confirm_request_*
("did you mean to …?") is shown as confirm:<request> and counts as an answer, not as a
clarification; for a message labelled dispute, asking first whether they mean to dispute
it is sensible (issue 17 §2: act only on an unambiguous request). A figure no standard
plan fits answered with the arrangements that fit it (utter_counter_offer_*) counts as
the hardship options. A bereavement given as the reason is filed and met with the
vulnerability support, not the options (FCA FG21/1), and counts as sensible.

The fork. Bringing a conversation to its step means verifying and 3-6 fixed messages
(`reach`: hi, the loan reference, the date of birth, [a fixed reason], [the 6-month
plan, a first date]), most of the stage's time. So each test brings one conversation
there per step and day (`Harness.template`, before its messages run) and starts every
message's conversation from it (`Harness.fork`): the message's new loan gets the rows the
way there added to the loan store (conversation_started, verification_passed,
disclosure_given, reason_recorded audit events, the delinquency reason, the reference's
verification counter), copied with its loan, borrower, conversation and counter key; then
the template's events make a new conversation, with the new loan's reference wherever the
template's appears, new message ids and read-back idempotency keys (the agreements table
holds each key once), and moved in time so that the last event is now (the session has
not expired; the rows move by as much). The events go in as the template's rows in the
e2e servers' SQL tracker store (trackers.db, masked as Rasa's store wrote them), copied
for the new sender; with HELDOUT_FORK=api, or when that store is not reachable, through
Rasa's HTTP API (PUT /conversations/{sender}/tracker/events), whose JSON-schema check of
every event costs Rasa's server about what the fixed turns cost it (docs/ci.md). The way
there changes no other row: if it ever does (a changed row, or a row neither of the
template's loan nor of its conversation), the step is replayed for every message
(`Harness.replayed_because` says why). Rasa and
the action server keep nothing else per conversation that the later turns read (the
tracker store's cache of recent trackers is filled from the stored events).
HELDOUT_REPLAY=1 (or `Harness(..., replay=True)`) replays every conversation as before;
tests/e2e/test_heldout_fork.py sends a few messages per step and language both ways and
requires the same trackers (every event and slot, before and after the message), the
same loan store rows and the same result. docs/ci.md has the measurements.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy import text as sa_text

from bot.adapters.orm import Base
from bot.domain.clock import local_today
from bot.domain.verification import PATHS, attempt_key

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = Path(os.environ.get("HELDOUT_DIR") or ROOT / "tests" / "heldout")
FLOORS = ROOT / "tests" / "heldout" / "floors.yml"
RESULTS = ROOT / "results"

STEPS = ("reason", "offers", "read_back")
LABELS = {
    "reason": ("reason", "vulnerable", "question", "offer", "not_now", "human", "paid", "dispute"),
    "offers": (
        "pay_now",
        "promise",
        "plan",
        "amount",
        "cant_afford",
        "hardship",
        "not_now",
        "question",
        "none_work",
        "settlement",
        "human",
    ),
    "read_back": (
        "yes",
        "no",
        "change_date",
        "change_months",
        "change_amount",
        "change_kind",
        "not_now",
        "worry",
        "question",
        "correction",
        "human",
        "dispute",
    ),
}
REASON_CODES = (
    "unemployment",
    "reduced_income",
    "illness",
    "bereavement",
    "family_emergency",
    "unexpected_expense",
    "forgot",
    "payment_problem",
    "over_indebted",
    "other",
)

# The scenario every message is sent in, and the fixed way to each step.
SCENARIO = {"overdue": "900.00", "outstanding": "3200.00", "days_past_due": 45}
DATE_OF_BIRTH = "1 June 1980"
FIXED_REASON = {"en": "I had some unexpected bills", "zh": "最近有一笔意外开支"}
CHOOSE_SIX_MONTHS = '/choose_plan{"plan_months": "6"}'
FIRST_DATE = {"en": "in 10 days", "zh": "10天后"}
READ_BACK_MONTHS = 6


# ---------------------------------------------------------------- the message sets


@dataclass(frozen=True)
class Message:
    text: str
    means: str
    reason: str | None = None  # reason step: the code a careful agent would file
    monthly: Decimal | None = None  # offers, amount: what they could manage a month
    months: int | None = None  # offers, plan: the plan's length when it is clear


def _label(value: Any) -> str:
    # An unquoted yes/no is a YAML boolean.
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def load_step(path: Path) -> tuple[str, list[Message]]:
    """One file: its step and its messages. Unknown steps, labels or reason codes, a
    missing text and a text given twice are errors (a typo would silently score 0)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    step = data.get("step")
    if step not in STEPS:
        raise ValueError(f"{path}: step {step!r} is not one of {', '.join(STEPS)}")
    messages, seen = [], set()
    for i, item in enumerate(data.get("messages") or []):
        where = f"{path} message {i + 1}"
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: no text")
        if text in seen:
            raise ValueError(f"{where}: {text!r} appears twice")
        seen.add(text)
        means = _label(item.get("means"))
        if means not in LABELS[step]:
            raise ValueError(f"{where}: label {means!r} is not one of the {step} step's")
        reason = item.get("reason")
        if reason is not None and reason not in REASON_CODES:
            raise ValueError(f"{where}: reason code {reason!r} unknown")
        monthly = None
        if item.get("monthly") is not None:
            try:
                monthly = Decimal(str(item["monthly"]))
            except InvalidOperation:
                raise ValueError(f"{where}: monthly {item['monthly']!r} is not an amount") from None
        months = int(item["months"]) if item.get("months") is not None else None
        messages.append(Message(text, means, reason, monthly, months))
    return step, messages


BLIND = "blind"  # tests/heldout/blind/<lang>/: written blind, never tuned on; the README's figures


def languages(root: Path = HELDOUT) -> list[str]:
    """The message sets: language directories holding at least one step file ("en"), and
    the blind set's as "blind/<lang>" ("blind/en"). HELDOUT_LANGS=en,zh narrows the
    languages, HELDOUT_SETS=dev or blind the sets."""
    wanted = [x for x in os.environ.get("HELDOUT_LANGS", "").split(",") if x]
    sets = [x for x in os.environ.get("HELDOUT_SETS", "").split(",") if x] or ["dev", BLIND]

    def found(directory: Path) -> list[str]:
        if not directory.is_dir():
            return []
        names = sorted(p.name for p in directory.iterdir() if p.is_dir() and any(p.glob("*.yml")))
        return [lang for lang in names if not wanted or lang in wanted]

    dev = found(root) if "dev" in sets else []
    blind = [f"{BLIND}/{lang}" for lang in found(root / BLIND)] if BLIND in sets else []
    return dev + blind


def language_of(name: str) -> str:
    """ "blind/en" → "en": the language the conversation is held in."""
    return name.rsplit("/", 1)[-1]


_STEP_LINE = re.compile(r"^step:[ \t]*['\"]?([A-Za-z_]+)", re.MULTILINE)


def step_files(lang: str, root: Path = HELDOUT) -> dict[str, Path]:
    """Each step's message file in a set, in step order, by the file's top-level `step:`
    line (the messages are not parsed: test collection uses this). A file whose step is
    missing or unknown is kept under its name, so that loading it says what is wrong."""
    files: dict[str, Path] = {}
    for path in sorted((root / lang).glob("*.yml")):
        match = _STEP_LINE.search(path.read_text(encoding="utf-8"))
        step = match.group(1) if match else path.name
        if step in files:
            raise ValueError(f"{path}: a second file for step {step}")
        files[step] = path
    order = {step: i for i, step in enumerate(STEPS)}
    return dict(sorted(files.items(), key=lambda item: order.get(item[0], len(STEPS))))


def cases(root: Path = HELDOUT) -> list[tuple[str, str]]:
    """(set, step) for every message file of the sets `languages` finds: one test each."""
    return [(lang, step) for lang in languages(root) for step in step_files(lang, root)]


def case_id(lang: str, step: str) -> str:
    """ "en", "reason" → "dev-en-reason"; "blind/en", "offers" → "blind-en-offers"."""
    kind = BLIND if lang.startswith(f"{BLIND}/") else "dev"
    return f"{kind}-{language_of(lang)}-{step}"


def load_sets(lang: str, root: Path = HELDOUT) -> dict[str, list[Message]]:
    """The messages of each step present for a language, in step order."""
    sets: dict[str, list[Message]] = {}
    for path in sorted((root / lang).glob("*.yml")):
        step, messages = load_step(path)
        if step in sets:
            raise ValueError(f"{path}: a second file for step {step}")
        sets[step] = messages
    return {step: sets[step] for step in STEPS if step in sets}


def floors(lang: str, path: Path = FLOORS) -> dict[str, float]:
    """The ratchet: the least fraction (0.0-1.0) of sensible turns per step; 0 when absent."""
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    found = data.get(lang) or {}
    for step, value in found.items():
        if step not in STEPS or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{path}: {lang}.{step}: {value!r} (floors are fractions from 0.0 to 1.0 per step)")
    return {step: float(found.get(step, 0.0)) for step in STEPS}


# ---------------------------------------------------------------- what a turn did

# Audit events (bot/adapters/store/*.py) and what they are evidence of.
EVENT_OBSERVATIONS = {
    "agreement_created": "recorded",
    "agreement_cancelled": "cancelled",
    "agreement_amended": "amended",
    "dispute_opened": "dispute",
    "fraud_claim_opened": "fraud",
    "payment_claim_opened": "payment_claim",  # shown for the record; no rule asks for it
    "contact_opt_out": "opt_out",
    "handoff_requested": "handoff",
    "vulnerability_flagged": "vulnerability",
    "decision_deferred": "deferred",
}
CASE_OBSERVATIONS = {"dispute": "dispute", "fraud_claim": "fraud", "payment_claim": "payment_claim"}
DB_OBSERVATIONS = frozenset({*EVENT_OBSERVATIONS.values(), *CASE_OBSERVATIONS.values(), "hold"})  # and reason:<code>

REPHRASE_ACTIONS = frozenset(
    {"action_default_ask_affirmation", "action_default_ask_rephrase", "action_default_fallback"}
)
REPHRASE_RESPONSES = frozenset({"utter_ask_rephrase", "utter_default"})
OPTIONS_RESPONSES = frozenset({"utter_offer_options", "utter_offer_monthly_amount_hint", "utter_no_plan_available"})
# A figure no standard plan fits: the arrangements that fit it (hardship plans at or under
# it, a payment holiday, a person) as buttons -- the hardship options, for the borrower's figure.
FITS_RESPONSES = frozenset(
    {
        "utter_counter_offer_too_long",
        "utter_counter_offer_below_minimum",
        "utter_counter_offer_nothing_fits",
        "utter_counter_offer_none",
    }
)
# The exact terms (actions/presenters.py read_back_message): a read-back, not an answer.
READ_BACK_RESPONSES = frozenset(
    {
        "utter_confirm_pay_now",
        "utter_confirm_promise",
        "utter_confirm_plan",
        "utter_confirm_hardship",
        "utter_confirm_settlement",
        "utter_settlement_improved",
        "utter_confirm_cancel",
        "utter_confirm_date_change",
    }
)
# Going back to the step or acknowledging a change: not an answer to anything.
RETURN_RESPONSES = frozenset(
    {
        "utter_back_to_it",
        "utter_read_back_still_open",
        "utter_how_can_i_help",
        "utter_anything_else",
        "utter_change_noted",
        "utter_affordability_first",
    }
)
# An action raised (actions/common.py says so politely): whatever else happened, not sensible.
FAILED_RESPONSE = "utter_something_went_wrong"
WORRY_RESPONSE = "utter_read_back_worry"
WITHDRAWN_RESPONSE = "utter_proposal_withdrawn"
CLARIFY_PREFIX = "utter_clarify_"
UNINTENDED = ("recorded", "cancelled", "amended", "dispute", "hold", "fraud", "opt_out")
# Labels that call for them. "Not mine" is a dispute in the labels (tests/heldout/README.md)
# and a fraud claim here (README: "this isn't my loan"), which holds the loan too.
ALLOWED = {"yes": {"recorded"}, "dispute": {"dispute", "hold", "fraud"}}
CONFIRM_PREFIX = "utter_confirm_request_"  # "did you mean to …?" before a consequential request
# Asking first whether they mean to dispute it is what issue 17 asks when the words are not plain.
ASKED_ABOUT_DISPUTE = ("confirm:dispute_debt", "confirm:not_my_loan")
# A question's own answer: the FAQ's, or "a colleague can answer that" (never a guess).
ANSWER_PREFIX = "utter_faq_"
FOR_A_PERSON = "utter_step_question_for_a_person"


def as_terms(value: Any) -> dict | None:
    """The `pending_agreement` slot (a dict, or its JSON) as a dict."""
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Observed:
    names: frozenset[str]
    read_back: dict | None = None  # the new read-back's pending_agreement
    before: dict | None = None  # what was waiting for a yes before the message
    plan_months: str | None = None  # plan_months set in the turn
    responses: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()

    def has(self, *names: str) -> bool:
        return any(n in self.names for n in names)

    def has_prefix(self, prefix: str) -> bool:
        return any(n.startswith(prefix) for n in self.names)

    @property
    def db_changed(self) -> bool:
        return any(n in DB_OBSERVATIONS or n.startswith("reason:") for n in self.names)

    def describe(self) -> str:
        shown = ", ".join(sorted(self.names)) or "nothing"
        if self.read_back:
            shown += f" [read back {_terms_summary(self.read_back)}]"
        said = ", ".join(r for r in self.responses if r) or "-"
        return f"{shown}; said: {said}"


def _terms_summary(pending: dict) -> str:
    terms = pending.get("terms") or {}
    parts = [str(pending.get("kind"))]
    if "months" in terms:
        parts.append(f"{terms['months']} months")
    if "instalment_amount" in terms:
        parts.append(f"{terms['instalment_amount']}/month")
    return " ".join(parts)


def after_user(events: Sequence[Mapping[str, Any]], since: int = 0) -> list[Mapping[str, Any]]:
    """The events the message caused: those after the first `user` event from `since` on."""
    for i in range(since, len(events)):
        if events[i].get("event") == "user":
            return list(events[i + 1 :])
    return []


def last_turn(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events after the latest `user` event (the assistant's last reply)."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].get("event") == "user":
            return list(events[i + 1 :])
    return list(events)


def responses_in(events: Iterable[Mapping[str, Any]]) -> list[tuple[str | None, str]]:
    """(action that said it, response name) for each bot utterance; '' for text without a response name."""
    said, action = [], None
    for event in events:
        if event.get("event") == "action":
            action = event.get("name")
        elif event.get("event") == "bot":
            said.append((action, (event.get("metadata") or {}).get("utter_action") or ""))
    return said


def _is_answer(action: str | None, response: str) -> bool:
    if response in REPHRASE_RESPONSES or action in REPHRASE_ACTIONS:
        return False
    if response in OPTIONS_RESPONSES or action == "action_offer_options":
        return False
    if response == "utter_hardship_options" or response in FITS_RESPONSES:
        return False
    if response in READ_BACK_RESPONSES or response in RETURN_RESPONSES:
        return False
    if response in (WORRY_RESPONSE, WITHDRAWN_RESPONSE, FAILED_RESPONSE) or response.startswith(CLARIFY_PREFIX):
        return False
    # a form's question is not an answer either
    return not (response.startswith("utter_ask_") or (action or "").startswith("action_ask_"))


def dialogue_observations(
    events: Sequence[Mapping[str, Any]], slots_before: Mapping[str, Any], slots_after: Mapping[str, Any]
) -> Observed:
    """What the tracker shows of one turn (`events`: those after the message's `user` event)."""
    names: set[str] = set()
    actions = tuple(e.get("name") or "" for e in events if e.get("event") == "action")
    said = responses_in(events)
    responses = tuple(r for _, r in said)
    slot_events = [e for e in events if e.get("event") == "slot"]

    before = as_terms(slots_before.get("pending_agreement"))
    read_back = None
    pending_sets = [e for e in slot_events if e.get("name") == "pending_agreement"]
    if pending_sets:
        latest = as_terms(pending_sets[-1].get("value"))
        if latest is not None and latest != before:
            read_back = latest
            names.add(f"read_back:{latest.get('kind')}")

    requested = [e.get("value") for e in slot_events if e.get("name") == "requested_slot"]
    if requested and requested[-1]:
        names.add(f"form:{requested[-1]}")
    # A form fills plan_months with the words first and validation empties it when they
    # name no length: only the value the turn ends with counts, and only a number.
    months_set = [e.get("value") for e in slot_events if e.get("name") == "plan_months"]
    plan_months = str(months_set[-1]) if months_set and str(months_set[-1]).strip().isdigit() else None

    if "action_offer_options" in actions or "utter_offer_options" in responses:
        names.add("options")
    if "action_offer_hardship" in actions or FITS_RESPONSES.intersection(responses):
        names.add("hardship_options")
    if any(r.startswith(CLARIFY_PREFIX) for r in responses):
        names.add("clarify")
    # Shown for the record (scored as an answer): which request the assistant asked about first.
    names |= {"confirm:" + r.removeprefix(CONFIRM_PREFIX) for r in responses if r.startswith(CONFIRM_PREFIX)}
    if WORRY_RESPONSE in responses:
        names.add("worry")
    if WITHDRAWN_RESPONSE in responses:
        names.add("withdrawn")
    after = as_terms(slots_after.get("pending_agreement"))
    if slots_after.get("awaiting_confirmation") and before is not None and after == before:
        names.add("still_pending")
    if FAILED_RESPONSE in responses:
        names.add("failed")
    if REPHRASE_ACTIONS.intersection(actions) or REPHRASE_RESPONSES.intersection(responses):
        names.add("rephrase")
    if any(_is_answer(action, response) for action, response in said):
        names.add("answered")
    return Observed(frozenset(names), read_back, before, plan_months, responses, actions)


def snapshot(store: Any, loan_ref: str) -> dict:
    """What the loan store holds about a loan, reduced to what a turn can add to."""
    report = store.loan_report(loan_ref)
    return {
        "status": report["status"],
        "reasons": [r["reason_code"] for r in report["reasons"]],
        "events": [e["event_type"] for e in report["audit_events"]],
        "cases": [{"case_ref": c["case_ref"], "kind": c["kind"]} for c in store.cases(loan_ref)],
    }


def db_observations(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """What the store gained between two snapshots (audit events and reasons only grow)."""
    names = {EVENT_OBSERVATIONS[t] for t in after["events"][len(before["events"]) :] if t in EVENT_OBSERVATIONS}
    names |= {f"reason:{code}" for code in after["reasons"][len(before["reasons"]) :]}
    old_cases = {c["case_ref"] for c in before["cases"]}
    names |= {
        CASE_OBSERVATIONS[c["kind"]]
        for c in after["cases"]
        if c["case_ref"] not in old_cases and c["kind"] in CASE_OBSERVATIONS
    }
    if after["status"] == "on_hold" and before["status"] != "on_hold":
        names.add("hold")
    return names


def observe(
    events: Sequence[Mapping[str, Any]],
    slots_before: Mapping[str, Any],
    slots_after: Mapping[str, Any],
    db_before: Mapping[str, Any],
    db_after: Mapping[str, Any],
) -> Observed:
    seen = dialogue_observations(events, slots_before, slots_after)
    return Observed(
        seen.names | db_observations(db_before, db_after),
        seen.read_back,
        seen.before,
        seen.plan_months,
        seen.responses,
        seen.actions,
    )


# ---------------------------------------------------------------- is it sensible?


@dataclass(frozen=True)
class Verdict:
    sensible: bool
    rephrase: bool
    unintended: tuple[str, ...]
    note: str = ""  # why a turn that looked right was not


def _months(pending: dict | None) -> int | None:
    months = ((pending or {}).get("terms") or {}).get("months")
    return int(months) if months is not None else None


def _dates(pending: dict | None) -> dict:
    terms = (pending or {}).get("terms") or {}
    return {k: v for k, v in terms.items() if "date" in k}


def _instalment(pending: dict | None) -> str | None:
    amount = ((pending or {}).get("terms") or {}).get("instalment_amount")
    return str(amount) if amount is not None else None


def _kind(pending: dict | None) -> str | None:
    return (pending or {}).get("kind")


def _at_reason(m: Message, o: Observed) -> tuple[bool, str]:
    rules: dict[str, Callable[[], bool]] = {
        # A bereavement is a vulnerability (FCA FG21/1): filed, then support and no collection today.
        # So is a family emergency or a bereavement the classifier reads as a disclosure ("we lost
        # our baby last month", "my mother had a stroke and nobody else can care for her": life
        # events and caring in FG21/1's drivers): support and a person, without the code filed.
        "reason": lambda: (
            (
                o.has_prefix("reason:")
                and (o.has("options", "hardship_options") or (o.has("reason:bereavement") and o.has("vulnerability")))
            )
            or (m.reason in {"bereavement", "family_emergency"} and o.has("vulnerability"))
        ),
        "vulnerable": lambda: o.has("vulnerability"),
        # Answered, and nothing consequential; a reason they gave with it may be filed when the
        # question itself is answered ("lost my job last month. are you gonna add interest?":
        # filed, the answer, the options), not when only the reason's empathy was said
        "question": lambda: (
            o.has("answered")
            and not o.has(*DB_OBSERVATIONS)
            and (not o.db_changed or any(r.startswith(ANSWER_PREFIX) or r == FOR_A_PERSON for r in o.responses))
        ),
        "offer": lambda: o.has_prefix("read_back:") or o.has_prefix("form:") or o.has("options", "hardship_options"),
        "not_now": lambda: o.has("deferred"),
        "human": lambda: o.has("handoff"),
        "paid": lambda: o.has_prefix("form:"),
        "dispute": lambda: o.has("dispute", "fraud", "clarify", *ASKED_ABOUT_DISPUTE),
    }
    return rules[m.means](), ""


def _at_offers(m: Message, o: Observed) -> tuple[bool, str]:
    if m.means == "plan":
        if not (o.has("read_back:instalment_plan") or o.has_prefix("form:")):
            return False, ""
        if m.months is not None:
            if o.has("read_back:instalment_plan") and _months(o.read_back) != m.months:
                return False, f"read back {_months(o.read_back)} months, not {m.months}"
            if o.plan_months is not None and int(o.plan_months) != m.months:
                return False, f"asked about {o.plan_months} months, not {m.months}"
        return True, ""
    if m.means == "amount":
        if not (o.has_prefix("form:") or o.has("read_back:instalment_plan", "hardship_options", "handoff")):
            return False, ""
        asked = ((o.read_back or {}).get("terms") or {}).get("instalment_amount")
        if asked is not None and m.monthly is not None and Decimal(str(asked)) > m.monthly:
            return False, f"read back {asked} a month, more than {m.monthly}"
        return True, ""
    rules: dict[str, Callable[[], bool]] = {
        "pay_now": lambda: o.has("read_back:pay_now"),
        "promise": lambda: o.has("read_back:promise_to_pay", "form:promise_date"),
        "cant_afford": lambda: o.has("hardship_options", "clarify", "handoff"),
        "none_work": lambda: o.has("hardship_options", "clarify", "handoff"),
        # A disclosure with it ("I'm on chemo, is there a special plan?"): collection stops and a
        # person who handles vulnerability takes it (FCA FG21/1), which is the help asked for.
        "hardship": lambda: o.has("hardship_options") or (o.has("vulnerability") and o.has("handoff")),
        "not_now": lambda: o.has("deferred"),
        "question": lambda: o.has("answered") and o.has("options"),
        # No settlement at 45 days past due: an answer and the options again (or, where
        # policy allows one, the settlement read back).
        "settlement": lambda: (o.has("answered") and o.has("options")) or o.has("read_back:settlement"),
        "human": lambda: o.has("handoff"),
    }
    return rules[m.means](), ""


def _at_read_back(m: Message, o: Observed) -> tuple[bool, str]:
    def other_months() -> bool:
        return o.has("read_back:instalment_plan") and _months(o.read_back) != _months(o.before)

    def other_kind() -> bool:
        return o.read_back is not None and _kind(o.read_back) != _kind(o.before)

    def other_amount() -> bool:
        # Their own figure taken at once (a counter-offer that fits): the plan read back
        # again at another monthly amount.
        return o.has("read_back:instalment_plan") and _instalment(o.read_back) != _instalment(o.before)

    def other_date() -> bool:
        # The named date taken at once: the same terms read back with another date.
        return o.read_back is not None and _dates(o.read_back) != _dates(o.before)

    rules: dict[str, Callable[[], bool]] = {
        "yes": lambda: o.has("recorded"),
        "no": lambda: o.has("withdrawn", "options"),
        "change_date": lambda: o.has("form:first_payment_date", "form:promise_date") or other_date(),
        "change_months": lambda: o.has("form:plan_months") or other_months(),
        "change_amount": lambda: (
            o.has_prefix("form:") or o.has("options", "hardship_options", "clarify") or other_amount()
        ),
        # "a hardship plan instead": the hardship options are that other kind
        "change_kind": lambda: other_kind() or o.has_prefix("form:") or o.has("options", "hardship_options"),
        "not_now": lambda: o.has("deferred"),
        "worry": lambda: o.has("worry", "hardship_options", "handoff"),
        "question": lambda: o.has("answered") and o.has("still_pending"),
        "correction": lambda: o.has("clarify"),
        "human": lambda: o.has("handoff"),
        "dispute": lambda: o.has("dispute", "fraud", "clarify", *ASKED_ABOUT_DISPUTE),
    }
    return rules[m.means](), ""


JUDGES = {"reason": _at_reason, "offers": _at_offers, "read_back": _at_read_back}


def judge(step: str, message: Message, observed: Observed) -> Verdict:
    """Sensible: what the label calls for, never a request to rephrase, no action that
    failed, and nothing consequential that the message did not ask for."""
    unintended = tuple(n for n in UNINTENDED if observed.has(n) and n not in ALLOWED.get(message.means, set()))
    ok, note = JUDGES[step](message, observed)
    rephrase, failed = observed.has("rephrase"), observed.has("failed")
    if ok and rephrase:
        note = "asked to rephrase"
    elif ok and unintended:
        note = "unintended: " + ", ".join(unintended)
    elif ok and failed:
        note = "an action failed"
    return Verdict(ok and not rephrase and not unintended and not failed, rephrase, unintended, note)


# ---------------------------------------------------------------- results and the table


@dataclass
class Result:
    step: str
    text: str
    means: str
    status: str  # scored | unreached (could not reach the step) | error (the turn itself failed)
    sensible: bool = False
    rephrase: bool = False
    unintended: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # the actions, in order (for the JSON)
    note: str = ""
    expected: dict = field(default_factory=dict)  # reason / monthly / months from the label


@dataclass
class StepScore:
    step: str
    results: list[Result]

    @property
    def counted(self) -> list[Result]:
        """Scored turns and turns that raised (an error is not sensible)."""
        return [r for r in self.results if r.status != "unreached"]

    @property
    def n(self) -> int:
        return len(self.counted)

    @property
    def sensible(self) -> float:
        return sum(r.sensible for r in self.counted) / self.n if self.n else 0.0

    @property
    def rephrase(self) -> float:
        return sum(r.rephrase for r in self.counted) / self.n if self.n else 0.0

    @property
    def unintended(self) -> int:
        return sum(bool(r.unintended) for r in self.counted)

    @property
    def unreached(self) -> list[Result]:
        return [r for r in self.results if r.status == "unreached"]

    @property
    def errors(self) -> list[Result]:
        return [r for r in self.results if r.status == "error"]

    def by_label(self) -> dict[str, tuple[int, int]]:
        counts: dict[str, tuple[int, int]] = {}
        for r in self.counted:
            good, total = counts.get(r.means, (0, 0))
            counts[r.means] = (good + r.sensible, total + 1)
        return counts

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "sensible": round(self.sensible, 4),
            "rephrase": round(self.rephrase, 4),
            "unintended": self.unintended,
            "unreached": len(self.unreached),
            "errors": len(self.errors),
            "by_label": {k: {"sensible": g, "n": t} for k, (g, t) in self.by_label().items()},
            "messages": [asdict(r) for r in self.results],
        }


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def table(lang: str, model: str, scores: Sequence[StepScore], step_floors: Mapping[str, float] | None = None) -> str:
    """The per-step table, then what each step got wrong."""
    step_floors = step_floors or {}
    lines = [
        f"Held-out borrower language: {lang} (model {model})",
        f"{'step':<10} {'n':>4} {'sensible':>9} {'floor':>6} {'rephrase':>9} {'unintended':>11} "
        f"{'unreached':>10} {'errors':>7}",
    ]
    for s in scores:
        floor = f"{100 * step_floors.get(s.step, 0.0):5.1f}%"
        lines.append(
            f"{s.step:<10} {s.n:>4} {_pct(s.sensible):>9} {floor:>6} {_pct(s.rephrase):>9} {s.unintended:>11} "
            f"{len(s.unreached):>10} {len(s.errors):>7}"
        )
    for s in scores:
        lines.append("")
        labels = ", ".join(f"{k} {g}/{t}" for k, (g, t) in sorted(s.by_label().items()))
        lines.append(f"{s.step}: {labels}")
        if s.step == "reason":
            coded = [r for r in s.counted if r.expected.get("reason") and r.sensible and r.means == "reason"]
            agreed = sum(f"reason:{r.expected['reason']}" in r.observed for r in coded)
            if coded:
                lines.append(f"  reason code as labelled: {agreed}/{len(coded)} of the sensible reasons")
        for r in s.results:
            if r.status == "scored" and r.sensible:
                continue
            tag = {"unreached": "COULD NOT REACH STEP", "error": "ERROR"}.get(r.status, "")
            if r.unintended:
                tag = "UNINTENDED " + ",".join(r.unintended)
            extra = "".join(f" {k}={v}" for k, v in r.expected.items())
            seen = (", ".join(r.observed) or "nothing") + ("; said: " + ", ".join(r.said) if r.said else "")
            detail = r.note if r.status != "scored" else f"{seen}{' (' + r.note + ')' if r.note else ''}"
            lines.append(f"  {tag + ' ' if tag else ''}[{r.means}{extra}] {r.text!r} -> {detail}")
    return "\n".join(lines)


def write_results(lang: str, model: str, scores: Sequence[StepScore], directory: Path = RESULTS) -> Path:
    """results/heldout_<set>.json: the set's steps scored with `model`. Each test scores one
    step and merges its section into the file, under a lock (two xdist workers may finish
    steps of the same set at once); the sections of another model's run are dropped."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"heldout_{lang.replace('/', '_')}"
    path = directory / f"{name}.json"
    with open(directory / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = {}
        same_model = isinstance(before, dict) and before.get("language") == lang and before.get("model") == model
        steps = dict(before.get("steps") or {}) if same_model else {}
        steps.update({s.step: s.to_json() for s in scores})
        order = {step: i for i, step in enumerate(STEPS)}
        body = {
            "language": lang,
            "model": model,
            "steps": {step: steps[step] for step in sorted(steps, key=lambda step: order.get(step, len(STEPS)))},
        }
        partial = directory / f".{name}.{os.getpid()}.tmp"
        partial.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        os.replace(partial, path)  # readers never see half a file
    return path


# ---------------------------------------------------------------- driving the real servers


class Unreachable(Exception):
    """The conversation did not get to the step; the message is not scored."""


class NotForkable(Exception):
    """The way to a step left state a fork cannot reproduce: that step is replayed."""


REPLAY_VARIABLE = "HELDOUT_REPLAY"
LOAN_TIMEZONE = "Europe/London"  # Servers.new_loan's: the day the fixed messages' dates count from
_TABLES = {table.name: table for table in Base.metadata.sorted_tables}
_OWN_ROWS = ("loans", "borrowers")  # the loan's own rows: made by new_loan, never copied
_MESSAGE_ID = re.compile(r'"(message_id|idempotency_key)": "([0-9a-f]{16,64})"')
_GENERATED_REF = re.compile(r"(?<![A-Za-z0-9])(AG|CS|ES|FB|HO)-[A-Z2-9]{8}(?![A-Za-z0-9])")  # rows.new_ref's


FORK_VARIABLE = "HELDOUT_FORK"  # "api": write every fork's events with Rasa's HTTP API


def _tracker_rows(engine: Any, sender: str) -> list[dict]:
    """A conversation's rows in Rasa's SQL tracker store, in order."""
    with engine.connect() as conn:
        found = conn.execute(
            sa_text(
                "SELECT type_name, timestamp, intent_name, action_name, data FROM events"
                " WHERE sender_id = :sender ORDER BY id"
            ),
            {"sender": sender},
        )
        return [dict(row) for row in found.mappings()]


def replaying() -> bool:
    """HELDOUT_REPLAY=1: every conversation replays the fixed messages (no fork), as
    before the fork; run both ways and compare to check that forking changes nothing."""
    return os.environ.get(REPLAY_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def _attempt_secrets(servers: Any) -> list[str]:
    """The secrets the action server may key verification counters with (bot/bootstrap.py)."""
    found = [os.environ.get("VERIFICATION_ATTEMPT_SECRET", ""), servers.settings.get("CHANNEL_IDENTITY_SECRET", "")]
    return [s for s in found if s]


def _database_rows(db: Any) -> dict[str, dict[tuple, dict]]:
    """Every row of the loan store, by table and primary key."""
    with db.reader() as session:
        return {
            name: {
                tuple(row[c.name] for c in table.primary_key.columns): dict(row)
                for row in session.execute(select(table)).mappings()
            }
            for name, table in _TABLES.items()
        }


def _loan_ids(db: Any, ref: str) -> tuple[int, int]:
    loans = _TABLES["loans"]
    with db.reader() as session:
        row = session.execute(select(loans.c.id, loans.c.borrower_id).where(loans.c.loan_ref == ref)).one()
    return int(row[0]), int(row[1])


def _ref_number(ref: str) -> str:
    return ref.rsplit("-", 1)[-1]


@dataclass(frozen=True)
class Template:
    """A conversation brought to a step by the fixed messages, and what the way there
    left in the loan store: what every forked conversation at the step starts from."""

    step: str
    day: date
    ref: str
    sender: str
    loan_id: int
    borrower_id: int
    events: tuple[dict, ...]
    reached_at: float  # the timestamp of its last event
    rows: tuple[tuple[str, dict], ...]  # (table, row) the way there added, in order
    loan_changes: tuple[tuple[str, dict], ...]  # ("loans" | "borrowers", columns changed)
    counters: tuple[tuple[str, str, str], ...]  # verification counters: (key, secret, path)
    stored: tuple[dict, ...] | None = None  # its rows in Rasa's SQL tracker store (None: not reachable)

    def substitutions(self, ref: str, sender: str) -> dict[str, str]:
        """What the template's loan and conversation are called, and what the fork's are."""
        subs = {
            self.ref: ref,
            self.sender: sender,
            f"Borrower {_ref_number(self.ref)}": f"Borrower {_ref_number(ref)}",
        }
        for key, secret, path in self.counters:
            new = attempt_key(secret, path, ref)
            subs[key] = new
            subs[key[:16]] = new[:16]  # the audit log names a counter by a prefix of its key
        return subs


def _replace(text: str, subs: Mapping[str, str]) -> str:
    for old in sorted(subs, key=len, reverse=True):  # a counter's key before its prefix
        text = text.replace(old, subs[old])
    return text


def _substituted(value: Any, subs: Mapping[str, str], shift: timedelta) -> Any:
    if isinstance(value, str):
        return _replace(value, subs)
    if isinstance(value, datetime):
        return value + shift
    if isinstance(value, (dict, list)):
        return json.loads(_replace(json.dumps(value), subs))
    return value


def _fresh_ids(text: str) -> dict[str, str]:
    """A new id for each message id and idempotency key in `text`: each conversation's own."""
    return {old: uuid.uuid4().hex for _, old in _MESSAGE_ID.findall(text)}


def _placeholders(ref: str, sender: str) -> dict[str, str]:
    """A loan's and a conversation's names, and what two compared forks call them."""
    return {ref: "<loan>", sender: "<sender>", f"Borrower {_ref_number(ref)}": "Borrower <n>"}


def comparable(tracker: Mapping[str, Any], ref: str, sender: str) -> dict:
    """A tracker as two conversations with different loans, senders and times compare:
    events without timestamps and message ids, the loan named <loan>."""
    subs = _placeholders(ref, sender)
    text = _MESSAGE_ID.sub(lambda m: f'"{m.group(1)}": "<id>"', json.dumps(tracker, ensure_ascii=False))
    data = json.loads(_GENERATED_REF.sub(r"\1-<ref>", _replace(text, subs)))
    events = [{k: v for k, v in e.items() if k != "timestamp"} for e in data.get("events") or []]
    for event in events:
        if event.get("event") == "user" and "<loan>" in (event.get("text") or ""):
            # Typing another loan's reference is another text: the classifier's confidences
            # for it differ from loan to loan in replayed conversations too; its reading stays.
            parse = event.get("parse_data") or {}
            event["parse_data"] = {"intent": (parse.get("intent") or {}).get("name"), "entities": parse.get("entities")}
    return {"events": events, "slots": data.get("slots") or {}}


def comparable_rows(servers: Any, ref: str, sender: str) -> dict[str, list]:
    """What the loan store holds about a loan and its conversation, as two forks compare:
    ids, times and generated references left out, the loan named <loan>."""
    db = servers.store.db
    loan_id, borrower_id = _loan_ids(db, ref)
    keys = {attempt_key(secret, path, ref) for secret in _attempt_secrets(servers) for path in PATHS}
    subs = _placeholders(ref, sender)
    subs |= {key: "<counter>" for key in keys} | {key[:16]: "<counter>" for key in keys}
    found: dict[str, list] = {}
    for name, rows in _database_rows(db).items():
        table = _TABLES[name]
        for row in rows.values():
            mine = (
                (name == "loans" and row["id"] == loan_id)
                or (name == "borrowers" and row["id"] == borrower_id)
                or row.get("loan_id") == loan_id
                or row.get("borrower_id") == borrower_id
                or row.get("conversation_id") == sender
                or row.get("counter_key") in keys
            )
            if not mine:
                continue
            shown = {}
            for column in table.columns:
                value = row[column.name]
                if column.primary_key or column.foreign_keys:
                    continue
                if isinstance(value, datetime):
                    value = "<time>"
                elif column.name == "idempotency_key":  # the read-back's own, new in every conversation
                    value = "<id>"
                elif isinstance(value, (dict, list)):
                    text = _MESSAGE_ID.sub(lambda m: f'"{m.group(1)}": "<id>"', json.dumps(value))
                    value = json.loads(_GENERATED_REF.sub(r"\1-<ref>", _replace(text, subs)))
                elif isinstance(value, str):
                    value = _GENERATED_REF.sub(r"\1-<ref>", _replace(value, subs))
                shown[column.name] = value
            found.setdefault(name, []).append(shown)
    return found


class Harness:
    """Runs held-out messages against the e2e `servers` (tests/e2e/conftest.py).

    Each message gets its own new loan and conversation at its step: forked from a
    template conversation that the fixed messages brought there once (`template`), or,
    with HELDOUT_REPLAY=1 (`replay=True`) or for a step whose way there cannot be
    reproduced, brought there by the fixed messages themselves (`reach`)."""

    def __init__(self, servers: Any, lang: str, *, replay: bool | None = None, via_api: bool | None = None):
        self.servers = servers
        self.lang = language_of(lang)
        self.replay = replaying() if replay is None else replay
        self._loans = threading.Lock()  # Servers.new_loan counts references without a lock
        self._templates: dict[tuple[str, date], Template | str] = {}  # or why the step is replayed
        # Forks and replays share the servers; a template is made with nothing else running,
        # so that what its way there added to the loan store is all its own.
        self._gate = threading.Condition()
        self._running = 0
        self._building = False
        # The e2e servers' SQL tracker store (tests/e2e/conftest.py): a fork's rows go
        # straight in, as the template's were written (see `fork`); else through the API.
        work = getattr(servers, "work", None)
        store = Path(work) / "trackers.db" if work else None
        if via_api is None:
            via_api = os.environ.get(FORK_VARIABLE, "").strip().lower() == "api"
        self._trackers = (
            create_engine(f"sqlite:///{store}", connect_args={"timeout": 60})
            if store is not None and store.exists() and not via_api
            else None
        )

    @property
    def forks_into_store(self) -> bool:
        """Whether forks are written as rows in the tracker store (else through the API)."""
        return self._trackers is not None

    def new_loan(self) -> str:
        with self._loans:
            return self.servers.new_loan(**SCENARIO, language=self.lang)

    def _url(self, sender: str, path: str, **query: str) -> str:
        params = urllib.parse.urlencode({**query, "token": self.servers.settings["RASA_TOKEN"]})
        return f"{self.servers.rasa_url}/conversations/{urllib.parse.quote(sender, safe='')}/{path}?{params}"

    def tracker(self, sender: str) -> dict:
        with urllib.request.urlopen(self._url(sender, "tracker", include_events="ALL"), timeout=60) as response:
            return json.loads(response.read())

    def put_events(self, sender: str, events: Sequence[Mapping[str, Any]]) -> None:
        """A new conversation made of `events` (Rasa's PUT /conversations/{sender}/tracker/events)."""
        request = urllib.request.Request(
            self._url(sender, "tracker/events", include_events="NONE"),
            data=json.dumps(list(events)).encode(),
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200

    def reach(self, step: str, sender: str, ref: str) -> dict:
        """Verify, then the fixed messages to `step`; the tracker there, its preconditions checked."""
        for text in ("hi", ref, DATE_OF_BIRTH):
            self.servers.send(sender, text)
        if step in ("offers", "read_back"):
            self.servers.send(sender, FIXED_REASON.get(self.lang, FIXED_REASON["en"]))
        if step == "read_back":
            self.servers.send(sender, CHOOSE_SIX_MONTHS)
            self.servers.send(sender, FIRST_DATE.get(self.lang, FIRST_DATE["en"]))
        tracker = self.tracker(sender)
        problem = precondition_problem(step, tracker)
        if problem:
            raise Unreachable(problem)
        return tracker

    # -------------------------------------------------------- the fork

    def prepare(self, steps: Iterable[str]) -> None:
        """Make the steps' templates now (before messages run side by side)."""
        if not self.replay:
            for step in steps:
                self.template(step)

    def template(self, step: str) -> Template | None:
        """The step's template for today (None: the step is replayed, `replayed_because` says why)."""
        key = (step, local_today(LOAN_TIMEZONE))  # the fixed messages' dates count from today
        with self._gate:
            if key not in self._templates:
                self._building = True
                try:
                    self._gate.wait_for(lambda: self._running == 0)
                    try:
                        self._templates[key] = self._build_template(step, key[1])
                    except (NotForkable, Unreachable) as e:
                        self._templates[key] = str(e)
                finally:
                    self._building = False
                    self._gate.notify_all()
            found = self._templates[key]
        return found if isinstance(found, Template) else None

    def replayed_because(self) -> dict[str, str]:
        """The steps replayed although forking was on, and why."""
        return {step: why for (step, _), why in self._templates.items() if isinstance(why, str)}

    def _build_template(self, step: str, day: date) -> Template:
        db = self.servers.store.db
        ref, sender = self.new_loan(), f"heldout-template-{uuid.uuid4().hex[:12]}"
        loan_id, borrower_id = _loan_ids(db, ref)
        before = _database_rows(db)
        tracker = self.reach(step, sender, ref)
        after = _database_rows(db)
        counters = {
            attempt_key(secret, path, ref): (secret, path)
            for secret in _attempt_secrets(self.servers)
            for path in PATHS
        }
        ours_by_id = {"loans": loan_id, "borrowers": borrower_id}
        rows: list[tuple[str, dict]] = []
        changes: list[tuple[str, dict]] = []
        used: set[str] = set()
        for name, table in _TABLES.items():
            old, new = before.get(name, {}), after.get(name, {})
            for pk, row in old.items():
                now = new.get(pk)
                if now == row:
                    continue
                if name in ours_by_id and row.get("id") == ours_by_id[name] and now is not None:
                    changes.append((name, {k: v for k, v in now.items() if row.get(k) != v}))
                    continue
                raise NotForkable(f"the way to {step} changed or removed a row of {name}: {row}")
            for pk, row in new.items():
                if pk in old:
                    continue
                ours = (
                    row.get("loan_id") == loan_id
                    or row.get("borrower_id") == borrower_id
                    or row.get("conversation_id") == sender
                    or row.get("counter_key") in counters
                )
                if not ours or name in _OWN_ROWS:
                    raise NotForkable(f"the way to {step} added a row of {name} not of its loan or conversation: {row}")
                for column in table.columns:
                    for fk in column.foreign_keys:
                        if fk.column.table.name not in _OWN_ROWS and row[column.name] is not None:
                            raise NotForkable(
                                f"the way to {step} added a row of {name} pointing to {fk.target_fullname}"
                            )
                if row.get("counter_key") in counters:
                    used.add(row["counter_key"])
                rows.append((name, row))
        events = tuple(tracker["events"])
        stored = _tracker_rows(self._trackers, sender) if self._trackers is not None else None
        if stored is not None and [r["type_name"] for r in stored] != [e.get("event") for e in events]:
            stored = None  # not the conversation as Rasa gives it: written through the API instead
        return Template(
            step=step,
            day=day,
            ref=ref,
            sender=sender,
            loan_id=loan_id,
            borrower_id=borrower_id,
            events=events,
            reached_at=max(float(e.get("timestamp") or 0) for e in events),
            rows=tuple(rows),
            loan_changes=tuple(changes),
            counters=tuple((key, *counters[key]) for key in sorted(used)),
            stored=tuple(stored) if stored is not None else None,
        )

    def fork(self, template: Template, sender: str, ref: str) -> dict:
        """A new conversation at the template's step, for loan `ref`: the template's rows
        in the loan store made again for `ref` and `sender`, then its events, with `ref`
        for the template's loan, new message ids and idempotency keys, and moved in time
        so that its last event is now (as if the fixed messages had just been sent)."""
        seconds = time.time() - template.reached_at
        subs = template.substitutions(ref, sender)
        text = json.dumps(list(template.events), ensure_ascii=False)
        subs |= _fresh_ids(text)
        loan_id, borrower_id = _loan_ids(self.servers.store.db, ref)
        ids = {("loans", template.loan_id): loan_id, ("borrowers", template.borrower_id): borrower_id}
        shift = timedelta(seconds=seconds)
        with self.servers.store.db.transaction() as session:
            for name, row in template.rows:
                table = _TABLES[name]
                values = {}
                for column in table.columns:
                    if column.primary_key and column.autoincrement in (True, "auto") and len(table.primary_key) == 1:
                        continue  # a new row's own id
                    value = row[column.name]
                    targets = {fk.column.table.name for fk in column.foreign_keys}
                    target = next(iter(targets), None)
                    if target in _OWN_ROWS and (target, value) in ids:
                        value = ids[(target, value)]
                    else:
                        value = _substituted(value, subs, shift)
                    values[column.name] = value
                session.execute(insert(table).values(**values))
            for name, changed in template.loan_changes:
                table = _TABLES[name]
                own = loan_id if name == "loans" else borrower_id
                values = {k: _substituted(v, subs, shift) for k, v in changed.items()}
                session.execute(update(table).where(table.c.id == own).values(**values))
        if template.stored is not None and self._trackers is not None:
            self._write_rows(template, sender, subs, seconds)
        else:
            events = json.loads(_replace(text, subs))
            for event in events:
                if event.get("timestamp") is not None:
                    event["timestamp"] = float(event["timestamp"]) + seconds
            self.put_events(sender, events)
        tracker = self.tracker(sender)
        leftover = template.ref in json.dumps(tracker, ensure_ascii=False)
        assert not leftover, f"the template's loan {template.ref} is still named in the fork"
        problem = precondition_problem(template.step, tracker)
        if problem:
            raise Unreachable(f"forked: {problem}")
        return tracker

    def _write_rows(self, template: Template, sender: str, subs: Mapping[str, str], seconds: float) -> None:
        """The template's rows in the tracker store, for `sender`: what Rasa's store wrote
        for the template (its events, masked), with the same substitutions and move in time
        as the API's way. Rasa's PUT validates every event against its JSON schema first,
        which costs its server as much as the fixed messages' turns do; Rasa reads these
        rows as any conversation it has not kept in memory (a new sender never is)."""
        rows = []
        for row in template.stored or ():
            data = json.loads(_replace(row["data"], subs))
            if data.get("timestamp") is not None:
                data["timestamp"] = float(data["timestamp"]) + seconds
            stamp = row["timestamp"]
            rows.append(
                {
                    **row,
                    "sender_id": sender,
                    "timestamp": float(stamp) + seconds if stamp is not None else None,
                    "data": json.dumps(data),
                }
            )
        with self._trackers.begin() as conn:  # type: ignore[union-attr]
            conn.execute(
                sa_text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                    " VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
                ),
                rows,
            )

    def start(self, step: str, sender: str, template: Template | None) -> tuple[str, dict]:
        """A new loan, and a conversation for it at `step`, forked from `template` or
        replayed when there is none: (ref, tracker)."""
        ref = self.new_loan()
        if template is not None:
            return ref, self.fork(template, sender, ref)
        return ref, self.reach(step, sender, ref)

    # -------------------------------------------------------- one message

    def run(self, step: str, message: Message) -> Result:
        return self.trace(step, message)[0]

    def trace(self, step: str, message: Message) -> tuple[Result, Trace | None]:
        """The message's result, and (when it was sent) its conversation: loan, sender, trackers."""
        if self.replay:
            return self._trace(step, message, None)
        template = self.template(step)  # made (for today) before this message counts as running
        with self._gate:
            self._gate.wait_for(lambda: not self._building)
            self._running += 1
        try:
            return self._trace(step, message, template)
        finally:
            with self._gate:
                self._running -= 1
                self._gate.notify_all()

    def _trace(self, step: str, message: Message, template: Template | None) -> tuple[Result, Trace | None]:
        expected = {
            k: str(v) for k, v in (("reason", message.reason), ("monthly", message.monthly), ("months", message.months))
        }
        expected = {k: v for k, v in expected.items() if v != "None"}
        result = Result(step, message.text, message.means, "unreached", expected=expected)
        sender = f"heldout-{uuid.uuid4().hex[:12]}"
        try:
            ref, before = self.start(step, sender, template)
            db_before = snapshot(self.servers.store, ref)
        except Unreachable as e:
            result.note = str(e)
            return result, None
        except Exception as e:  # an HTTP error on the way is reported, not raised
            result.note = f"on the way to the step: {type(e).__name__}: {e}"
            return result, None
        try:
            self.servers.send(sender, message.text)
            after = self.tracker(sender)
            db_after = snapshot(self.servers.store, ref)
        except Exception as e:  # the message's own turn failed: not sensible
            result.status, result.note = "error", f"{type(e).__name__}: {e}"
            return result, None
        observed = observe(
            after_user(after["events"], len(before["events"])),
            before.get("slots") or {},
            after.get("slots") or {},
            db_before,
            db_after,
        )
        verdict = judge(step, message, observed)
        result.status = "scored"
        result.sensible, result.rephrase, result.unintended = (
            verdict.sensible,
            verdict.rephrase,
            list(verdict.unintended),
        )
        result.observed = sorted(observed.names)
        result.said = [r for r in observed.responses if r]
        result.ran = [a for a in observed.actions if a != "action_listen"]
        if observed.read_back:
            result.observed.append(f"({_terms_summary(observed.read_back)})")
        result.note = verdict.note
        return result, Trace(ref, sender, before, after)

    def score(self, sets: Mapping[str, Sequence[Message]], workers: int = 4) -> list[StepScore]:
        """Every message of every step, each in its own conversation, `workers` at a time."""
        self.prepare(sets)
        jobs = [(step, m) for step, messages in sets.items() for m in messages]
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(lambda job: self.run(*job), jobs))
        return [StepScore(step, [r for r in results if r.step == step]) for step in sets]


@dataclass(frozen=True)
class Trace:
    """One message's conversation: its loan, its sender, the tracker before and after the message."""

    ref: str
    sender: str
    before: dict
    after: dict


def precondition_problem(step: str, tracker: Mapping[str, Any]) -> str | None:
    """Why the conversation is not at `step` (None when it is)."""
    slots = tracker.get("slots") or {}
    turn = last_turn(tracker.get("events") or [])
    said = {r for _, r in responses_in(turn)}
    if not slots.get("verified"):
        return "not verified"
    if step == "reason":
        return None if "utter_ask_reason" in said else "the reason question was not asked: " + ", ".join(sorted(said))
    if step == "offers":
        shown = "utter_offer_options" in said or any(
            e.get("event") == "action" and e.get("name") == "action_offer_options" for e in turn
        )
        return None if shown else "the options were not shown: " + ", ".join(sorted(said))
    pending = as_terms(slots.get("pending_agreement"))
    if not slots.get("awaiting_confirmation") or pending is None:
        return "nothing awaiting confirmation: " + ", ".join(sorted(said))
    if _kind(pending) != "instalment_plan" or _months(pending) != READ_BACK_MONTHS:
        return f"read back {_terms_summary(pending)}, not the 6-month plan"
    return None


def model_name() -> str:
    """The model the e2e servers run (as tests/e2e/conftest.py chooses it)."""
    if os.environ.get("RASA_MODEL"):
        return Path(os.environ["RASA_MODEL"]).name
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1].name if models else "none"
