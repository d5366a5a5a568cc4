"""actions/guards.py: each guard answers the borrower and stops the step, or lets it run.

The guards run against the demo store (tests/actions/support.py). No Action subclass
is defined here: rasa-sdk would register it with the action server's actions.
"""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.agreements import ActionProposePayNow
from actions.forbearance import ActionOfferHardship
from actions.guards import collection_allowed, no_open_agreement, verified_account_required
from actions.offering import clear_form_slots
from bot.ops.demo import PLAN_HOLDER
from tests.actions.support import (
    DOMAIN,
    names,
    run,
    slots_of,
    tracker,
    verified,
)

RAN = [{"event": "slot", "name": "step_ran", "value": True}]


class Steps:
    """Guarded methods, as on an Action's `run` (not an Action: see the module docstring)."""

    def __init__(self):
        self.accounts = []

    @verified_account_required
    async def verified_only(self, dispatcher, tracker, domain, account):
        self.accounts.append(account)
        return RAN

    @verified_account_required
    @collection_allowed
    async def collecting(self, dispatcher, tracker, domain, account):
        self.accounts.append(account)
        return RAN

    @verified_account_required
    @no_open_agreement(stop_with=clear_form_slots)
    @collection_allowed(stop_with=clear_form_slots)
    async def proposing(self, dispatcher, tracker, domain, account):
        self.accounts.append(account)
        return RAN


def call(step, slots: dict) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    return dispatcher, asyncio.run(step(dispatcher, tracker(slots), DOMAIN))


def test_verified_account_required_asks_to_verify_first_and_stops():
    steps = Steps()
    dispatcher, events = call(steps.verified_only, {"loan_ref": "LN-10001"})
    assert (names(dispatcher), events, steps.accounts) == (["utter_verify_first"], [], [])


def test_verified_account_required_passes_the_account_to_the_step():
    steps = Steps()
    dispatcher, events = call(steps.verified_only, verified("LN-10002"))
    assert (names(dispatcher), events) == ([], RAN)
    [account] = steps.accounts
    assert account.loan_ref == "LN-10002"


def test_collection_allowed_stops_when_the_borrower_asked_us_to_stop():
    steps = Steps()
    dispatcher, events = call(steps.collecting, verified(collection_stopped=True))
    assert (names(dispatcher), events, steps.accounts) == (["utter_no_collection_now"], [], [])


def test_collection_allowed_says_the_account_is_on_hold_during_a_dispute(loans):
    loans.open_case("LN-10001", "dispute", "not mine")
    steps = Steps()
    dispatcher, events = call(steps.collecting, verified())
    assert (names(dispatcher), events, steps.accounts) == (["utter_account_on_hold"], [], [])


def test_collection_allowed_lets_the_step_run():
    steps = Steps()
    _, events = call(steps.collecting, verified())
    assert events == RAN and len(steps.accounts) == 1


def test_no_open_agreement_names_the_agreement_and_stops_with_its_events(loans):
    steps = Steps()
    dispatcher, events = call(steps.proposing, verified(PLAN_HOLDER))
    assert names(dispatcher) == ["utter_agreement_exists"]
    assert dispatcher.messages[0]["agreement_ref"] == loans.account(PLAN_HOLDER).open_agreement.agreement_ref
    assert (events, steps.accounts) == (clear_form_slots(), [])


def test_the_guards_check_in_the_order_they_are_stacked():
    # An open agreement and a stop: only the first guard answers.
    steps = Steps()
    dispatcher, events = call(steps.proposing, verified(PLAN_HOLDER, collection_stopped=True))
    assert (names(dispatcher), events) == (["utter_agreement_exists"], clear_form_slots())
    dispatcher, events = call(steps.proposing, verified(collection_stopped=True))
    assert (names(dispatcher), events) == (["utter_no_collection_now"], clear_form_slots())
    dispatcher, events = call(steps.proposing, {"loan_ref": PLAN_HOLDER, "collection_stopped": True})
    assert (names(dispatcher), events) == (["utter_verify_first"], [])


def test_the_guards_fit_plain_functions_and_pass_keywords_on():
    seen = {}

    @verified_account_required
    @collection_allowed
    async def offer(dispatcher, tracker, domain, account, *, gently=False):
        seen.update(loan_ref=account.loan_ref, gently=gently)
        return RAN

    dispatcher = CollectingDispatcher()
    events = asyncio.run(offer(dispatcher, tracker(verified("LN-10003")), DOMAIN, gently=True))
    assert (events, seen) == (RAN, {"loan_ref": "LN-10003", "gently": True})
    events = asyncio.run(offer(dispatcher, tracker(verified(collection_stopped=True)), DOMAIN, gently=True))
    assert (events, names(dispatcher)) == ([], ["utter_no_collection_now"])


@pytest.mark.parametrize(
    ("slots", "expected", "events"),
    [
        ({"loan_ref": "LN-10001"}, ["utter_verify_first"], []),
        (verified(PLAN_HOLDER), ["utter_agreement_exists"], clear_form_slots()),
        (verified(collection_stopped=True), ["utter_no_collection_now"], clear_form_slots()),
    ],
)
def test_a_guarded_action_stops_with_its_own_events(slots, expected, events):
    dispatcher, returned = run(ActionProposePayNow(), tracker(slots))
    assert (names(dispatcher), returned) == (expected, events)


def test_a_guarded_action_still_fails_politely(monkeypatch):
    """SafeAction wraps the whole run, guards included."""
    from bot.domain import plans

    def explode(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(plans, "hardship_options", explode)
    dispatcher, events = run(ActionOfferHardship(), tracker(verified()))
    assert (names(dispatcher), events) == (["utter_something_went_wrong"], [])
    # ...and a guard that stops still answers as before.
    dispatcher, events = run(ActionOfferHardship(), tracker(verified(PLAN_HOLDER)))
    assert names(dispatcher) == ["utter_agreement_exists"] and slots_of(events) == {}
