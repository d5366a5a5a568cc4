"""Payments in the loan store on SQLite and PostgreSQL (issue 14): recorded once per
payment id, allocated oldest instalment first, refused in another currency, and what
they do to the agreement and the loan, audited; `import-payments`, `payments` and
`loan --json` from the command line."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.adapters.orm import Instalment, Payment, PaymentAllocation
from bot.domain.agreements import AgreementProposal
from bot.domain.payments import AgreementRules, IncomingPayment, PaymentsRefused
from bot.ops.demo import seed_demo
from tests.integration.test_cli import run_cli
from tests.services import TODAY

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
RULES = AgreementRules(grace_days=3, missed_to_break_plan=2)


def rules_for(_product: str) -> AgreementRules:
    return RULES


@pytest.fixture
def seeded(store):
    seed_demo(store, TODAY)
    return store


def payment(payment_id="pay-1", amount="100.00", loan_ref="LN-10001", currency="GBP", paid_at=NOW, method="card"):
    return IncomingPayment(payment_id, loan_ref, paid_at, Decimal(amount), currency, method)


def plan(store, loan_ref="LN-10001", amounts=("100.00", "100.00", "50.00"), kind="instalment_plan", key="k1"):
    due = [TODAY + timedelta(days=10 + 30 * n) for n in range(len(amounts))]
    proposal = AgreementProposal(
        kind=kind,
        total_amount=sum((Decimal(a) for a in amounts), Decimal(0)),
        currency="GBP",
        instalments=tuple(zip(due, (Decimal(a) for a in amounts), strict=True)),
        terms={"months": len(amounts), "source": "menu"},
    )
    return store.record_agreement(loan_ref, proposal, idempotency_key=key, now=NOW).agreement


def record(store, p, now=NOW):
    return store.record_payment(p, source="webhook", rules_for=rules_for, now=now)


def instalments(store, loan_ref="LN-10001"):
    [agreement] = [a for a in store.loan_report(loan_ref)["agreements"]]
    return [(i["status"], i["paid_amount"]) for i in agreement["instalments"]]


def events(store, loan_ref="LN-10001"):
    return [e["event_type"] for e in store.audit_events(loan_ref)]


def test_a_payment_is_allocated_oldest_instalment_first_and_the_loan_follows(seeded):
    agreement = plan(seeded)
    result = record(seeded, payment(amount="150.00"))
    assert (result.outcome, result.reason) == ("recorded", None)
    assert instalments(seeded) == [("paid", "100.00"), ("partially_paid", "50.00"), ("scheduled", "0.00")]
    account = seeded.account("LN-10001")
    assert (account.overdue_amount, account.outstanding_balance) == (Decimal("100.00"), Decimal("3050.00"))
    assert account.days_past_due == 12  # something is still overdue
    [p] = seeded.loan_report("LN-10001")["payments"]
    assert p["payment_id"] == "pay-1" and p["status"] == "applied" and p["source"] == "webhook"
    assert [(a["agreement_ref"], a["sequence"], a["amount"]) for a in p["allocations"]] == [
        (agreement.agreement_ref, 1, "100.00"),
        (agreement.agreement_ref, 2, "50.00"),
    ]
    assert (p["to_balance"], p["unapplied"]) == ("0.00", "0.00")
    assert events(seeded)[-1] == "payment_received"


def test_paying_the_plan_completes_it_and_cures_the_loan(seeded):
    agreement = plan(seeded, amounts=("100.00", "150.00"))
    record(seeded, payment("p1", "100.00"))
    record(seeded, payment("p2", "150.00"))
    view = seeded.account("LN-10001")
    assert view.open_agreement is None
    assert (view.overdue_amount, view.days_past_due, view.status) == (Decimal("0.00"), 0, "current")
    [a] = seeded.loan_report("LN-10001")["agreements"]
    assert a["agreement_ref"] == agreement.agreement_ref and a["status"] == "completed"
    assert "agreement_completed" in events(seeded) and "dpd_bucket_changed" in events(seeded)
    bucket = [e for e in seeded.audit_events("LN-10001") if e["event_type"] == "dpd_bucket_changed"][-1]
    assert (bucket["details"]["from"], bucket["details"]["to"]) == ("1-29", "current")


def test_the_same_payment_delivered_again_is_recorded_once(seeded):
    plan(seeded)
    assert record(seeded, payment()).outcome == "recorded"
    assert record(seeded, payment()).outcome == "already_recorded"
    assert instalments(seeded)[0] == ("paid", "100.00")
    assert len(seeded.payments()) == 1 and events(seeded).count("payment_received") == 1


def test_a_payment_id_reused_for_another_payment_changes_nothing(seeded):
    record(seeded, payment(amount="100.00"))
    result = record(seeded, payment(amount="999.00"))
    assert (result.outcome, result.reason) == ("conflict", "payment_id_reused")
    assert seeded.account("LN-10001").overdue_amount == Decimal("150.00")


def test_another_currency_is_refused_and_reported_and_changes_nothing(seeded):
    plan(seeded)
    result = record(seeded, payment(currency="EUR"))
    assert (result.outcome, result.reason) == ("refused", "currency_mismatch")
    assert record(seeded, payment(currency="EUR")).outcome == "refused"  # redelivered: same answer, one row
    assert instalments(seeded)[0] == ("scheduled", "0.00")
    assert seeded.account("LN-10001").overdue_amount == Decimal("250.00")
    [p] = seeded.payments()
    assert (p["status"], p["refusal_reason"], p["allocations"]) == ("refused", "currency_mismatch", [])
    assert events(seeded).count("payment_refused") == 1


def test_an_unknown_loan_is_refused(seeded):
    result = record(seeded, payment(loan_ref="LN-99999"))
    assert (result.outcome, result.reason) == ("refused", "unknown_loan")
    assert seeded.payments()[0]["loan_ref"] == "LN-99999"


def test_without_an_agreement_a_payment_reduces_the_balance(seeded):
    record(seeded, payment(amount="300.00"))
    [p] = seeded.payments()
    assert (p["allocations"], p["to_balance"]) == ([], "300.00")
    account = seeded.account("LN-10001")
    assert (account.overdue_amount, account.outstanding_balance, account.days_past_due) == (
        Decimal("0.00"),
        Decimal("2900.00"),
        0,
    )


def test_more_than_the_balance_is_kept_as_unapplied(seeded):
    record(seeded, payment(amount="4000.00"))
    [p] = seeded.payments()
    assert (p["to_balance"], p["unapplied"]) == ("3200.00", "800.00")
    assert seeded.account("LN-10001").status == "paid_off"


def test_a_completed_settlement_writes_off_the_rest(seeded):
    plan(seeded, loan_ref="LN-10006", amounts=("1200.00",), kind="settlement", key="s1")
    record(seeded, payment(loan_ref="LN-10006", amount="1200.00"))
    account = seeded.account("LN-10006")
    assert (account.outstanding_balance, account.overdue_amount, account.status) == (
        Decimal("0.00"),
        Decimal("0.00"),
        "paid_off",
    )
    written = [e for e in seeded.audit_events("LN-10006") if e["event_type"] == "settlement_written_off"]
    assert written[0]["details"]["amount"] == "1400.00"  # the demo balance 2,600.00 less the 1,200.00 paid


def test_a_file_is_recorded_whole_or_not_at_all_and_again_changes_nothing(seeded):
    plan(seeded)
    batch = [payment("b1", "100.00"), payment("b2", "20.00", loan_ref="LN-10002")]
    assert seeded.import_payments(batch, rules_for=rules_for, now=NOW) == {"recorded": 2, "already_recorded": 0}
    assert seeded.import_payments(batch, rules_for=rules_for, now=NOW) == {"recorded": 0, "already_recorded": 2}
    with pytest.raises(PaymentsRefused) as refused:
        seeded.import_payments(
            [
                payment("b3", "50.00"),
                payment("b4", "10.00", loan_ref="LN-99999"),
                payment("b5", "10.00", currency="USD"),
                payment("b1", "999.00"),
            ],
            rules_for=rules_for,
            now=NOW,
        )
    assert [position for position, _ in refused.value.problems] == [1, 2, 3]
    assert "no loan with reference LN-99999" in refused.value.problems[0][1]
    assert "currency USD differs from the loan's (GBP)" in refused.value.problems[1][1]
    assert len(seeded.payments()) == 2  # b3 was not written either
    assert instalments(seeded)[0] == ("paid", "100.00")


def test_the_same_payment_delivered_twice_at_once_is_recorded_once(seeded):
    plan(seeded)
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        barrier.wait()
        results.append(record(seeded, payment(amount="60.00")).outcome)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_recorded"] * 3 + ["recorded"]
    with seeded.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
        assert s.scalar(select(func.sum(Instalment.paid_amount))) is not None
        assert s.scalar(select(func.count()).select_from(PaymentAllocation)) == 1
    assert instalments(seeded)[0] == ("partially_paid", "60.00")


def test_two_payments_for_one_loan_at_once_are_allocated_in_turn(seeded):
    plan(seeded)
    barrier = threading.Barrier(2)

    def deliver(n):
        barrier.wait()
        record(seeded, payment(f"c{n}", "100.00"))

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert instalments(seeded)[:2] == [("paid", "100.00"), ("paid", "100.00")]
    assert seeded.account("LN-10001").overdue_amount == Decimal("50.00")


# ---------------------------------------------------------------- the command line

HEADER = "payment_id,loan_ref,paid_at,amount,currency,method"


def write(tmp_path, lines, header=HEADER):
    path = tmp_path / "payments.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_import_payments_then_list_them_and_see_them_on_the_loan(database_url, tmp_path):
    assert run_cli(database_url, "seed-demo").returncode == 0
    path = write(
        tmp_path,
        [
            "bank-0001,LN-10008,2026-11-20T10:00:00Z,100.00,GBP,bank_transfer",
            "bank-0002,ln10001,2026-11-21T11:00:00+00:00,50,GBP,card",
        ],
    )
    out = run_cli(database_url, "import-payments", str(path))
    assert out.returncode == 0, out.stderr
    assert "2 recorded, 0 already recorded" in out.stdout
    again = run_cli(database_url, "import-payments", str(path))
    assert again.returncode == 0 and "0 recorded, 2 already recorded" in again.stdout

    listed = json.loads(run_cli(database_url, "payments", "--json").stdout)
    assert {p["payment_id"] for p in listed} == {"bank-0001", "bank-0002"}
    text = run_cli(database_url, "payments").stdout
    assert "bank-0001" in text and "LN-10008" in text

    loan = json.loads(run_cli(database_url, "loan", "LN-10008", "--json").stdout)
    [p] = loan["payments"]
    assert p["payment_id"] == "bank-0001" and p["allocations"][0]["sequence"] == 1
    assert loan["agreements"][0]["instalments"][0]["paid_amount"] == p["allocations"][0]["amount"]


def test_a_file_with_bad_rows_is_rejected_with_every_line_and_reason(database_url, tmp_path):
    run_cli(database_url, "seed-demo")
    path = write(
        tmp_path,
        [
            "ok-1,LN-10001,2026-11-20T10:00:00Z,10.00,GBP,card",
            "bad-1,LN-10001,yesterday,10.00,GBP,card",
            "bad-2,LN-10001,2026-11-20T10:00:00Z,-3,GBP,card",
            "ok-1,LN-10002,2026-11-20T10:00:00Z,10.00,GBP,card",
            "bad-3,LN-10001,2026-11-20T10:00:00Z,10.00,GBP",
        ],
    )
    out = run_cli(database_url, "import-payments", str(path))
    assert out.returncode == 1
    assert "nothing was imported" in out.stderr
    for fragment in (
        "line 3: paid_at",
        "line 4: amount",
        "line 5: payment_id ok-1 repeats line 2",
        "line 6: expected 6",
    ):
        assert fragment in out.stderr
    assert json.loads(run_cli(database_url, "payments", "--json").stdout) == []


def test_a_file_with_a_payment_in_another_currency_is_rejected(database_url, tmp_path):
    run_cli(database_url, "seed-demo")
    path = write(
        tmp_path,
        ["ok-1,LN-10001,2026-11-20T10:00:00Z,10.00,GBP,card", "fx-1,LN-10007,2026-11-20T10:00:00Z,10.00,GBP,card"],
    )
    out = run_cli(database_url, "import-payments", str(path))
    assert out.returncode == 1
    assert "line 3: currency GBP differs from the loan's (CNY)" in out.stderr
    assert json.loads(run_cli(database_url, "payments", "--json").stdout) == []


def test_a_file_with_bad_rows_also_names_its_unknown_loans_and_other_currencies(database_url, tmp_path):
    """Every bad line at once: rows the store would refuse are named with the badly written ones."""
    run_cli(database_url, "seed-demo")
    path = write(
        tmp_path,
        [
            "ok-1,LN-10001,2026-11-20T10:00:00Z,10.00,GBP,card",
            "bad-1,LN-10001,yesterday,10.00,GBP,card",
            "fx-1,LN-10007,2026-11-20T10:00:00Z,10.00,GBP,card",
            "nope-1,LN-99999,2026-11-20T10:00:00Z,10.00,GBP,card",
        ],
    )
    out = run_cli(database_url, "import-payments", str(path))
    assert out.returncode == 1 and "nothing was imported" in out.stderr
    listed = [line.strip() for line in out.stderr.splitlines()[1:]]
    assert [line.split(":")[0] for line in listed] == ["line 3", "line 4", "line 5"]
    assert "line 4: currency GBP differs from the loan's (CNY)" in listed
    assert "line 5: no loan with reference LN-99999" in listed
    assert json.loads(run_cli(database_url, "payments", "--json").stdout) == []


def test_a_wrong_header_is_rejected(database_url, tmp_path):
    out = run_cli(database_url, "import-payments", str(write(tmp_path, [], header="id,loan,amount")))
    assert (
        out.returncode == 1
        and "header must be exactly: payment_id,loan_ref,paid_at,amount,currency,method" in out.stderr
    )


def test_dates_are_kept_exactly(seeded):
    record(seeded, payment(paid_at=datetime(2026, 11, 22, 23, 30, tzinfo=timezone(timedelta(hours=-5)))))
    assert seeded.payments()[0]["paid_at"] == "2026-11-23T04:30:00+00:00"
    assert date.fromisoformat(seeded.payments()[0]["received_at"][:10]) == NOW.date()
