"""The loan store on SQLite and PostgreSQL: verification, agreements, reasons, audit log."""

from __future__ import annotations

import threading
from dataclasses import astuple
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from bot.adapters.orm import Base
from bot.domain.accounts import AccountView, UnknownLoan
from bot.domain.agreements import AgreementProposal, OpenAgreementExists
from bot.ops.demo import PLAN_HOLDER, seed_demo
from tests.services import TODAY

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def seeded(store):
    seed_demo(store, TODAY)
    return store


def plan(total="250.00", n=2) -> AgreementProposal:
    amount = Decimal(total) / n
    return AgreementProposal(
        kind="instalment_plan",
        total_amount=Decimal(total),
        currency="GBP",
        instalments=tuple((TODAY + timedelta(days=30 * i), amount) for i in range(n)),
        terms={"months": n},
    )


def test_migrations_match_the_models(store):
    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_the_verification_counters_migration_runs_both_ways_on_a_full_store(seeded):
    """0004 drops the loans' own failure columns without touching the loans (and
    their agreements, which point at them), and gives them back on downgrade."""
    from alembic import command

    from bot.ops.migrate import alembic_config

    seeded.verify("LN-10001", date(1980, 1, 1), now=NOW)
    url = seeded.db.engine.url.render_as_string(hide_password=False)
    seeded.db.engine.dispose()
    command.downgrade(alembic_config(url), "0003")
    with seeded.db.reader() as s:
        assert s.execute(text("SELECT count(*) FROM loans WHERE verification_failures = 0")).scalar() == 10
    command.upgrade(alembic_config(url), "head")
    assert seeded.count("loans") == 10 and seeded.count("agreements") == 1
    assert seeded.verify("LN-10001", date(1985, 3, 12), now=NOW).status == "verified"


def test_demo_seed_is_idempotent_and_covers_every_bucket(store):
    seed_demo(store, TODAY)
    seed_demo(store, TODAY)
    assert store.count("loans") == 10
    assert store.count("agreements") == 1
    dpd = [store.account(f"LN-1000{i}").days_past_due for i in range(1, 10)]
    assert any(d < 30 for d in dpd) and any(30 <= d < 60 for d in dpd)
    assert any(60 <= d < 90 for d in dpd) and any(d >= 90 for d in dpd)
    assert {store.account(f"LN-1000{i}").product for i in range(1, 10)} == {"personal_loan", "bnpl"}
    assert store.account(PLAN_HOLDER).open_agreement.kind == "instalment_plan"


def test_money_round_trips_exactly(seeded):
    account = seeded.account("LN-10001")
    assert account.overdue_amount == Decimal("250.00")
    assert isinstance(account.outstanding_balance, Decimal)


def test_verification_passes_with_the_right_date_of_birth(seeded):
    outcome = seeded.verify("LN-10001", date(1985, 3, 12), conversation_id="c1", channel="rest", now=NOW)
    assert outcome.status == "verified"
    events = [e["event_type"] for e in seeded.audit_events("LN-10001")]
    assert events[-1] == "verification_passed"


def test_three_failures_lock_the_reference_and_are_recorded(seeded):
    wrong = date(1980, 1, 1)
    assert seeded.verify("LN-10001", wrong, now=NOW).status == "mismatch"
    assert seeded.verify("LN-10001", wrong, now=NOW).attempts_left == 1
    locked = seeded.verify("LN-10001", wrong, now=NOW)
    assert locked.status == "locked"
    assert locked.locked_until == NOW + timedelta(minutes=30)
    # Even the right date of birth is refused while locked ...
    assert seeded.verify("LN-10001", date(1985, 3, 12), now=NOW + timedelta(minutes=5)).status == "locked"
    # ... and accepted after the lock expires.
    assert seeded.verify("LN-10001", date(1985, 3, 12), now=NOW + timedelta(minutes=31)).status == "verified"
    events = seeded.audit_events("LN-10001")
    types = [e["event_type"] for e in events]
    assert types.count("verification_failed") == 2
    assert "verification_locked" in types and "verification_refused_locked" in types
    lock = next(e for e in events if e["event_type"] == "verification_locked")
    assert lock["details"] == {
        "reason": "reference_attempts",
        "known_loan": True,
        "lock_number": 1,
        "locked_until": (NOW + timedelta(minutes=30)).isoformat(),
        "path": "anonymous",
        "counter": lock["details"]["counter"],
    }


def outcomes(store, loan_ref: str, attempts: int, start: datetime = NOW) -> list[tuple]:
    """What each attempt answers, each from a fresh conversation, as the caller sees it."""
    return [
        astuple(store.verify(loan_ref, date(1980, 1, 1), conversation_id=f"fresh-{i}", now=start))
        for i in range(attempts)
    ]


def test_an_unknown_reference_is_answered_exactly_like_a_real_one_with_a_wrong_date(seeded):
    """Attempt for attempt, lock included: nobody can tell whether a loan exists."""
    real, unknown = outcomes(seeded, "LN-10001", 5), outcomes(seeded, "LN-99999", 5)
    assert real == unknown
    until = NOW + timedelta(minutes=30)
    assert real == [("mismatch", 2, None), ("mismatch", 1, None), ("locked", 0, until), ("locked", 0, until)] + [
        ("locked", 0, until)
    ]
    with seeded.db.reader() as s:
        unknown_events = s.execute(
            text("SELECT loan_id FROM audit_events WHERE event_type = 'verification_failed' AND loan_id IS NULL")
        ).all()
    assert len(unknown_events) == 2  # the team sees them, tied to no loan


def test_unknown_references_are_audited_without_a_loan_and_locks_say_so(seeded):
    for _ in range(3):
        seeded.verify("LN-99999", date(1985, 3, 12), now=NOW)
    failed, locked = seeded.audit_events()[-2], seeded.audit_events()[-1]
    assert failed["details"]["reason"] == "unknown_loan" and failed["details"]["attempts_left"] == 1
    assert locked["event_type"] == "verification_locked" and locked["details"]["known_loan"] is False
    assert "verification_locked" not in [e["event_type"] for e in seeded.audit_events("LN-10001")]


def test_typed_references_are_not_kept_in_clear(seeded):
    seeded.verify("LN-99999", date(1985, 3, 12), now=NOW)
    seeded.verify("LN-10001", date(1980, 1, 1), now=NOW)
    with seeded.db.reader() as s:
        stored = s.execute(text("SELECT * FROM verification_attempts")).all()
        events = s.execute(text("SELECT details FROM audit_events")).all()
    assert len(stored) == 2
    assert not any("99999" in str(row) or "10001" in str(row) for row in [*stored, *events])


def test_anonymous_guesses_lock_only_the_anonymous_path(seeded):
    """Strangers lock out the reference in anonymous conversations, not the borrower
    writing from a channel that vouches for the loan."""
    for _ in range(6):
        seeded.verify("LN-10001", date(1980, 1, 1), now=NOW)
    assert seeded.verify("LN-10001", date(1985, 3, 12), now=NOW).status == "locked"
    assert seeded.verify("LN-10001", date(1985, 3, 12), vouched=True, now=NOW).status == "verified"
    passed = seeded.audit_events("LN-10001")[-1]
    assert (passed["event_type"], passed["details"]["path"]) == ("verification_passed", "vouched")


def test_the_vouched_path_has_its_own_limit(seeded):
    assert [o[0] for o in outcomes_vouched(seeded, 3)] == ["mismatch", "mismatch", "locked"]
    assert seeded.verify("LN-10001", date(1985, 3, 12), vouched=True, now=NOW).status == "locked"
    assert seeded.verify("LN-10001", date(1985, 3, 12), now=NOW).status == "verified"  # a separate counter


def outcomes_vouched(store, attempts: int) -> list[tuple]:
    return [astuple(store.verify("LN-10001", date(1980, 1, 1), vouched=True, now=NOW)) for _ in range(attempts)]


def test_successive_locks_of_a_reference_double(seeded):
    now, lengths = NOW, []
    for _ in range(3):
        locked = outcomes(seeded, "LN-10002", 3, now)[-1]
        lengths.append(locked[2] - now)
        now = locked[2]
    assert lengths == [timedelta(minutes=30), timedelta(minutes=60), timedelta(minutes=120)]
    events = seeded.audit_events("LN-10002")
    assert [e["details"]["lock_number"] for e in events if e["event_type"] == "verification_locked"] == [1, 2, 3]


def test_concurrent_guesses_from_many_senders_count_every_attempt(seeded):
    """Ten senders at once on one reference: the counter is locked per attempt, so
    exactly two are told "mismatch" and the rest are locked out."""
    results: list[str] = []
    barrier = threading.Barrier(10)

    def guess(i: int) -> None:
        barrier.wait()
        results.append(seeded.verify("LN-10003", date(1980, 1, 1), conversation_id=f"s{i}", now=NOW).status)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["locked"] * 8 + ["mismatch"] * 2
    assert [e["event_type"] for e in seeded.audit_events("LN-10003")].count("verification_locked") == 1


def test_a_conversation_lock_is_audited(seeded):
    until = NOW + timedelta(minutes=30)
    seeded.record_conversation_lock(until, conversation_id="c9", channel="rest", now=NOW)
    event = seeded.audit_events()[-1]
    assert event["event_type"] == "verification_locked"
    assert event["details"] == {"reason": "conversation_attempts", "locked_until": until.isoformat()}


def test_agreement_is_recorded_with_instalments_and_audit_event(seeded):
    recorded = seeded.record_agreement(
        "LN-10001", plan(), idempotency_key="k1", conversation_id="c1", channel="rest", now=NOW
    )
    assert recorded.created
    a = recorded.agreement
    assert a.agreement_ref.startswith("AG-") and a.kind == "instalment_plan" and a.status == "active"
    assert [i.amount for i in a.instalments] == [Decimal("125.00"), Decimal("125.00")]
    report = seeded.loan_report("LN-10001")
    assert report["agreements"][0]["agreement_ref"] == a.agreement_ref
    assert report["audit_events"][-1]["event_type"] == "agreement_created"
    assert "date_of_birth" not in report["borrower"]


def test_confirming_twice_records_one_agreement(seeded):
    first = seeded.record_agreement("LN-10001", plan(), idempotency_key="same", now=NOW)
    again = seeded.record_agreement("LN-10001", plan(), idempotency_key="same", now=NOW)
    assert again.created is False
    assert again.agreement.agreement_ref == first.agreement.agreement_ref
    assert seeded.count("agreements") == 2  # the demo plan and this one


def test_only_one_open_agreement_per_loan(seeded):
    seeded.record_agreement("LN-10001", plan(), idempotency_key="a", now=NOW)
    with pytest.raises(OpenAgreementExists):
        seeded.record_agreement("LN-10001", plan(), idempotency_key="b", now=NOW)


def test_the_database_itself_refuses_a_second_open_agreement(seeded):
    seeded.record_agreement("LN-10001", plan(), idempotency_key="a", now=NOW)
    with seeded.db.engine.begin() as conn:
        loan_id = conn.execute(text("SELECT id FROM loans WHERE loan_ref = 'LN-10001'")).scalar()
    with pytest.raises(DatabaseError), seeded.db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agreements (agreement_ref, loan_id, kind, status, total_amount, currency, terms,"
                " idempotency_key, created_at, updated_at) VALUES ('AG-RACE', :l, 'pay_now', 'active', '1', 'GBP',"
                " '{}', 'race', :t, :t)"
            ),
            {"l": loan_id, "t": NOW},
        )


def test_concurrent_confirmations_from_two_channels_make_one_agreement(seeded):
    results, errors = [], []

    def confirm(key):
        try:
            results.append(seeded.record_agreement("LN-10002", plan("480.00", 3), idempotency_key=key, now=NOW))
        except OpenAgreementExists as exc:
            errors.append(exc)

    threads = [threading.Thread(target=confirm, args=(k,)) for k in ("web", "sms")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1 and len(errors) == 1
    open_agreements = [a for a in seeded.agreements() if a.loan_ref == "LN-10002"]
    assert len(open_agreements) == 1


def test_bad_proposals_write_nothing(seeded):
    with pytest.raises(ValueError):
        seeded.record_agreement(
            "LN-10001",
            plan("250.00", 3).__class__(
                kind="instalment_plan",
                total_amount=Decimal("250.00"),
                currency="GBP",
                instalments=((TODAY, Decimal("100.00")),),
                terms={},
            ),
            idempotency_key="x",
            now=NOW,
        )
    with pytest.raises(ValueError):
        seeded.record_agreement("LN-10001", plan("99999.00", 1), idempotency_key="y", now=NOW)
    with pytest.raises(UnknownLoan):
        seeded.record_agreement("LN-00000", plan(), idempotency_key="z", now=NOW)
    assert seeded.count("agreements") == 1


def test_reasons_are_stored_with_the_borrowers_words(seeded):
    seeded.record_reason("LN-10001", "unemployment", "I lost my job in March", conversation_id="c1", channel="rest")
    report = seeded.loan_report("LN-10001")
    assert report["reasons"][0]["reason_code"] == "unemployment"
    assert report["reasons"][0]["borrower_words"] == "I lost my job in March"
    with pytest.raises(ValueError):
        seeded.record_reason("LN-10001", "made_up", "x")


def test_card_and_id_numbers_in_the_borrowers_words_are_masked(seeded):
    seeded.record_reason(
        "LN-10001", "other", "they took 4111 1111 1111 1111, I was born 01/06/1980", conversation_id="c1"
    )
    case_ref = seeded.open_case("LN-10001", "dispute", "my NI number AB123456C is on it, not my loan")
    report = seeded.loan_report("LN-10001")
    assert report["reasons"][0]["borrower_words"] == "they took ••••••, I was born ••••••"
    [case] = [c for c in seeded.cases("LN-10001") if c["case_ref"] == case_ref]
    assert case["borrower_words"] == "my NI number •••••• is on it, not my loan"


def test_audit_log_is_append_only(seeded):
    with pytest.raises(DatabaseError), seeded.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET event_type = 'tampered'"))
    with pytest.raises(DatabaseError), seeded.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))


def test_timestamps_are_timezone_aware(seeded):
    recorded = seeded.record_agreement("LN-10001", plan(), idempotency_key="tz", now=NOW)
    assert recorded.agreement.created_at.tzinfo is not None
    assert seeded.agreements()[-1].created_at == NOW


def test_a_transaction_past_its_commit_deadline_rolls_back(seeded):
    import time as clock

    from bot.adapters.database import CommitDeadlinePassed, commit_deadline

    before = seeded.count("agreements"), len(seeded.loan_report("LN-10001")["audit_events"])
    with commit_deadline(clock.time() - 1), pytest.raises(CommitDeadlinePassed):
        seeded.record_agreement("LN-10001", plan(), idempotency_key="late", now=NOW)
    assert (seeded.count("agreements"), len(seeded.loan_report("LN-10001")["audit_events"])) == before
    with commit_deadline(clock.time() + 60):
        seeded.record_agreement("LN-10001", plan(), idempotency_key="in-time", now=NOW)
    assert seeded.count("agreements") == before[0] + 1


def _account_through_the_orm(store, loan_ref: str) -> AccountView:
    """How the account was read before it was read as plain rows (issue 18): the ORM's
    entities with joined eager loading, kept here as the reference."""
    from sqlalchemy import and_
    from sqlalchemy.orm import joinedload

    from bot.adapters.orm import Agreement, Borrower, Case, Loan
    from bot.adapters.store import rows
    from bot.domain.agreements import OPEN_AGREEMENT_STATUSES
    from bot.domain.names import PersonName, address_as

    with store.db.reader() as s:
        found = (
            s.execute(
                select(Loan, Agreement, Case.kind)
                .outerjoin(Agreement, and_(Agreement.loan_id == Loan.id, Agreement.status.in_(OPEN_AGREEMENT_STATUSES)))
                .outerjoin(Case, and_(Case.loan_id == Loan.id, Case.status == "open"))
                .where(Loan.loan_ref == loan_ref)
                .options(joinedload(Loan.borrower).joinedload(Borrower.opt_outs), joinedload(Agreement.instalments))
            )
            .unique()
            .all()
        )
        if not found:
            raise UnknownLoan(loan_ref)
        agreements = sorted({a for _, a, _ in found if a is not None}, key=lambda a: a.id)
        loan, open_agreement = found[0][0], (agreements[0] if agreements else None)
        borrower = loan.borrower
        name = PersonName(borrower.full_name, borrower.family_name, borrower.title)
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
            borrower_first_name=address_as(name, "en"),
            language=borrower.language,
            timezone=borrower.timezone,
            open_agreement=rows.agreement_view(open_agreement) if open_agreement else None,
            open_cases=tuple(sorted({kind for _, _, kind in found if kind is not None})),
            vulnerable=borrower.vulnerable,
            opted_out_channels=tuple(sorted(o.channel for o in borrower.opt_outs)),
            borrower_name=name,
        )


def _typed(value):
    """The value with every part's type spelt out (Decimal('1.0') and 1, a naive and an aware time differ)."""
    if isinstance(value, tuple | list):
        return (type(value).__name__, [_typed(v) for v in value])
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__name__, {k: _typed(getattr(value, k)) for k in value.__dataclass_fields__})
    return (type(value).__name__, repr(value))


def test_the_account_read_as_rows_is_the_one_the_orm_gave(seeded):
    """Every loan of a store with agreements open, amended, cancelled and partly paid,
    cases open and closed, opt-outs, a vulnerable borrower with a title and a family
    name: the account read as plain rows equals the ORM's reading, field for field
    and type for type."""
    from bot.adapters.orm import Borrower, Instalment, Loan

    first = seeded.record_agreement("LN-10001", plan(n=3), idempotency_key="k-one", now=NOW)
    seeded.amend_agreement(first.agreement.agreement_ref, plan(total="300.00", n=4), idempotency_key="k-two", now=NOW)
    other = seeded.record_agreement("LN-10002", plan(n=2), idempotency_key="k-three", now=NOW)
    seeded.cancel_agreement(other.agreement.agreement_ref)
    seeded.open_case("LN-10001", "payment_claim", "paid on Monday")
    seeded.open_case("LN-10001", "dispute", "not my loan")
    closed = seeded.open_case("LN-10002", "dispute", "not mine")
    seeded.close_case(closed, "upheld", by="ops")
    for channel in ("sms", "email", "telegram"):
        seeded.record_opt_out("LN-10001", channel)
    with seeded.db.transaction() as s:
        s.execute(update(Instalment).where(Instalment.sequence == 1).values(paid_amount=Decimal("12.34")))
        borrower_id = s.scalar(select(Loan.borrower_id).where(Loan.loan_ref == "LN-10001"))
        s.execute(
            update(Borrower)
            .where(Borrower.id == borrower_id)
            .values(vulnerable=True, title="Dr", family_name="Smith-Jones", language="zh")
        )
        refs = list(s.scalars(select(Loan.loan_ref).order_by(Loan.id)))
    assert len(refs) >= 3
    for ref in refs:
        assert _typed(seeded.account(ref)) == _typed(_account_through_the_orm(seeded, ref)), ref
    account = seeded.account("LN-10001")
    assert account.open_cases == ("dispute", "payment_claim") and account.vulnerable
    assert account.opted_out_channels == ("email", "sms", "telegram")
    assert account.open_agreement is not None and len(account.open_agreement.instalments) == 4
    assert seeded.account("LN-10002").open_agreement is None
    with pytest.raises(UnknownLoan):
        seeded.account("LN-00000")


def test_the_account_is_read_in_one_query(seeded):
    """Every action reads the account: the loan, its borrower and opt-outs, the
    open agreement with its instalments and the open cases come in one statement."""
    from sqlalchemy import event

    seeded.record_agreement("LN-10001", plan(n=3), idempotency_key="k-one", now=NOW)
    seeded.open_case("LN-10001", "payment_claim", "paid on Monday")
    seeded.open_case("LN-10001", "dispute", "not my loan")
    seeded.record_opt_out("LN-10001", "sms")
    seeded.record_opt_out("LN-10001", "email")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(seeded.db.engine, "before_cursor_execute", record)
    try:
        account = seeded.account("LN-10001")
        plain = seeded.account("LN-10002")
    finally:
        event.remove(seeded.db.engine, "before_cursor_execute", record)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2, statements
    assert account.open_cases == ("dispute", "payment_claim") and account.opted_out_channels == ("email", "sms")
    agreement = account.open_agreement
    assert agreement is not None and agreement.loan_ref == "LN-10001" and len(agreement.instalments) == 3
    assert [i.sequence for i in agreement.instalments] == [1, 2, 3]
    assert plain.open_agreement is None and plain.open_cases == () and plain.opted_out_channels == ()
    with pytest.raises(UnknownLoan):
        seeded.account("LN-00000")
