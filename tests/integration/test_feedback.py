"""The borrower's feedback in the loan store (issue 14 §5), on SQLite and PostgreSQL:
one question per agreement (a retry gives the same one), one answer per question and
only from the conversation asked, comments masked, and the report's `feedback`
section (count, average, distribution, response rate, by channel and language) as
`python -m bot report` prints it and as `--json` gives it."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.adapters.orm import Feedback
from bot.domain.accounts import UnknownReference
from bot.domain.agreements import AgreementProposal
from bot.ops.demo import seed_demo
from bot.services.reporting import build_report, render_text
from tests.integration.test_cli import run_cli as bot_cli
from tests.integration.test_report import run_cli

UTC = timezone.utc
START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)

    c = Clock()
    monkeypatch.setattr("bot.adapters.store.rows.utcnow", lambda: c.now)
    return c


def agree(store, ref, cid, channel, key):
    proposal = AgreementProposal(
        kind="pay_now",
        total_amount=Decimal("10.00"),
        currency=store.account(ref).currency,
        instalments=((date(2026, 11, 10), Decimal("10.00")),),
        terms={"source": "menu"},
    )
    return store.record_agreement(ref, proposal, idempotency_key=key, conversation_id=cid, channel=channel)


def ask(store, ref, cid, channel, language, key):
    recorded = agree(store, ref, cid, channel, key)
    return store.ask_feedback(
        ref, agreement_ref=recorded.agreement.agreement_ref, conversation_id=cid, channel=channel, language=language
    )


def count(store) -> int:
    with store.db.reader() as s:
        return len(s.scalars(select(Feedback.id)).all())


def row(store, ref) -> Feedback:
    with store.db.reader() as s:
        return s.scalar(select(Feedback).where(Feedback.feedback_ref == ref))


@pytest.fixture
def seeded(store, clock):
    seed_demo(store, date(2026, 11, 1))
    return store


def test_one_question_per_agreement_and_one_answer(seeded):
    recorded = agree(seeded, "LN-10001", "c1", "twilio", "k1")
    ref_ = recorded.agreement.agreement_ref
    first = seeded.ask_feedback("LN-10001", agreement_ref=ref_, conversation_id="c1", channel="twilio", language="en")
    again = seeded.ask_feedback("LN-10001", agreement_ref=ref_, conversation_id="c1", channel="twilio", language="en")
    assert first == again and first.startswith("FB-")
    assert count(seeded) == 1
    asked = row(seeded, first)
    assert (asked.status, asked.channel, asked.language, asked.conversation_id) == ("asked", "twilio", "en", "c1")

    # another conversation cannot answer it
    assert not seeded.answer_feedback(first, rating=1, comment=None, conversation_id="other", channel="rest")
    words = "quick and easy, card 4111 1111 1111 1111, born 12/03/1985"
    assert seeded.answer_feedback(first, rating=4, comment=words, conversation_id="c1", channel="twilio")
    answered = row(seeded, first)
    assert (answered.status, answered.rating) == ("rated", 4)
    assert answered.comment.startswith("quick and easy, card ")
    assert "4111" not in answered.comment and "1985" not in answered.comment
    assert answered.answered_at == datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    # once only
    assert not seeded.answer_feedback(first, rating=1, comment=None, conversation_id="c1", channel="twilio")
    assert row(seeded, first).rating == 4
    events = [e["event_type"] for e in seeded.audit_events("LN-10001")]
    assert events[-2:] == ["feedback_asked", "feedback_given"]


def test_bad_values_are_refused_and_change_nothing(seeded):
    ref = ask(seeded, "LN-10002", "c2", "socketio", "en", "k2")
    for bad in (0, 6, -1, 99):
        with pytest.raises(ValueError):
            seeded.answer_feedback(ref, rating=bad, comment=None, conversation_id="c2", channel="socketio")
    assert row(seeded, ref).status == "asked"
    with pytest.raises(UnknownReference):
        seeded.ask_feedback("LN-10002", agreement_ref="AG-NOTHERE", conversation_id="c2", channel=None, language="en")
    # the database itself refuses a rating outside the scale
    with pytest.raises(IntegrityError), seeded.db.transaction() as s:
        s.get(Feedback, row(seeded, ref).id).rating = 9
    assert count(seeded) == 1
    assert not seeded.answer_feedback("FB-UNKNOWN1", rating=3, comment=None, conversation_id="c2", channel=None)


def test_the_report_counts_feedback_by_channel_and_language(seeded, clock):
    sms = ask(seeded, "LN-10001", "c1", "twilio", "en", "k1")
    seeded.answer_feedback(sms, rating=5, comment="great", conversation_id="c1", channel="twilio")
    widget = ask(seeded, "LN-10002", "c2", "socketio", "en", "k2")
    seeded.answer_feedback(widget, rating=2, comment=None, conversation_id="c2", channel="socketio")
    zh = ask(seeded, "LN-10007", "c7", "socketio", "zh", "k7")
    seeded.answer_feedback(zh, rating=None, comment=None, conversation_id="c7", channel="socketio")  # skipped
    ask(seeded, "LN-10004", "c4", "twilio", "en", "k4")  # never answered
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # outside the period
    late = ask(seeded, "LN-10005", "c5", "twilio", "en", "k5")
    seeded.answer_feedback(late, rating=1, comment=None, conversation_id="c5", channel="twilio")

    figures = build_report(seeded, START, END)["feedback"]
    assert (figures["asked"], figures["rated"], figures["skipped"], figures["unanswered"]) == (4, 2, 1, 1)
    assert figures["response_rate"] == 0.5 and figures["skip_rate"] == 0.25
    assert figures["average"] == 3.5 and figures["with_comment"] == 1
    assert figures["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert figures["by_channel"] == {
        "socketio": {"asked": 2, "rated": 1, "skipped": 1, "unanswered": 0, "response_rate": 0.5, "average": 2.0},
        "twilio": {"asked": 2, "rated": 1, "skipped": 0, "unanswered": 1, "response_rate": 0.5, "average": 5.0},
    }
    assert figures["by_language"]["zh"] == {
        "asked": 1,
        "rated": 0,
        "skipped": 1,
        "unanswered": 0,
        "response_rate": 0.0,
        "average": None,
    }
    assert figures["by_language"]["en"]["average"] == 3.5

    text = render_text(build_report(seeded, START, END)).splitlines()
    assert "Borrower feedback (4 asked)" in text
    assert "  rated 2 (50%), skipped 1, unanswered 1; average 3.50 of 5; 1 with a comment" in text
    assert "  ratings: 1: 0, 2: 1, 3: 0, 4: 0, 5: 1" in text
    assert "  by channel: socketio 1/2 rated, average 2.00; twilio 1/2 rated, average 5.00" in text

    out = run_cli(seeded.db.url, "--from", "2026-11-01", "--to", "2026-11-30", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["feedback"] == figures
    out = run_cli(seeded.db.url, "--from", "2026-11-01", "--to", "2026-11-30")
    assert out.returncode == 0, out.stderr
    assert "Borrower feedback (4 asked)" in out.stdout
    assert "great" not in out.stdout  # the report counts; it never prints borrowers' words

    # the team reads the answers, comments masked, newest first
    out = bot_cli(seeded.db.url, "feedback", "--json")
    assert out.returncode == 0, out.stderr
    answers = json.loads(out.stdout)
    assert [(a["loan_ref"], a["status"], a["rating"], a["channel"], a["language"]) for a in answers] == [
        ("LN-10005", "rated", 1, "twilio", "en"),
        ("LN-10007", "skipped", None, "socketio", "zh"),
        ("LN-10002", "rated", 2, "socketio", "en"),
        ("LN-10001", "rated", 5, "twilio", "en"),
    ]  # the one never answered (LN-10004) is not listed
    assert {a["loan_ref"]: a["comment"] for a in answers}["LN-10001"] == "great"
    out = bot_cli(seeded.db.url, "feedback")
    assert out.returncode == 0, out.stderr
    assert "5/5" in out.stdout and "skipped" in out.stdout and "great" in out.stdout
