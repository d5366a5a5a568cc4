"""Payments in, and what they do to agreements and loans (issue 14).

Pure rules: reading a payment as the lender's payment page or bank file gives
it, allocating it to instalments oldest first, the status each instalment and
agreement takes, and what the loan's balances become. The loan store applies
them in one transaction with their audit events (bot/adapters/store/payments.py).

Allocation of one payment, in order: the open agreement's unpaid instalments,
oldest due date first, each up to what it still lacks; what is left reduces
the loan's balance (`to_balance`); what would take the balance below zero is
`unapplied` (a credit for the lender to refund). The three parts always add up
to the payment exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, is_currency

from bot.domain.parsing import normalise_loan_ref

# The fields of a payment, in the CSV header's order (and the webhook's JSON keys).
PAYMENT_FIELDS = ("payment_id", "loan_ref", "paid_at", "amount", "currency", "method")
PAYMENT_SOURCES = ("csv", "webhook")
MAX_AMOUNT = Decimal("1e12")
# A payment dated later than this ahead of our clock is refused (clocks drift a little).
FUTURE_SKEW = timedelta(minutes=5)
_PAYMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
_METHOD = re.compile(r"[a-z][a-z0-9_]{0,31}")

# Instalment statuses. "scheduled" and "partially_paid" may still be paid in time;
# "missed" is unpaid (in full or in part) after the grace period; "cancelled" and
# "superseded" instalments belong to agreements that ended another way.
SCHEDULED, PARTIALLY_PAID, PAID, MISSED = "scheduled", "partially_paid", "paid", "missed"
UNPAID_STATUSES = (SCHEDULED, PARTIALLY_PAID, MISSED)
# Agreements whose one instalment is a promise: one miss breaks them.
PROMISE_KINDS = ("promise_to_pay", "pay_now", "settlement")
COMPLETED, BROKEN = "completed", "broken"

# Why a payment is refused although its fields read well.
UNKNOWN_LOAN = "unknown_loan"
CURRENCY_MISMATCH = "currency_mismatch"


@dataclass(frozen=True)
class IncomingPayment:
    """A payment as the lender's payment page, provider or bank file reports it."""

    payment_id: str
    loan_ref: str
    paid_at: datetime
    amount: Decimal
    currency: str
    method: str

    def same_as(self, other: IncomingPayment) -> bool:
        """The same payment delivered again (as opposed to a different one reusing its id)."""
        return (self.loan_ref, self.paid_at, self.amount, self.currency, self.method) == (
            other.loan_ref,
            other.paid_at,
            other.amount,
            other.currency,
            other.method,
        )


def read_payment(fields: Mapping[str, object], now: datetime) -> tuple[IncomingPayment | None, list[str]]:
    """The payment, or None and every problem with its fields (named, never echoing
    more than the offending value). Amounts and times must be strings: a JSON number
    would already have passed through binary floating point."""
    problems: list[str] = []
    text = {name: fields.get(name) for name in PAYMENT_FIELDS}
    for name, value in text.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name} is required (a string)")
    if problems:
        return None, problems
    v = {name: str(value).strip() for name, value in text.items()}

    if not _PAYMENT_ID.fullmatch(v["payment_id"]):
        problems.append("payment_id must be 1 to 64 letters, digits or _ . : - (starting with a letter or digit)")
    loan_ref = normalise_loan_ref(v["loan_ref"][:40])
    if not loan_ref or loan_ref.replace("-", "") != v["loan_ref"].upper().replace("-", "").replace(" ", ""):
        problems.append(f"loan_ref {v['loan_ref'][:40]!r} is not a reference like LN-48213")
    paid_at = _timestamp(v["paid_at"], problems)
    if paid_at is not None and paid_at > now + FUTURE_SKEW:
        problems.append(f"paid_at {v['paid_at'][:40]!r} is in the future")
    currency = v["currency"].upper()
    if not (len(currency) == 3 and currency.isalpha() and is_currency(currency)):
        problems.append(f"currency {v['currency'][:10]!r} is not an ISO 4217 code")
        currency = ""
    amount = _amount(v["amount"], currency, problems)
    if not _METHOD.fullmatch(v["method"].lower()):
        problems.append(f"method {v['method'][:40]!r} must be a word such as card, bank_transfer or direct_debit")
    if problems or paid_at is None or amount is None or loan_ref is None:
        return None, problems
    return IncomingPayment(v["payment_id"], loan_ref, paid_at, amount, currency, v["method"].lower()), []


def _timestamp(value: str, problems: list[str]) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"paid_at {value[:40]!r} is not an ISO 8601 time such as 2026-12-01T09:30:00+00:00")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        problems.append(f"paid_at {value[:40]!r} needs a UTC offset, such as +00:00 or Z")
        return None
    return parsed


def _amount(value: str, currency: str, problems: list[str]) -> Decimal | None:
    try:
        amount = Decimal(value)
        exponent = amount.as_tuple().exponent
        if not isinstance(exponent, int):  # NaN or infinity
            raise InvalidOperation
    except InvalidOperation:
        problems.append(f"amount {value[:40]!r} must be a decimal amount such as 125.50")
        return None
    if amount <= 0 or amount >= MAX_AMOUNT:
        problems.append(f"amount {value[:40]!r} must be more than 0")
        return None
    if currency and -exponent > get_currency_precision(currency):
        problems.append(f"amount {value[:40]!r} has more decimal places than {currency} allows")
        return None
    return amount


# ---------------------------------------------------------------- allocation


@dataclass(frozen=True)
class InstalmentDue:
    """An instalment as allocation sees it: what it asks for and what it has had."""

    key: int  # the instalment's id (or any key the caller likes)
    due_date: date
    amount: Decimal
    paid: Decimal = Decimal(0)

    @property
    def lacking(self) -> Decimal:
        return max(self.amount - self.paid, Decimal(0))


@dataclass(frozen=True)
class Allocation:
    to_instalments: tuple[tuple[int, Decimal], ...]  # (instalment key, amount), oldest first
    to_balance: Decimal  # reduces the loan's balance beyond the instalments
    unapplied: Decimal  # more than the loan's outstanding balance: to refund

    @property
    def total(self) -> Decimal:
        return sum((a for _, a in self.to_instalments), Decimal(0)) + self.to_balance + self.unapplied


def allocate(amount: Decimal, instalments: Sequence[InstalmentDue], outstanding: Decimal) -> Allocation:
    """Share one payment: instalments oldest first (by due date, then key), each up to
    what it lacks; the rest to the balance, up to what is outstanding; anything more is
    unapplied. No instalment receives more than it lacks, and the parts sum to `amount`."""
    if amount <= 0:
        raise ValueError("a payment must be positive")
    applicable = min(amount, max(outstanding, Decimal(0)))
    left = applicable
    shares: list[tuple[int, Decimal]] = []
    for instalment in sorted(instalments, key=lambda i: (i.due_date, i.key)):
        if left <= 0:
            break
        share = min(instalment.lacking, left)
        if share > 0:
            shares.append((instalment.key, share))
            left -= share
    return Allocation(tuple(shares), left, amount - applicable)


# ---------------------------------------------------------------- the lifecycle


@dataclass(frozen=True)
class AgreementRules:
    """From `collections_policy.yml` (`agreements`): when an instalment is missed and a
    plan broken. A promise (one instalment) is broken by its one miss."""

    grace_days: int = 3
    missed_to_break_plan: int = 2


def instalment_status(
    amount: Decimal, paid: Decimal, due_date: date, today: date, grace_days: int, current: str = SCHEDULED
) -> str:
    """paid in full, missed (unpaid in full after the grace days), partly paid, or still scheduled.

    `today` is the borrower's own date. A missed instalment paid in full later becomes paid.
    """
    if current not in UNPAID_STATUSES:
        return current  # paid stays paid; cancelled or superseded: not the borrower's to pay any more
    if paid >= amount:
        return PAID
    if today > due_date + timedelta(days=grace_days):
        return MISSED
    return PARTIALLY_PAID if paid > 0 else SCHEDULED


def agreement_outcome(kind: str, statuses: Sequence[str], rules: AgreementRules) -> str | None:
    """`completed` when every instalment is paid, `broken` by the policy (a promise by
    one miss, a plan by `missed_to_break_plan` misses), else None (still open)."""
    due = [s for s in statuses if s in (*UNPAID_STATUSES, PAID)]
    if due and all(s == PAID for s in due):
        return COMPLETED
    missed = sum(1 for s in due if s == MISSED)
    needed = 1 if kind in PROMISE_KINDS else max(rules.missed_to_break_plan, 1)
    return BROKEN if missed >= needed else None


@dataclass(frozen=True)
class LoanBalances:
    outstanding_balance: Decimal
    overdue_amount: Decimal
    days_past_due: int
    status: str


def after_payment(loan: LoanBalances, applied: Decimal) -> LoanBalances:
    """The loan once `applied` (a payment less anything unapplied) is taken off: the
    balance and the overdue amount go down; paying everything overdue cures the loan
    (0 days past due). A loan on collection hold stays on hold."""
    overdue = max(loan.overdue_amount - applied, Decimal(0))
    outstanding = max(loan.outstanding_balance - applied, Decimal(0))
    overdue = min(overdue, outstanding)
    cured = overdue == 0
    status = loan.status
    if status != "on_hold":
        status = "paid_off" if outstanding == 0 else ("current" if cured else "delinquent")
    return LoanBalances(outstanding, overdue, 0 if cured else loan.days_past_due, status)


def days_past_due_bucket(days_past_due: int) -> str:
    """The buckets collections teams report by: 0, 1-29, 30-59, 60-89, 90+."""
    if days_past_due <= 0:
        return "current"
    if days_past_due < 30:
        return "1-29"
    if days_past_due < 60:
        return "30-59"
    if days_past_due < 90:
        return "60-89"
    return "90+"


DPD_BUCKETS = ("current", "1-29", "30-59", "60-89", "90+")


# ---------------------------------------------------------------- what recording a payment did

RECORDED, ALREADY_RECORDED, CONFLICT, REFUSED = "recorded", "already_recorded", "conflict", "refused"


@dataclass(frozen=True)
class PaymentResult:
    """What recording one payment did: `recorded` (applied), `already_recorded` (the same
    payment delivered again: nothing changed), `conflict` (its id was used for a different
    payment: nothing changed) or `refused` (`reason`: unknown_loan, currency_mismatch)."""

    payment_id: str
    outcome: str
    reason: str | None = None
    loan_ref: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"payment_id": self.payment_id, "status": self.outcome, "reason": self.reason}


class PaymentsRefused(Exception):
    """A batch of payments (a CSV file) refused whole: (position in the batch, reason) for each."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(f"{len(problems)} payment(s) refused")
        self.problems = problems


@dataclass(frozen=True)
class RecentOutcomes:
    """What happened to a loan's arrangements since the borrower last talked with us
    (at most 30 days back), for the account summary: the latest payment received and
    the latest agreement completed or broken."""

    last_payment: tuple[datetime, Decimal] | None = None  # when it was paid, how much
    ended_kind: str | None = None  # the ended agreement's kind
    ended_status: str | None = None  # completed | broken
    ended_missed: tuple[tuple[date, Decimal], ...] = ()  # a broken one's missed instalments: due date, unpaid
