"""Offers from the plan engine and the forms that collect a plan's or a promise's terms."""
from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, FormValidationAction

from actions.common import (
    contact_values,
    fmt_for,
    policy_for,
    render,
    settings,
    today_for,
    verified_account,
)
from bot import negotiation, plans
from bot.parsing import parse_amount, parse_months, parse_payment_date

MONTHLY_AMOUNT_INTENT = "offer_monthly_amount"


def _is_payload(text: str) -> bool:
    return text.startswith("/")


def utter_offer_menu(dispatcher, tracker, domain) -> list:
    account = verified_account(tracker)
    if account is None:
        dispatcher.utter_message(response="utter_verify_first")
        return []
    fmt = fmt_for(tracker, account)
    menu = negotiation.offer_menu(account, policy_for(account), today_for(account))
    buttons = [
        {
            "title": render(domain, "utter_button_pay_now", fmt.lang, amount=fmt.money(menu.overdue_amount)),
            "payload": "/choose_pay_now",
        },
        {
            "title": render(domain, "utter_button_promise", fmt.lang, latest_date=fmt.date(menu.promise_latest)),
            "payload": "/choose_promise_to_pay",
        },
    ]
    for plan in menu.plans:
        buttons.append(
            {
                "title": render(
                    domain, "utter_button_plan", fmt.lang, months=plan.months, amount=fmt.money(plan.instalment_amount)
                ),
                "payload": "/choose_plan" + json.dumps({"plan_months": str(plan.months)}),
            }
        )
    dispatcher.utter_message(
        response="utter_offer_options", overdue_amount=fmt.money(menu.overdue_amount), buttons=buttons
    )
    if menu.plans:
        dispatcher.utter_message(response="utter_offer_monthly_amount_hint")
    else:
        dispatcher.utter_message(response="utter_no_plan_available")
    return []


class ActionOfferOptions(Action):
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


class ValidatePromiseForm(FormValidationAction):
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
                dispatcher.utter_message(response="utter_amount_not_positive")
            elif amount > account.overdue_amount:
                dispatcher.utter_message(
                    response="utter_amount_above_overdue", overdue_amount=fmt.money(account.overdue_amount)
                )
            else:
                dispatcher.utter_message(
                    response="utter_promise_must_cover_overdue",
                    overdue_amount=fmt.money(account.overdue_amount),
                    amount=fmt.money(amount),
                )
            return {"promise_date": None}
        if chosen is None:
            if tracker.get_intent_of_latest_message() != "choose_promise_to_pay":
                dispatcher.utter_message(response="utter_date_invalid")
            return {"promise_date": None}
        problem = plans.check_promise(
            account.overdue_amount, chosen, account.overdue_amount, account.currency, policy, today
        )
        if problem in ("date_in_past", "date_too_far"):
            _date_problem(dispatcher, fmt, problem, chosen, plans.promise_window(policy, today))
            return {"promise_date": None}
        return {"promise_date": chosen.isoformat()}


class ActionAskPromiseDate(Action):
    def name(self) -> str:
        return "action_ask_promise_date"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if account is None:
            dispatcher.utter_message(response="utter_verify_first")
            return []
        fmt = fmt_for(tracker, account)
        _, latest = plans.promise_window(policy_for(account), today_for(account))
        dispatcher.utter_message(
            response="utter_ask_promise_date",
            overdue_amount=fmt.money(account.overdue_amount),
            latest_date=fmt.date(latest),
        )
        return []


class ValidatePlanForm(FormValidationAction):
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
            return {"plan_months": str(months), "plan_monthly_amount": None}
        if months is not None or tracker.get_intent_of_latest_message() != "choose_plan":
            if allowed:
                dispatcher.utter_message(
                    response="utter_plan_months_invalid",
                    allowed_months=", ".join(str(m) for m in allowed),
                )
        return {"plan_months": None}

    def _counter_offer(self, text, dispatcher, tracker, account, fmt, policy, today) -> dict:
        amount = parse_amount(text)
        if amount is None:
            dispatcher.utter_message(response="utter_amount_invalid")
            return {"plan_months": None}
        if amount <= 0:
            dispatcher.utter_message(response="utter_amount_not_positive")
            return {"plan_months": None}
        amount = plans.quantize(amount, account.currency)
        first = negotiation.default_first_due_date(policy, today)
        result = plans.counter_offer(account.overdue_amount, account.currency, amount, policy, first)
        values = {"amount": fmt.money(amount), "overdue_amount": fmt.money(account.overdue_amount)}
        if result.status == plans.COVERS_ALL:
            dispatcher.utter_message(response="utter_counter_offer_covers_all", **values)
            return {"plan_months": None}
        if result.plan is None:
            dispatcher.utter_message(response="utter_counter_offer_none", **contact_values())
            return {"plan_months": None}
        if result.status == plans.FITS:
            dispatcher.utter_message(response="utter_counter_offer_fits", months=result.plan.months, **values)
            return {"plan_months": str(result.plan.months), "plan_monthly_amount": str(amount)}
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
        # The nearest plan is proposed; the read-back still needs an explicit yes.
        return {"plan_months": str(result.plan.months), "plan_monthly_amount": None}

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
            dispatcher.utter_message(response="utter_date_invalid")
            return {"first_payment_date": None}
        problem = plans.check_first_due_date(chosen, policy, today)
        if problem:
            _date_problem(dispatcher, fmt, problem, chosen, plans.first_instalment_window(policy, today))
            return {"first_payment_date": None}
        return {"first_payment_date": chosen.isoformat()}


class ActionAskPlanMonths(Action):
    def name(self) -> str:
        return "action_ask_plan_months"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if account is None:
            dispatcher.utter_message(response="utter_verify_first")
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


class ActionAskFirstPaymentDate(Action):
    def name(self) -> str:
        return "action_ask_first_payment_date"

    async def run(self, dispatcher, tracker, domain):
        account = verified_account(tracker)
        if account is None:
            dispatcher.utter_message(response="utter_verify_first")
            return []
        fmt = fmt_for(tracker, account)
        earliest, latest = plans.first_instalment_window(policy_for(account), today_for(account))
        dispatcher.utter_message(
            response="utter_ask_first_payment_date",
            earliest_date=fmt.date(earliest),
            latest_date=fmt.date(latest),
        )
        return []
