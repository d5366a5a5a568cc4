"""Not now is an answer (issue 17): "let me think about it", "I need to check with someone".

No pressure: the borrower is told that nothing is set up, that what was on the
table stays open (a read-back keeps waiting for its yes: `pending_agreement` and
`awaiting_confirmation` are left as they are), how to come back, and offered a
reminder a few days later when the contact rules allow one. For a verified
borrower the deferral is recorded once per conversation and step
(bot/services/deferral.py); before verification nothing is recorded or revealed.

`action_defer` runs for the intent `defer_decision` (data/rules/deferral.yml) and
for "not now" read at the offers or the read-back (actions/steps.py), so it works
out the step from the tracker itself.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet

from actions.common import (
    SafeAction,
    contact_values,
    conversation,
    fmt_for,
    handed_on_by_step,
    render,
    store,
    today_for,
    verified_account,
)
from actions.guards import collection_block, verified_account_required
from bot.domain.agreements import AgreementProposal
from bot.domain.formatting import format_channel
from bot.services import deferral

# Replies that show the options: the borrower who asks for time next is answering them.
OFFER_RESPONSES = frozenset(
    {
        "utter_offer_options",
        "utter_offer_monthly_amount_hint",
        "utter_no_plan_available",
        "utter_hardship_options",
        "utter_clarify_none_work",
        "utter_clarify_choice",
    }
)


def last_reply(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of the assistant's reply before the latest message."""
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if not users:
        return []
    start = users[-2] + 1 if len(users) > 1 else 0
    return events[start : users[-1]]


# Rasa stores the response a bot event came from under this metadata key.
RESPONSE_NAME_KEY = "utter" + "_action"


def offers_shown(events: list[dict[str, Any]]) -> bool:
    """Whether the reply the borrower is answering showed the options (an offer
    response, or the `dialogue_step` slot set to "offers" by that reply)."""
    for event in last_reply(events):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get(RESPONSE_NAME_KEY) in OFFER_RESPONSES:
            return True
        if event.get("event") == "slot" and event.get("name") == "dialogue_step" and event.get("value") == "offers":
            return True
    return False


def answer_taken_as_slot(tracker) -> list:
    """A form asking a question fills its slot from any text: "let me think about it"
    must not stay behind as a loan reference, a date or a plan length."""
    loop = (tracker.active_loop or {}).get("name")
    requested = tracker.get_slot("requested_slot")
    text = (tracker.latest_message or {}).get("text")
    if loop and requested and text and tracker.get_slot(requested) == text:
        return [SlotSet(requested, None)]
    return []


class ActionDefer(SafeAction):
    def name(self) -> str:
        return "action_defer"

    async def run(self, dispatcher, tracker, domain):
        form = (tracker.active_loop or {}).get("name")
        text = (tracker.latest_message or {}).get("text") or ""
        if not handed_on_by_step(tracker) and not deferral.sounds_like_deferral(text):
            # Chinese the classifier could not place (bot/services/deferral.py), not a deferral
            # (one the step's words read as "not now" is one: actions/steps.py).
            if form:
                # An answer to the form's question ("我的生日是1980年6月1日", "分6期"): the
                # form takes it as its slot's text (not extracted: defer_decision is in the
                # mappings' not_intent) and validates it on activation.
                requested = tracker.get_slot("requested_slot")
                answer = [SlotSet(requested, text)] if requested and not tracker.get_slot(requested) else []
                return [ActiveLoop(None), *answer, FollowupAction(form)]
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        events = answer_taken_as_slot(tracker)
        account = verified_account(tracker)
        pending = tracker.get_slot("pending_agreement") if tracker.get_slot("awaiting_confirmation") else None
        if account is None:
            dispatcher.utter_message(response="utter_deferral_no_rush")
            return events
        nothing_open = not pending and not form and account.open_agreement is not None
        if nothing_open or collection_block(tracker, account) is not None:
            # Nothing waits for their decision (an arrangement is in place, or we are not collecting).
            dispatcher.utter_message(response="utter_deferral_no_rush")
            return events
        step = deferral.deferral_step(
            awaiting_confirmation=bool(pending),
            active_form=form if form != "verify_form" else None,
            offers_shown=offers_shown(tracker.events or []),
            reason_given=bool(tracker.get_slot("reason_code")),
        )
        deferral.record_deferral(
            store(),
            account.loan_ref,
            step=step,
            pending_kind=AgreementProposal.from_json(pending).kind if pending else None,
            **conversation(tracker),
        )
        dispatcher.utter_message(response="utter_deferral_no_pressure")
        if pending:
            dispatcher.utter_message(response="utter_deferral_pending_open")
        elif step in (deferral.REASON, deferral.CONVERSATION):
            dispatcher.utter_message(response="utter_deferral_options_later")
        else:
            dispatcher.utter_message(response="utter_deferral_options_open")
        dispatcher.utter_message(response="utter_deferral_how_to_come_back", **contact_values(tracker))
        offer = deferral.reminder_offer(store(), account.loan_ref, today_for(account))
        if offer is not None:
            fmt = fmt_for(tracker, account)
            on = fmt.date(offer.on)
            dispatcher.utter_message(
                response="utter_deferral_offer_reminder",
                date=on,
                channel=format_channel(offer.channel, fmt.lang),
                buttons=[
                    {
                        "title": render(domain, "utter_button_remind_me", fmt.lang, date=on),
                        "payload": "/request_reminder" + json.dumps({"reminder_date": offer.on.isoformat()}),
                    },
                    {"title": render(domain, "utter_button_no_reminder", fmt.lang), "payload": "/decline_reminder"},
                ],
            )
        return events


class ActionRequestReminder(SafeAction):
    """The borrower pressed "Remind me on …": record the date for `python -m bot remind`."""

    def name(self) -> str:
        return "action_request_reminder"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        asked = next(tracker.get_latest_entity_values("reminder_date"), None)
        try:
            on = date.fromisoformat(str(asked)) if asked else None
        except ValueError:
            on = date.min  # refused below as a date out of range
        result = deferral.request_reminder(store(), account.loan_ref, on, today_for(account), **conversation(tracker))
        if result.status != "scheduled" or result.on is None:
            dispatcher.utter_message(response="utter_reminder_unavailable", **contact_values(tracker))
            return []
        fmt = fmt_for(tracker, account)
        dispatcher.utter_message(
            response="utter_reminder_scheduled",
            date=fmt.date(result.on),
            channel=format_channel(result.channel, fmt.lang),
        )
        return []
