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
Every agreement figure is also broken down by reason code, channel, language and offer kind.
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
class OutcomeRows:
    """What the loan store holds about outcomes in a period (bot/adapters/store/reports.py)."""

    agreements: list[AgreementOutcome] = field(default_factory=list)
    # each loan that existed by the end of the period: (id, created_at, days past due now)
    loans: list[tuple[int, datetime, int]] = field(default_factory=list)
    moves: list[BucketMove] = field(default_factory=list)  # every bucket change up to the period's end
    verified_conversations: dict[str, str | None] = field(default_factory=dict)  # id -> channel
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


def delinquency_figures(rows: OutcomeRows, since: datetime, until: datetime) -> dict[str, Any]:
    moves: dict[int, list[BucketMove]] = defaultdict(list)
    for move in sorted(rows.moves, key=lambda m: m.at):
        moves[move.loan_id].append(move)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    in_arrears = cured = 0
    for loan_id, created_at, dpd_now in rows.loans:
        start = _bucket_at(moves[loan_id], max(since, created_at), dpd_now)
        end = _bucket_at(moves[loan_id], until, dpd_now)
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


def _order(item: tuple[str, int]) -> int:
    return DPD_BUCKETS.index(item[0]) if item[0] in DPD_BUCKETS else 99


def outcome_metrics(rows: OutcomeRows, since: datetime, until: datetime) -> dict[str, Any]:
    """The outcome figures of `python -m bot report` (under `outcomes`)."""
    by: dict[str, dict[str, Any]] = {}
    for name in BREAKDOWNS:
        groups: dict[str, list[AgreementOutcome]] = defaultdict(list)
        for a in rows.agreements:
            key = a.kind if name == "offer_kind" else getattr(a, name)
            groups[str(key or "unknown")].append(a)
        by[name] = {key: agreement_figures(group) for key, group in sorted(groups.items())}
    verified = rows.verified_conversations
    contained = [cid for cid in verified if cid not in rows.handed_off]
    channels: dict[str, list[str]] = defaultdict(list)
    for cid, channel in verified.items():
        channels[channel or "unknown"].append(cid)
    return {
        **agreement_figures(rows.agreements),
        **delinquency_figures(rows, since, until),
        "containment_rate": _rate(len(contained), len(verified)),
        "containment_by_channel": {
            channel: _rate(sum(1 for cid in ids if cid not in rows.handed_off), len(ids))
            for channel, ids in sorted(channels.items())
        },
        "by": by,
    }
