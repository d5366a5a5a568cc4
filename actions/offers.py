"""Offers from the plan engine and the forms that collect a plan's or a promise's terms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from rasa_sdk.events import FollowupAction

from actions.common import (
    GuardedFormValidation,
    SafeAction,
    SafeFormValidation,
    TrackerMemo,
    chosen_at_step,
    fmt_for,
    policy_for,
    reject,
    settings,
    today_for,
    verified_account,
)
from actions.forbearance import utter_what_fits
from actions.guards import collection_allowed, collection_block, verified_account_required
from actions.offering import ask_for_instalment_date, options_shown, utter_offer_menu
from actions.presenters import date_problem, plan_buttons
from actions.reasons import ActionRecordReason
from bot.domain import plans, steps
from bot.domain.accounts import AccountView
from bot.domain.parsing import (
    FORTNIGHT,
    WEEK,
    PeriodicAmount,
    monthly_equivalent,
    parse_amount,
    parse_currency_hint,
    parse_months,
    parse_payment_date,
    parse_periodic_amount,
)
from bot.services import negotiation

MONTHLY_AMOUNT_INTENT = "offer_monthly_amount"
AMOUNT_WAS_A_REASON = "action_amount_was_a_reason"

# A weekly or fortnightly figure, said back as what it comes to a month.
_AS_MONTHLY = {WEEK: "utter_amount_weekly_as_monthly", FORTNIGHT: "utter_amount_fortnightly_as_monthly"}


def _is_payload(text: str) -> bool:
    return text.startswith("/")


class ActionOfferOptions(SafeAction):
    def name(self) -> str:
        return "action_offer_options"

    async def run(self, dispatcher, tracker, domain):
        return await utter_offer_menu(dispatcher, tracker, domain)


class CollectingForm(GuardedFormValidation):
    """Plan and promise forms end at once when the conduct rules forbid collecting;
    the propose action then explains why."""

    # rasa-sdk asks for the required slots several times in one call, each time with
    # the call's Tracker, then calls the validate_ methods; the account is read once per
    # call (validation writes nothing to the store), with the verification slots it was
    # read for.
    _accounts = TrackerMemo(lambda tracker: (_verification_slots(tracker), verified_account(tracker)))

    def account(self, tracker) -> AccountView | None:
        """`verified_account(tracker)`, read once per call: again only if the call's
        verification slots changed since (no validation here sets them)."""
        slots, account = self._accounts.get(tracker)
        return account if slots == _verification_slots(tracker) else verified_account(tracker)

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        account = self.account(tracker)
        if account is None or collection_block(tracker, account) is not None:
            return []
        return await super().required_slots(domain_slots, dispatcher, tracker, domain)


def _verification_slots(tracker) -> tuple:
    """What `verified_account` reads of the tracker."""
    return tracker.get_slot("verified"), tracker.get_slot("verified_loan_ref")


class ValidatePromiseForm(CollectingForm, SafeFormValidation):
    def name(self) -> str:
        return "validate_promise_form"

    def validate_promise_date(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = self.account(tracker)
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
                    dispatcher,
                    tracker,
                    "promise_date",
                    "utter_amount_above_overdue",
                    overdue_amount=fmt.money(account.overdue_amount),
                )
            return reject(
                dispatcher,
                tracker,
                "promise_date",
                "utter_promise_must_cover_overdue",
                overdue_amount=fmt.money(account.overdue_amount),
                amount=fmt.money(amount),
            )
        if chosen is None:
            if tracker.get_intent_of_latest_message() == "choose_promise_to_pay":
                return {"promise_date": None}  # "I'd like to promise to pay" names no date yet
            return reject(dispatcher, tracker, "promise_date", "utter_date_invalid")
        problem = plans.check_promise(
            account.overdue_amount, chosen, account.overdue_amount, account.currency, policy, today
        )
        if problem in ("date_in_past", "date_too_far"):
            dispatcher.utter_message(**date_problem(fmt, problem, chosen, plans.promise_window(policy, today)))
            return reject(dispatcher, tracker, "promise_date")
        return {"promise_date": chosen.isoformat(), "invalid_answers": 0}


class ActionAmountWasAReason(SafeAction):
    """A message the classifier took for a monthly amount, with no amount in it, while the
    reason for the missed payment is still to be told ("just a bad month", issue 17 §8):
    recorded as the reason (action_record_reason), then the borrower answers."""

    def name(self) -> str:
        return AMOUNT_WAS_A_REASON

    async def run(self, dispatcher, tracker, domain):
        events = await ActionRecordReason().run(dispatcher, tracker, domain)
        return events + [FollowupAction("action_listen")]


class ActionAskPromiseDate(SafeAction):
    def name(self) -> str:
        return "action_ask_promise_date"

    @verified_account_required
    @collection_allowed
    async def run(self, dispatcher, tracker, domain, account):
        fmt = fmt_for(tracker, account)
        _, latest = plans.promise_window(policy_for(account), today_for(account))
        dispatcher.utter_message(
            response="utter_ask_promise_date",
            overdue_amount=fmt.money(account.overdue_amount),
            latest_date=fmt.date(latest),
        )
        return []


def _said(periodic: PeriodicAmount | None) -> str | None:
    """The `plan_amount_said` slot: a weekly or fortnightly figure as the borrower said it."""
    if periodic is None or periodic.period not in _AS_MONTHLY:
        return None
    return f"{periodic.amount} {periodic.period}"


def say_amount_per_month(dispatcher, tracker, account: AccountView) -> None:
    """Before the read-back of a plan made from a weekly or fortnightly figure: what that
    figure comes to a month ("£40 every two weeks is about £86.66 a month")."""
    said, monthly = tracker.get_slot("plan_amount_said"), tracker.get_slot("plan_monthly_amount")
    if not said or not monthly:
        return
    try:
        amount_text, period = str(said).split(" ", 1)
        amount, per_month = Decimal(amount_text), Decimal(str(monthly))
    except (ValueError, InvalidOperation):
        return
    if period not in _AS_MONTHLY:
        return
    if plans.quantize_down(monthly_equivalent(amount, period), account.currency) != per_month:
        return  # the plan is no longer the one made from that figure
    fmt = fmt_for(tracker, account)
    dispatcher.utter_message(
        response=_AS_MONTHLY[period], amount=fmt.money(amount), monthly_amount=fmt.money(per_month)
    )


class ValidatePlanForm(CollectingForm, SafeFormValidation):
    """The plan's length, or the borrower's own monthly figure (a counter-offer), then
    the first payment date.

    A figure no standard plan fits ends the form with what fits it on screen; the
    borrower picks one of those (or names another figure), so nothing else is said
    after it: the form's next step is to listen (`_next_steps`)."""

    def __init__(self) -> None:
        super().__init__()
        self._next_steps: dict[int, str] = {}  # per call (its Tracker): the action after the form

    def name(self) -> str:
        return "validate_plan_form"

    async def get_validation_events(self, dispatcher, tracker, domain) -> list:
        try:
            events = await super().get_validation_events(dispatcher, tracker, domain)
            step = self._next_steps.get(id(tracker))
        finally:
            self._next_steps.pop(id(tracker), None)
        return events + [FollowupAction(step)] if step else events

    def validate_plan_months(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = self.account(tracker)
        # A length the step chose from the options on screen ("the 3 month one", "3 x 300")
        # is a length, whatever the classifier made of the words (the form re-reads the
        # message on activation and would hand us the words again).
        chosen = chosen_at_step(tracker, "plan_months")
        text = chosen or str(value or "")
        if account is None or (_is_payload(text) and not text.strip("/").isdigit()):
            return {"plan_months": None}
        fmt = fmt_for(tracker, account)
        policy = policy_for(account)
        today = today_for(account)
        intent = tracker.get_intent_of_latest_message()
        # "6 months is too short for me": the length they turn away from is not their answer
        kept = text if chosen else steps.without_lengths_left(text)
        months = parse_months(kept) if not text.strip().isdigit() else int(text.strip())
        said = parse_periodic_amount(text)
        amount_offered = intent == MONTHLY_AMOUNT_INTENT and not chosen
        if amount_offered or (months is None and said is not None and said.period is not None):
            return self._counter_offer(text, said, dispatcher, tracker, domain, account, fmt, policy, today)
        allowed = negotiation.allowed_months(account, policy, today)
        if months in allowed:
            return {
                "plan_months": str(months),
                "plan_monthly_amount": None,
                "plan_amount_said": None,
                "invalid_answers": 0,
            }
        if months is None and (intent == "choose_plan" or kept != text):
            # "a payment plan please" names no length yet; "6 months is too short" only
            # turns one away: asked again, with the plans as buttons
            return {"plan_months": None}
        if not allowed:
            return reject(dispatcher, tracker, "plan_months", "utter_no_plan_available")
        return reject(
            dispatcher,
            tracker,
            "plan_months",
            "utter_plan_months_invalid",
            allowed_months=", ".join(str(m) for m in allowed),
        )

    def _end_form(self, tracker, then: str) -> dict:
        """End the form now; `then` runs next instead of the plan's read-back."""
        self._next_steps[id(tracker)] = then
        return {
            "plan_months": None,
            "plan_monthly_amount": None,
            "plan_amount_said": None,
            "requested_slot": None,
            "invalid_answers": 0,
        }

    def _counter_offer(self, text, said, dispatcher, tracker, domain, account, fmt, policy, today) -> dict:
        if said is None:
            if not tracker.get_slot("reason_code"):
                # "just a bad month" where the reason is still to be told: a reason, not an amount
                return self._end_form(tracker, then=AMOUNT_WAS_A_REASON)
            return reject(dispatcher, tracker, "plan_months", response="utter_amount_invalid")
        amount = plans.quantize_down(said.monthly, account.currency)
        if amount <= 0:
            return reject(dispatcher, tracker, "plan_months", response="utter_amount_not_positive")
        hinted = parse_currency_hint(text)
        if hinted and hinted != account.currency:
            dispatcher.utter_message(response="utter_currency_differs", currency=account.currency)
        if said.period in _AS_MONTHLY:
            dispatcher.utter_message(
                response=_AS_MONTHLY[said.period], amount=fmt.money(said.amount), monthly_amount=fmt.money(amount)
            )
        first = negotiation.default_first_due_date(policy, today)
        result = plans.counter_offer(account.overdue_amount, account.currency, amount, policy, first)
        values = {"amount": fmt.money(amount), "overdue_amount": fmt.money(account.overdue_amount)}
        if result.status == plans.COVERS_ALL:
            return reject(dispatcher, tracker, "plan_months", response="utter_counter_offer_covers_all", **values)
        if result.status == plans.FITS and result.plan is not None:
            dispatcher.utter_message(response="utter_counter_offer_fits", months=result.plan.months, **values)
            return {
                "plan_months": str(result.plan.months),
                "plan_monthly_amount": str(amount),
                "plan_amount_said": _said(said),
                "invalid_answers": 0,
            }
        # Below the minimum, or too long for a standard plan: never a plan at more a month
        # than they said (FCA CONC 7.3) -- what fits their figure instead, nothing recorded.
        options = plans.affordable_options(account.overdue_amount, account.currency, amount, policy, today)
        response = {
            plans.TOO_LONG: "utter_counter_offer_too_long",
            plans.BELOW_MINIMUM: "utter_counter_offer_below_minimum",
        }[result.status]
        shown = utter_what_fits(
            dispatcher,
            tracker,
            domain,
            account,
            options,
            response,
            amount=values["amount"],
            months=result.implied_months,
            max_months=policy.max_months,
            min_instalment=fmt.money(policy.min_instalment),
        )
        # "the first one" then means the first of these (components/step_policy.py)
        return self._end_form(tracker, then="action_listen") | {e["name"]: e["value"] for e in options_shown(shown)}

    def validate_first_payment_date(self, value: Any, dispatcher, tracker, domain) -> dict:
        account = self.account(tracker)
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
            dispatcher.utter_message(**date_problem(fmt, problem, chosen, plans.first_instalment_window(policy, today)))
            return reject(dispatcher, tracker, "first_payment_date")
        return {"first_payment_date": chosen.isoformat(), "invalid_answers": 0}


class ActionAskPlanMonths(SafeAction):
    def name(self) -> str:
        return "action_ask_plan_months"

    @verified_account_required
    @collection_allowed
    async def run(self, dispatcher, tracker, domain, account):
        if account.overdue_amount <= 0:
            dispatcher.utter_message(response="utter_nothing_overdue")
            return []
        fmt = fmt_for(tracker, account)
        menu = negotiation.offer_menu(account, policy_for(account), today_for(account))
        buttons = plan_buttons(domain, fmt, menu.plans)
        if not buttons:
            dispatcher.utter_message(response="utter_no_plan_available")
            return []
        dispatcher.utter_message(
            response="utter_ask_plan_months", overdue_amount=fmt.money(account.overdue_amount), buttons=buttons
        )
        return []


class ActionAskFirstPaymentDate(SafeAction):
    def name(self) -> str:
        return "action_ask_first_payment_date"

    @verified_account_required
    async def run(self, dispatcher, tracker, domain, account):
        return ask_for_instalment_date(dispatcher, tracker, account, "utter_ask_first_payment_date")
