"""The collections manager's report: `bot.services.reporting.build_report` and `python -m bot report`.

Every row is written through the LoanStore API with the store's clock frozen at a
chosen moment, so the range boundaries (inclusive dates, UTC) are tested exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.orm import Case
from bot.domain.agreements import AgreementProposal
from bot.ops.demo import seed_demo
from bot.services.outcomes import OutcomeRows, outcome_metrics
from bot.services.reporting import build_report, default_period, parse_day, render_text, write_plot

ROOT = Path(__file__).resolve().parents[2]
UTC = timezone.utc

START, END = date(2026, 11, 1), date(2026, 11, 30)
IN = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
FIRST_MOMENT = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
LAST_MOMENT = datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)
AFTER = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
OLD = datetime(2026, 9, 15, 9, 30, tzinfo=UTC)

# The outcome metrics (issue 14) have their own tests (tests/integration/test_outcome_report.py);
# here the report is compared without them.
METRICS = set(outcome_metrics(OutcomeRows(), FIRST_MOMENT, AFTER))


def without_metrics(report: dict) -> dict:
    """The report without the outcome metrics and the feedback section (their own tests:
    test_outcome_report.py, test_feedback.py)."""
    rest = {k: v for k, v in report.items() if k != "feedback"}
    return {**rest, "outcomes": {k: v for k, v in report["outcomes"].items() if k not in METRICS}}


DOB = {"LN-10001": date(1985, 3, 12), "LN-10002": date(1990, 7, 4), "LN-10003": date(1978, 11, 30)}

EXPECTED = {
    "period": {"from": "2026-11-01", "to": "2026-11-30"},
    "conversations": {"started": 4, "verified": 2, "locked_out": 1},
    "agreements": {
        "by_kind": {
            "pay_now": {"count": 3, "amounts": {"GBP": "0.35"}, "active": 3},
            "promise_to_pay": {"count": 2, "amounts": {"GBP": "730.00"}, "active": 1},
            "instalment_plan": {"count": 1, "amounts": {"GBP": "300.00"}, "active": 1},
            "hardship_deferral": {"count": 0, "amounts": {}, "active": 0},
            "settlement": {"count": 2, "amounts": {"CNY": "12000.00", "USD": "3000.50"}, "active": 2},
        }
    },
    "outcomes": {
        "agreed": 8,
        "deferred": 3,
        "deferred_then_agreed": 1,
        "reminders_requested": 1,
        "deferred_by_step": {"offers": 2, "read_back": 1, "reason": 1},
    },
    "reasons": {"unemployment": 3, "forgot": 1, "illness": 1},
    "cases": {
        "dispute": {"opened": 1, "open": 1},
        "fraud_claim": {"opened": 1, "open": 1},
        "payment_claim": {"opened": 2, "open": 1},
    },
    "opt_outs": {"sms": 2, "whatsapp": 1},
    "handoffs": {"total": 3, "urgent": 1, "by_reason": {"borrower_request": 2, "crisis": 1}},
    "vulnerability_flags": {"mental_health": 2, "bereavement": 1},
    "verification_locks": {
        "total": 1,
        "reference_guessing": 1,
        "conversation_limit": 0,
        "unknown_references": 0,
        "vouched_channels": 0,
        "repeated": 0,
        "loans": {"LN-10003": 1},
    },
}


@pytest.fixture
def clock(monkeypatch):
    """Freeze the store's clock; `clock.at(moment)` moves it."""

    class Clock:
        now = IN

        def at(self, moment: datetime) -> None:
            self.now = moment

    c = Clock()
    monkeypatch.setattr("bot.adapters.store.rows.utcnow", lambda: c.now)
    return c


def agree(
    store,
    loan_ref: str,
    kind: str,
    amount: str,
    currency: str = "GBP",
    key: str | None = None,
    conversation_id: str | None = None,
) -> str:
    proposal = AgreementProposal(kind=kind, total_amount=Decimal(amount), currency=currency, instalments=())
    recorded = store.record_agreement(
        loan_ref, proposal, idempotency_key=key or f"{loan_ref}-{kind}-{amount}", conversation_id=conversation_id
    )
    assert recorded.created
    return recorded.agreement.agreement_ref


def populate(store, clock) -> None:
    """A month of activity (November 2026) plus rows just outside it."""
    clock.at(IN)
    seed_demo(store, IN.date())  # LN-10008: instalment_plan GBP 300.00, active

    # conversations: c1 starts twice, c-old before the range
    for cid in ("c1", "c1", "c2", "c3", "c4"):
        store.record_event("conversation_started", conversation_id=cid, channel="web")
    store.verify("LN-10001", DOB["LN-10001"], conversation_id="c1")
    store.verify("LN-10001", DOB["LN-10001"], conversation_id="c1")
    store.verify("LN-10002", DOB["LN-10002"], conversation_id="c2")
    for _ in range(3):  # third failure locks
        store.verify("LN-10003", date(2000, 1, 1), conversation_id="c3")

    # agreements: 0.10 + 0.20 + 0.05 must add up exactly, also on SQLite
    clock.at(FIRST_MOMENT)
    agree(store, "LN-10003", "pay_now", "0.10")
    clock.at(IN)
    agree(store, "LN-10005", "pay_now", "0.20")
    clock.at(LAST_MOMENT)
    agree(store, "LN-10009", "pay_now", "0.05")
    clock.at(IN)
    cancelled = agree(store, "LN-10001", "promise_to_pay", "250.00")
    assert store.cancel_agreement(cancelled)
    agree(store, "LN-10002", "promise_to_pay", "480.00", conversation_id="c2")
    agree(store, "LN-10007", "settlement", "12000.00", "CNY")
    agree(store, "LN-10010", "settlement", "3000.50", "USD")

    # reasons
    for ref in ("LN-10001", "LN-10002", "LN-10004"):
        store.record_reason(ref, "unemployment", "lost my job", conversation_id="c1")
    store.record_reason("LN-10003", "illness", None)
    store.record_reason("LN-10005", "forgot", "slipped my mind")

    # cases: one payment claim is closed again by a person
    store.open_case("LN-10001", "dispute", "not what I borrowed")
    store.open_case("LN-10002", "fraud_claim", "never took this loan")
    store.open_case("LN-10003", "payment_claim", "paid last week")
    closed = store.open_case("LN-10004", "payment_claim", "paid by card")
    with store.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.case_ref == closed))
        case.status, case.closed_at = "closed", IN + timedelta(days=1)

    # opt-outs
    store.record_opt_out("LN-10001", "sms", requested_on="sms")
    store.record_opt_out("LN-10001", "whatsapp", requested_on="whatsapp")
    store.record_opt_out("LN-10001", "sms")  # already opted out: no second row
    store.record_opt_out("LN-10002", "sms")

    # handoffs: h1 is enqueued twice (one row, raised to urgent)
    store.enqueue_handoff(conversation_id="h1", reason="crisis", transcript=[], loan_ref="LN-10001")
    store.enqueue_handoff(conversation_id="h1", reason="crisis", transcript=[], priority="urgent")
    store.enqueue_handoff(conversation_id="h2", reason="borrower_request", transcript=[])
    store.enqueue_handoff(conversation_id="h3", reason="borrower_request", transcript=[], loan_ref="LN-10002")

    # "not now" (issue 17): c1 at the offers (twice: counted once) and at the read-back,
    # c2 at the offers before agreeing, c4 when asked what happened (with a reminder)
    store.record_deferral("LN-10001", step="offers", conversation_id="c1")
    store.record_deferral("LN-10001", step="offers", conversation_id="c1")
    store.record_deferral("LN-10001", step="read_back", pending_kind="instalment_plan", conversation_id="c1")
    store.record_deferral("LN-10002", step="offers", conversation_id="c2")
    store.record_deferral("LN-10004", step="reason", conversation_id="c4")
    store.record_reminder_request(
        "LN-10004", on=IN.date() + timedelta(days=3), reminder_channel="sms", conversation_id="c4"
    )

    # vulnerability
    store.flag_vulnerable("LN-10001", "mental_health", conversation_id="c1")
    store.flag_vulnerable("LN-10002", "mental_health")
    store.flag_vulnerable("LN-10003", "bereavement")

    # ---- outside the range: September ...
    clock.at(OLD)
    store.record_event("conversation_started", conversation_id="c-old")
    store.verify("LN-10006", date(1970, 9, 9), conversation_id="c-old")
    for _ in range(3):
        store.verify("LN-10005", date(2000, 1, 1), conversation_id="c-old")
    agree(store, "LN-10004", "hardship_deferral", "900.00")
    store.record_reason("LN-10006", "other", "long story")
    store.record_reason("LN-10007", "other", None)
    store.open_case("LN-10005", "dispute")
    store.record_opt_out("LN-10003", "all")
    store.enqueue_handoff(conversation_id="h-old", reason="vulnerability", transcript=[], priority="urgent")
    store.flag_vulnerable("LN-10004", "illness")
    store.record_deferral("LN-10006", step="offers", conversation_id="c-old")
    store.record_reminder_request("LN-10006", on=OLD.date() + timedelta(days=3), reminder_channel="sms")
    # ... and the first moment of December
    clock.at(AFTER)
    store.record_event("conversation_started", conversation_id="c-dec")
    agree(store, "LN-10006", "pay_now", "100.00")
    store.record_reason("LN-10009", "forgot", None)
    store.open_case("LN-10006", "fraud_claim")
    store.record_opt_out("LN-10002", "email")
    store.enqueue_handoff(conversation_id="h-dec", reason="borrower_request", transcript=[])
    store.flag_vulnerable("LN-10005", "illness")
    store.record_deferral("LN-10007", step="read_back", conversation_id="c-dec")
    clock.at(IN)


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", "report", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


# ---------------------------------------------------------------- build_report


def test_build_report_counts_exactly(store, clock):
    populate(store, clock)
    report = build_report(store, START, END)
    assert without_metrics(report) == EXPECTED
    # money is always a decimal string with the currency's minor units
    for kind in report["agreements"]["by_kind"].values():
        assert all(isinstance(v, str) for v in kind["amounts"].values())
    # the order is meaningful: largest first
    assert list(report["reasons"]) == ["unemployment", "forgot", "illness"]
    assert list(report) == [
        "period",
        "conversations",
        "agreements",
        "outcomes",
        "reasons",
        "cases",
        "opt_outs",
        "handoffs",
        "vulnerability_flags",
        "verification_locks",
        "feedback",
    ]


def test_rows_outside_the_range_are_excluded(store, clock):
    populate(store, clock)
    september = build_report(store, date(2026, 9, 1), date(2026, 9, 30))
    assert september["conversations"] == {"started": 1, "verified": 1, "locked_out": 1}
    assert {k: v["count"] for k, v in september["agreements"]["by_kind"].items() if v["count"]} == {
        "hardship_deferral": 1
    }
    assert september["agreements"]["by_kind"]["hardship_deferral"]["amounts"] == {"GBP": "900.00"}
    assert september["reasons"] == {"other": 2}
    assert september["cases"]["dispute"] == {"opened": 1, "open": 1}
    assert september["cases"]["fraud_claim"] == {"opened": 0, "open": 0}
    assert september["opt_outs"] == {"all": 1}
    assert september["handoffs"] == {"total": 1, "urgent": 1, "by_reason": {"vulnerability": 1}}
    assert september["vulnerability_flags"] == {"illness": 1}
    assert without_metrics(september)["outcomes"] == {
        "agreed": 1,
        "deferred": 1,
        "deferred_then_agreed": 0,
        "reminders_requested": 1,
        "deferred_by_step": {"offers": 1},
    }

    october = build_report(store, date(2026, 10, 1), date(2026, 10, 31))
    assert october["conversations"] == {"started": 0, "verified": 0, "locked_out": 0}
    assert all(v == {"count": 0, "amounts": {}, "active": 0} for v in october["agreements"]["by_kind"].values())
    assert october["reasons"] == october["opt_outs"] == october["vulnerability_flags"] == {}
    assert october["handoffs"] == {"total": 0, "urgent": 0, "by_reason": {}}
    assert without_metrics(october)["outcomes"] == {
        "agreed": 0,
        "deferred": 0,
        "deferred_then_agreed": 0,
        "reminders_requested": 0,
        "deferred_by_step": {},
    }


def test_both_ends_of_the_range_are_inclusive_in_utc(store, clock):
    populate(store, clock)
    first_day = build_report(store, START, START)
    assert first_day["agreements"]["by_kind"]["pay_now"] == {"count": 1, "amounts": {"GBP": "0.10"}, "active": 1}
    last_day = build_report(store, END, END)
    assert last_day["agreements"]["by_kind"]["pay_now"] == {"count": 1, "amounts": {"GBP": "0.05"}, "active": 1}
    december = build_report(store, date(2026, 12, 1), date(2026, 12, 1))
    assert december["conversations"]["started"] == 1
    assert december["agreements"]["by_kind"]["pay_now"] == {"count": 1, "amounts": {"GBP": "100.00"}, "active": 1}
    assert december["reasons"] == {"forgot": 1}
    assert december["cases"]["fraud_claim"] == {"opened": 1, "open": 1}
    assert december["opt_outs"] == {"email": 1}
    assert december["handoffs"]["by_reason"] == {"borrower_request": 1}
    assert december["vulnerability_flags"] == {"illness": 1}
    assert december["outcomes"]["deferred"] == 1 and december["outcomes"]["deferred_by_step"] == {"read_back": 1}
    with pytest.raises(ValueError):
        build_report(store, END, START)


def test_every_verification_lock_is_reported_for_the_team(store, clock):
    """Strangers guessing at a real reference (twice: the second lock is a repeat),
    at a reference no loan has, someone failing on the borrower's own channel, and a
    conversation trying several references: each lock counted, the loans named."""
    from bot.services.verification import verify_borrower

    seed_demo(store, IN.date())
    wrong = date(2000, 1, 1)
    for _ in range(3):
        store.verify("LN-10001", wrong)
        store.verify("LN-77777", wrong)
        store.verify("LN-10002", wrong, vouched=True)
    clock.at(IN + timedelta(hours=1))
    for _ in range(3):
        store.verify("LN-10001", wrong)
    for failures, ref in enumerate(("LN-10004", "LN-10005", "LN-10006")):
        verify_borrower(store, ref, wrong, vouched=False, failures_so_far=failures, now=clock.now, conversation_id="c")
    report = build_report(store, START, END)
    assert report["verification_locks"] == {
        "total": 5,
        "reference_guessing": 4,
        "conversation_limit": 1,
        "unknown_references": 1,
        "vouched_channels": 1,
        "repeated": 1,
        "loans": {"LN-10001": 2, "LN-10002": 1},
    }
    assert report["conversations"]["locked_out"] == 5
    lines = render_text(report).splitlines()
    assert "  loans: LN-10001 (2), LN-10002 (1)" in lines
    assert "    again after a lock            1" in lines


def test_render_text_reads_at_a_glance(store, clock):
    populate(store, clock)
    text = render_text(build_report(store, START, END))
    assert text.startswith("Collections report 2026-11-01 to 2026-11-30")
    for line in (
        "  started                 4",
        "  verified                2  (50% of started)",
        "  lockouts                1",
        "Verification lockouts (1)",
        "  guessing a reference            1",
        "  loans: LN-10003 (1)",
        "Agreements (8 recorded)",
        "  promise to pay          2       1  GBP 730.00",
        "Outcomes",
        "  agreed                  8",
        "  deferred                3  (1 agreed later in the conversation)",
        "  reminders asked         1",
        "  deferred at: offers (2), read back (1), reason (1)",
        "  settlement              2       2  CNY 12000.00, USD 3000.50",
        "Reasons for missed payments (5 recorded)",
        "  unemployment            3   60%",
        "  illness                 1   20%",
        "  payment claim           2           1",
        "Contact opt-outs (3)",
        "Handoffs to a person (3, 1 urgent)",
        "  mental health           2",
    ):
        assert line in text.splitlines(), line


def test_an_empty_store_reports_zeros_and_still_plots(sqlite_store, tmp_path):
    report = build_report(sqlite_store, START, END)
    assert report["conversations"] == {"started": 0, "verified": 0, "locked_out": 0}
    assert report["cases"] == {k: {"opened": 0, "open": 0} for k in ("dispute", "fraud_claim", "payment_claim")}
    assert "Reasons for missed payments (0 recorded)" in render_text(report)
    assert "  deferred                0" in render_text(report).splitlines()
    png = write_plot(report, tmp_path / "empty.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_period_and_day_parsing():
    assert default_period(date(2026, 11, 23)) == (date(2026, 10, 25), date(2026, 11, 23))
    assert parse_day("2026-02-28") == date(2026, 2, 28)
    for bad in ("2026-02-30", "2026-1-05", "20261105", "yesterday", "", "2026-W45-1"):
        with pytest.raises(ValueError):
            parse_day(bad)


# ---------------------------------------------------------------- the command


def test_cli_json_matches_build_report(store, clock):
    populate(store, clock)
    out = run_cli(store.db.url, "--from", "2026-11-01", "--to", "2026-11-30", "--json")
    assert out.returncode == 0, out.stderr
    assert without_metrics(json.loads(out.stdout)) == EXPECTED
    assert '"0.35"' in out.stdout  # a string, never a float

    text = run_cli(store.db.url, "--from", "2026-11-01", "--to", "2026-11-30")
    assert text.returncode == 0, text.stderr
    assert "Agreements (8 recorded)" in text.stdout and "{" not in text.stdout


def test_cli_defaults_to_the_last_30_days_up_to_today(sqlite_store):
    out = run_cli(sqlite_store.db.url, "--json")
    assert out.returncode == 0, out.stderr
    today = datetime.now(UTC).date()
    assert json.loads(out.stdout)["period"] == {
        "from": (today - timedelta(days=29)).isoformat(),
        "to": today.isoformat(),
    }
    only_to = json.loads(run_cli(sqlite_store.db.url, "--to", "2026-03-31", "--json").stdout)
    assert only_to["period"] == {"from": "2026-03-02", "to": "2026-03-31"}


def test_cli_plot_writes_a_png(store, clock, tmp_path):
    populate(store, clock)
    png = tmp_path / "report.png"
    out = run_cli(store.db.url, "--from", "2026-11-01", "--to", "2026-11-30", "--json", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    assert without_metrics(json.loads(out.stdout)) == EXPECTED  # stdout stays pure JSON
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-02-30"], "not a real calendar date"),
        (["--to", "30/11/2026"], "YYYY-MM-DD"),
        (["--from", "2026-11-5", "--to", "2026-11-30"], "YYYY-MM-DD"),
        (["--from", "2026-12-01", "--to", "2026-11-30"], "is after"),
        (["--from", "2026-12-01", "--to", "2026-11-30", "--json", "--plot", "{tmp}/x.png"], "is after"),
    ],
)
def test_cli_rejects_bad_dates_with_exit_2(tmp_path, args, message):
    out = run_cli(f"sqlite:///{tmp_path / 'none.db'}", *(a.format(tmp=tmp_path) for a in args))
    assert out.returncode == 2
    assert out.stdout == ""
    assert message in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x.png").exists()
