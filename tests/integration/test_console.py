"""The team console over HTTP (issue 15): log-in, throttling, log-out and idle time, CSRF,
and who may do what on every route. Rasa is replaced by a recording fake here (the
real one is in tests/e2e/test_console.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import requests

from bot.adapters.database import Database
from bot.adapters.store import LoanStore
from bot.domain.clock import utcnow
from bot.domain.operators import LoginThrottle
from bot.ops.console.app import build_app
from bot.ops.console.security import hash_password
from bot.ops.demo import seed_demo
from bot.settings import Settings
from tests.console_support import PASSWORD, FakeRasa, csrf_of, login, serving


@pytest.fixture
def console(database_url):
    store = LoanStore(Database(database_url))
    seed_demo(store, date.today())
    for name, role in (("alice", "agent"), ("bob", "agent"), ("sam", "supervisor"), ("ada", "admin")):
        store.add_operator(name, role, hash_password(PASSWORD), by="test")
    rasa = FakeRasa()
    rasa.events["widget-1"] = [
        {"event": "user", "text": "LN-10001"},
        {"event": "user", "text": "12 March 1985"},
        {"event": "bot", "text": "Thanks, you're verified."},
        {"event": "user", "text": "I want to talk to a person"},
    ]
    ref = store.enqueue_handoff(
        conversation_id="widget-1",
        reason="requested",
        transcript=[{"from": "borrower", "text": "I want to talk to a person"}],
        loan_ref="LN-10001",
        channel="socketio",
        reply_by=utcnow() + timedelta(hours=2),
    )
    store.flag_vulnerable("LN-10002", "bereavement")
    case_ref = store.open_case("LN-10003", "dispute", borrower_words="I never had this loan")
    settings = Settings(console_secret="console-test-secret", console_idle_minutes=30)
    app = build_app(settings, store, rasa, throttle=LoginThrottle(max_failures=3, lock_minutes=5))
    with serving(app) as url:
        yield {"url": url, "store": store, "rasa": rasa, "handoff": ref, "case": case_ref, "app": app}


def post(session, url, path, data=None, csrf=True):
    data = dict(data or {})
    if csrf:
        data["csrf"] = csrf_of(session, url)
    return session.post(f"{url}{path}", data=data, allow_redirects=False)


GET_ROUTES = [
    "/",
    "/queue",
    "/handoffs/{ho}",
    "/cases",
    "/vulnerability",
    "/loans",
    "/loans/LN-10001",
    "/dashboard",
    "/operators",
]
POST_ROUTES = [
    "/logout",
    "/language",
    "/handoffs/{ho}/claim",
    "/handoffs/{ho}/release",
    "/handoffs/{ho}/reassign",
    "/handoffs/{ho}/take-over",
    "/handoffs/{ho}/send",
    "/handoffs/{ho}/hand-back",
    "/handoffs/{ho}/note",
    "/cases/CS-X/close",
    "/loans/LN-10002/clear-vulnerability",
    "/operators",
    "/operators/bob",
]


PUBLIC_ROUTES = [("GET", "/health"), ("GET", "/login"), ("POST", "/login"), ("GET", "/static/console.css")]
API_ROUTES = ["/handoffs/{ho}/messages"]  # the live transcript's polling: 401, not a redirect


def test_these_lists_hold_every_route_of_the_console(console):
    """A route added to the console without a place in these lists (so in the tests below) fails here."""
    listed = (
        [("GET", p) for p in GET_ROUTES + API_ROUTES + ["/dashboard/chart.png"]]
        + [("POST", p) for p in POST_ROUTES]
        + PUBLIC_ROUTES
    )
    listed = [(method, path.format(ho="HO-TEST")) for method, path in listed]
    for route in console["app"].routes:
        methods = set(getattr(route, "methods", None) or {"GET"}) - {"HEAD"}  # a Mount has none: GET
        for method in sorted(methods):
            assert any(m == method and route.path_regex.match(path) for m, path in listed), (method, route.path)


def test_anonymous_visitors_are_sent_to_log_in_on_every_route(console):
    url, ho = console["url"], console["handoff"]
    for path in GET_ROUTES + ["/dashboard/chart.png"]:
        answer = requests.get(url + path.format(ho=ho), allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    for path in POST_ROUTES:
        answer = requests.post(url + path.format(ho=ho), data={"csrf": "x"}, allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    assert requests.get(f"{url}/handoffs/{ho}/messages").status_code == 401
    assert console["rasa"].events["widget-1"][-1]["text"] == "I want to talk to a person"  # nothing happened


def test_a_post_without_the_sessions_csrf_token_is_refused_on_every_route(console):
    url, ho = console["url"], console["handoff"]
    s, _ = login(url, "ada")
    for path in POST_ROUTES:
        for data in ({}, {"csrf": "forged"}):
            answer = s.post(url + path.format(ho=ho), data=data, allow_redirects=False)
            assert answer.status_code == 403, path
    assert console["store"].handoff(ho)["claimed_by"] is None
    login_form = requests.post(f"{url}/login", data={"name": "ada", "password": PASSWORD}, allow_redirects=False)
    assert login_form.status_code == 403


def test_an_agent_gets_403_on_supervisor_and_admin_actions(console):
    url, ho = console["url"], console["handoff"]
    s, answer = login(url, "alice")
    assert answer.status_code == 303 and answer.headers["location"] == "/queue"
    for path in ("/dashboard", "/dashboard/chart.png", "/operators"):
        assert s.get(url + path).status_code == 403, path
    assert post(s, url, "/loans/LN-10002/clear-vulnerability", {"note": "agreed"}).status_code == 403
    assert post(s, url, "/operators", {"name": "eve", "role": "admin", "password": PASSWORD}).status_code == 403
    assert post(s, url, "/operators/alice", {"role": "admin"}).status_code == 403
    assert post(s, url, "/cases/CS-X/close", {"outcome": "upheld", "note": "x"}).status_code == 403
    assert console["store"].operator("eve") is None and console["store"].operator("alice").role == "agent"
    assert [v["loan_ref"] for v in console["store"].vulnerable_loans()] == ["LN-10002"]
    # what an agent may see
    for path in ("/queue", f"/handoffs/{ho}", "/cases", "/vulnerability", "/loans/LN-10001"):
        assert s.get(url + path).status_code == 200, path
    page = s.get(f"{url}/loans/LN-10001").text
    assert "Amelia Clarke" in page and "+44" in page and "1985" not in page  # contact details, never the date of birth


def test_another_operators_claimed_conversation_is_refused(console):
    url, ho, rasa = console["url"], console["handoff"], console["rasa"]
    alice, _ = login(url, "alice")
    bob, _ = login(url, "bob")
    assert post(alice, url, f"/handoffs/{ho}/claim").status_code == 303
    for path, data in (
        ("claim", {}),
        ("take-over", {}),
        ("send", {"text": "hello"}),
        ("hand-back", {}),
        ("release", {}),
        ("reassign", {"to": "bob"}),
    ):
        answer = post(bob, url, f"/handoffs/{ho}/{path}", data)
        assert answer.status_code == 403 and "being worked by alice" in answer.text, path
    assert console["store"].handoff(ho)["claimed_by"] == "alice"
    assert [e["event"] for e in rasa.events["widget-1"]] == ["user", "user", "bot", "user"]  # Rasa untouched


def test_an_agent_works_a_conversation_and_every_step_is_audited_with_their_name(console):
    url, ho, rasa, store = console["url"], console["handoff"], console["rasa"], console["store"]
    alice, _ = login(url, "alice")
    queue = alice.get(f"{url}/queue").text
    assert ho in queue and "requested" in queue
    post(alice, url, f"/handoffs/{ho}/claim")
    page = alice.get(f"{url}/handoffs/{ho}").text
    assert "[withheld: date of birth]" in page and "12 March 1985" not in page  # the transcript is masked
    assert "English" in page and "socketio" in page
    assert post(alice, url, f"/handoffs/{ho}/send", {"text": "too early"}).status_code == 409  # take over first
    assert post(alice, url, f"/handoffs/{ho}/take-over").status_code == 303
    assert rasa.tracker("widget-1")["paused"]
    assert post(alice, url, f"/handoffs/{ho}/send", {"text": ""}).status_code == 400
    assert post(alice, url, f"/handoffs/{ho}/send", {"text": "x" * 1001}).status_code == 400
    assert post(alice, url, f"/handoffs/{ho}/send", {"text": "Hi, I'm Alice from the team."}).status_code == 303
    assert rasa.events["widget-1"][-1] == {
        "event": "bot",
        "text": "Hi, I'm Alice from the team.",
        "metadata": {"operator": "alice"},
    }
    rasa.events["widget-1"].append({"event": "user", "text": "thanks Alice"})
    polled = alice.get(f"{url}/handoffs/{ho}/messages", params={"after": 4}).json()
    assert [(line["from"], line["text"]) for line in polled["lines"]] == [
        ("system", "pause"),
        ("agent", "A member of our team has joined this chat. You're now talking with a person."),
        ("agent", "Hi, I'm Alice from the team."),
        ("borrower", "thanks Alice"),
    ]
    assert polled["paused"] is True
    assert post(alice, url, f"/handoffs/{ho}/hand-back", {"note": "explained the options"}).status_code == 303
    assert not rasa.tracker("widget-1")["paused"]
    assert (
        rasa.events["widget-1"][-2]["text"] == "You're back with our automated assistant. Write whenever you're ready."
    )
    assert rasa.events["widget-1"][-2]["metadata"] == {"operator": "alice", "response": "utter_person_left"}
    assert store.handoff(ho)["status"] == "done"
    trail = [
        (e["event_type"], e["details"].get("by"))
        for e in store.loan_report("LN-10001")["audit_events"]
        if e["event_type"].startswith(("handoff_", "conversation_", "agent_"))
    ]
    assert trail == [
        ("handoff_requested", None),
        ("handoff_claimed", "alice"),
        ("conversation_taken_over", "alice"),
        ("agent_message_sent", "alice"),
        ("conversation_handed_back", "alice"),
        ("handoff_completed", "alice"),
    ]


def test_a_supervisor_clears_a_vulnerability_flag_and_sees_the_dashboard(console):
    url, store = console["url"], console["store"]
    sam, _ = login(url, "sam")
    assert "LN-10002" in sam.get(f"{url}/vulnerability").text
    assert post(sam, url, "/loans/LN-10002/clear-vulnerability", {"note": ""}).status_code == 400
    assert post(sam, url, "/loans/LN-10002/clear-vulnerability", {"note": "agreed a pause"}).status_code == 303
    assert store.vulnerable_loans() == []
    reviewed = [e for e in store.loan_report("LN-10002")["audit_events"] if e["event_type"] == "vulnerability_reviewed"]
    assert reviewed[-1]["details"] == {"by": "sam", "note": "agreed a pause"}
    dashboard = sam.get(f"{url}/dashboard", params={"from": "2026-11-01", "to": "2026-12-31"})
    assert dashboard.status_code == 200 and "2026-11-01" in dashboard.text
    chart = sam.get(f"{url}/dashboard/chart.png", params={"from": "2026-11-01", "to": "2026-12-31"})
    assert chart.status_code == 200 and chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert sam.get(f"{url}/operators").status_code == 403
    case = console["case"]
    assert "I never had this loan" in sam.get(f"{url}/cases").text
    assert post(sam, url, f"/cases/{case}/close", {"outcome": "upheld", "note": ""}).status_code == 400
    assert post(sam, url, f"/cases/{case}/close", {"outcome": "upheld", "note": "loan corrected"}).status_code == 303
    assert store.cases("LN-10003")[0]["status"] == "closed"


def test_an_admin_adds_and_deactivates_operators(console):
    url, store = console["url"], console["store"]
    assert store.operator("eve") is None
    ada, _ = login(url, "ada")
    assert post(ada, url, "/operators", {"name": "eve", "role": "agent", "password": "short"}).status_code == 400
    assert post(ada, url, "/operators", {"name": "eve", "role": "agent", "password": PASSWORD}).status_code == 303
    eve, answer = login(url, "eve")
    assert answer.status_code == 303
    assert post(ada, url, "/operators/eve", {"role": "agent", "active": "no"}).status_code == 303
    assert eve.get(f"{url}/queue", allow_redirects=False).status_code == 303  # her session ended
    assert login(url, "eve")[1].status_code == 401
    assert post(ada, url, "/operators/ada", {"role": "agent", "active": "yes"}).status_code == 400
    assert store.operator("eve").active is False and store.operator("ada").role == "admin"


def test_log_in_is_throttled_and_says_nothing_of_which_names_exist(console):
    url = console["url"]
    wrong = [login(url, "alice", "wrong password!")[1] for _ in range(3)]
    assert [a.status_code for a in wrong] == [401, 401, 401]
    unknown = login(url, "nobody", "wrong password!")[1]
    assert "do not match" in unknown.text and "do not match" in wrong[0].text
    locked = login(url, "alice")[1]  # the right password, but locked for now
    assert locked.status_code == 429 and "try again in" in locked.text
    assert login(url, "bob")[1].status_code == 303  # others are not affected


def test_log_out_ends_the_session_even_for_a_copied_cookie(console):
    url = console["url"]
    alice, _ = login(url, "alice")
    copied = dict(alice.cookies)
    assert post(alice, url, "/logout").status_code == 303
    assert requests.get(f"{url}/queue", cookies=copied, allow_redirects=False).status_code == 303


def test_log_in_redirects_only_within_the_console(console):
    url = console["url"]
    s = requests.Session()
    page = s.get(f"{url}/login", params={"next": "//evil.example/x"})
    assert 'value="/queue"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = s.post(
        f"{url}/login",
        data={"csrf": csrf, "name": "alice", "password": PASSWORD, "next": "https://evil.example/"},
        allow_redirects=False,
    )
    assert answer.headers["location"] == "/queue"
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_conversation_the_assistant_no_longer_has_shows_the_saved_transcript(console):
    url, store = console["url"], console["store"]
    ref = store.enqueue_handoff(
        conversation_id="gone-1",
        reason="crisis",
        transcript=[{"from": "borrower", "text": "I can't cope"}],
        loan_ref="LN-10004",
        channel="twilio",
        priority="urgent",
        reply_by=utcnow() + timedelta(hours=5),
    )
    alice, _ = login(url, "alice")
    queue = alice.get(f"{url}/queue").text
    assert queue.index(ref) < queue.index(console["handoff"])  # urgent first, though promised later
    page = alice.get(f"{url}/handoffs/{ref}").text
    assert "I can&#39;t cope" in page and "no longer has this conversation" in page


def test_operators_leave_notes_on_a_handoff_for_the_team(console):
    url, ho, store = console["url"], console["handoff"], console["store"]
    alice, _ = login(url, "alice")
    bob, _ = login(url, "bob")
    assert post(alice, url, f"/handoffs/{ho}/note", {"text": ""}).status_code == 400
    assert (
        post(alice, url, f"/handoffs/{ho}/note", {"text": "Call back after 5pm; card 4111 1111 1111 1111"}).status_code
        == 303
    )
    assert post(bob, url, f"/handoffs/{ho}/note", {"text": "Left a voicemail"}).status_code == 303
    notes = store.handoff_notes(ho)
    assert [(n["by"], n["text"]) for n in notes][1] == ("bob", "Left a voicemail")
    assert notes[0]["by"] == "alice" and "4111 1111 1111 1111" not in notes[0]["text"]
    page = bob.get(f"{url}/handoffs/{ho}").text
    assert "Call back after 5pm" in page and "Left a voicemail" in page
    trail = [e for e in store.loan_report("LN-10001")["audit_events"] if e["event_type"] == "handoff_note"]
    assert [e["details"]["by"] for e in trail] == ["alice", "bob"]
