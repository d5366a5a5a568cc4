"""Outcome metrics for the collections report (issue 14): what became of the agreements
made in the period, how loans moved between days-past-due buckets, how many
conversations were resolved without a person, and how long agreeing took.

Definitions (README "Outcomes"):
- the agreements counted are those made in the period; `resolved` ones are completed
  or broken (active ones are still running; cancelled and amended ones are neither);
- `promise_kept_rate`: promises to pay (and pay-now) completed / resolved;
- `plan_completion_rate`: instalment and hardship plans completed / resolved;
- `broken_rate`: agreements broken / resolved, all kinds;
- `cure_rate`: loans in arrears at the start of the period (or when first seen in it)
  that are back to 0 days past due at its end;
- `roll_rates`: for loans in each bucket at the start, the share in each bucket at the end;
- `containment_rate`: verified conversations that ended without a handoff to a person;
- `time_to_agreement_minutes`: from a conversation's start to the agreement made in it (median).

Every figure is also broken down by reason code, channel, language and offer kind, each
thing counted in exactly one group per breakdown (a missing value is its own group:
"unknown", or "none" for the offer kind; nothing is dropped):
- `by` (agreement figures): an agreement's reason code and language as recorded when it
  was made (the reason last given for the loan, the borrower's language), the channel it
  was made on, and its kind;
- `delinquency_by` (`cure_rate`, `loans_in_arrears`, `loans_cured`, `roll_rates`): a
  loan's latest reason code recorded by the period's end, the channel of its latest
  verified conversation in the period ("unknown" when none), the borrower's language on
  file, and the kind of its latest agreement in force at some time in the period (made
  before its end and still active, or ended on or after its start; "none" otherwise);
- `containment_by` (`conversations`, `contained`, `containment_rate`): a verified
  conversation's latest reason code recorded in it in the period, the channel it was
  verified on (its latest verification in the period), the language on file for the
  borrower it verified as, and the kind of the latest agreement made in it in the
  period ("none" otherwise). `containment_by_channel` keeps its rates by channel.
Conversations record no language of their own: the borrower's language on file is the
one agreements record, so the three breakdowns by language read the same source.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from bot.domain.payments import DPD_BUCKETS, days_past_due_bucket

PROMISE_KINDS = ("promise_to_pay", "pay_now")
PLAN_KINDS = ("instalment_plan", "hardship_deferral")
BREAKDOWNS = ("reason_code", "channel", "language", "offer_kind")
UNKNOWN, NO_AGREEMENT = "unknown", "none"


@dataclass(frozen=True)
class AgreementOutcome:
    kind: str
    status: str  # active, completed, broken, cancelled, amended
    channel: str | None
    reason_code: str | None
    language: str | None
    created_at: datetime
    conversation_started_at: datetime | None  # the start of the conversation it was made in


@dataclass(frozen=True)
class BucketMove:
    """A loan's days-past-due bucket changed (audit event dpd_bucket_changed)."""

    loan_id: int
    at: datetime
    from_bucket: str | None
    to_bucket: str


@dataclass(frozen=True)
class LoanOutcome:
    """A loan that existed by the end of the period, and what it is attributed to there."""

    loan_id: int
    created_at: datetime
    days_past_due: int  # now
    reason_code: str | None = None  # the latest recorded by the period's end
    channel: str | None = None  # of its latest verified conversation in the period
    language: str | None = None  # the borrower's, on file
    offer_kind: str | None = None  # its latest agreement in force in the period


@dataclass(frozen=True)
class ConversationOutcome:
    """A conversation verified in the period, and what it is attributed to there."""

    conversation_id: str
    channel: str | None = None  # of its latest verification in the period
    reason_code: str | None = None  # the latest recorded in it in the period
    language: str | None = None  # on file for the borrower it verified as
    offer_kind: str | None = None  # the latest agreement made in it in the period


@dataclass(frozen=True)
class OutcomeRows:
    """What the loan store holds about outcomes in a period (bot/adapters/store/reports.py)."""

    agreements: list[AgreementOutcome] = field(default_factory=list)
    loans: list[LoanOutcome] = field(default_factory=list)  # each loan that existed by the period's end
    moves: list[BucketMove] = field(default_factory=list)  # every bucket change up to the period's end
    verified_conversations: list[ConversationOutcome] = field(default_factory=list)
    handed_off: set[str] = field(default_factory=set)  # conversations with a handoff


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def agreement_figures(agreements: list[AgreementOutcome]) -> dict[str, Any]:
    status = Counter(a.status for a in agreements)
    resolved = status["completed"] + status["broken"]

    def kept(kinds: tuple[str, ...]) -> tuple[int, int]:
        chosen = [a for a in agreements if a.kind in kinds]
        done = sum(1 for a in chosen if a.status == "completed")
        return done, done + sum(1 for a in chosen if a.status == "broken")

    promises_kept, promises_resolved = kept(PROMISE_KINDS)
    plans_done, plans_resolved = kept(PLAN_KINDS)
    minutes = [
        (a.created_at - a.conversation_started_at).total_seconds() / 60
        for a in agreements
        if a.conversation_started_at is not None and a.created_at >= a.conversation_started_at
    ]
    return {
        "agreements": len(agreements),
        "active": status["active"],
        "completed": status["completed"],
        "broken": status["broken"],
        "promise_kept_rate": _rate(promises_kept, promises_resolved),
        "plan_completion_rate": _rate(plans_done, plans_resolved),
        "broken_rate": _rate(status["broken"], resolved),
        "time_to_agreement_minutes": round(median(minutes), 1) if minutes else None,
    }


def _bucket_at(moves: list[BucketMove], when: datetime, dpd_now: int) -> str | None:
    """The loan's bucket at `when`: the latest move before it, else where the first later
    move started, else today's (no move since)."""
    before = [m for m in moves if m.at <= when]
    if before:
        return before[-1].to_bucket
    after = [m for m in moves if m.at > when]
    if after:
        return after[0].from_bucket
    return days_past_due_bucket(dpd_now)


def delinquency_figures(
    loans: list[LoanOutcome], moves: dict[int, list[BucketMove]], since: datetime, until: datetime
) -> dict[str, Any]:
    """Cures and roll rates of `loans`; `moves`: each loan's bucket changes, oldest first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    in_arrears = cured = 0
    for loan in loans:
        start = _bucket_at(moves.get(loan.loan_id, []), max(since, loan.created_at), loan.days_past_due)
        end = _bucket_at(moves.get(loan.loan_id, []), until, loan.days_past_due)
        if start is None or end is None:
            continue
        counts[start][end] += 1
        if start != "current":
            in_arrears += 1
            cured += end == "current"
    roll_rates = {
        start: {end: _rate(n, sum(counts[start].values())) for end, n in sorted(counts[start].items(), key=_order)}
        for start in sorted(counts, key=lambda b: DPD_BUCKETS.index(b) if b in DPD_BUCKETS else 99)
    }
    return {
        "cure_rate": _rate(cured, in_arrears),
        "loans_in_arrears": in_arrears,
        "loans_cured": cured,
        "roll_rates": roll_rates,
    }


def containment_figures(conversations: list[ConversationOutcome], handed_off: set[str]) -> dict[str, Any]:
    contained = sum(1 for c in conversations if c.conversation_id not in handed_off)
    return {
        "conversations": len(conversations),
        "contained": contained,
        "containment_rate": _rate(contained, len(conversations)),
    }


def _group_key(thing: AgreementOutcome | LoanOutcome | ConversationOutcome, name: str) -> str:
    """The group `thing` counts in for the breakdown `name` (module docstring)."""
    if name == "offer_kind":
        kind = thing.kind if isinstance(thing, AgreementOutcome) else thing.offer_kind
        return str(kind or (UNKNOWN if isinstance(thing, AgreementOutcome) else NO_AGREEMENT))
    return str(getattr(thing, name) or UNKNOWN)


def _groups(things: list[Any], name: str) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for thing in things:
        groups[_group_key(thing, name)].append(thing)
    return dict(sorted(groups.items()))


def _order(item: tuple[str, int]) -> int:
    return DPD_BUCKETS.index(item[0]) if item[0] in DPD_BUCKETS else 99


def outcome_metrics(rows: OutcomeRows, since: datetime, until: datetime) -> dict[str, Any]:
    """The outcome figures of `python -m bot report` (under `outcomes`)."""
    moves: dict[int, list[BucketMove]] = defaultdict(list)
    for move in sorted(rows.moves, key=lambda m: m.at):
        moves[move.loan_id].append(move)
    conversations = rows.verified_conversations
    return {
        **agreement_figures(rows.agreements),
        **delinquency_figures(rows.loans, moves, since, until),
        "containment_rate": containment_figures(conversations, rows.handed_off)["containment_rate"],
        "containment_by_channel": {
            channel: containment_figures(group, rows.handed_off)["containment_rate"]
            for channel, group in _groups(conversations, "channel").items()
        },
        "by": {
            name: {key: agreement_figures(group) for key, group in _groups(rows.agreements, name).items()}
            for name in BREAKDOWNS
        },
        "delinquency_by": {
            name: {
                key: delinquency_figures(group, moves, since, until) for key, group in _groups(rows.loans, name).items()
            }
            for name in BREAKDOWNS
        },
        "containment_by": {
            name: {
                key: containment_figures(group, rows.handed_off) for key, group in _groups(conversations, name).items()
            }
            for name in BREAKDOWNS
        },
    }
