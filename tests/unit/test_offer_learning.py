"""Offers learned from outcomes (issue 14): the segments, the Thompson-sampling ranking
inside the policy's plan lengths, its explanation, and the simulation against the
fixed menu (bot/ops/offers_simulation.py)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bot.domain.offer_learning import Arm, fixed_order, rank_plans, segment_of
from bot.domain.policy import PolicyBook
from bot.ops.offers_simulation import render_text, run
from bot.services.offer_ranking import Learning, PlanOutcome, outcomes_by_segment, rank_menu_plans
from bot.settings import PROJECT_ROOT

POLICIES = PolicyBook.load(PROJECT_ROOT / "collections_policy.yml")


def test_segments_follow_the_chosen_fields():
    kwargs = {"reason_code": "unemployment", "days_past_due": 45, "product": "bnpl"}
    assert segment_of(("reason_code", "dpd_bucket", "product"), **kwargs) == (
        "reason_code=unemployment|dpd_bucket=30-59|product=bnpl"
    )
    assert segment_of(("product",), **kwargs) == "product=bnpl"
    assert segment_of((), **kwargs) == "all"
    assert segment_of(("reason_code",), reason_code=None, days_past_due=0, product="x") == "reason_code=unknown"


def test_a_length_kept_far_more_often_comes_first_nearly_always():
    rng = random.Random(7)
    outcomes = {3: (5, 45), 6: (40, 10), 12: (20, 20)}
    firsts = Counter(rank_plans([3, 6, 12], outcomes, segment="s", rng=rng).order[0] for _ in range(500))
    assert firsts[6] > 450 and firsts[3] == 0


def test_without_outcomes_every_length_gets_its_turn_first():
    rng = random.Random(7)
    firsts = Counter(rank_plans([3, 6, 12], {}, segment="s", rng=rng).order[0] for _ in range(600))
    assert all(150 < firsts[m] < 250 for m in (3, 6, 12))


def test_only_the_policys_lengths_are_ranked_and_the_ranking_explains_itself():
    ranking = rank_plans([2, 3], {3: (9, 1), 12: (100, 0)}, segment="product=bnpl", rng=random.Random(1))
    assert sorted(ranking.order) == [2, 3]  # 12 months is not on offer to this borrower
    assert ranking.recommended == ranking.order[0] and ranking.method == "thompson"
    record = ranking.to_json()
    assert record["segment"] == "product=bnpl" and set(record["draws"]) == {"2", "3"}
    assert record["arms"] == {"2": {"kept": 0, "broken": 0}, "3": {"kept": 9, "broken": 1}}
    if ranking.order[0] == 3:
        assert ranking.reason.startswith("3 months first: kept 9 of 10 in product=bnpl (posterior mean 0.83)")


def test_more_exploration_flattens_the_posteriors():
    arm = Arm(6, kept=40, broken=10)
    assert arm.posterior(1) == (41, 11) and arm.posterior(10) == (5, 2)
    with pytest.raises(ValueError):
        rank_plans([3], {}, segment="s", rng=random.Random(), exploration=0)


def test_learning_off_keeps_the_fixed_menu_and_no_plan_is_no_ranking():
    assert fixed_order([12, 3, 6], "s").order == (3, 6, 12)
    assert fixed_order([12, 3, 6], "s").recommended is None
    assert rank_plans([], {}, segment="s", rng=random.Random()).order == ()

    class Store:
        def plan_outcomes(self):
            raise AssertionError("not read while learning is off")

    off = Learning(enabled=False, exploration=1.0, fields=("product",))
    ranking = rank_menu_plans(Store(), off, lengths=[6, 3], reason_code=None, days_past_due=10, product="bnpl")
    assert (ranking.method, ranking.order, ranking.segment) == ("fixed", (3, 6), "product=bnpl")


def test_outcomes_are_grouped_by_segment_and_length():
    outcomes = [
        PlanOutcome("forgot", 10, "bnpl", 2, True),
        PlanOutcome("forgot", 12, "bnpl", 2, False),
        PlanOutcome("forgot", 40, "bnpl", 2, True),
        PlanOutcome("illness", 10, "bnpl", 4, True),
    ]
    assert outcomes_by_segment(outcomes, ("reason_code", "dpd_bucket")) == {
        "reason_code=forgot|dpd_bucket=1-29": {2: (1, 1)},
        "reason_code=forgot|dpd_bucket=30-59": {2: (1, 0)},
        "reason_code=illness|dpd_bucket=1-29": {4: (1, 0)},
    }


def test_the_simulation_beats_the_fixed_menu_and_repeats_exactly():
    result = run(POLICIES, seed=14, days=360, per_day=20)
    assert result["kept_rate"]["learned"] > result["kept_rate"]["fixed"]
    assert result["kept_rate_last_quarter"]["learned"] > result["kept_rate_last_quarter"]["fixed"]
    assert run(POLICIES, seed=14, days=360, per_day=20) == result
    assert len(result["by_month"]) == 12 and result["borrowers"] == 7200
    text = render_text(result)
    assert "seed 14" in text and "fixed menu" in text and "learned" in text
