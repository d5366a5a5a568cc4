"""The held-out stage's fork (tests/e2e/heldout.py) changes nothing it measures.

tests/e2e/test_heldout.py starts each message's conversation at its step by forking a
template conversation (its events written into a new conversation through Rasa's HTTP
API, with the message's own new loan, and the rows the way there left in the loan store
made again for that loan) instead of replaying the fixed messages. Here a few messages
per step and language are sent both ways, one after the other on the same servers, and
the two conversations must end identically: the same tracker before the message and
after it (every event, the replies' texts and the actions, every slot), the same rows in
the loan store for the loan and the conversation, and the same scored result. Loans,
senders, times, message ids and generated references differ by construction and are left
out of the comparison (`heldout.comparable`, `heldout.comparable_rows`).

Forks are checked both ways they are written: as rows copied in the e2e servers' tracker
store (the default) and through Rasa's HTTP API (HELDOUT_FORK=api). HELDOUT_REPLAY=1
makes test_heldout.py replay every conversation, for a full comparison (docs/ci.md).
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from tests.e2e import heldout

pytestmark = pytest.mark.e2e

PER_STEP = 4  # messages per step and language, spread over the set


def _spread(messages: list[heldout.Message], n: int) -> list[heldout.Message]:
    """`n` messages spread over the set, each of another label where the set allows."""
    chosen: list[heldout.Message] = []
    for m in messages:
        if len(chosen) < n and m.means not in {c.means for c in chosen}:
            chosen.append(m)
    step = max(1, len(messages) // n)
    for m in messages[::step]:
        if len(chosen) < n and m not in chosen:
            chosen.append(m)
    return chosen


def _difference(one: dict, two: dict) -> str:
    """Where two comparable trackers first differ (for the failure's message)."""
    for i, (a, b) in enumerate(zip(one["events"], two["events"], strict=False)):
        if a != b:
            return f"event {i}: replayed {a} / forked {b}"
    if len(one["events"]) != len(two["events"]):
        return f"{len(one['events'])} events replayed, {len(two['events'])} forked"
    slots = sorted(k for k in {*one["slots"], *two["slots"]} if one["slots"].get(k) != two["slots"].get(k))
    return "slots " + ", ".join(f"{k}: {one['slots'].get(k)!r} / {two['slots'].get(k)!r}" for k in slots)


@pytest.mark.parametrize(
    ("lang", "via_api"),
    [("en", False), ("zh", False), ("en", True)],
    ids=["en", "zh", "en-through-the-api"],
)
def test_forked_conversations_end_as_replayed_ones(servers, lang, via_api):
    sets = heldout.load_sets(lang, heldout.ROOT / "tests" / "heldout")
    assert sets, f"no development set for {lang}"
    replayed = heldout.Harness(servers, lang, replay=True)
    forked = heldout.Harness(servers, lang, replay=False, via_api=via_api)
    assert forked.forks_into_store != via_api, "the e2e servers' tracker store is not where the fork looks"
    forked.prepare(sets)
    assert not forked.replayed_because(), f"steps that could not be forked: {forked.replayed_because()}"

    for step, messages in sets.items():
        for message in _spread(messages, PER_STEP):
            one, one_trace = replayed.trace(step, message)
            two, two_trace = forked.trace(step, message)
            where = f"{lang} {step} {message.text!r}"
            assert one.status == "scored" and one_trace is not None, f"{where}: replayed: {one.note}"
            assert two.status == "scored" and two_trace is not None, f"{where}: forked: {two.note}"
            assert one_trace.ref != two_trace.ref and one_trace.sender != two_trace.sender

            for when, what in (("before", "is not where the fixed messages bring one"), ("after", "ended otherwise")):
                a = heldout.comparable(getattr(one_trace, when), one_trace.ref, one_trace.sender)
                b = heldout.comparable(getattr(two_trace, when), two_trace.ref, two_trace.sender)
                assert a == b, f"{where}: the forked conversation {what}: {_difference(a, b)}"
            rows_one = heldout.comparable_rows(servers, one_trace.ref, one_trace.sender)
            rows_two = heldout.comparable_rows(servers, two_trace.ref, two_trace.sender)
            differing = {
                t: (rows_one.get(t), rows_two.get(t))
                for t in {*rows_one, *rows_two}
                if rows_one.get(t) != rows_two.get(t)
            }
            assert not differing, f"{where}: the loan store holds something else (replayed / forked): {differing}"
            assert asdict(two) == asdict(one), f"{where}: scored differently"
