"""`python -m bot offers --simulate`: offer learning against today's fixed menu on a
generated portfolio whose keep-probabilities are hidden from both (issue 14).

The portfolio: borrowers arrive every day in segments (reason code x days-past-due
bucket x product, as OFFER_SEGMENTS); each is shown the plan lengths the product's
policy offers (collections_policy.yml) and picks one, more often the first shown
(position bias: POSITION_WEIGHTS, a recommendation included). Whether the plan is kept
is drawn from a hidden probability per segment and plan length: a level for the
reason and the days past due, plus a preference for longer or shorter plans that
differs by reason, plus noise. Its outcome becomes known when the plan ends (kept) or
at the missed instalment that broke it, and only then can the learner use it.

Both menus meet the same borrowers with the same random draws (common random
numbers), so the difference is the ordering alone. The learner is the assistant's own
code (bot.domain.offer_learning.rank_plans), updated as outcomes arrive.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain.offer_learning import rank_plans, segment_of
from bot.domain.policy import PolicyBook

REASONS = {
    # reason: (keep level, preference for longer plans); the preferences about cancel out,
    # so showing the plans in a random order keeps as many as the fixed menu does
    "unemployment": (-0.3, 1.0),
    "reduced_income": (0.1, 0.6),
    "illness": (0.0, 0.2),
    "unexpected_expense": (0.5, -0.4),
    "forgot": (1.4, -1.0),
    "payment_problem": (1.1, -0.8),
    "over_indebted": (-0.6, 0.6),
}
DPD_LEVELS = {10: 0.4, 40: 0.0, 75: -0.4, 120: -0.8}  # days past due: how much harder it gets
POSITION_WEIGHTS = (0.55, 0.25, 0.12, 0.08)  # chance of picking the first, second ... plan shown
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Borrower:
    day: int
    reason: str
    days_past_due: int
    product: str
    pick: float  # which position they pick, as a uniform draw
    keep: float  # whether they keep the plan, as a uniform draw
    breaks_at: float  # when a broken plan breaks, as a fraction of its length


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def hidden_keep_probabilities(policies: PolicyBook, rng: random.Random) -> dict[tuple[str, int, str, int], float]:
    """(reason, days past due, product, months) -> the chance the plan is kept; never shown to the learner."""
    table = {}
    for product in policies.products:
        lengths = policies.for_product(product).plan_lengths
        for reason, (level, slope) in REASONS.items():
            for dpd, hardness in DPD_LEVELS.items():
                for i, months in enumerate(lengths):
                    position = (i / (len(lengths) - 1) - 0.5) if len(lengths) > 1 else 0.0
                    table[reason, dpd, product, months] = _sigmoid(
                        level + hardness + slope * position + rng.gauss(0, 0.3)
                    )
    return table


def borrowers(policies: PolicyBook, days: int, per_day: int, rng: random.Random) -> list[Borrower]:
    products = list(policies.products)
    return [
        Borrower(
            day,
            rng.choice(list(REASONS)),
            rng.choice(list(DPD_LEVELS)),
            rng.choice(products),
            rng.random(),
            rng.random(),
            rng.random(),
        )
        for day in range(days)
        for _ in range(per_day)
    ]


def _picked(order: tuple[int, ...], draw: float) -> int:
    weights = POSITION_WEIGHTS[: len(order)]
    total, threshold = sum(weights), draw * sum(weights)
    for months, weight in zip(order, weights, strict=False):
        threshold -= weight
        if threshold < 0 or total == 0:
            return months
    return order[-1]


def run(
    policies: PolicyBook,
    *,
    seed: int = 14,
    days: int = 720,
    per_day: int = 40,
    exploration: float = 1.0,
    segment_fields: tuple[str, ...] = ("reason_code", "dpd_bucket", "product"),
) -> dict[str, Any]:
    """Both menus over the same borrowers; kept rates overall and by month of agreement."""
    world = random.Random(seed)
    hidden = hidden_keep_probabilities(policies, world)
    people = borrowers(policies, days, per_day, world)
    learner_rng = random.Random(seed + 1)
    # outcomes known to the learner: segment -> months -> [kept, broken]; arriving by day
    known: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    arriving: dict[int, list[tuple[str, int, bool]]] = defaultdict(list)
    kept: dict[str, dict[int, list[bool]]] = {"fixed": defaultdict(list), "learned": defaultdict(list)}
    best_kept: dict[int, list[float]] = defaultdict(list)
    for person in people:
        for segment, months, was_kept in arriving.pop(person.day, []):
            known[segment][months][0 if was_kept else 1] += 1
        lengths = policies.for_product(person.product).plan_lengths
        segment = segment_of(
            segment_fields, reason_code=person.reason, days_past_due=person.days_past_due, product=person.product
        )
        outcomes = {m: (k, b) for m, (k, b) in known[segment].items()}
        ranking = rank_plans(lengths, outcomes, segment=segment, rng=learner_rng, exploration=exploration)
        month = person.day // DAYS_PER_MONTH
        for menu, order in (("fixed", tuple(sorted(lengths))), ("learned", ranking.order)):
            months = _picked(order, person.pick)
            p = hidden[person.reason, person.days_past_due, person.product, months]
            was_kept = person.keep < p
            kept[menu][month].append(was_kept)
            if menu == "learned":  # the learner sees its own outcomes, when they happen
                ends = months * DAYS_PER_MONTH if was_kept else max(1, int(person.breaks_at * months)) * DAYS_PER_MONTH
                arriving[person.day + ends].append((segment, months, was_kept))
        best = max(lengths, key=lambda m: hidden[person.reason, person.days_past_due, person.product, m])
        best_kept[month].append(hidden[person.reason, person.days_past_due, person.product, best])

    def rate(values: list[bool]) -> float:
        return round(sum(values) / len(values), 4) if values else 0.0

    months_seen = sorted(kept["fixed"])
    fixed_all = [v for m in months_seen for v in kept["fixed"][m]]
    learned_all = [v for m in months_seen for v in kept["learned"][m]]
    last_quarter = months_seen[-3:]
    return {
        "seed": seed,
        "days": days,
        "per_day": per_day,
        "borrowers": len(people),
        "exploration": exploration,
        "segments": segment_fields,
        "kept_rate": {"fixed": rate(fixed_all), "learned": rate(learned_all)},
        "kept_rate_last_quarter": {
            "fixed": rate([v for m in last_quarter for v in kept["fixed"][m]]),
            "learned": rate([v for m in last_quarter for v in kept["learned"][m]]),
        },
        "by_month": [
            {
                "month": m + 1,
                "fixed": rate(kept["fixed"][m]),
                "learned": rate(kept["learned"][m]),
                "best_first_expected": round(sum(best_kept[m]) / len(best_kept[m]), 4),
            }
            for m in months_seen
        ],
    }


def render_text(result: dict[str, Any]) -> str:
    k, q = result["kept_rate"], result["kept_rate_last_quarter"]
    lines = [
        f"Offer learning simulation: seed {result['seed']}, {result['days']} days, {result['per_day']} agreements a day "
        f"({result['borrowers']} in all), exploration {result['exploration']}, segments {', '.join(result['segments'])}",
        f"  kept rate, whole run:    fixed menu {k['fixed']:.1%}   learned {k['learned']:.1%}   "
        f"({(k['learned'] - k['fixed']) * 100:+.1f} points)",
        f"  kept rate, last quarter: fixed menu {q['fixed']:.1%}   learned {q['learned']:.1%}   "
        f"({(q['learned'] - q['fixed']) * 100:+.1f} points)",
        "  month  fixed  learned  (ceiling: every borrower on the plan best for them)",
    ]
    for row in result["by_month"]:
        lines.append(
            f"  {row['month']:>5}  {row['fixed']:.1%}  {row['learned']:.1%}    ({row['best_first_expected']:.1%})"
        )
    return "\n".join(lines) + "\n"


def write_plot(result: dict[str, Any], path: str | Path) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"matplotlib\b")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        months = [row["month"] for row in result["by_month"]]
        fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
        ax.plot(
            months,
            [100 * r["fixed"] for r in result["by_month"]],
            label="today's fixed menu (shortest first)",
            color="#969696",
            linewidth=2,
        )
        ax.plot(
            months,
            [100 * r["learned"] for r in result["by_month"]],
            label="offers learned (Thompson sampling)",
            color="#31a354",
            linewidth=2,
        )
        ax.plot(
            months,
            [100 * r["best_first_expected"] for r in result["by_month"]],
            label="every borrower taking the plan best for them (hidden; a ceiling)",
            color="#3182bd",
            linestyle="--",
            linewidth=1,
        )
        ax.set_xlabel("month of agreement")
        ax.set_ylabel("plans kept (%)")
        ax.set_title(
            f"Plans kept: offers learned vs the fixed menu (seed {result['seed']}, {result['borrowers']} agreements)",
            loc="left",
        )
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="lower right", frameon=False)
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, format="png")
        plt.close(fig)
        return out
