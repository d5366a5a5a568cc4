"""Ranking the plans on offer from what was kept (issue 14; the bandit:
bot/domain/offer_learning.py): which plan lengths a borrower sees first, per segment,
from the outcomes of plans chosen from the menu. Off unless OFFER_LEARNING is on."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from bot.domain.offer_learning import Ranking, fixed_order, rank_plans, segment_of
from bot.settings import Settings

CACHE_SECONDS = 60.0  # outcomes change slowly; one read a minute per process is plenty


@dataclass(frozen=True)
class PlanOutcome:
    """A plan chosen from the menu that was kept (completed) or broken, and who chose it."""

    reason_code: str | None
    days_past_due: int
    product: str
    months: int
    kept: bool


class PlanOutcomeStore(Protocol):
    def plan_outcomes(self) -> list[PlanOutcome]: ...


@dataclass(frozen=True)
class Learning:
    enabled: bool
    exploration: float
    fields: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Learning:
        return cls(settings.offer_learning, settings.offer_exploration, settings.offer_segment_fields())


_cache: dict[int, tuple[float, list[PlanOutcome]]] = {}


def outcomes_by_segment(outcomes: list[PlanOutcome], fields: tuple[str, ...]) -> dict[str, dict[int, tuple[int, int]]]:
    """segment -> plan length -> (kept, broken)."""
    counts: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for o in outcomes:
        segment = segment_of(fields, reason_code=o.reason_code, days_past_due=o.days_past_due, product=o.product)
        counts[segment][o.months][0 if o.kept else 1] += 1
    return {s: {m: (k, b) for m, (k, b) in arms.items()} for s, arms in counts.items()}


def rank_menu_plans(
    store: PlanOutcomeStore,
    learning: Learning,
    *,
    lengths: list[int],
    reason_code: str | None,
    days_past_due: int,
    product: str,
    rng: random.Random | None = None,
) -> Ranking:
    """The order to show `lengths` in for this borrower, and why."""
    segment = segment_of(learning.fields, reason_code=reason_code, days_past_due=days_past_due, product=product)
    if not learning.enabled:
        return fixed_order(lengths, segment)
    key = id(store)
    cached = _cache.get(key)
    if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
        cached = (time.monotonic(), store.plan_outcomes())
        _cache[key] = cached
    arms = outcomes_by_segment(cached[1], learning.fields).get(segment, {})
    return rank_plans(
        lengths, arms, segment=segment, rng=rng or random.SystemRandom(), exploration=learning.exploration
    )


def forget_cached_outcomes() -> None:
    _cache.clear()
