"""The operators table, the log-in throttle's counts and who works a handoff, on SQLite and PostgreSQL (issue 15)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.accounts import UnknownReference
from bot.domain.clock import utcnow
from bot.domain.operators import HandoffClosed, InvalidOperator, NotYours
from bot.ops.console.security import hash_password, verify_password
from bot.ops.demo import seed_demo


def test_operators_are_added_listed_changed_and_audited(store):
    alice = store.add_operator("Alice", "agent", hash_password("alice password"), by="cli")
    assert (alice.name, alice.role, alice.active) == ("alice", "agent", True)
    with pytest.raises(InvalidOperator, match="already exists"):
        store.add_operator("alice", "admin", hash_password("another password"), by="cli")
    with pytest.raises(InvalidOperator):
        store.add_operator("bob", "root", hash_password("bob password"), by="cli")
    operator, stored = store.operator_password_hash("ALICE")
    assert operator.name == "alice" and verify_password(stored, "alice password")
    assert store.operator_password_hash("nobody") is None

    changed = store.update_operator("alice", by="ada", role="supervisor", active=False)
    assert (changed.role, changed.active) == ("supervisor", False)
    assert changed.sessions_valid_after is not None  # a change ends their sessions
    assert [o.name for o in store.operators()] == ["alice"]
    events = [(e["event_type"], e["details"]) for e in store.audit_events()]
    assert ("operator_added", {"operator": "alice", "role": "agent", "by": "cli"}) in events
    assert ("operator_changed", {"operator": "alice", "by": "ada", "role": "supervisor", "active": False}) in events
    assert not any("password" in str(d.get("password_hash", "")) for _, d in events)


def test_login_failures_are_counted_per_name_known_or_not_and_forgotten_on_success(store):
    store.add_operator("alice", "agent", hash_password("alice password"), by="cli")
    now = utcnow()
    assert store.login_failures("alice") == (0, None)
    assert store.record_login_failure("alice", now=now) == 1
    assert store.record_login_failure("Alice", now=now + timedelta(seconds=1)) == 2
    assert store.record_login_failure("mallory", now=now) == 1
    failures, last = store.login_failures("alice")
    assert failures == 2 and last == now + timedelta(seconds=1)
    store.record_login("alice", now=now)
    assert store.login_failures("alice") == (0, None)
    assert store.operator("alice").last_login_at == now
    store.end_sessions("alice", now=now + timedelta(minutes=1))
    assert store.operator("alice").sessions_valid_after == now + timedelta(minutes=1)


def _handoff(store):
    from datetime import date

    seed_demo(store, date(2026, 12, 6))
    return store.enqueue_handoff(
        conversation_id="widget-abc",
        reason="requested",
        transcript=[{"from": "borrower", "text": "can I talk to a person"}],
        loan_ref="LN-10001",
        channel="socketio",
        reply_by=utcnow() + timedelta(hours=4),
    )


def test_a_handoff_is_claimed_released_reassigned_taken_over_and_handed_back_with_names_in_the_audit(store):
    ref = _handoff(store)
    assert store.claim_handoff(ref, by="alice") is True
    assert store.claim_handoff(ref, by="alice") is False
    with pytest.raises(NotYours) as taken:
        store.claim_handoff(ref, by="bob")
    assert taken.value.claimed_by == "alice"
    with pytest.raises(NotYours):
        store.release_handoff(ref, by="bob")
    with pytest.raises(NotYours):
        store.mark_taken_over(ref, by="bob", taken=True)
    assert store.mark_taken_over(ref, by="alice", taken=True) is True
    with pytest.raises(NotYours):  # not while the assistant is paused for alice
        store.release_handoff(ref, by="alice")
    store.record_agent_message(ref, by="alice", text="Hello, this is Alice. My card 4111 1111 1111 1111")
    assert store.mark_taken_over(ref, by="alice", taken=False, note="agreed to call back") is True
    assert store.reassign_handoff(ref, to="bob", by="alice") is True
    with pytest.raises(NotYours):
        store.reassign_handoff(ref, to="carol", by="alice")
    assert store.reassign_handoff(ref, to="carol", by="sam", any_operator=True) is True
    assert store.release_handoff(ref, by="sam", any_operator=True) is True
    assert store.handoff(ref)["claimed_by"] is None
    assert store.complete_handoff(ref, by="alice", note="done") is True
    with pytest.raises(HandoffClosed):
        store.claim_handoff(ref, by="alice")
    with pytest.raises(UnknownReference):
        store.claim_handoff("HO-NOPE", by="alice")

    trail = [(e["event_type"], e["details"].get("by")) for e in store.loan_report("LN-10001")["audit_events"]]
    assert [t for t in trail if t[0] != "handoff_requested" and not t[0].startswith(("agreement", "instalment"))][
        -9:
    ] == [
        ("handoff_claimed", "alice"),
        ("conversation_taken_over", "alice"),
        ("agent_message_sent", "alice"),
        ("conversation_handed_back", "alice"),
        ("handoff_reassigned", "alice"),
        ("handoff_reassigned", "sam"),
        ("handoff_released", "sam"),
        ("handoff_completed", "alice"),
    ][-9:]
    sent = next(e for e in store.loan_report("LN-10001")["audit_events"] if e["event_type"] == "agent_message_sent")
    assert "4111 1111 1111 1111" not in sent["details"]["text"] and "Alice" in sent["details"]["text"]


def test_the_queue_view_shows_who_works_each_handoff(store):
    ref = _handoff(store)
    store.claim_handoff(ref, by="alice")
    store.mark_taken_over(ref, by="alice", taken=True)
    (listed,) = store.handoffs(status="queued")
    assert listed["claimed_by"] == "alice" and listed["taken_over_at"] and listed["claimed_at"]
    overview = store.loan_overview("LN-10001")
    assert overview["conversations"][0]["conversation_id"] == "widget-abc"
    assert overview["conversations"][0]["handoffs"] == [{"handoff_ref": ref, "status": "queued"}]


def test_vulnerable_borrowers_are_listed_with_categories_until_cleared(store):
    from datetime import date

    seed_demo(store, date(2026, 12, 6))
    store.flag_vulnerable("LN-10002", "bereavement", conversation_id="c-1", channel="socketio")
    (flagged,) = store.vulnerable_loans()
    assert flagged["loan_ref"] == "LN-10002" and flagged["categories"] == ["bereavement"]
    assert flagged["conversation_ids"] == ["c-1"] and flagged["full_name"] == "Ben Okafor"
    assert store.clear_vulnerability("LN-10002", by="sam", note="agreed a 2-month pause") is True
    assert store.vulnerable_loans() == []


def _cli(database_url, *args, stdin=""):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "development"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_operators_are_added_from_the_command_line_with_the_password_on_standard_input(database_url, store):
    added = _cli(database_url, "operators", "add", "Carol", "--role", "supervisor", stdin="carol's password\n")
    assert added.returncode == 0, added.stderr
    assert "carol" in added.stdout and "password" not in added.stdout
    operator, stored = store.operator_password_hash("carol")
    assert operator.role == "supervisor" and verify_password(stored, "carol's password")
    short = _cli(database_url, "operators", "add", "dave", "--role", "agent", stdin="short\n")
    assert short.returncode == 2 and "10 to 256 characters" in short.stderr and store.operator("dave") is None
    bad_role = _cli(database_url, "operators", "add", "dave", "--role", "root", stdin="a long password\n")
    assert bad_role.returncode == 2 and store.operator("dave") is None
    changed = _cli(database_url, "operators", "set", "carol", "--active", "no")
    assert changed.returncode == 0 and store.operator("carol").active is False
    listed = _cli(database_url, "operators", "list")
    assert "carol" in listed.stdout and "inactive" in listed.stdout


def test_seed_demo_makes_the_demo_operator_whose_log_in_it_prints(database_url, store):
    from bot.ops.console.demo import DEMO_PASSWORD

    seeded = _cli(database_url, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    assert f"demo / {DEMO_PASSWORD}" in seeded.stdout
    operator, stored = store.operator_password_hash("demo")
    assert operator.role == "admin" and verify_password(stored, DEMO_PASSWORD)
    store.update_operator("demo", by="test", active=False)
    assert _cli(database_url, "seed-demo").returncode == 0
    assert store.operator("demo").active is True


def test_complete_handoff_resumes_the_assistant_of_a_conversation_taken_over(store, monkeypatch):
    from bot import bootstrap
    from bot.adapters.rasa_conversations import RasaConversations, RasaUnavailable
    from bot.ops.cli import main

    ref = _handoff(store)
    store.claim_handoff(ref, by="alice")
    store.mark_taken_over(ref, by="alice", taken=True)
    monkeypatch.setenv("DATABASE_URL", str(store.db.engine.url.render_as_string(hide_password=False)))
    resumed: list[str] = []

    def down(self, conversation_id):
        raise RasaUnavailable("the assistant cannot be reached")

    monkeypatch.setattr(RasaConversations, "resume", down)
    bootstrap.reset()
    try:
        assert main(["complete-handoff", ref, "--by", "sam"]) == 1
        assert store.handoff(ref)["status"] == "queued"  # nothing changed while Rasa stays paused
        monkeypatch.setattr(RasaConversations, "resume", lambda self, conversation_id: resumed.append(conversation_id))
        assert main(["complete-handoff", ref, "--by", "sam"]) == 0
    finally:
        bootstrap.reset()
    assert resumed == ["widget-abc"]
    done = store.handoff(ref)
    assert done["status"] == "done" and done["taken_over_at"] is None
