"""Agreements: what a borrower is read back, what is recorded, and the three
operations a confirmation can carry out (create, amend, cancel)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.domain.formatting import money_str

AGREEMENT_KINDS = ("pay_now", "promise_to_pay", "instalment_plan", "hardship_deferral", "settlement")
# Statuses that count as "open": at most one open agreement per loan (the
# database enforces it with a partial unique index).
OPEN_AGREEMENT_STATUSES = ("active",)
# Kinds paid in one go through a payment link.
PAID_BY_LINK = ("pay_now", "settlement")


@dataclass(frozen=True)
class InstalmentView:
    sequence: int
    due_date: date
    amount: Decimal
    status: str
    paid: Decimal = Decimal(0)  # what payments have covered (bot.domain.payments)


@dataclass(frozen=True)
class AgreementView:
    agreement_ref: str
    loan_ref: str
    kind: str
    status: str
    total_amount: Decimal
    currency: str
    terms: dict[str, Any]
    created_at: datetime
    channel: str | None
    instalments: tuple[InstalmentView, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "agreement_ref": self.agreement_ref,
            "loan_ref": self.loan_ref,
            "kind": self.kind,
            "status": self.status,
            "total_amount": money_str(self.total_amount, self.currency),
            "currency": self.currency,
            "created_at": self.created_at.isoformat(),
            "channel": self.channel,
            "terms": self.terms,
            "instalments": [
                {
                    "due_date": i.due_date.isoformat(),
                    "amount": money_str(i.amount, self.currency),
                    "status": i.status,
                    "paid_amount": money_str(i.paid, self.currency),
                }
                for i in self.instalments
            ],
        }


@dataclass(frozen=True)
class AgreementProposal:
    """Terms read back to the borrower; recorded only after an explicit yes.

    `terms` travel with the proposal in the conversation (the `pending_agreement`
    slot, as JSON); `operation` says what a yes carries out.
    """

    kind: str
    total_amount: Decimal
    currency: str
    instalments: tuple[tuple[date, Decimal], ...]
    terms: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return str(self.terms["idempotency_key"])

    @property
    def operation(self) -> AgreementOperation:
        """Create (the default), amend or cancel, as a type."""
        name = self.terms.get("operation", "create")
        if name == "amend":
            return AmendAgreement(self, str(self.terms["amends"]))
        if name == "cancel":
            return CancelAgreement(self, str(self.terms["cancels"]))
        if name == "create":
            return CreateAgreement(self)
        raise ValueError(f"unknown agreement operation {name!r}")

    def check(self) -> None:
        """The amounts add up: raise ValueError otherwise."""
        if self.total_amount <= 0:
            raise ValueError("agreement total must be positive")
        if self.instalments and sum(a for _, a in self.instalments) != self.total_amount:
            raise ValueError("instalments must sum exactly to the agreement total")
        if any(a <= 0 for _, a in self.instalments):
            raise ValueError("every instalment must be positive")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "total_amount": money_str(self.total_amount, self.currency),
            "currency": self.currency,
            "instalments": [[d.isoformat(), str(a)] for d, a in self.instalments],
            "terms": self.terms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgreementProposal:
        return cls(
            kind=data["kind"],
            total_amount=Decimal(data["total_amount"]),
            currency=data["currency"],
            instalments=tuple((date.fromisoformat(d), Decimal(a)) for d, a in data.get("instalments", [])),
            terms=dict(data.get("terms", {})),
        )


@dataclass(frozen=True)
class CreateAgreement:
    """A new arrangement for the loan."""

    proposal: AgreementProposal


@dataclass(frozen=True)
class AmendAgreement:
    """New terms replace an open agreement (e.g. its dates moved)."""

    proposal: AgreementProposal
    agreement_ref: str


@dataclass(frozen=True)
class CancelAgreement:
    """The borrower ends an open agreement."""

    proposal: AgreementProposal
    agreement_ref: str


AgreementOperation = CreateAgreement | AmendAgreement | CancelAgreement


@dataclass(frozen=True)
class RecordedAgreement:
    agreement: AgreementView
    created: bool  # False when this confirmation had already been recorded


class OpenAgreementExists(Exception):
    """The loan already has an open agreement; the database allows only one."""

    def __init__(self, agreement: AgreementView):
        super().__init__(agreement.agreement_ref)
        self.agreement = agreement
