"""The report's outcome metrics (issue 14) on SQLite and PostgreSQL: a month in which
a plan is completed, a promise kept, a promise broken and a conversation handed to a
person; the rates, roll rates, cures, containment, time to agreement and the
breakdowns, as `python -m bot report --json` gives them and as text and a chart.
Cures, roll rates and containment are broken down like the agreement figures, each loan
and conversation in exactly one group per breakdown (bot/services/outcomes.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.domain.agreements import AgreementProposal
from bot.domain.payments import AgreementRules, IncomingPayment
from bot.ops.demo import seed_demo
from bot.services.reporting import build_report, render_text, roll_rate_panel
from tests.integration.test_report import run_cli

UTC = timezone.utc
START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

    c = Clock()
    monkeypatch.setattr("bot.adapters.store.rows.utcnow", lambda: c.now)
    return c


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def rules_for(_product):
    return AgreementRules(grace_days=3, missed_to_break_plan=2)


def talk(store, clock, ref, cid, channel, start, reason=None):
    clock.now = start
    store.record_event("conversation_started", conversation_id=cid, channel=channel)
    clock.now = start + timedelta(minutes=2)
    store.record_event("verification_passed", loan_ref=ref, conversation_id=cid, channel=channel)
    if reason:
        store.record_reason(ref, reason, "words", conversation_id=cid, channel=channel)


def agree(store, clock, ref, cid, channel, when, kind, dues_and_amounts):
    clock.now = when
    proposal = AgreementProposal(
        kind=kind,
        total_amount=sum((Decimal(a) for _, a in dues_and_amounts), Decimal(0)),
        currency="GBP",
        instalments=tuple((d, Decimal(a)) for d, a in dues_and_amounts),
        terms={"source": "menu"},
    )
    return store.record_agreement(
        ref, proposal, idempotency_key=f"k-{cid}", conversation_id=cid, channel=channel, now=when
    )


def pay(store, clock, ref, amount, when, pid):
    clock.now = when
    store.record_payment(
        IncomingPayment(pid, ref, when, Decimal(amount), "GBP", "card"), source="webhook", rules_for=rules_for, now=when
    )


@pytest.fixture
def november(store, clock):
    seed_demo(store, date(2026, 10, 1))  # every demo loan is in arrears on 1 November
    # a plan kept to the end: the loan is cured
    talk(store, clock, "LN-10001", "c1", "twilio", at(10), "unemployment")
    agree(
        store,
        clock,
        "LN-10001",
        "c1",
        "twilio",
        at(10, 10, 5),
        "instalment_plan",
        [(date(2026, 11, 12), "125.00"), (date(2026, 11, 20), "125.00")],
    )
    pay(store, clock, "LN-10001", "125.00", at(12), "p1")
    pay(store, clock, "LN-10001", "125.00", at(20), "p2")
    # a promise broken
    talk(store, clock, "LN-10002", "c2", "socketio", at(11), "forgot")
    agree(store, clock, "LN-10002", "c2", "socketio", at(11, 10, 4), "promise_to_pay", [(date(2026, 11, 14), "480.00")])
    clock.now = at(20)
    store.review_agreements(rules_for=rules_for, now=at(20))
    # a promise kept: the loan is cured
    talk(store, clock, "LN-10004", "c4", "twilio", at(12), "illness")
    agree(store, clock, "LN-10004", "c4", "twilio", at(12, 10, 6), "promise_to_pay", [(date(2026, 11, 15), "900.00")])
    pay(store, clock, "LN-10004", "900.00", at(15), "p4")
    # a conversation handed to a person
    talk(store, clock, "LN-10003", "c3", "socketio", at(13))
    clock.now = at(13, 10, 3)
    store.enqueue_handoff(
        conversation_id="c3", reason="borrower_request", transcript=[], loan_ref="LN-10003", channel="socketio"
    )
    clock.now = at(30, 12)
    return store


def test_the_months_outcomes(november):
    out = build_report(november, START, END)["outcomes"]
    assert out["agreed"] == 3  # the issue 17 counts are still there
    figures = {
        k: out[k]
        for k in (
            "agreements",
            "active",
            "completed",
            "broken",
            "promise_kept_rate",
            "plan_completion_rate",
            "broken_rate",
        )
    }
    assert figures == {
        "agreements": 3,
        "active": 0,
        "completed": 2,
        "broken": 1,
        "promise_kept_rate": 0.5,
        "plan_completion_rate": 1.0,
        "broken_rate": 0.3333,
    }
    assert out["time_to_agreement_minutes"] == 5.0  # 5, 4 and 6 minutes from the conversation's start
    assert (out["cure_rate"], out["loans_cured"], out["loans_in_arrears"]) == (0.2, 2, 10)
    assert out["roll_rates"]["1-29"] == {"current": 0.3333, "1-29": 0.6667}  # LN-10001 of LN-10001, 10003, 10008
    assert out["roll_rates"]["60-89"] == {"current": 0.5, "60-89": 0.5}  # LN-10004 of LN-10004, 10009
    assert out["roll_rates"]["30-59"] == {"30-59": 1.0} and out["roll_rates"]["90+"] == {"90+": 1.0}
    assert out["containment_rate"] == 0.75
    assert out["containment_by_channel"] == {"socketio": 0.5, "twilio": 1.0}
    by = out["by"]
    assert {k: (v["agreements"], v["broken_rate"]) for k, v in by["reason_code"].items()} == {
        "forgot": (1, 1.0),
        "illness": (1, 0.0),
        "unemployment": (1, 0.0),
    }
    assert {k: v["promise_kept_rate"] for k, v in by["offer_kind"].items()} == {
        "instalment_plan": None,
        "promise_to_pay": 0.5,
    }
    assert {k: v["agreements"] for k, v in by["channel"].items()} == {"socketio": 1, "twilio": 2}
    assert {k: v["completed"] for k, v in by["language"].items()} == {"en": 2}


def cured(groups: dict) -> dict:
    return {k: (g["cure_rate"], g["loans_cured"], g["loans_in_arrears"]) for k, g in groups.items()}


def contained(groups: dict) -> dict:
    return {k: (g["containment_rate"], g["contained"], g["conversations"]) for k, g in groups.items()}


def test_cures_rolls_and_containment_broken_down(november):
    """LN-10001 (unemployment, SMS, a plan kept) and LN-10004 (illness, SMS, a promise kept)
    cured; LN-10002 (forgot, web, a promise broken) and LN-10003 (no reason, web, handed
    off, no agreement) did not; the six loans nobody talked to in November are "unknown"
    by reason and channel, and LN-10008's demo plan (made in October, broken in November)
    was in force: none is dropped."""
    out = build_report(november, START, END)["outcomes"]
    loans = out["delinquency_by"]
    assert cured(loans["reason_code"]) == {
        "forgot": (0.0, 0, 1),
        "illness": (1.0, 1, 1),
        "unemployment": (1.0, 1, 1),
        "unknown": (0.0, 0, 7),
    }
    assert cured(loans["channel"]) == {"socketio": (0.0, 0, 2), "twilio": (1.0, 2, 2), "unknown": (0.0, 0, 6)}
    assert cured(loans["language"]) == {"en": (0.2222, 2, 9), "zh": (0.0, 0, 1)}  # LN-10007 is a Chinese speaker
    assert cured(loans["offer_kind"]) == {
        "instalment_plan": (0.5, 1, 2),  # LN-10001 kept, LN-10008 broken
        "none": (0.0, 0, 6),
        "promise_to_pay": (0.5, 1, 2),
    }
    for name in ("reason_code", "channel", "language", "offer_kind"):  # every loan in arrears, once
        assert sum(g["loans_in_arrears"] for g in loans[name].values()) == out["loans_in_arrears"] == 10
    assert loans["offer_kind"]["instalment_plan"]["roll_rates"] == {"1-29": {"current": 0.5, "1-29": 0.5}}
    assert loans["offer_kind"]["promise_to_pay"]["roll_rates"] == {"30-59": {"30-59": 1.0}, "60-89": {"current": 1.0}}
    assert loans["channel"]["socketio"]["roll_rates"] == {"1-29": {"1-29": 1.0}, "30-59": {"30-59": 1.0}}
    assert loans["reason_code"]["unknown"]["roll_rates"] == {
        "1-29": {"1-29": 1.0},
        "30-59": {"30-59": 1.0},
        "60-89": {"60-89": 1.0},
        "90+": {"90+": 1.0},
    }
    assert loans["language"]["zh"]["roll_rates"] == {"90+": {"90+": 1.0}}

    talks = out["containment_by"]
    assert contained(talks["reason_code"]) == {
        "forgot": (1.0, 1, 1),
        "illness": (1.0, 1, 1),
        "unemployment": (1.0, 1, 1),
        "unknown": (0.0, 0, 1),  # c3 gave no reason and asked for a person
    }
    assert contained(talks["channel"]) == {"socketio": (0.5, 1, 2), "twilio": (1.0, 2, 2)}
    assert {k: g["containment_rate"] for k, g in talks["channel"].items()} == out["containment_by_channel"]
    assert contained(talks["language"]) == {"en": (0.75, 3, 4)}
    assert contained(talks["offer_kind"]) == {
        "instalment_plan": (1.0, 1, 1),
        "none": (0.0, 0, 1),
        "promise_to_pay": (1.0, 2, 2),
    }


def test_the_latest_reason_and_conversation_count(november, clock):
    """A second conversation for LN-10002 on WhatsApp with a new reason: the loan moves to
    that reason and channel; each conversation keeps its own."""
    talk(november, clock, "LN-10002", "c5", "whatsapp", at(25), "reduced_income")
    clock.now = at(30, 12)
    out = build_report(november, START, END)["outcomes"]
    loans = out["delinquency_by"]
    assert cured(loans["reason_code"])["reduced_income"] == (0.0, 0, 1) and "forgot" not in loans["reason_code"]
    assert cured(loans["channel"]) == {
        "socketio": (0.0, 0, 1),
        "twilio": (1.0, 2, 2),
        "unknown": (0.0, 0, 6),
        "whatsapp": (0.0, 0, 1),
    }
    assert cured(loans["offer_kind"])["promise_to_pay"] == (0.5, 1, 2)  # its broken promise was in force
    talks = out["containment_by"]
    assert contained(talks["reason_code"])["forgot"] == (1.0, 1, 1)
    assert contained(talks["reason_code"])["reduced_income"] == (1.0, 1, 1)
    assert contained(talks["offer_kind"])["none"] == (0.5, 1, 2)  # c5 agreed nothing, c3 was handed off
    assert out["containment_rate"] == 0.8


def test_what_stood_in_the_period(november):
    """October: LN-10008's demo plan was in force, nobody was talked to. December: the
    reasons given in November are still on file; no conversation, and every November
    agreement had ended (completed or broken) before December began."""
    october = build_report(november, date(2026, 10, 1), date(2026, 10, 31))["outcomes"]["delinquency_by"]
    assert cured(october["offer_kind"]) == {"instalment_plan": (0.0, 0, 1), "none": (0.0, 0, 9)}
    assert cured(october["channel"]) == {"unknown": (0.0, 0, 10)}
    december = build_report(november, date(2026, 12, 1), date(2026, 12, 31))["outcomes"]
    loans = december["delinquency_by"]
    assert cured(loans["reason_code"]) == {
        "forgot": (0.0, 0, 1),
        "illness": (None, 0, 0),  # cured in November: current at the start
        "unemployment": (None, 0, 0),
        "unknown": (0.0, 0, 7),
    }
    assert loans["reason_code"]["illness"]["roll_rates"] == {"current": {"current": 1.0}}
    assert cured(loans["offer_kind"]) == {"none": (0.0, 0, 8)}
    assert cured(loans["channel"]) == {"unknown": (0.0, 0, 8)}
    assert december["containment_by"] == {"reason_code": {}, "channel": {}, "language": {}, "offer_kind": {}}


def test_a_cohort_is_reported_as_it_stands_now_and_nothing_moved_before(november):
    """October's only agreement, the demo plan, missed two payments and was broken in November."""
    out = build_report(november, date(2026, 10, 1), date(2026, 10, 31))["outcomes"]
    assert (out["agreements"], out["broken"], out["plan_completion_rate"], out["containment_rate"]) == (1, 1, 0.0, None)
    assert out["cure_rate"] == 0.0 and out["roll_rates"]["1-29"] == {"1-29": 1.0}


def test_text_json_and_chart(november, tmp_path):
    text = render_text(build_report(november, START, END))
    assert "What became of them (3 agreements made in the period)" in text
    assert "promises kept 50%, plans completed 100%, broken 33%" in text
    assert "cured 20% (2 of 10 loans in arrears), contained 75%" in text
    assert (
        "  cured by reason code: forgot 0% (0 of 1), illness 100% (1 of 1), unemployment 100% (1 of 1), unknown 0% (0 of 7)"
        in text
    )
    assert "  cured by offer kind: instalment_plan 50% (1 of 2), none 0% (0 of 6), promise_to_pay 50% (1 of 2)" in text
    assert "    promise_to_pay: 30-59 -> 30-59 100%; 60-89 -> current 100%" in text
    assert (
        "  contained by offer kind: instalment_plan 100% (1 of 1), none 0% (0 of 1), promise_to_pay 100% (2 of 2)"
        in text
    )
    png = tmp_path / "report.png"
    out = run_cli(november.db.url, "--from", "2026-11-01", "--to", "2026-11-30", "--json", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    outcomes = json.loads(out.stdout)["outcomes"]
    assert outcomes["plan_completion_rate"] == 1.0
    assert outcomes["delinquency_by"]["offer_kind"]["none"]["loans_in_arrears"] == 6
    assert outcomes["containment_by"]["reason_code"]["unknown"]["containment_rate"] == 0.0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_draws_the_roll_rate_matrix(november):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rolls = build_report(november, START, END)["outcomes"]["roll_rates"]
    fig, ax = plt.subplots()
    try:
        roll_rate_panel(ax, rolls)
        rows = [t.get_text() for t in ax.get_yticklabels()]
        columns = [t.get_text() for t in ax.get_xticklabels()]
        cells = {
            (rows[round(t.get_position()[1])], columns[round(t.get_position()[0])]): t.get_text() for t in ax.texts
        }
    finally:
        plt.close(fig)
    assert rows == ["1-29", "30-59", "60-89", "90+"] and columns[0] == "current"
    assert cells == {
        ("1-29", "current"): "33%",
        ("1-29", "1-29"): "67%",
        ("30-59", "30-59"): "100%",
        ("60-89", "current"): "50%",
        ("60-89", "60-89"): "50%",
        ("90+", "90+"): "100%",
    }


def test_a_re_import_that_moves_a_loan_to_another_bucket_is_a_roll(november, clock):
    from bot.ops.demo import demo_rows

    [row] = [r for r in demo_rows(date(2026, 10, 1)) if r["loan_ref"] == "LN-10005"]
    clock.now = at(25)
    november.upsert_loans([{**row, "days_past_due": 68}])  # 38 days past due in October, 68 now
    out = build_report(november, START, END)["outcomes"]
    assert out["roll_rates"]["30-59"] == {"30-59": 0.6667, "60-89": 0.3333}  # LN-10005 of LN-10002, 10005, 10010
    moved = [e for e in november.audit_events("LN-10005") if e["event_type"] == "dpd_bucket_changed"]
    assert [(e["details"]["from"], e["details"]["to"], e["details"]["source"]) for e in moved] == [
        ("30-59", "60-89", "import")
    ]
