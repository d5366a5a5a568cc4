"""The loan store's service layer: the only code that touches the ORM.

Actions, the CLI and the importer call `LoanStore` methods and get plain,
immutable views back. Every write is one transaction that also appends to the
audit log, so a record and its audit event are stored together or not at all.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Iterable

from babel.numbers import get_currency_precision
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.domain.clock import utcnow
from bot.adapters.database import Database
from bot.adapters.orm import (
    CASE_KINDS,
    HOLD_CASE_KINDS,
    OPEN_AGREEMENT_STATUSES,
    Agreement,
    AuditEvent,
    Borrower,
    Case,
    ContactOptOut,
    DelinquencyReason,
    Handoff,
    Instalment,
    Loan,
)
from bot.domain.privacy import mask_personal_data
from bot.domain.reasons import REASON_CODES

MAX_WORDS_STORED = 1000


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class InstalmentView:
    sequence: int
    due_date: date
    amount: Decimal
    status: str


@dataclass(frozen=True)
class AgreementView:
    agreement_ref: str
    loan_ref: str
    kind: str
    status: str
    total_amount: Decimal
    currency: str
    terms: dict
    created_at: datetime
    channel: str | None
    instalments: tuple[InstalmentView, ...] = ()

    def to_json(self) -> dict:
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
                {"due_date": i.due_date.isoformat(), "amount": money_str(i.amount, self.currency), "status": i.status}
                for i in self.instalments
            ],
        }


@dataclass(frozen=True)
class AccountView:
    """What a verified borrower may be told about their loan."""

    loan_ref: str
    product: str
    currency: str
    principal: Decimal
    outstanding_balance: Decimal
    overdue_amount: Decimal
    days_past_due: int
    next_due_date: date | None
    status: str
    borrower_first_name: str
    language: str
    timezone: str
    open_agreement: AgreementView | None
    open_cases: tuple[str, ...] = ()  # kinds of open cases: dispute, fraud_claim, payment_claim
    vulnerable: bool = False
    opted_out_channels: tuple[str, ...] = ()

    @property
    def on_collection_hold(self) -> bool:
        return any(kind in HOLD_CASE_KINDS for kind in self.open_cases)


@dataclass(frozen=True)
class VerificationOutcome:
    status: str  # "verified" | "mismatch" | "locked" | "unknown_loan"
    attempts_left: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class AgreementProposal:
    """Terms read back to the borrower; recorded only after an explicit yes."""

    kind: str
    total_amount: Decimal
    currency: str
    instalments: tuple[tuple[date, Decimal], ...]
    terms: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "total_amount": money_str(self.total_amount, self.currency),
            "currency": self.currency,
            "instalments": [[d.isoformat(), str(a)] for d, a in self.instalments],
            "terms": self.terms,
        }

    @classmethod
    def from_json(cls, data: dict) -> "AgreementProposal":
        return cls(
            kind=data["kind"],
            total_amount=Decimal(data["total_amount"]),
            currency=data["currency"],
            instalments=tuple(
                (date.fromisoformat(d), Decimal(a)) for d, a in data.get("instalments", [])
            ),
            terms=dict(data.get("terms", {})),
        )


@dataclass(frozen=True)
class RecordedAgreement:
    agreement: AgreementView
    created: bool  # False when this confirmation had already been recorded


class OpenAgreementExists(Exception):
    """The loan already has an open agreement; the database allows only one."""

    def __init__(self, agreement: AgreementView):
        super().__init__(agreement.agreement_ref)
        self.agreement = agreement


class UnknownLoan(LookupError):
    pass


class UnknownReference(LookupError):
    """No case or handoff with that reference."""


CASE_OUTCOMES = ("upheld", "rejected", "withdrawn")  # upheld: the borrower was right


# ---------------------------------------------------------------- store


class LoanStore:
    def __init__(self, database: Database, *, max_attempts: int = 3, lock_minutes: int = 30):
        self.db = database
        self.max_attempts = max_attempts
        self.lock_minutes = lock_minutes

    # -- verification

    def verify(
        self,
        loan_ref: str,
        date_of_birth: date,
        *,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> VerificationOutcome:
        """Check a borrower's date of birth against a loan; lock after repeated failures."""
        now = now or utcnow()
        with self.db.transaction() as s:
            loan = s.scalar(
                select(Loan)
                .where(Loan.loan_ref == loan_ref)
                .options(selectinload(Loan.borrower))
                .with_for_update()
            )
            ctx = {"conversation_id": conversation_id, "channel": channel, "now": now}
            if loan is None:
                _audit(s, "verification_failed", reason="unknown_loan", **ctx)
                return VerificationOutcome("unknown_loan")
            if loan.verification_locked_until and loan.verification_locked_until > now:
                _audit(s, "verification_refused_locked", loan=loan, **ctx)
                return VerificationOutcome("locked", locked_until=loan.verification_locked_until)
            if loan.borrower.date_of_birth == date_of_birth:
                loan.verification_failures = 0
                loan.verification_locked_until = None
                _audit(s, "verification_passed", loan=loan, **ctx)
                return VerificationOutcome("verified")
            loan.verification_failures += 1
            if loan.verification_failures >= self.max_attempts:
                loan.verification_failures = 0
                loan.verification_locked_until = now + timedelta(minutes=self.lock_minutes)
                _audit(
                    s,
                    "verification_locked",
                    loan=loan,
                    locked_until=loan.verification_locked_until.isoformat(),
                    **ctx,
                )
                return VerificationOutcome("locked", locked_until=loan.verification_locked_until)
            _audit(s, "verification_failed", loan=loan, reason="date_of_birth_mismatch", **ctx)
            return VerificationOutcome(
                "mismatch", attempts_left=self.max_attempts - loan.verification_failures
            )

    # -- reading

    def candidate_loan(self, kind: str, value: str) -> str | None:
        """The loan a channel identity points to, if exactly one is in collections.

        `kind` is loan_ref, phone or telegram_chat_id (see bot.domain.identity). A
        borrower with several loans in arrears is asked for the reference.
        """
        with self.db.reader() as s:
            if kind == "loan_ref":
                return s.scalar(select(Loan.loan_ref).where(Loan.loan_ref == value))
            if kind == "phone":
                number = value.removeprefix("whatsapp:").replace(" ", "")
                if not number:
                    return None
                borrower_ids = select(Borrower.id).where(Borrower.phone == number)
            elif kind == "telegram_chat_id":
                borrower_ids = select(Borrower.id).where(Borrower.telegram_chat_id == value)
            else:
                return None
            refs = s.scalars(
                select(Loan.loan_ref).where(
                    Loan.borrower_id.in_(borrower_ids), Loan.overdue_amount > 0
                )
            ).all()
            return refs[0] if len(refs) == 1 else None

    def loans_at_address(self, kind: str, value: str) -> list[str]:
        """One loan reference per borrower reached at a phone number or Telegram chat
        (to honour a STOP from that address for every borrower there)."""
        with self.db.reader() as s:
            if kind == "phone":
                match = Borrower.phone == value.removeprefix("whatsapp:").replace(" ", "")
            elif kind == "telegram_chat_id":
                match = Borrower.telegram_chat_id == value
            else:
                return []
            rows = s.execute(
                select(Loan.borrower_id, func.min(Loan.loan_ref)).join(Borrower).where(match)
                .group_by(Loan.borrower_id)
            ).all()
            return [ref for _, ref in rows]

    def account(self, loan_ref: str) -> AccountView:
        with self.db.reader() as s:
            loan = _loan(s, loan_ref)
            open_agreement = _open_agreement(s, loan.id)
            open_cases = s.scalars(
                select(Case.kind).where(Case.loan_id == loan.id, Case.status == "open")
            ).all()
            return AccountView(
                loan_ref=loan.loan_ref,
                product=loan.product,
                currency=loan.currency,
                principal=loan.principal,
                outstanding_balance=loan.outstanding_balance,
                overdue_amount=loan.overdue_amount,
                days_past_due=loan.days_past_due,
                next_due_date=loan.next_due_date,
                status=loan.status,
                borrower_first_name=loan.borrower.full_name.split()[0],
                language=loan.borrower.language,
                timezone=loan.borrower.timezone,
                open_agreement=_agreement_view(open_agreement) if open_agreement else None,
                open_cases=tuple(sorted(set(open_cases))),
                vulnerable=loan.borrower.vulnerable,
                opted_out_channels=tuple(sorted(o.channel for o in loan.borrower.opt_outs)),
            )

    def agreements(self) -> list[AgreementView]:
        with self.db.reader() as s:
            rows = s.scalars(
                select(Agreement)
                .options(selectinload(Agreement.instalments), selectinload(Agreement.loan))
                .order_by(Agreement.id)
            ).all()
            return [_agreement_view(a) for a in rows]

    def loan_report(self, loan_ref: str) -> dict[str, Any]:
        """Everything the collections team may see about one loan (no date of birth)."""
        with self.db.reader() as s:
            loan = _loan(s, loan_ref)
            borrower = loan.borrower
            events = s.scalars(
                select(AuditEvent).where(AuditEvent.loan_id == loan.id).order_by(AuditEvent.id)
            ).all()
            return {
                "loan_ref": loan.loan_ref,
                "product": loan.product,
                "currency": loan.currency,
                "principal": money_str(loan.principal, loan.currency),
                "outstanding_balance": money_str(loan.outstanding_balance, loan.currency),
                "overdue_amount": money_str(loan.overdue_amount, loan.currency),
                "days_past_due": loan.days_past_due,
                "next_due_date": loan.next_due_date.isoformat() if loan.next_due_date else None,
                "status": loan.status,
                "borrower": {
                    "full_name": borrower.full_name,
                    "phone": borrower.phone,
                    "email": borrower.email,
                    "timezone": borrower.timezone,
                    "language": borrower.language,
                    "contact_preferences": borrower.contact_preferences,
                },
                "reasons": [
                    {
                        "reason_code": r.reason_code,
                        "borrower_words": r.borrower_words,
                        "channel": r.channel,
                        "recorded_at": r.recorded_at.isoformat(),
                    }
                    for r in loan.reasons
                ],
                "agreements": [_agreement_view(a).to_json() for a in loan.agreements],
                "audit_events": [
                    {
                        "event_type": e.event_type,
                        "channel": e.channel,
                        "details": e.details,
                        "occurred_at": e.occurred_at.isoformat(),
                    }
                    for e in events
                ],
            }

    def audit_events(self, loan_ref: str | None = None) -> list[dict]:
        with self.db.reader() as s:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if loan_ref is not None:
                query = query.join(Loan, Loan.id == AuditEvent.loan_id).where(Loan.loan_ref == loan_ref)
            return [
                {"event_type": e.event_type, "details": e.details, "conversation_id": e.conversation_id}
                for e in s.scalars(query).all()
            ]

    def count(self, what: str) -> int:
        model = {"loans": Loan, "borrowers": Borrower, "agreements": Agreement}[what]
        with self.db.reader() as s:
            return s.scalar(select(func.count()).select_from(model))

    # -- writing

    def record_disclosure(self, loan_ref: str, *, conversation_id=None, channel=None) -> None:
        """The debt-collection statement and account summary were given to the verified borrower."""
        with self.db.transaction() as s:
            _audit(s, "disclosure_given", loan=_loan(s, loan_ref), conversation_id=conversation_id, channel=channel)

    def record_reason(
        self, loan_ref: str, reason_code: str, borrower_words: str | None, *, conversation_id=None, channel=None
    ) -> None:
        if reason_code not in REASON_CODES:
            raise ValueError(f"unknown reason code {reason_code!r}")
        words = _kept_words(borrower_words)
        with self.db.transaction() as s:
            loan = _loan(s, loan_ref)
            s.add(
                DelinquencyReason(
                    loan=loan,
                    reason_code=reason_code,
                    borrower_words=words,
                    conversation_id=conversation_id,
                    channel=channel,
                    recorded_at=utcnow(),
                )
            )
            _audit(s, "reason_recorded", loan=loan, conversation_id=conversation_id, channel=channel, reason_code=reason_code)

    def record_agreement(
        self,
        loan_ref: str,
        proposal: AgreementProposal,
        *,
        idempotency_key: str,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> RecordedAgreement:
        """Write an agreement, its instalments and the audit event in one transaction.

        The same `idempotency_key` (one read-back) never creates a second agreement,
        and the database allows one open agreement per loan, so two confirmations
        racing from two channels produce exactly one row.
        """
        _check_proposal(proposal)
        now = now or utcnow()
        try:
            with self.db.transaction() as s:
                existing = _by_idempotency_key(s, idempotency_key)
                if existing is not None:
                    return RecordedAgreement(_agreement_view(existing), created=False)
                loan = s.scalar(select(Loan).where(Loan.loan_ref == loan_ref).with_for_update())
                if loan is None:
                    raise UnknownLoan(loan_ref)
                if proposal.currency != loan.currency:
                    raise ValueError("proposal currency differs from the loan's")
                if proposal.total_amount > loan.outstanding_balance:
                    raise ValueError("proposal exceeds the outstanding balance")
                open_agreement = _open_agreement(s, loan.id)
                if open_agreement is not None:
                    raise OpenAgreementExists(_agreement_view(open_agreement))
                agreement = _insert_agreement(
                    s, loan, proposal, idempotency_key, now, conversation_id=conversation_id, channel=channel
                )
                _audit(
                    s,
                    "agreement_created",
                    loan=loan,
                    conversation_id=conversation_id,
                    channel=channel,
                    now=now,
                    agreement_ref=agreement.agreement_ref,
                    kind=proposal.kind,
                    total_amount=str(proposal.total_amount),
                    currency=proposal.currency,
                )
                return RecordedAgreement(_agreement_view(agreement), created=True)
        except IntegrityError:
            # Lost a race with a concurrent confirmation: report what won.
            with self.db.reader() as s:
                existing = _by_idempotency_key(s, idempotency_key)
                if existing is not None:
                    return RecordedAgreement(_agreement_view(existing), created=False)
                loan = _loan(s, loan_ref)
                open_agreement = _open_agreement(s, loan.id)
                if open_agreement is not None:
                    raise OpenAgreementExists(_agreement_view(open_agreement)) from None
                raise

    def record_event(self, event_type: str, *, loan_ref: str | None = None, conversation_id=None, channel=None, **details) -> None:
        with self.db.transaction() as s:
            loan = _loan(s, loan_ref) if loan_ref else None
            _audit(s, event_type, loan=loan, conversation_id=conversation_id, channel=channel, **details)

    # -- borrower situations

    def open_case(
        self,
        loan_ref: str,
        kind: str,
        borrower_words: str | None = None,
        *,
        details: dict | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> str:
        """Open a dispute, fraud claim or payment claim; reuse an open one of the same kind."""
        if kind not in CASE_KINDS:
            raise ValueError(f"unknown case kind {kind!r}")
        with self.db.transaction() as s:
            loan = _loan(s, loan_ref)
            existing = s.scalar(
                select(Case).where(Case.loan_id == loan.id, Case.kind == kind, Case.status == "open")
            )
            if existing is not None:
                if details:
                    existing.details = {**(existing.details or {}), **details}
                return existing.case_ref
            case = Case(
                case_ref=_new_ref("CS-"),
                loan_id=loan.id,
                kind=kind,
                status="open",
                borrower_words=_kept_words(borrower_words),
                details=details or {},
                conversation_id=conversation_id,
                channel=channel,
                opened_at=utcnow(),
            )
            s.add(case)
            if kind in HOLD_CASE_KINDS:
                loan.status = "on_hold"
            _audit(s, f"{kind}_opened", loan=loan, conversation_id=conversation_id, channel=channel, case_ref=case.case_ref)
            return case.case_ref

    def cases(self, loan_ref: str | None = None, *, status: str | None = None) -> list[dict]:
        with self.db.reader() as s:
            query = select(Case, Loan.loan_ref).join(Loan, Loan.id == Case.loan_id).order_by(Case.id)
            if loan_ref:
                query = query.where(Loan.loan_ref == loan_ref)
            if status:
                query = query.where(Case.status == status)
            return [
                {
                    "case_ref": c.case_ref,
                    "loan_ref": ref,
                    "kind": c.kind,
                    "status": c.status,
                    "borrower_words": c.borrower_words,
                    "details": c.details,
                    "opened_at": c.opened_at.isoformat(),
                    "closed_at": c.closed_at.isoformat() if c.closed_at else None,
                }
                for c, ref in s.execute(query).all()
            ]

    # -- the collections team's follow-up (python -m bot cases / close-case / handoffs / ...)

    def close_case(self, case_ref: str, outcome: str, *, by: str, note: str | None = None) -> bool:
        """Close a case after the team looked into it. When no dispute or fraud claim
        stays open, the loan's collection hold ends. False if it was already closed."""
        if outcome not in CASE_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(CASE_OUTCOMES)}")
        with self.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.case_ref == case_ref).with_for_update())
            if case is None:
                raise UnknownReference(case_ref)
            if case.status != "open":
                return False
            case.status, case.closed_at = "closed", utcnow()
            case.details = {**(case.details or {}), "outcome": outcome}
            loan = s.get(Loan, case.loan_id)
            still_held = s.scalar(
                select(func.count()).select_from(Case).where(
                    Case.loan_id == loan.id, Case.status == "open", Case.kind.in_(HOLD_CASE_KINDS))
            )
            if loan.status == "on_hold" and not still_held:
                loan.status = "delinquent" if loan.days_past_due > 0 else "current"
            _audit(s, "case_closed", loan=loan, case_ref=case_ref, kind=case.kind, outcome=outcome, by=by, note=note)
            return True

    def complete_handoff(self, handoff_ref: str, *, by: str, note: str | None = None) -> bool:
        """A person has picked the conversation up. False if it was already done."""
        with self.db.transaction() as s:
            handoff = s.scalar(select(Handoff).where(Handoff.handoff_ref == handoff_ref).with_for_update())
            if handoff is None:
                raise UnknownReference(handoff_ref)
            if handoff.status != "queued":
                return False
            handoff.status = "done"
            loan = s.get(Loan, handoff.loan_id) if handoff.loan_id else None
            _audit(s, "handoff_completed", loan=loan, conversation_id=handoff.conversation_id,
                   handoff_ref=handoff_ref, by=by, note=note)
            return True

    def clear_vulnerability(self, loan_ref: str, *, by: str, note: str) -> bool:
        """A person reviewed the borrower's situation and agreed how to go on (FCA FG21/1):
        the assistant may collect again. False if the borrower was not flagged."""
        with self.db.transaction() as s:
            loan = _loan(s, loan_ref)
            if not loan.borrower.vulnerable:
                return False
            loan.borrower.vulnerable = False
            _audit(s, "vulnerability_reviewed", loan=loan, by=by, note=note)
            return True

    def flag_vulnerable(self, loan_ref: str, category: str, *, conversation_id=None, channel=None) -> None:
        """Record that the borrower disclosed a vulnerability (the category, not their words)."""
        with self.db.transaction() as s:
            loan = _loan(s, loan_ref)
            if not loan.borrower.vulnerable:
                loan.borrower.vulnerable = True
                loan.borrower.vulnerability_noted_at = utcnow()
            _audit(s, "vulnerability_flagged", loan=loan, conversation_id=conversation_id, channel=channel, category=category)

    def record_opt_out(self, loan_ref: str, channel: str, *, conversation_id=None, requested_on=None) -> bool:
        """Stop contact on a channel ("all" for every channel). Returns False if already opted out."""
        with self.db.transaction() as s:
            loan = _loan(s, loan_ref)
            exists = s.scalar(
                select(ContactOptOut).where(
                    ContactOptOut.borrower_id == loan.borrower_id, ContactOptOut.channel == channel
                )
            )
            if exists is not None:
                return False
            s.add(
                ContactOptOut(
                    borrower_id=loan.borrower_id,
                    channel=channel,
                    conversation_id=conversation_id,
                    requested_on=requested_on,
                    created_at=utcnow(),
                )
            )
            _audit(s, "contact_opt_out", loan=loan, conversation_id=conversation_id, channel=requested_on, opted_out_channel=channel)
            return True

    def enqueue_handoff(
        self,
        *,
        conversation_id: str,
        reason: str,
        transcript: list[dict],
        loan_ref: str | None = None,
        channel: str | None = None,
        priority: str = "normal",
        reply_by: datetime | None = None,
    ) -> str:
        """Queue a conversation for a person; one open handoff per conversation."""
        with self.db.transaction() as s:
            loan = _loan(s, loan_ref) if loan_ref else None
            existing = s.scalar(
                select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == "queued")
            )
            if existing is not None:
                existing.transcript = transcript
                if priority == "urgent":
                    existing.priority = "urgent"
                return existing.handoff_ref
            handoff = Handoff(
                handoff_ref=_new_ref("HO-"),
                loan_id=loan.id if loan else None,
                conversation_id=conversation_id,
                channel=channel,
                reason=reason,
                priority=priority,
                transcript=transcript,
                status="queued",
                created_at=utcnow(),
                reply_by=reply_by,
            )
            s.add(handoff)
            _audit(s, "handoff_requested", loan=loan, conversation_id=conversation_id, channel=channel, reason=reason, handoff_ref=handoff.handoff_ref)
            return handoff.handoff_ref

    def handoffs(self, *, status: str | None = None) -> list[dict]:
        with self.db.reader() as s:
            query = select(Handoff, Loan.loan_ref).outerjoin(Loan, Loan.id == Handoff.loan_id).order_by(Handoff.id)
            if status:
                query = query.where(Handoff.status == status)
            return [
                {
                    "handoff_ref": h.handoff_ref,
                    "loan_ref": loan_ref,
                    "conversation_id": h.conversation_id,
                    "channel": h.channel,
                    "reason": h.reason,
                    "priority": h.priority,
                    "status": h.status,
                    "transcript": h.transcript,
                    "created_at": h.created_at.isoformat(),
                    "reply_by": h.reply_by.isoformat() if h.reply_by else None,
                }
                for h, loan_ref in s.execute(query).all()
            ]

    def amend_agreement(
        self,
        agreement_ref: str,
        proposal: AgreementProposal,
        *,
        idempotency_key: str,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> RecordedAgreement:
        """Replace an open agreement with amended terms; the old one becomes "amended"."""
        _check_proposal(proposal)
        now = now or utcnow()
        with self.db.transaction() as s:
            existing = _by_idempotency_key(s, idempotency_key)
            if existing is not None:
                return RecordedAgreement(_agreement_view(existing), created=False)
            old = s.scalar(
                select(Agreement).where(Agreement.agreement_ref == agreement_ref).with_for_update()
            )
            if old is None or old.status not in OPEN_AGREEMENT_STATUSES:
                raise ValueError("only an open agreement can be amended")
            old.status = "amended"
            old.updated_at = now
            s.flush()  # frees the one-open-agreement-per-loan slot
            new = _insert_agreement(
                s, old.loan, proposal, idempotency_key, now,
                conversation_id=conversation_id, channel=channel, amends_id=old.id,
            )
            _audit(s, "agreement_amended", loan=old.loan, conversation_id=conversation_id, channel=channel,
                   now=now, agreement_ref=new.agreement_ref, replaces=old.agreement_ref)
            return RecordedAgreement(_agreement_view(new), created=True)

    def cancel_agreement(self, agreement_ref: str, *, conversation_id=None, channel=None) -> bool:
        with self.db.transaction() as s:
            agreement = s.scalar(select(Agreement).where(Agreement.agreement_ref == agreement_ref))
            if agreement is None or agreement.status not in OPEN_AGREEMENT_STATUSES:
                return False
            agreement.status = "cancelled"
            agreement.updated_at = utcnow()
            for instalment in agreement.instalments:
                if instalment.status == "scheduled":
                    instalment.status = "cancelled"
            _audit(s, "agreement_cancelled", loan=agreement.loan, conversation_id=conversation_id, channel=channel,
                   agreement_ref=agreement_ref)
            return True

    # -- used by the importer and demo seed

    def upsert_loans(self, rows: Iterable[dict]) -> tuple[int, int]:
        """Create or update loans (by loan_ref) and their borrowers; one transaction.

        Rows are already validated (see bot.ops.importer). Returns (created, updated).
        """
        created = updated = 0
        with self.db.transaction() as s:
            for row in rows:
                loan = s.scalar(select(Loan).where(Loan.loan_ref == row["loan_ref"]).options(selectinload(Loan.borrower)))
                if loan is None:
                    borrower = s.scalar(
                        select(Borrower).where(
                            Borrower.full_name == row["borrower_name"],
                            Borrower.date_of_birth == row["date_of_birth"],
                        )
                    ) or Borrower(contact_preferences={}, created_at=utcnow())
                    loan = Loan(loan_ref=row["loan_ref"], borrower=borrower, verification_failures=0, created_at=utcnow())
                    s.add(loan)
                    created += 1
                else:
                    borrower = loan.borrower
                    updated += 1
                borrower.full_name = row["borrower_name"]
                borrower.date_of_birth = row["date_of_birth"]
                borrower.phone = row.get("phone")
                borrower.email = row.get("email")
                borrower.timezone = row["timezone"]
                borrower.language = row["language"]
                if row.get("contact_preferences") is not None:
                    borrower.contact_preferences = row["contact_preferences"]
                if row.get("preferred_channel"):
                    borrower.preferred_channel = row["preferred_channel"]
                if row.get("telegram_chat_id"):
                    borrower.telegram_chat_id = row["telegram_chat_id"]
                for name in (
                    "product",
                    "currency",
                    "principal",
                    "outstanding_balance",
                    "overdue_amount",
                    "days_past_due",
                    "next_due_date",
                ):
                    setattr(loan, name, row[name])
                loan.status = row.get("status") or ("delinquent" if row["days_past_due"] > 0 else "current")
                loan.updated_at = utcnow()
            _audit(s, "loans_imported", created=created, updated=updated)
        return created, updated


# ---------------------------------------------------------------- helpers


def money_str(amount: Decimal, currency: str) -> str:
    """An amount as a plain decimal string with the currency's minor units (e.g. "450.00")."""
    return str(amount.quantize(Decimal(1).scaleb(-get_currency_precision(currency))))


def _loan(s: Session, loan_ref: str) -> Loan:
    """The loan and its borrower (with opt-outs); reasons and agreements load
    when used. Every action reads the account, so this is kept to two queries."""
    loan = s.scalar(
        select(Loan)
        .where(Loan.loan_ref == loan_ref)
        .options(joinedload(Loan.borrower).selectinload(Borrower.opt_outs))
    )
    if loan is None:
        raise UnknownLoan(loan_ref)
    return loan


def _open_agreement(s: Session, loan_id: int) -> Agreement | None:
    return s.scalar(
        select(Agreement)
        .where(Agreement.loan_id == loan_id, Agreement.status.in_(OPEN_AGREEMENT_STATUSES))
        .options(selectinload(Agreement.instalments), selectinload(Agreement.loan))
    )


def _by_idempotency_key(s: Session, key: str) -> Agreement | None:
    return s.scalar(
        select(Agreement)
        .where(Agreement.idempotency_key == key)
        .options(selectinload(Agreement.instalments), selectinload(Agreement.loan))
    )


def _agreement_view(a: Agreement) -> AgreementView:
    return AgreementView(
        agreement_ref=a.agreement_ref,
        loan_ref=a.loan.loan_ref,
        kind=a.kind,
        status=a.status,
        total_amount=a.total_amount,
        currency=a.currency,
        terms=dict(a.terms or {}),
        created_at=a.created_at,
        channel=a.channel,
        instalments=tuple(InstalmentView(i.sequence, i.due_date, i.amount, i.status) for i in a.instalments),
    )


def _insert_agreement(
    s: Session,
    loan: Loan,
    proposal: AgreementProposal,
    idempotency_key: str,
    now: datetime,
    *,
    conversation_id: str | None,
    channel: str | None,
    amends_id: int | None = None,
) -> Agreement:
    """An active agreement and its scheduled instalments (the caller audits it)."""
    agreement = Agreement(
        agreement_ref=_new_ref("AG-"),
        loan=loan,
        kind=proposal.kind,
        status="active",
        total_amount=proposal.total_amount,
        currency=proposal.currency,
        terms=proposal.terms,
        conversation_id=conversation_id,
        channel=channel,
        idempotency_key=idempotency_key,
        amends_id=amends_id,
        created_at=now,
        updated_at=now,
    )
    s.add(agreement)
    for sequence, (due, amount) in enumerate(proposal.instalments, start=1):
        s.add(Instalment(agreement=agreement, sequence=sequence, due_date=due, amount=amount, status="scheduled"))
    s.flush()
    return agreement


def _check_proposal(p: AgreementProposal) -> None:
    if p.total_amount <= 0:
        raise ValueError("agreement total must be positive")
    if p.instalments and sum(a for _, a in p.instalments) != p.total_amount:
        raise ValueError("instalments must sum exactly to the agreement total")
    if any(a <= 0 for _, a in p.instalments):
        raise ValueError("every instalment must be positive")


def _new_ref(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(8))


def _audit(
    s: Session,
    event_type: str,
    *,
    loan: Loan | None = None,
    conversation_id: str | None = None,
    channel: str | None = None,
    now: datetime | None = None,
    **details: Any,
) -> None:
    s.add(
        AuditEvent(
            event_type=event_type,
            loan_id=loan.id if loan is not None else None,
            borrower_id=loan.borrower_id if loan is not None else None,
            conversation_id=conversation_id,
            channel=channel,
            details=details,
            occurred_at=now or utcnow(),
        )
    )


def _kept_words(borrower_words: str | None) -> str | None:
    """What the borrower said, as the lender keeps it: trimmed, with card and ID
    numbers and dates of birth masked (bot.domain.privacy)."""
    return mask_personal_data((borrower_words or "").strip())[:MAX_WORDS_STORED] or None
