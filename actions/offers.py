"""Offers from the plan engine and the forms that collect a plan's or a promise's terms."""
from __future__ import annotations

from actions.common import SafeAction, SafeFormValidation

import json
from typing import Any


from actions.common import (
    contact_values,
    GuardedFormValidation,
    fmt_for,
    policy_for,
    reject,
    render,
    require_account,
    settings,
    today_for,
    verified_account,
)
from bot.domain import conduct, plans
from bot.services import negotiation
from bot.domain.parsing import parse_amount, parse_currency_hint, parse_months, parse_payment_date

MONTHLY_AMOUNT_INTENT = "offer_monthly_amount"


def _is_payload(text: str) -> bool:
    return text.startswith("/")


def _block(tracker, account):
    return conduct.collection_block(
        open_cases=account.open_cases,
        vulnerable=account.vulnerable or bool(tracker.get_slot("collection_stopped")),
        reason_code=tracker.get_slot("reason_code"),
    )


def collection_blocked(dispatcher, tracker, account) -> bool:
    """Say so and return True when the conduct rules forbid asking for payment."""
    if _block(tracker, account) is None:
        return False
    if account.on_collection_hold:
        dispatcher.utter_message(response="utter_account_on_hold")
    else:
        dispatcher.utter_message(response="utter_no_collection_now", **contact_values(tracker))
    return True


def utter_offer_menu(dispatcher, tracker, domain, *, hardship_first: bool = False) -> list:
    """The options policy allows; for borrowers in hardship, the gentler ones come first
    and there is no "pay it all now" button (CONC 7: no pressure to pay in one large sum)."""
    account = require_account(dispatcher, tracker)
    if account is None:
        return []
    if collection_blocked(dispatcher, tracker, account):
        return []
    if account.overdue_amount <= 0:
        dispatcher.utter_message(response="utter_nothing_overdue")
        return []
    fmt = fmt_for(tracker, account)
    policy = policy_for(account)
    today = today_for(account)
    menu = negotiation.offer_menu(account, policy, today)
    plan_buttons = [
        {
            "title": render(
                domain, "utter_button_plan", fmt.lang, months=plan.months, amount=fmt.money(plan.instalment_amount)
            ),
            "payload": "/choose_plan" + json.dumps({"plan_months": str(plan.months)}),
        }
        for plan in menu.plans
    ]
    pay_now = {
        "title": render(domain, "utter_button_pay_now", fmt.lang, amount=fmt.money(menu.overdue_amount)),
        "payload": "/choose_pay_now",
    }
    promise = {
        "title": render(domain, "utter_button_promise", fmt.lang, latest_date=fmt.date(menu.promise_latest)),
        "payload": "/choose_promise_to_pay",
    }
    if hardship_first:
        from actions.forbearance import hardship_buttons

        arrangements = plans.hardship_options(account.overdue_amount, account.currency, policy, today)
        buttons = hardship_buttons(domain, fmt, arrangements) + plan_buttons
    else:
        buttons = [pay_now, promise] + plan_buttons
    settlement = plans.settlement_offer(account.outstanding_balance, account.currency, account.days_past_due, policy, today)
    if settlement is not None and not hardship_first:
        buttons.append(
            {
                "title": render(domain, "utter_button_settlement", fmt.lang, amount=fmt.money(settlement.amount)),
                "payload": "/ask_settlement",
            }
        )
    dispatcher.utter_message(
        response="utter_offer_options", overdue_amount=fmt.money(menu.overdue_amount), buttons=buttons
    )
    if menu.plans or hardship_first:
        dispatcher.utter_message(response="utter_offer_monthly_amount_hint")
    else:
        dispatcher.utter_message(response="utter_no_plan_available")
    return []


class ActionOfferOptions(SafeAction):
    def name(self) -> str:
        return "action_offer_options"

    async def run(self, dispatcher, tracker, domain):
        return utter_offer_menu(dispatcher, tracker, domain)


def _date_problem(dispatcher, fmt, problem: str, chosen, window) -> None:
    earliest, latest = window
    response = {"date_in_past": "utter_date_in_past", "date_too_far": "utter_date_too_far"}[problem]
    dispatcher.utter_message(
        response=response,
        date=fmt.date(chosen),
        earliest_date=fmt.date(earliest),
        latest_date=fmt.date(latest),
    )


class CollectingForm(GuardedFormValidation):
    """Plan and promise forms end at once when the conduct rules forbid collecting;
    the propose action then explains why."""

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        # rasa-sdk asks for the required slots several times in one call; the
        # account is read once per call (validation writes nothing to the store).
        if not hasattr(tracker, "_collecting_account"):
            tracker._collecting_account = verified_account(tracker)
        account = tracker._collecting_account
        if account is None or _block(tracker, account) is not None:
            return []
        return await super().required_slots(domain_slots, dispatcher, tracker, domain)


class ValidatePromiseForm(CollectingForm, SafeFormValidation):
    def name(self) -> str:
        return "validate_promise_form"

    def validate_promise_date(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = verified_account(tracker)
        text = str(value or "")
        if account is None or _is_payload(text):
            return {"promise_date": None}
        fmt = fmt_for(tracker, account)
        policy = policy_for(account)
        today = today_for(account)
        amount = parse_amount(text)
        chosen = parse_payment_date(text, today, settings().date_order)
        if amount is not None and amount != account.overdue_amount:
            if amount <= 0:
                return reject(dispatcher, tracker, "promise_date", "utter_amount_not_positive")
            if amount > account.overdue_amount:
                return reject(
                    dispatcher, tracker, "promise_date", "utter_amount_above_overdue",
                    overdue_amount=fmt.money(account.overdue_amount),
                )
            return reject(
                dispatcher, tracker, "promise_date", "utter_promise_must_cover_overdue",
                overdue_amount=fmt.money(account.overdue_amount), amount=fmt.money(amount),
            )
        if chosen is None:
            if tracker.get_intent_of_latest_message() == "choose_promise_to_pay":
                return {"promise_date": None}  # "I'd like to promise to pay" names no date yet
            return reject(dispatcher, tracker, "promise_date", "utter_date_invalid")
        problem = plans.check_promise(
            account.overdue_amount, chosen, account.overdue_amount, account.currency, policy, today
        )
        if problem in ("date_in_past", "date_too_far"):
            _date_problem(dispatcher, fmt, problem, chosen, plans.promise_window(policy, today))
            return reject(dispatcher, tracker, "promise_date")
        return {"promise_date": chosen.isoformat(), "invalid_answers": 0}


class ActionAskPromiseDate(SafeAction):
    def name(self) -> str:
        return "action_ask_promise_date"

    async def run(self, dispatcher, tracker, domain):
        account = require_account(dispatcher, tracker)
        if account is None:
            return []
        if collection_blocked(dispatcher, tracker, account):
            return []
        fmt = fmt_for(tracker, account)
        _, latest = plans.promise_window(policy_for(account), today_for(account))
        dispatcher.utter_message(
            response="utter_ask_promise_date",
            overdue_amount=fmt.money(account.overdue_amount),
            latest_date=fmt.date(latest),
        )
        return []


class ValidatePlanForm(CollectingForm, SafeFormValidation):
    def name(self) -> str:
        return "validate_plan_form"

    def validate_plan_months(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = verified_account(tracker)
        text = str(value or "")
        if account is None or (_is_payload(text) and not text.strip("/").isdigit()):
            return {"plan_months": None}
        fmt = fmt_for(tracker, account)
        policy = policy_for(account)
        today = today_for(account)
        if tracker.get_intent_of_latest_message() == MONTHLY_AMOUNT_INTENT:
            return self._counter_offer(text, dispatcher, tracker, account, fmt, policy, today)
        months = parse_months(text) if not text.strip().isdigit() else int(text.strip())
        allowed = negotiation.allowed_months(account, policy, today)
        if months in allowed:
            return {"plan_months": str(months), "plan_monthly_amount": None, "invalid_answers": 0}
        if months is None and tracker.get_intent_of_latest_message() == "choose_plan":
            return {"plan_months": None}  # "a payment plan please" names no length yet
        if not allowed:
            return reject(dispatcher, tracker, "plan_months", "utter_no_plan_available")
        return reject(
            dispatcher, tracker, "plan_months", "utter_plan_months_invalid",
            allowed_months=", ".join(str(m) for m in allowed),
        )

    def _counter_offer(self, text, dispatcher, tracker, account, fmt, policy, today) -> dict:
        amount = parse_amount(text)
        if amount is None:
            return reject(dispatcher, tracker, "plan_months", response="utter_amount_invalid")
        amount = plans.quantize(amount, account.currency)
        if amount <= 0:
            return reject(dispatcher, tracker, "plan_months", response="utter_amount_not_positive")
        hinted = parse_currency_hint(text)
        if hinted and hinted != account.currency:
            dispatcher.utter_message(response="utter_currency_differs", currency=account.currency)
        first = negotiation.default_first_due_date(policy, today)
        result = plans.counter_offer(account.overdue_amount, account.currency, amount, policy, first)
        values = {"amount": fmt.money(amount), "overdue_amount": fmt.money(account.overdue_amount)}
        if result.status == plans.COVERS_ALL:
            return reject(dispatcher, tracker, "plan_months", response="utter_counter_offer_covers_all", **values)
        if result.plan is None:
            return reject(dispatcher, tracker, "plan_months", response="utter_counter_offer_none", **contact_values(tracker))
        if result.status == plans.FITS:
            dispatcher.utter_message(response="utter_counter_offer_fits", months=result.plan.months, **values)
            return {"plan_months": str(result.plan.months), "plan_monthly_amount": str(amount), "invalid_answers": 0}
        response = {
            plans.TOO_LONG: "utter_counter_offer_too_long",
            plans.BELOW_MINIMUM: "utter_counter_offer_below_minimum",
        }[result.status]
        dispatcher.utter_message(
            response=response,
            months=result.implied_months,
            max_months=policy.max_months,
            min_instalment=fmt.money(policy.min_instalment),
            plan_months=result.plan.months,
            plan_amount=fmt.money(result.plan.instalment_amount),
            **values,
        )
        # The nearest plan is proposed (action_propose_plan recomputes it from the same
        # amount); the read-back still needs an explicit yes.
        return {"plan_months": str(result.plan.months), "plan_monthly_amount": str(amount), "invalid_answers": 0}

    def validate_first_payment_date(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = verified_account(tracker)
        text = str(value or "")
        if account is None or _is_payload(text):
            return {"first_payment_date": None}
        fmt = fmt_for(tracker, account)
        policy = policy_for(account)
        today = today_for(account)
        chosen = parse_payment_date(text, today, settings().date_order)
        if chosen is None:
            return reject(dispatcher, tracker, "first_payment_date", response="utter_date_invalid")
        problem = plans.check_first_due_date(chosen, policy, today)
        if problem:
            _date_problem(dispatcher, fmt, problem, chosen, plans.first_instalment_window(policy, today))
            return reject(dispatcher, tracker, "first_payment_date")
        return {"first_payment_date": chosen.isoformat(), "invalid_answers": 0}


class ActionAskPlanMonths(SafeAction):
    def name(self) -> str:
        return "action_ask_plan_months"

    async def run(self, dispatcher, tracker, domain):
        account = require_account(dispatcher, tracker)
        if account is None:
            return []
        if collection_blocked(dispatcher, tracker, account):
            return []
        if account.overdue_amount <= 0:
            dispatcher.utter_message(response="utter_nothing_overdue")
            return []
        fmt = fmt_for(tracker, account)
        menu = negotiation.offer_menu(account, policy_for(account), today_for(account))
        buttons = [
            {
                "title": render(
                    domain, "utter_button_plan", fmt.lang, months=p.months, amount=fmt.money(p.instalment_amount)
                ),
                "payload": "/choose_plan" + json.dumps({"plan_months": str(p.months)}),
            }
            for p in menu.plans
        ]
        if not buttons:
            dispatcher.utter_message(response="utter_no_plan_available")
            return []
        dispatcher.utter_message(
            response="utter_ask_plan_months", overdue_amount=fmt.money(account.overdue_amount), buttons=buttons
        )
        return []


def ask_for_instalment_date(dispatcher, tracker, response: str) -> list:
    """Ask for a date in the policy's first-instalment window (a new plan, or moving one)."""
    account = require_account(dispatcher, tracker)
    if account is None:
        return []
    fmt = fmt_for(tracker, account)
    earliest, latest = plans.first_instalment_window(policy_for(account), today_for(account))
    dispatcher.utter_message(response=response, earliest_date=fmt.date(earliest), latest_date=fmt.date(latest))
    return []


class ActionAskFirstPaymentDate(SafeAction):
    def name(self) -> str:
        return "action_ask_first_payment_date"

    async def run(self, dispatcher, tracker, domain):
        return ask_for_instalment_date(dispatcher, tracker, "utter_ask_first_payment_date")
