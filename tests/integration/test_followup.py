"""The collections team's follow-up: closing cases (which ends a collection hold),
completing handoffs and clearing a reviewed vulnerability flag, in the store
(SQLite and PostgreSQL) and through `python -m bot`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain import conduct
from bot.domain.accounts import UnknownReference
from bot.ops.demo import seed_demo
from tests.services import TODAY

ROOT = Path(__file__).resolve().parents[2]


def block(store, ref="LN-10001"):
    account = store.account(ref)
    found = conduct.collection_block(open_cases=account.open_cases, vulnerable=account.vulnerable)
    return found.reason if found else None


def team_events(store, ref="LN-10001"):
    return [
        (e["event_type"], e["details"])
        for e in store.audit_events(ref)
        if e["event_type"] in ("case_closed", "handoff_completed", "vulnerability_reviewed")
    ]


@pytest.fixture
def seeded(store):
    seed_demo(store, TODAY)
    return store


def test_the_hold_ends_with_the_last_open_dispute_or_fraud_claim(seeded):
    store = seeded
    dispute = store.open_case("LN-10001", "dispute", "the amount is wrong")
    fraud = store.open_case("LN-10001", "fraud_claim", "not my loan")
    payment = store.open_case("LN-10001", "payment_claim", "I paid on Monday")
    assert block(store) == "dispute_open" and store.account("LN-10001").status == "on_hold"

    assert store.close_case(dispute, "rejected", by="sam", note="statement checked") is True
    assert block(store) == "fraud_claim_open" and store.account("LN-10001").on_collection_hold
    assert store.close_case(fraud, "withdrawn", by="sam") is True
    assert block(store) is None and not store.account("LN-10001").on_collection_hold
    assert store.account("LN-10001").status == "delinquent"  # 12 days past due
    assert store.account("LN-10001").open_cases == ("payment_claim",)  # not a hold; still open for checking

    closed = {c["case_ref"]: c for c in store.cases("LN-10001", status="closed")}
    assert closed[dispute]["details"]["outcome"] == "rejected" and closed[dispute]["closed_at"]
    assert [c["case_ref"] for c in store.cases(status="open")] == [payment]
    assert team_events(store) == [
        (
            "case_closed",
            {"case_ref": dispute, "kind": "dispute", "outcome": "rejected", "by": "sam", "note": "statement checked"},
        ),
        ("case_closed", {"case_ref": fraud, "kind": "fraud_claim", "outcome": "withdrawn", "by": "sam", "note": None}),
    ]


def test_closing_twice_or_wrongly_changes_nothing(seeded):
    store = seeded
    dispute = store.open_case("LN-10001", "dispute", "not mine")
    with pytest.raises(ValueError):
        store.close_case(dispute, "maybe", by="sam")
    with pytest.raises(UnknownReference):
        store.close_case("CS-NOPE", "rejected", by="sam")
    assert block(store) == "dispute_open" and team_events(store) == []
    assert store.close_case(dispute, "upheld", by="sam") is True
    assert store.close_case(dispute, "rejected", by="kim") is False
    assert [d["outcome"] for _, d in team_events(store)] == ["upheld"]


def test_a_handoff_is_completed_once(seeded):
    store = seeded
    ref = store.enqueue_handoff(conversation_id="c-1", reason="asked_for_person", transcript=[], loan_ref="LN-10001")
    assert [h["status"] for h in store.handoffs(status="queued")] == ["queued"]
    assert store.complete_handoff(ref, by="kim", note="called back") is True
    assert store.handoffs(status="queued") == [] and store.handoffs()[0]["status"] == "done"
    assert store.complete_handoff(ref, by="kim") is False
    with pytest.raises(UnknownReference):
        store.complete_handoff("HO-NOPE", by="kim")
    assert team_events(store) == [("handoff_completed", {"handoff_ref": ref, "by": "kim", "note": "called back"})]


def test_a_reviewed_vulnerability_lets_the_assistant_collect_again(seeded):
    store = seeded
    store.flag_vulnerable("LN-10001", "serious_illness")
    assert block(store) == "vulnerable"
    assert store.clear_vulnerability("LN-10001", by="kim", note="agreed a 3-month holiday by phone") is True
    assert block(store) is None
    assert store.clear_vulnerability("LN-10001", by="kim", note="again") is False
    assert team_events(store) == [
        ("vulnerability_reviewed", {"by": "kim", "note": "agreed a 3-month holiday by phone"})
    ]


def test_a_person_lifts_a_verification_lock_after_checking_the_borrower(seeded):
    """The lock message names the phone line; once a person has checked the borrower
    there, the borrower can verify in chat again. Who and how is in the audit log."""
    from datetime import date

    from bot.domain.accounts import UnknownLoan

    store, wrong, right = seeded, date(1980, 1, 1), date(1985, 3, 12)
    for _ in range(3):
        store.verify("LN-10001", wrong)
    store.verify("LN-10001", wrong, vouched=True)
    assert store.verify("LN-10001", right).status == "locked"
    assert store.lift_verification_lock("LN-10001", by="kim", note="called back, checked ID") == (
        "anonymous",
        "vouched",
    )
    lifted = [e["details"] for e in store.audit_events("LN-10001") if e["event_type"] == "verification_lock_lifted"]
    assert lifted == [
        {"path": "anonymous", "was_locked": True, "by": "kim", "note": "called back, checked ID"},
        {"path": "vouched", "was_locked": False, "by": "kim", "note": "called back, checked ID"},
    ]
    # a fresh start: three tries again
    assert store.verify("LN-10001", wrong).attempts_left == 2
    assert store.verify("LN-10001", right).status == "verified"
    assert store.lift_verification_lock("LN-10001", by="kim") == ()  # nothing left to forget
    with pytest.raises(UnknownLoan):
        store.lift_verification_lock("LN-99999", by="kim")


# ---------------------------------------------------------------- the command line


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_team_works_the_queue_from_the_command_line(sqlite_store):
    store = sqlite_store
    url = str(store.db.engine.url)
    seed_demo(store, TODAY)
    dispute = store.open_case("LN-10002", "dispute", "I was charged twice")
    normal = store.enqueue_handoff(
        conversation_id="c-n",
        reason="asked_for_person",
        transcript=[{"from": "borrower", "text": "a person please"}],
        loan_ref="LN-10001",
    )
    urgent = store.enqueue_handoff(conversation_id="c-u", reason="crisis", transcript=[], priority="urgent")
    store.flag_vulnerable("LN-10003", "bereavement")

    cases = run_cli(url, "cases")
    assert cases.returncode == 0 and dispute in cases.stdout and "I was charged twice" in cases.stdout
    queue = run_cli(url, "handoffs")
    assert queue.returncode == 0
    assert queue.stdout.index(urgent) < queue.stdout.index(normal)  # urgent first
    assert json.loads(run_cli(url, "handoffs", "--json").stdout)[1]["transcript"][0]["text"] == "a person please"

    closed = run_cli(url, "close-case", dispute.lower(), "--outcome", "rejected", "--by", "sam", "--note", "one charge")
    assert closed.returncode == 0 and "closed (rejected)" in closed.stdout
    assert not store.account("LN-10002").on_collection_hold
    assert "No open cases." in run_cli(url, "cases").stdout
    assert run_cli(url, "complete-handoff", urgent, "--by", "kim").returncode == 0
    assert [h["handoff_ref"] for h in store.handoffs(status="queued")] == [normal]
    cleared = run_cli(url, "clear-vulnerability", "ln 10003", "--by", "kim", "--note", "reviewed with the borrower")
    assert cleared.returncode == 0 and not store.account("LN-10003").vulnerable
    from datetime import date

    for _ in range(3):
        store.verify("LN-10004", date(1980, 1, 1))
    lifted = run_cli(url, "lift-verification-lock", "ln10004", "--by", "kim", "--note", "called back")
    assert lifted.returncode == 0 and "LN-10004: failed verifications forgotten (anonymous)" in lifted.stdout
    assert store.verify("LN-10004", date(1982, 1, 15)).status == "verified"

    for args in (
        ["close-case", "CS-NOPE", "--outcome", "rejected", "--by", "sam"],
        ["complete-handoff", "HO-NOPE", "--by", "kim"],
        ["clear-vulnerability", "LN-99999", "--by", "kim", "--note", "x"],
        ["lift-verification-lock", "LN-99999", "--by", "kim", "--note", "x"],
    ):
        missing = run_cli(url, *args)
        assert missing.returncode == 1 and "No " in missing.stderr and "Traceback" not in missing.stderr
    bad = run_cli(url, "close-case", dispute, "--outcome", "maybe", "--by", "sam")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
