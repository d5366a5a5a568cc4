"""Which plan lengths to show first, learned from which plans were kept (issue 14).

A Thompson-sampling bandit per segment (reason code x days-past-due bucket x product,
or any subset: OFFER_SEGMENTS). Each plan length the policy offers the borrower is an
arm with a Beta posterior over "kept": Beta(1 + kept / e, 1 + broken / e), where e is
OFFER_EXPLORATION (1: plain Thompson sampling; more than 1 keeps exploring longer).
The lengths are shown in the order of one draw from each posterior, and the first is
recommended. It only orders what collections_policy.yml already allows for this
borrower; it never adds or removes an option, and each ranking carries its reasons in
words and numbers (recorded with every offer shown: audit event `offers_ranked`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain.payments import days_past_due_bucket

FIXED, THOMPSON = "fixed", "thompson"
SEGMENT_FIELDS = ("reason_code", "dpd_bucket", "product")


def segment_of(fields: Sequence[str], *, reason_code: str | None, days_past_due: int, product: str) -> str:
    """The segment's name, e.g. "reason_code=unemployment|dpd_bucket=30-59|product=personal_loan"
    ("all" when OFFER_SEGMENTS names no field)."""
    values = {
        "reason_code": reason_code or "unknown",
        "dpd_bucket": days_past_due_bucket(days_past_due),
        "product": product,
    }
    parts = [f"{name}={values[name]}" for name in SEGMENT_FIELDS if name in fields]
    return "|".join(parts) or "all"


@dataclass(frozen=True)
class Arm:
    months: int
    kept: int = 0
    broken: int = 0

    def posterior(self, exploration: float) -> tuple[float, float]:
        return 1 + self.kept / exploration, 1 + self.broken / exploration

    @property
    def mean(self) -> float:
        """The posterior mean with the uniform prior: (kept + 1) / (kept + broken + 2)."""
        return (self.kept + 1) / (self.kept + self.broken + 2)


@dataclass(frozen=True)
class Ranking:
    """The plan lengths in the order shown, the one recommended, and why."""

    order: tuple[int, ...]
    recommended: int | None
    segment: str
    method: str  # thompson | fixed
    reason: str
    arms: tuple[Arm, ...] = ()
    draws: Mapping[int, float] = field(default_factory=dict)
    exploration: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "method": self.method,
            "order": list(self.order),
            "recommended": self.recommended,
            "reason": self.reason,
            "exploration": self.exploration,
            "arms": {str(a.months): {"kept": a.kept, "broken": a.broken} for a in self.arms},
            "draws": {str(m): round(d, 4) for m, d in self.draws.items()},
        }


def fixed_order(lengths: Sequence[int], segment: str, why: str = "offer learning is off") -> Ranking:
    """Today's menu: shortest first, nothing recommended."""
    return Ranking(tuple(sorted(lengths)), None, segment, FIXED, f"fixed order, shortest first ({why})")


def rank_plans(
    lengths: Sequence[int],
    outcomes: Mapping[int, tuple[int, int]],
    *,
    segment: str,
    rng: random.Random,
    exploration: float = 1.0,
) -> Ranking:
    """Order `lengths` (the policy's, for this borrower) by one draw from each length's
    posterior of being kept in this segment; `outcomes` maps a length to (kept, broken)."""
    if not lengths:
        return fixed_order(lengths, segment, "no plan to offer")
    if exploration <= 0:
        raise ValueError("exploration must be positive")
    arms = tuple(Arm(m, *outcomes.get(m, (0, 0))) for m in sorted(lengths))
    draws = {arm.months: rng.betavariate(*arm.posterior(exploration)) for arm in arms}
    order = tuple(sorted(draws, key=lambda m: (-draws[m], m)))
    first = next(a for a in arms if a.months == order[0])
    seen = sum(a.kept + a.broken for a in arms)
    if seen == 0:
        reason = f"no plan outcomes yet in {segment}: every length is equally likely to come first"
    else:
        reason = (
            f"{first.months} months first: kept {first.kept} of {first.kept + first.broken} in {segment} "
            f"(posterior mean {first.mean:.2f}); drawn " + ", ".join(f"{m} months {draws[m]:.2f}" for m in order)
        )
    return Ranking(order, order[0], segment, THOMPSON, reason, arms, draws, exploration)
