"""The checks a conversation step makes before it acts, as decorators.

Stacked on a step, they run top to bottom and the first that fails answers the
borrower and ends the step:

    @verified_account_required               # utter_verify_first
    @no_open_agreement(stop_with=clear)      # utter_agreement_exists
    @collection_allowed(stop_with=clear)     # utter_account_on_hold / utter_no_collection_now
    async def run(self, dispatcher, tracker, domain, account): ...

`verified_account_required` passes the borrower's `AccountView` to the step as
its last positional argument; the other guards expect it there and pass it on.
A step's positional arguments end with `dispatcher, tracker, domain`, so the
guards fit `Action.run` (SafeAction still wraps the whole, guards included) and
plain async helpers alike. `stop_with` gives the events a stopped step returns
(`[]` unless given).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from actions.common import contact_values, require_account
from bot.domain import conduct
from bot.domain.accounts import AccountView

Step = Callable[..., Awaitable[list]]


def _nothing() -> list:
    return []


def collection_block(tracker, account: AccountView) -> conduct.CollectionBlock | None:
    """Why the conduct rules forbid asking for payment now, or None (bot.domain.conduct)."""
    return conduct.collection_block(
        open_cases=account.open_cases,
        vulnerable=account.vulnerable or bool(tracker.get_slot("collection_stopped")),
        reason_code=tracker.get_slot("reason_code"),
    )


def verified_account_required(step: Step) -> Step:
    """Only for a verified borrower: otherwise ask them to verify first and stop."""

    @functools.wraps(step)
    async def guarded(*args: Any, **kwargs: Any) -> list:
        dispatcher, tracker = args[-3], args[-2]
        account = require_account(dispatcher, tracker)
        if account is None:
            return []
        return await step(*args, account, **kwargs)

    return guarded


def _guard(check: Callable[[Any, Any, AccountView], bool], step: Step | None, stop_with: Callable[[], list]):
    """A decorator usable bare or with `stop_with`: `check` says so and returns True to stop."""

    def decorate(step: Step) -> Step:
        @functools.wraps(step)
        async def guarded(*args: Any, **kwargs: Any) -> list:
            dispatcher, tracker, account = args[-4], args[-3], args[-1]
            if check(dispatcher, tracker, account):
                return stop_with()
            return await step(*args, **kwargs)

        return guarded

    return decorate(step) if step is not None else decorate


def _say_collection_blocked(dispatcher, tracker, account: AccountView) -> bool:
    if collection_block(tracker, account) is None:
        return False
    if account.on_collection_hold:
        dispatcher.utter_message(response="utter_account_on_hold")
    else:
        dispatcher.utter_message(response="utter_no_collection_now", **contact_values(tracker))
    return True


def _say_open_agreement(dispatcher, tracker, account: AccountView) -> bool:
    if account.open_agreement is None:
        return False
    dispatcher.utter_message(
        response="utter_agreement_exists", agreement_ref=account.open_agreement.agreement_ref, **contact_values(tracker)
    )
    return True


def collection_allowed(step: Step | None = None, *, stop_with: Callable[[], list] = _nothing):
    """Only when the conduct rules allow asking for payment: otherwise say the account is
    on hold, or that we won't collect now, and stop."""
    return _guard(_say_collection_blocked, step, stop_with)


def no_open_agreement(step: Step | None = None, *, stop_with: Callable[[], list] = _nothing):
    """A new arrangement can't be read back while another one is open: name it and stop."""
    return _guard(_say_open_agreement, step, stop_with)
