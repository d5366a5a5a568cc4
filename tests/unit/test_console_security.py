"""The console's passwords, sessions, CSRF and log-in throttle (issue 15), without a server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.operators import (
    InvalidOperator,
    LoginThrottle,
    Operator,
    check_name,
    check_password,
    check_role,
    may,
)
from bot.ops.console.security import (
    SessionCodec,
    csrf_ok,
    hash_password,
    needs_rehash,
    session_valid_for,
    verify_password,
)

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=timezone.utc)


def test_passwords_are_hashed_with_argon2id_and_checked():
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse batterx")
    assert not verify_password("not a hash", "correct horse battery")
    assert hash_password("correct horse battery") != hashed  # salted
    assert not needs_rehash(hashed)
    assert needs_rehash("$2b$12$an-old-bcrypt-hash")


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            "agent",
            {"work_conversations", "view_loans", "view_cases"},
            {"close_cases", "clear_vulnerability", "view_reports", "manage_operators", "reassign_any"},
        ),
        (
            "supervisor",
            {"work_conversations", "close_cases", "clear_vulnerability", "view_reports", "reassign_any"},
            {"manage_operators"},
        ),
        ("admin", {"work_conversations", "close_cases", "view_reports", "manage_operators"}, set()),
    ],
)
def test_each_role_has_what_the_roles_below_it_have(role, allowed, refused):
    assert all(may(role, p) for p in allowed)
    assert not any(may(role, p) for p in refused)
    assert not may(role, "no-such-permission")
    assert not may("root", "work_conversations")


def test_an_inactive_operator_may_do_nothing():
    op = Operator("ada", "admin", active=False, created_at=NOW)
    assert not op.may("work_conversations")


def test_names_roles_and_passwords_are_checked():
    assert check_name(" Alice.W ") == "alice.w"
    for bad in ("a", "1abc", "bob smith", "x" * 40, "<script>"):
        with pytest.raises(InvalidOperator):
            check_name(bad)
    assert check_role("supervisor") == "supervisor"
    with pytest.raises(InvalidOperator):
        check_role("root")
    with pytest.raises(InvalidOperator):
        check_password("short")
    with pytest.raises(InvalidOperator):
        check_password(" padded password ")
    assert check_password("long enough pw") == "long enough pw"


def test_throttle_locks_after_five_failures_and_doubles():
    throttle = LoginThrottle(max_failures=5, lock_minutes=5, max_lock_minutes=60)
    assert not throttle.is_locked(4, NOW, NOW)
    assert throttle.is_locked(5, NOW, NOW + timedelta(minutes=4))
    assert not throttle.is_locked(5, NOW, NOW + timedelta(minutes=5))
    assert throttle.locked_until(6, NOW) == NOW + timedelta(minutes=10)
    assert throttle.locked_until(7, NOW) == NOW + timedelta(minutes=20)
    assert throttle.locked_until(50, NOW) == NOW + timedelta(minutes=60)
    assert not throttle.is_locked(9, None, NOW)


def test_a_session_round_trips_and_a_forged_one_is_refused():
    codec = SessionCodec("a-secret-for-tests", idle_minutes=30)
    session = codec.new("alice", NOW)
    cookie = codec.dumps(session)
    assert codec.loads(cookie, now=NOW) == session
    other = SessionCodec("another-secret", idle_minutes=30)
    assert other.loads(cookie, now=NOW) is None
    assert codec.loads(cookie[:-2] + "xx", now=NOW) is None
    assert codec.loads("", now=NOW) is None
    assert codec.loads("x" * 5000, now=NOW) is None


def test_a_session_expires_after_the_idle_timeout(monkeypatch):
    import itsdangerous.timed

    codec = SessionCodec("a-secret-for-tests", idle_minutes=30)
    clock = [NOW.timestamp()]
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: clock[0])
    cookie = codec.dumps(codec.new("alice", NOW))
    clock[0] += 29 * 60
    assert codec.loads(cookie, now=NOW + timedelta(minutes=29)) is not None
    clock[0] += 2 * 60
    assert codec.loads(cookie, now=NOW + timedelta(minutes=31)) is None


def test_a_session_resigned_within_the_idle_time_lasts_but_never_beyond_twelve_hours(monkeypatch):
    import itsdangerous.timed

    codec = SessionCodec("a-secret-for-tests", idle_minutes=30)
    clock = [NOW.timestamp()]
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: clock[0])
    session = codec.new("alice", NOW)
    cookie = codec.dumps(session)
    for _ in range(23):  # active every 25 minutes for 9.6 hours
        clock[0] += 25 * 60
        assert codec.loads(cookie, now=datetime.fromtimestamp(clock[0], tz=timezone.utc)) is not None
        cookie = codec.dumps(session)
    clock[0] = NOW.timestamp() + 12 * 3600 + 60
    cookie = codec.dumps(session)
    assert codec.loads(cookie, now=datetime.fromtimestamp(clock[0], tz=timezone.utc)) is None


def test_a_session_ends_with_log_out_and_with_deactivation():
    codec = SessionCodec("a-secret-for-tests", idle_minutes=30)
    session = codec.new("alice", NOW)
    alice = Operator("alice", "agent", active=True, created_at=NOW)
    assert session_valid_for(session, alice)
    logged_out = Operator(
        "alice", "agent", active=True, created_at=NOW, sessions_valid_after=NOW + timedelta(seconds=1)
    )
    assert not session_valid_for(session, logged_out)
    assert not session_valid_for(session, Operator("alice", "agent", active=False, created_at=NOW))
    assert not session_valid_for(session, Operator("bob", "agent", active=True, created_at=NOW))
    assert not session_valid_for(session, None)
    assert session_valid_for(codec.new("alice", NOW + timedelta(seconds=2)), logged_out)


def test_csrf_tokens_must_match_the_session():
    codec = SessionCodec("a-secret-for-tests", idle_minutes=30)
    session = codec.new("alice", NOW)
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, None)
    assert not csrf_ok(session, "")
    assert not csrf_ok(session, codec.new("alice", NOW).csrf)
    assert not csrf_ok(None, session.csrf)


def test_what_the_console_tells_the_borrower_comes_from_the_domain_in_their_language():
    from bot.ops.console.responses import response_text

    assert response_text("utter_person_joined", "en") == (
        "A member of our team has joined this chat. You're now talking with a person."
    )
    assert response_text("utter_person_joined", None).startswith("A member of our team")
    assert response_text("utter_person_joined", "zh") == "我们的工作人员已加入对话。现在与您交谈的是真人。"
    assert response_text("utter_person_left", "zh").startswith("现在由我们的自动助手")
