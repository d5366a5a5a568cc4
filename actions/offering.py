"""What several conversation steps share when they offer or propose an arrangement:
the offer menu, the read-back that waits for a yes, the settlement on offer, the
question for an instalment date, and what the offer forms leave behind."""

from __future__ import annotations

import functools
from typing import Any

from rasa_sdk.events import SlotSet

from actions import presenters
from actions.common import fmt_for, policy_for, stuck, today_for, verified_account
from actions.guards import Step, collection_allowed, verified_account_required
from actions.offer_ranking import ranked_menu
from bot.domain import plans
from bot.domain.accounts import AccountView
from bot.domain.agreements import AgreementProposal
from bot.services import negotiation

FORM_SLOTS = ("promise_date", "plan_months", "plan_monthly_amount", "first_payment_date")


def clear_form_slots() -> list:
    """Empty the plan and promise forms' slots (and the count of unusable answers)."""
    return [SlotSet(name, None) for name in FORM_SLOTS] + [SlotSet("invalid_answers", 0)]


def settlement_for(account: AccountView, improved: bool) -> plans.SettlementOffer | None:
    return plans.settlement_offer(
        account.outstanding_balance,
        account.currency,
        account.days_past_due,
        policy_for(account),
        today_for(account),
        improved=improved,
    )


def read_back(dispatcher, tracker, domain, account: AccountView, proposal: AgreementProposal) -> list:
    """Say the exact terms and wait for an explicit yes (action_record_agreement)."""
    dispatcher.utter_message(**presenters.read_back_message(domain, fmt_for(tracker, account), proposal))
    return [
        SlotSet("pending_agreement", proposal.to_json()),
        SlotSet("awaiting_confirmation", True),
        SlotSet("dialogue_step", None),
    ]


@verified_account_required
@collection_allowed
async def utter_offer_menu(dispatcher, tracker, domain, account: AccountView, *, hardship_first: bool = False) -> list:
    """The options policy allows; for borrowers in hardship, the gentler ones come first
    (presenters.hardship_first_buttons). Called as `utter_offer_menu(dispatcher, tracker,
    domain)`: the guards find the account."""
    if account.overdue_amount <= 0:
        dispatcher.utter_message(response="utter_nothing_overdue")
        return []
    fmt = fmt_for(tracker, account)
    policy = policy_for(account)
    today = today_for(account)
    menu = negotiation.offer_menu(account, policy, today)
    if hardship_first:
        arrangements = plans.hardship_options(account.overdue_amount, account.currency, policy, today)
        buttons = presenters.hardship_first_buttons(domain, fmt, menu, arrangements)
    else:
        menu, ranking = ranked_menu(tracker, account, menu)  # the plans in the order learned from outcomes
        buttons = presenters.offer_buttons(
            domain, fmt, menu, settlement_for(account, improved=False), recommended=ranking.recommended
        )
    presenters.say_offer_menu(dispatcher, fmt, menu, buttons, hardship_first=hardship_first)
    return options_shown(buttons)


def proposal_settled() -> list:
    """Nothing is waiting for a yes any more."""
    return [SlotSet("pending_agreement", None), SlotSet("awaiting_confirmation", False)]


def options_shown(buttons: list[dict]) -> list:
    """The options on screen: the next message is read as an answer to them first
    (components/step_policy.py), and "the first one" means the first of these."""
    choices = [{"title": b["title"], "payload": b["payload"]} for b in buttons]
    return [SlotSet("dialogue_step", "offers"), SlotSet("offer_choices", choices)]


async def after_incomplete_form(dispatcher, tracker, domain) -> list:
    """A form that ended without its answers: after repeated misunderstandings the borrower
    was already offered a person; otherwise show the options again."""
    if stuck(tracker):
        return []
    return await utter_offer_menu(dispatcher, tracker, domain)


def form_completed(*slots: str):
    """For the step after a plan or promise form: runs with the verified account once the
    form's `slots` are filled; otherwise clears the form and (see `after_incomplete_form`)
    shows the options again."""

    def decorate(step: Step) -> Step:
        @functools.wraps(step)
        async def guarded(*args: Any, **kwargs: Any) -> list:
            dispatcher, tracker, domain = args[-3:]
            account = verified_account(tracker)
            if account is None or not all(tracker.get_slot(slot) for slot in slots):
                return clear_form_slots() + await after_incomplete_form(dispatcher, tracker, domain)
            return await step(*args, account, **kwargs)

        return guarded

    return decorate


def ask_for_instalment_date(dispatcher, tracker, account: AccountView, response: str) -> list:
    """Ask for a date in the policy's first-instalment window (a new plan, or moving one)."""
    fmt = fmt_for(tracker, account)
    earliest, latest = plans.first_instalment_window(policy_for(account), today_for(account))
    dispatcher.utter_message(response=response, earliest_date=fmt.date(earliest), latest_date=fmt.date(latest))
    return []
