"""Answers read as the step expects them (issue 17; the reading is bot/domain/steps/).

components/step_policy.py sends a message here when, at the read-back or the
offers, it answers the question asked (a change, a worry, "not now", "the first
one", "none of these") or makes a consequential request that is not unambiguous.
Nothing is recorded here: a change goes to the form that collects it, a choice to
the step its button leads to, a worry or a doubt gets a question with buttons.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions.common import SafeAction, intent_ranking, latest_text, read_back_reading, verified_account
from actions.guards import verified_account_required
from actions.offering import clear_form_slots, proposal_settled, read_back, utter_offer_menu
from bot.domain import steps
from bot.domain.accounts import AccountView
from bot.domain.agreements import AgreementProposal

# What pressing an option's button leads to (its payload's intent).
_BUTTON_STEPS = {
    "choose_pay_now": "action_propose_pay_now",
    "choose_promise_to_pay": "promise_form",
    "choose_plan": "plan_form",
    "request_hardship": "action_offer_hardship",
    "ask_settlement": "action_offer_settlement",
    "request_human": "action_request_human",
}
# Slots a button's payload may carry.
_BUTTON_SLOTS = ("plan_months", "holiday_months", "hardship_amount")


def step_shown(tracker) -> str | None:
    """The step the assistant's last reply asked about: `read_back` while terms wait for a
    yes, `offers` when the last reply showed the options (dialogue_step set in that reply)."""
    if tracker.get_slot("awaiting_confirmation"):
        return steps.READ_BACK
    shown = set_in_last_reply(tracker.events, "dialogue_step")
    return shown if shown in (steps.OFFERS, steps.REASON_STEP) else None


def set_in_last_reply(events: list[dict], slot: str) -> Any:
    """The value the assistant's reply before the latest message gave `slot`, if it set it."""
    users = 0
    for event in reversed(events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                return None
        elif users == 1 and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


class ActionStepAnswer(SafeAction):
    def name(self) -> str:
        return "action_step_answer"

    async def run(self, dispatcher, tracker, domain):
        text, ranked = latest_text(tracker), intent_ranking(tracker)
        step = step_shown(tracker)
        if step == steps.READ_BACK:
            reading = read_back_reading(tracker)
        elif step == steps.OFFERS:
            reading = steps.read_at_offers(text, ranked)
        elif step == steps.REASON_STEP:
            reading = steps.read_at_reason(text, ranked)
        else:
            reading = steps.Reading(steps.CONFIRM_FIRST, intent=steps.consequential_unclear(text, ranked))
        if reading.meaning == steps.CONFIRM_FIRST and reading.intent:
            dispatcher.utter_message(response=f"utter_confirm_request_{reading.intent}")
            return []
        if reading.meaning == steps.NOT_NOW:
            return [FollowupAction("action_defer")]
        if reading.meaning == steps.HUMAN:
            return [FollowupAction("action_request_human")]
        if reading.meaning == steps.HARDSHIP:
            # at the read-back ("a hardship plan instead"), the terms read back are withdrawn first
            settled = proposal_settled() if step == steps.READ_BACK else []
            return settled + [FollowupAction("action_offer_hardship")]
        if reading.meaning == steps.SETTLEMENT:
            return [FollowupAction("action_offer_settlement")]
        if reading.meaning == steps.QUESTION:
            dispatcher.utter_message(response="utter_step_question_for_a_person")
            if step in (steps.OFFERS, steps.REASON_STEP):
                return await utter_offer_menu(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_read_back_still_open")
            return []
        if reading.meaning == steps.OPTIONS:
            return await utter_offer_menu(dispatcher, tracker, domain)  # asked for before saying why
        if reading.meaning == steps.PAID_CLAIM:
            # "Payment was made on the 3rd": the claim form asks when, how much and how
            # before anything is recorded or collection stops
            return [SlotSet("dialogue_step", None), FollowupAction("payment_claim_form")]
        if reading.meaning == steps.AMOUNT:
            # Their own figure with its period (at the options, or given as the answer to
            # "what made it hard to pay?"): the plan form weighs it as it does any figure
            # (a plan that fits it, or what fits it when no standard plan does).
            return [
                SlotSet("dialogue_step", None),
                *clear_form_slots(),
                SlotSet("plan_months", latest_text(tracker)),
                FollowupAction("plan_form"),
            ]
        if step == steps.READ_BACK:
            return await self._at_read_back(dispatcher, tracker, domain, reading)
        if step == steps.OFFERS:
            return await self._at_offers(dispatcher, tracker, domain, reading)
        dispatcher.utter_message(response="utter_clarify_read_back")
        return []

    async def _at_read_back(self, dispatcher, tracker, domain, reading: steps.Reading) -> list:
        pending = tracker.get_slot("pending_agreement")
        proposal = AgreementProposal.from_json(pending) if pending else None
        if reading.meaning == steps.WORRY:
            dispatcher.utter_message(response="utter_read_back_worry")
            return []
        if reading.meaning == steps.CORRECTION:
            dispatcher.utter_message(response="utter_clarify_correction")
            return []
        if proposal is None or reading.meaning == steps.UNCLEAR:
            dispatcher.utter_message(response="utter_clarify_read_back")
            return []
        terms = proposal.terms
        if reading.meaning == steps.CHANGE_DATE:
            dispatcher.utter_message(response="utter_change_noted")
            # A date they named is taken as the form's answer (validated as any answer is).
            named = steps.date_words(latest_text(tracker))
            if proposal.kind == "instalment_plan":
                return _reopen("plan_form", plan_months=str(terms["months"]), **_as("first_payment_date", named))
            return _reopen("promise_form", **_as("promise_date", named))
        if reading.meaning == steps.CHANGE_MONTHS and proposal.kind == "instalment_plan":
            dispatcher.utter_message(response="utter_change_noted")
            months = steps.months_wanted(latest_text(tracker))
            if months:
                return _reopen("plan_form", plan_months=str(months), first_payment_date=terms["first_due_date"])
            return _reopen("plan_form", first_payment_date=terms["first_due_date"])
        if reading.meaning == steps.CHANGE_KIND and steps.date_words(latest_text(tracker)):
            # "I'd rather pay it all by the 20th": a promise, by the date they named.
            dispatcher.utter_message(response="utter_change_noted")
            return _reopen("promise_form", **_as("promise_date", steps.date_words(latest_text(tracker))))
        if reading.meaning == steps.CHANGE_KIND and _KIND_PAY_NOW.search(latest_text(tracker)):
            return proposal_settled() + [FollowupAction("action_propose_pay_now")]
        # A different amount, length or kind: the options again, with "tell me an amount".
        dispatcher.utter_message(response="utter_change_noted")
        return proposal_settled() + clear_form_slots() + await utter_offer_menu(dispatcher, tracker, domain)

    async def _at_offers(self, dispatcher, tracker, domain, reading: steps.Reading) -> list:
        if reading.meaning == steps.CANT_AFFORD:
            dispatcher.utter_message(response="utter_affordability_first")
            return [FollowupAction("action_offer_hardship")]
        if reading.meaning == steps.NONE_WORK:
            dispatcher.utter_message(response="utter_clarify_none_work")
            return []
        if reading.meaning == steps.CHOICE and reading.kind == "choose_plan" and reading.months is None:
            # "split it into payments please": a plan, whichever length; the form asks which
            return [SlotSet("dialogue_step", None), *clear_form_slots(), FollowupAction("plan_form")]
        if reading.meaning == steps.CHOICE:
            choices = tracker.get_slot("offer_choices") or []
            button = chosen_button(choices, reading)
            if button is None and reading.months is not None and 0 < _longest_shown(choices) < reading.months:
                # "over 2 years": longer than any plan shown is what the hardship options are for
                return [FollowupAction("action_offer_hardship")]
            if button is None:
                dispatcher.utter_message(response="utter_clarify_choice")
                return await utter_offer_menu(dispatcher, tracker, domain)
            events = press(button)
            named = steps.date_words(latest_text(tracker))
            if reading.kind == "choose_promise_to_pay" and named and events:
                # "pay in full next friday": the form takes the day they named as its answer
                events.insert(-1, SlotSet("promise_date", named))
            return events
        if reading.meaning == steps.UNCLEAR:
            dispatcher.utter_message(response="utter_clarify_choice")  # a figure read as details, 下周 alone
        return await utter_offer_menu(dispatcher, tracker, domain)


_KIND_PAY_NOW = re.compile(r"\bnow\b|\btoday\b|\ball\b|\bin full\b|\bone go\b|\blump|现在|一次性|全额", re.I)


def _as(slot: str, value: str | None) -> dict[str, str]:
    return {slot: value} if value else {}


def _reopen(form: str, **slots: str) -> list:
    """Withdraw what was read back and let the form ask only for what changes."""
    keep = [SlotSet(name, value) for name, value in slots.items()]
    return proposal_settled() + clear_form_slots() + keep + [FollowupAction(form)]


def chosen_button(choices: list[dict[str, Any]], reading: steps.Reading) -> dict[str, Any] | None:
    """The shown option the borrower points at: by position (1-based, -1 the last, 0 the
    middle), by a plan's length, or by a plan's monthly amount."""
    if reading.among_plans:  # "the first plan": the plans only, not pay now or by a date
        choices = [c for c in choices if "choose_plan" in c["payload"]] or choices
    if not choices:
        return None
    if reading.kind is not None:
        return next((c for c in choices if c["payload"].startswith("/" + reading.kind)), None)
    if reading.choice is not None:
        if reading.choice == 0:
            return choices[len(choices) // 2]
        index = reading.choice - 1 if reading.choice > 0 else len(choices) + reading.choice
        return choices[index] if 0 <= index < len(choices) else None
    if reading.months is not None:
        return next(
            (c for c in choices if _payload_slots(c["payload"]).get("plan_months") == str(reading.months)), None
        )
    if reading.amount is not None:
        try:
            wanted = Decimal(reading.amount)
        except InvalidOperation:
            return None
        for choice in choices:
            amounts = [Decimal(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", choice["title"])]
            if wanted in amounts and "choose_plan" in choice["payload"]:
                return choice
    return None


def _longest_shown(choices: list[dict[str, Any]]) -> int:
    """The longest plan among the options shown (0 when none is a plan)."""
    lengths = [_payload_slots(c["payload"]).get("plan_months") for c in choices]
    return max((int(m) for m in lengths if m and m.isdigit()), default=0)


def _payload_slots(payload: str) -> dict[str, str]:
    match = re.match(r"^/\w+(\{.*\})$", payload)
    if not match:
        return {}
    try:
        values = json.loads(match.group(1))
    except ValueError:
        return {}
    return {k: str(v) for k, v in values.items() if k in _BUTTON_SLOTS} if isinstance(values, dict) else {}


def press(button: dict[str, Any]) -> list:
    """What the button's payload would have done, as slots and the step it leads to."""
    intent = re.match(r"^/(\w+)", button["payload"])
    step = _BUTTON_STEPS.get(intent.group(1) if intent else "")
    if step is None:
        return []
    events: list = [SlotSet("dialogue_step", None)]
    if step in ("plan_form", "promise_form"):
        events += clear_form_slots()
    events += [SlotSet(name, value) for name, value in _payload_slots(button["payload"]).items()]
    return events + [FollowupAction(step)]


class ActionBackToStep(SafeAction):
    """After a question at the read-back or the offers, or "go back": the step again."""

    def name(self) -> str:
        return "action_back_to_step"

    async def run(self, dispatcher, tracker, domain):
        new_language = _last_action(tracker) == "action_choose_language"
        if tracker.get_slot("awaiting_confirmation") and tracker.get_slot("pending_agreement"):
            if new_language:
                # The terms again, in the language just chosen: the yes must be to terms
                # the borrower could read.
                return await _read_back_again(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_read_back_still_open")
            return []
        if step_shown(tracker) == steps.REASON_STEP:
            if new_language or _last_action(tracker) in (None, ACTION_LISTEN):
                # Asked again: in the language just chosen, or after "go back" (nothing else
                # was said this turn, and a turn must never go unanswered).
                dispatcher.utter_message(response="utter_ask_reason")
            # After a question answered, the reason question stays open without being asked
            # again: the next message is still read as the reason (asking each time would press).
            return [SlotSet("dialogue_step", steps.REASON_STEP)]
        if verified_account(tracker) is None:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        return await utter_offer_menu(dispatcher, tracker, domain)


@verified_account_required
async def _read_back_again(dispatcher, tracker, domain, account: AccountView) -> list:
    proposal = AgreementProposal.from_json(tracker.get_slot("pending_agreement"))
    return read_back(dispatcher, tracker, domain, account, proposal)


ACTION_LISTEN = "action_listen"


def _last_action(tracker) -> str | None:
    """The action run just before this one (this turn's events)."""
    return next((e.get("name") for e in reversed(tracker.events) if e.get("event") == "action"), None)
