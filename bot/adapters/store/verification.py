"""Verifying a borrower (date of birth, lockout) and finding the loan a channel identity points to."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from bot.adapters.database import Database
from bot.adapters.orm import Borrower, Loan, VerificationAttempt
from bot.adapters.store import rows
from bot.domain.accounts import VerificationOutcome
from bot.domain.verification import ANONYMOUS, PATHS, VOUCHED, AttemptState, LockRules, attempt_key, check_date_of_birth


class _AuditContext(TypedDict):
    """Where and when, for every audit event of one verification attempt (`rows.audit`'s keywords)."""

    conversation_id: str | None
    channel: str | None
    now: datetime


class VerificationRecords:
    db: Database
    lock_rules: LockRules
    attempt_secret: str

    def verify(
        self,
        loan_ref: str,
        date_of_birth: date,
        *,
        vouched: bool = False,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> VerificationOutcome:
        """Check a date of birth against the loan with the typed reference, counted
        on that reference's counter (bot.domain.verification): a reference no loan
        has gets exactly the outcome of a wrong date of birth, from the same queries.

        `vouched`: the channel itself vouches for this loan (the caller checked it),
        so the attempt counts on the vouched path, which anonymous guesses never lock.
        """
        now = now or rows.utcnow()
        path = VOUCHED if vouched else ANONYMOUS
        key = attempt_key(self.attempt_secret, path, loan_ref)
        with self.db.transaction() as s:
            counter = _counter(s, key, path, now)
            loan = s.scalar(
                select(Loan).where(Loan.loan_ref == loan_ref).options(joinedload(Loan.borrower, innerjoin=True))
            )
            matches = loan is not None and loan.borrower.date_of_birth == date_of_birth
            state = AttemptState(counter.failures, counter.locks, counter.locked_until, counter.last_failure_at)
            outcome, after = check_date_of_birth(state, matches, now, self.lock_rules)
            counter.failures, counter.locks = after.failures, after.locks
            counter.locked_until, counter.last_failure_at, counter.updated_at = (
                after.locked_until,
                after.last_failure_at,
                now,
            )
            # The audit log says which counter (a prefix of its key, never the
            # reference as typed) and, for the team, the loan when there is one.
            ctx: _AuditContext = {"conversation_id": conversation_id, "channel": channel, "now": now}

            def audit(event_type: str, **details: object) -> None:
                rows.audit(s, event_type, loan=loan, path=path, counter=key[:16], **details, **ctx)

            if outcome.status == "verified":
                audit("verification_passed")
            elif outcome.status == "mismatch":
                reason = "date_of_birth_mismatch" if loan is not None else "unknown_loan"
                audit("verification_failed", reason=reason, attempts_left=outcome.attempts_left)
            elif after == state:
                assert state.locked_until is not None, "a locked counter has an end time"
                audit("verification_refused_locked", locked_until=state.locked_until.isoformat())
            else:
                assert after.locked_until is not None, "check_date_of_birth locks with an end time"
                audit(
                    "verification_locked",
                    reason="reference_attempts",
                    known_loan=loan is not None,
                    lock_number=after.locks,
                    locked_until=after.locked_until.isoformat(),
                )
            return outcome

    def record_conversation_lock(
        self,
        locked_until: datetime,
        *,
        conversation_id: str | None = None,
        channel: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Audit a conversation locked by its own count of failed attempts (across
        references; a reference's own lock is audited by `verify`)."""
        with self.db.transaction() as s:
            rows.audit(
                s,
                "verification_locked",
                reason="conversation_attempts",
                locked_until=locked_until.isoformat(),
                conversation_id=conversation_id,
                channel=channel,
                now=now or rows.utcnow(),
            )

    def lift_verification_lock(self, loan_ref: str, *, by: str, note: str | None = None) -> tuple[str, ...]:
        """After a person has checked the borrower (e.g. on the phone line the lock
        message names): forget the failures and locks of this loan's reference on
        both paths, so the borrower can verify in chat again. Audited with who and
        why. The paths that were locked or counting; () when nothing changed.
        Raises UnknownLoan for a reference no loan has."""
        now = rows.utcnow()
        with self.db.transaction() as s:
            loan = rows.loan(s, loan_ref)
            lifted = []
            for path in PATHS:
                key = attempt_key(self.attempt_secret, path, loan.loan_ref)
                counter = s.scalar(
                    select(VerificationAttempt).where(VerificationAttempt.counter_key == key).with_for_update()
                )
                if counter is None or (counter.failures, counter.locks, counter.locked_until) == (0, 0, None):
                    continue
                was_locked = counter.locked_until is not None and counter.locked_until > now
                counter.failures, counter.locks, counter.locked_until, counter.updated_at = 0, 0, None, now
                lifted.append(path)
                rows.audit(s, "verification_lock_lifted", loan=loan, path=path, was_locked=was_locked, by=by, note=note)
            return tuple(lifted)

    def candidate_loan(self, kind: str, value: str) -> str | None:
        """The loan a channel identity points to, if exactly one is in collections.

        `kind` is loan_ref, phone, telegram_chat_id or wechat_openid (see bot.domain.identity). A
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
            elif kind == "wechat_openid":
                borrower_ids = select(Borrower.id).where(Borrower.wechat_openid == value)
            else:
                return None
            refs = s.scalars(
                select(Loan.loan_ref).where(Loan.borrower_id.in_(borrower_ids), Loan.overdue_amount > 0)
            ).all()
            return refs[0] if len(refs) == 1 else None

    def loans_at_address(self, kind: str, value: str) -> list[str]:
        """One loan reference per borrower reached at a phone number, Telegram chat or
        WeChat OpenID (to honour a STOP from that address for every borrower there)."""
        with self.db.reader() as s:
            if kind == "phone":
                match = Borrower.phone == value.removeprefix("whatsapp:").replace(" ", "")
            elif kind == "telegram_chat_id":
                match = Borrower.telegram_chat_id == value
            elif kind == "wechat_openid":
                match = Borrower.wechat_openid == value
            else:
                return []
            found = s.execute(
                select(Loan.borrower_id, func.min(Loan.loan_ref)).join(Borrower).where(match).group_by(Loan.borrower_id)
            ).all()
            return [ref for _, ref in found]


def _counter(s: Session, key: str, path: str, now: datetime) -> VerificationAttempt:
    """The counter's row, created when first needed and locked for this transaction
    (concurrent attempts on one reference from several senders queue here)."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    s.execute(
        insert(VerificationAttempt)
        .values(counter_key=key, path=path, failures=0, locks=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["counter_key"])
    )
    counter = s.scalar(select(VerificationAttempt).where(VerificationAttempt.counter_key == key).with_for_update())
    assert counter is not None, "inserted above"
    return counter
