"""Repayment plans, counter-offers, promises to pay, hardship and settlement offers.

Amounts are ``Decimal`` in the loan's currency and must already be expressed in
the currency's minor units (``quantize(x, currency) == x``); schedules then sum
to the total exactly. Monthly due dates are always ``first + relativedelta(months=n)``
so a plan starting on the 31st falls on the last day of shorter months and
returns to the 31st afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision, is_currency
from dateutil.relativedelta import relativedelta

from bot.domain.policy import ProductPolicy

FITS = "fits"
TOO_LONG = "too_long"
BELOW_MINIMUM = "below_minimum"
COVERS_ALL = "covers_all"

NOT_POSITIVE = "not_positive"
ABOVE_OVERDUE = "above_overdue"
BELOW_OVERDUE = "below_overdue"
DATE_IN_PAST = "date_in_past"
DATE_TOO_FAR = "date_too_far"


@dataclass(frozen=True)
class Instalment:
    sequence: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class PlanOffer:
    months: int
    currency: str
    instalments: tuple[Instalment, ...]
    total: Decimal

    def __post_init__(self) -> None:
        if self.months != len(self.instalments) or self.months < 1:
            raise ValueError(f"a {self.months}-month plan needs {self.months} instalments")
        if sum(i.amount for i in self.instalments) != self.total:
            raise ValueError("instalments do not add up to the plan total")

    @classmethod
    def of(cls, currency: str, instalments: tuple[Instalment, ...]) -> PlanOffer:
        return cls(len(instalments), currency, instalments, sum((i.amount for i in instalments), Decimal(0)))

    @property
    def instalment_amount(self) -> Decimal:
        """The regular monthly amount (the first instalment)."""
        return self.instalments[0].amount

    @property
    def final_amount(self) -> Decimal:
        return self.instalments[-1].amount

    @property
    def first_due_date(self) -> date:
        return self.instalments[0].due_date

    @property
    def last_due_date(self) -> date:
        return self.instalments[-1].due_date


@dataclass(frozen=True)
class CounterOffer:
    status: str
    requested_amount: Decimal
    implied_months: int
    plan: PlanOffer | None


@dataclass(frozen=True)
class HardshipArrangement:
    holiday_months: int
    plan: PlanOffer
    # The borrower's own monthly figure the plan was made at (FCA CONC 7.3.4: their
    # proposal considered); None for the policy's lowest regular payment.
    at_amount: Decimal | None = None


@dataclass(frozen=True)
class AffordableOptions:
    """What fits a monthly figure the borrower can afford, none of it more a month than
    they said (FCA CONC 7.3): hardship plans, then payment holidays.

    ``plans`` cost at most ``monthly_amount`` every month. ``holidays`` start with no
    payments; afterwards they cost at most ``monthly_amount`` when ``plans`` is not
    empty; when nothing fits (``plans`` empty) they are the gentlest the policy allows,
    offered as a breathing space with a person as the alternative.
    """

    monthly_amount: Decimal
    plans: tuple[HardshipArrangement, ...]
    holidays: tuple[HardshipArrangement, ...]
    below_hardship_minimum: bool


@dataclass(frozen=True)
class SettlementOffer:
    outstanding_balance: Decimal
    discount: Decimal
    amount: Decimal
    currency: str
    pay_by: date


# --- money and dates -------------------------------------------------------------------------


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: 0.01 for GBP, 1 for JPY, 0.001 for BHD."""
    _check_currency(currency)
    return Decimal(1).scaleb(-get_currency_precision(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor units, half up."""
    return _check_decimal(amount, "amount").quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def quantize_down(amount: Decimal, currency: str) -> Decimal:
    """Round towards zero to the currency's minor units: what a borrower can afford is
    never rounded up to more than they said."""
    return _check_decimal(amount, "amount").quantize(minor_unit(currency), rounding=ROUND_DOWN)


def _check_currency(currency: str) -> None:
    if not isinstance(currency, str) or not is_currency(currency):
        raise ValueError(f"unknown ISO 4217 currency code {currency!r} (use upper case, e.g. 'GBP')")


def _check_decimal(value: Decimal, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__} {value!r}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _money(value: Decimal, currency: str, name: str) -> Decimal:
    """A positive amount already in the currency's minor units, with the currency's exponent."""
    value = _check_decimal(value, name)
    exact = value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
    if exact != value:
        raise ValueError(f"{name} {value} has more decimal places than {currency} allows")
    if exact <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return exact


def _minimum(amount: Decimal, currency: str) -> Decimal:
    """A policy minimum in the currency's minor units, rounded up so it is never undercut."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_CEILING)


def _check_date(value: date, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__} {value!r}")
    return value


def _months_needed(total: Decimal, monthly_amount: Decimal) -> int:
    whole, remainder = divmod(total, monthly_amount)
    return int(whole) + (1 if remainder else 0)


def _even_instalment(total: Decimal, currency: str, months: int) -> Decimal:
    return (total / months).quantize(minor_unit(currency), rounding=ROUND_DOWN)


# --- schedules -------------------------------------------------------------------------------


def build_schedule(total: Decimal, currency: str, months: int, first_due_date: date) -> tuple[Instalment, ...]:
    """Equal monthly instalments rounded down; the remainder goes on the last one."""
    total = _money(total, currency, "total")
    _check_date(first_due_date, "first_due_date")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a positive whole number, got {months!r}")
    regular = _even_instalment(total, currency, months)
    if regular <= 0:
        raise ValueError(f"{total} {currency} is too small to split into {months} instalments")
    amounts = [regular] * (months - 1) + [total - regular * (months - 1)]
    return _instalments(amounts, first_due_date)


def schedule_for_monthly_amount(
    total: Decimal, currency: str, monthly_amount: Decimal, first_due_date: date
) -> tuple[Instalment, ...]:
    """Instalments of ``monthly_amount``; the final one is whatever remains (may be smaller)."""
    total = _money(total, currency, "total")
    monthly_amount = _money(monthly_amount, currency, "monthly_amount")
    _check_date(first_due_date, "first_due_date")
    months = _months_needed(total, monthly_amount)
    amounts = [monthly_amount] * (months - 1) + [total - monthly_amount * (months - 1)]
    return _instalments(amounts, first_due_date)


def _instalments(amounts: list[Decimal], first_due_date: date) -> tuple[Instalment, ...]:
    return tuple(
        Instalment(n + 1, first_due_date + relativedelta(months=n), amount) for n, amount in enumerate(amounts)
    )


def _even_plan(total: Decimal, currency: str, months: int, first_due_date: date) -> PlanOffer:
    return PlanOffer.of(currency, build_schedule(total, currency, months, first_due_date))


def _longest_term(total: Decimal, minimum: Decimal, max_months: int) -> int | None:
    """Longest term up to ``max_months`` whose even instalment is still >= ``minimum``.

    That is the lowest regular payment the policy allows; None when even a
    2-month plan would fall below the minimum.
    """
    months = min(max_months, int(total // minimum))
    return months if months >= 2 else None


# --- windows and checks ----------------------------------------------------------------------


def first_instalment_window(policy: ProductPolicy, today: date) -> tuple[date, date]:
    _check_date(today, "today")
    return today, today + timedelta(days=policy.max_days_to_first_instalment)


def promise_window(policy: ProductPolicy, today: date) -> tuple[date, date]:
    _check_date(today, "today")
    return today, today + timedelta(days=policy.max_promise_days)


def _check_window(day: date, window: tuple[date, date]) -> str | None:
    if day < window[0]:
        return DATE_IN_PAST
    if day > window[1]:
        return DATE_TOO_FAR
    return None


def check_first_due_date(first_due_date: date, policy: ProductPolicy, today: date) -> str | None:
    """None if acceptable, otherwise ``"date_in_past"`` or ``"date_too_far"``."""
    _check_date(first_due_date, "first_due_date")
    return _check_window(first_due_date, first_instalment_window(policy, today))


def check_promise(
    amount: Decimal,
    promise_date: date,
    overdue_amount: Decimal,
    currency: str,
    policy: ProductPolicy,
    today: date,
) -> str | None:
    """None if the promise to pay is acceptable, otherwise a problem code.

    A promise must cover the whole overdue amount; a smaller regular payment is
    a plan, not a promise.
    """
    overdue_amount = _money(overdue_amount, currency, "overdue_amount")
    _check_date(promise_date, "promise_date")
    amount = quantize(amount, currency)
    if amount <= 0:
        return NOT_POSITIVE
    if amount > overdue_amount:
        return ABOVE_OVERDUE
    if amount < overdue_amount:
        return BELOW_OVERDUE
    return _check_window(promise_date, promise_window(policy, today))


# --- plans and counter-offers ----------------------------------------------------------------


def plan_offers(overdue_amount: Decimal, currency: str, policy: ProductPolicy, first_due_date: date) -> list[PlanOffer]:
    """Even plans for each configured length the policy allows for this balance, shortest first."""
    overdue_amount = _money(overdue_amount, currency, "overdue_amount")
    _check_date(first_due_date, "first_due_date")
    minimum = _minimum(policy.min_instalment, currency)
    return [
        _even_plan(overdue_amount, currency, months, first_due_date)
        for months in sorted(policy.plan_lengths)
        if months <= policy.max_months and _even_instalment(overdue_amount, currency, months) >= minimum
    ]


def counter_offer(
    overdue_amount: Decimal,
    currency: str,
    monthly_amount: Decimal,
    policy: ProductPolicy,
    first_due_date: date,
) -> CounterOffer:
    """Judge the monthly amount the borrower proposed.

    ``monthly_amount`` is rounded down to minor units first. Only ``fits`` has a plan,
    and it is at the borrower's amount (a smaller final instalment): a plan never asks
    for more a month than they said (FCA CONC 7.3). ``below_minimum`` and ``too_long``
    have none -- see `affordable_options` for what fits the amount instead;
    ``covers_all`` has none either: the caller should suggest paying now or a promise.
    """
    overdue_amount = _money(overdue_amount, currency, "overdue_amount")
    _check_date(first_due_date, "first_due_date")
    if _check_decimal(monthly_amount, "monthly_amount") <= 0:
        raise ValueError(f"monthly_amount must be positive, got {monthly_amount}")
    requested = quantize_down(monthly_amount, currency)
    if requested <= 0:
        raise ValueError(f"monthly_amount {monthly_amount} is less than one {currency} minor unit")

    if requested >= overdue_amount:
        return CounterOffer(COVERS_ALL, requested, 1, None)

    implied = _months_needed(overdue_amount, requested)
    if requested < _minimum(policy.min_instalment, currency):
        return CounterOffer(BELOW_MINIMUM, requested, implied, None)
    if implied > policy.max_months:
        return CounterOffer(TOO_LONG, requested, implied, None)
    plan = PlanOffer.of(currency, schedule_for_monthly_amount(overdue_amount, currency, requested, first_due_date))
    return CounterOffer(FITS, requested, implied, plan)


# --- hardship --------------------------------------------------------------------------------


def hardship_options(
    overdue_amount: Decimal, currency: str, policy: ProductPolicy, today: date
) -> list[HardshipArrangement]:
    """Forbearance arrangements (FCA CONC 7), ordered by holiday length, 0 = no holiday.

    Every arrangement repays over the longest term up to ``hardship.max_months``
    whose instalment stays >= ``hardship.min_instalment``, i.e. the lowest
    regular payment allowed. Without a holiday the first instalment is due in a
    month; a holiday of h months skips h of those monthly payments, so the
    first instalment is due in h + 1 months.
    """
    overdue_amount = _money(overdue_amount, currency, "overdue_amount")
    _check_date(today, "today")
    hardship = policy.hardship
    months = _longest_term(overdue_amount, _minimum(hardship.min_instalment, currency), hardship.max_months)
    if months is None:
        return []
    return [
        HardshipArrangement(
            holiday,
            _even_plan(overdue_amount, currency, months, today + relativedelta(months=holiday + 1)),
        )
        for holiday in range(hardship.max_holiday_months + 1)
    ]


def hardship_plan_at(
    overdue_amount: Decimal,
    currency: str,
    monthly_amount: Decimal,
    policy: ProductPolicy,
    today: date,
    holiday_months: int = 0,
) -> HardshipArrangement | None:
    """A hardship plan at the borrower's own monthly amount (rounded down to minor units;
    a smaller final instalment), after an optional payment holiday; None when the hardship
    policy does not allow it: below ``hardship.min_instalment``, longer than
    ``hardship.max_months``, a holiday longer than ``hardship.max_holiday_months``, or an
    amount that would clear the balance in one payment."""
    overdue_amount = _money(overdue_amount, currency, "overdue_amount")
    _check_date(today, "today")
    hardship = policy.hardship
    if isinstance(holiday_months, bool) or not isinstance(holiday_months, int):
        raise TypeError(f"holiday_months must be a whole number, got {holiday_months!r}")
    if not 0 <= holiday_months <= hardship.max_holiday_months:
        return None
    amount = quantize_down(_check_decimal(monthly_amount, "monthly_amount"), currency)
    if amount < _minimum(hardship.min_instalment, currency) or amount <= 0 or amount >= overdue_amount:
        return None
    if _months_needed(overdue_amount, amount) > hardship.max_months:
        return None
    first = today + relativedelta(months=holiday_months + 1)
    plan = PlanOffer.of(currency, schedule_for_monthly_amount(overdue_amount, currency, amount, first))
    return HardshipArrangement(holiday_months, plan, at_amount=amount)


def _costs_at_most(arrangement: HardshipArrangement, amount: Decimal) -> bool:
    return max(i.amount for i in arrangement.plan.instalments) <= amount


def affordable_options(
    overdue_amount: Decimal, currency: str, monthly_amount: Decimal, policy: ProductPolicy, today: date
) -> AffordableOptions:
    """What fits the monthly amount a borrower said they can afford (FCA CONC 7.3).

    ``plans``: a hardship plan at their amount if the hardship policy allows it, then
    the policy's lowest regular payment if it costs no more than their amount every
    month. ``holidays``: 1 to ``hardship.max_holiday_months`` months without payments,
    then the gentlest of those plans; when no plan fits, the policy's lowest payment
    after the holiday (the caller says so and offers a person too).
    """
    overdue_amount = _money(overdue_amount, currency, "overdue_amount")
    _check_date(today, "today")
    if _check_decimal(monthly_amount, "monthly_amount") <= 0:
        raise ValueError(f"monthly_amount must be positive, got {monthly_amount}")
    amount = quantize_down(monthly_amount, currency)
    hardship = policy.hardship
    lowest = hardship_options(overdue_amount, currency, policy, today)
    at_amount = hardship_plan_at(overdue_amount, currency, amount, policy, today)

    plans: list[HardshipArrangement] = [] if at_amount is None else [at_amount]
    if lowest and _costs_at_most(lowest[0], amount) and (at_amount is None or lowest[0].plan != at_amount.plan):
        plans.append(lowest[0])

    holidays: list[HardshipArrangement] = []
    for months in range(1, hardship.max_holiday_months + 1):
        if lowest and (not plans or _costs_at_most(lowest[0], amount)):
            holidays.append(lowest[months])
        elif at_amount is not None:
            after = hardship_plan_at(overdue_amount, currency, amount, policy, today, holiday_months=months)
            if after is not None:
                holidays.append(after)
    return AffordableOptions(
        monthly_amount=amount,
        plans=tuple(plans),
        holidays=tuple(holidays),
        below_hardship_minimum=amount < _minimum(hardship.min_instalment, currency),
    )


# --- settlement ------------------------------------------------------------------------------


def settlement_offer(
    outstanding_balance: Decimal,
    currency: str,
    days_past_due: int,
    policy: ProductPolicy,
    today: date,
    improved: bool = False,
) -> SettlementOffer | None:
    """A one-off discounted payment of the whole outstanding balance, or None if not yet eligible.

    The amount is rounded up to minor units so the discount never exceeds the policy's.
    """
    outstanding_balance = _money(outstanding_balance, currency, "outstanding_balance")
    _check_date(today, "today")
    if isinstance(days_past_due, bool) or not isinstance(days_past_due, int) or days_past_due < 0:
        raise ValueError(f"days_past_due must be a whole number >= 0, got {days_past_due!r}")
    settlement = policy.settlement
    if days_past_due < settlement.min_days_past_due:
        return None
    discount = settlement.max_discount if improved else settlement.initial_discount
    amount = (outstanding_balance * (1 - discount)).quantize(minor_unit(currency), rounding=ROUND_CEILING)
    return SettlementOffer(
        outstanding_balance=outstanding_balance,
        discount=discount,
        amount=amount,
        currency=currency,
        pay_by=today + timedelta(days=settlement.max_days_to_pay),
    )
