"""The widget's socket.io channel (channels/socketio.py) and page server (bot/ops/web.py), without Rasa running."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from bot.domain.identity import (
    METADATA_KEY,
    InvalidIdentity,
    conversation_id_for,
    read_channel_identity,
    read_widget_token,
    widget_token,
)
from bot.settings import Settings
from channels.socketio import (
    ANONYMOUS_PREFIX,
    DOB_MASK,
    MAX_MESSAGE_CHARS,
    SecureSocketIOInput,
    history_messages,
    message_text,
    read_ticket,
    sign_ticket,
)

WIDGET_SECRET = "widget-secret-for-the-unit-tests-0123456789"
IDENTITY_SECRET = "identity-secret-for-the-unit-tests-0123456789"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def channel(origins: str = "*") -> SecureSocketIOInput:
    return SecureSocketIOInput(widget_secret=WIDGET_SECRET, identity_secret=IDENTITY_SECRET, origins=origins)


def token(loan_ref: str = "LN-10001", *, secret: str = WIDGET_SECRET, now: datetime = NOW, ttl=timedelta(hours=1)):
    return widget_token(loan_ref, secret, now=now, ttl=ttl)


# --- binding a socket to a conversation ---


def test_a_valid_token_binds_the_borrowers_conversation_and_vouches_for_the_loan():
    binding = channel().bind({"token": token()}, now=NOW)
    assert binding.conversation_id == conversation_id_for("web", "LN-10001", IDENTITY_SECRET)
    assert binding.loan_ref == "LN-10001" and binding.ticket is None
    assert binding.confirmation()["identified"] is True

    metadata = channel().metadata_for(binding, now=NOW)
    identity = read_channel_identity(
        metadata[METADATA_KEY], IDENTITY_SECRET, now=NOW, conversation_id=binding.conversation_id
    )
    assert (identity.channel, identity.kind, identity.value) == ("web", "loan_ref", "LN-10001")


def test_the_same_token_always_reaches_the_same_conversation_and_other_loans_do_not():
    a1 = channel().bind({"token": token("LN-10001")}, now=NOW)
    a2 = channel().bind({"token": token("LN-10001", now=NOW + timedelta(minutes=5))}, now=NOW)
    b = channel().bind({"token": token("LN-10002")}, now=NOW)
    assert a1.conversation_id == a2.conversation_id != b.conversation_id


@pytest.mark.parametrize(
    "bad_token",
    [
        token(secret="someone-elses-secret-0123456789abcdefgh"),  # forged
        token(now=NOW - timedelta(hours=2)),  # expired
        "not-a-jwt",
        12345,
        ["a", "list"],
        "x" * 100_000,
    ],
    ids=["forged", "expired", "not-a-jwt", "int", "list", "huge"],
)
def test_an_invalid_or_expired_token_falls_back_to_an_anonymous_conversation(bad_token):
    binding = channel().bind({"token": bad_token}, now=NOW)
    assert binding.loan_ref is None
    assert binding.conversation_id.startswith(ANONYMOUS_PREFIX)
    assert binding.token_rejected is True
    assert channel().metadata_for(binding, now=NOW) == {}


@pytest.mark.parametrize("auth", [None, "a string", 42, [], {}, {"ticket": None}, {"token": ""}])
def test_anything_else_gets_a_fresh_anonymous_conversation_with_a_ticket(auth):
    binding = channel().bind(auth, now=NOW)
    assert binding.conversation_id.startswith(ANONYMOUS_PREFIX)
    assert read_ticket(binding.ticket, IDENTITY_SECRET, now=NOW) == binding.conversation_id
    assert binding.token_rejected is False


def test_a_client_cannot_choose_its_conversation():
    victim = conversation_id_for("web", "LN-10001", IDENTITY_SECRET)
    binding = channel().bind({"session_id": victim, "ticket": victim, "conversation_id": victim}, now=NOW)
    assert binding.conversation_id != victim and binding.conversation_id.startswith(ANONYMOUS_PREFIX)


def test_a_signed_ticket_resumes_the_anonymous_conversation():
    first = channel().bind({}, now=NOW)
    again = channel().bind({"ticket": first.ticket}, now=NOW)
    assert again.conversation_id == first.conversation_id and again.loan_ref is None


def test_a_token_wins_over_a_ticket():
    anonymous = channel().bind({}, now=NOW)
    binding = channel().bind({"token": token(), "ticket": anonymous.ticket}, now=NOW)
    assert binding.loan_ref == "LN-10001" and binding.conversation_id != anonymous.conversation_id


def test_forged_tickets_are_refused():
    ticket = channel().bind({}, now=NOW).ticket
    conversation_id, issued, mac = ticket.split(".")
    other = ANONYMOUS_PREFIX + "0" * 32
    assert read_ticket(f"{other}.{issued}.{mac}", IDENTITY_SECRET, now=NOW) is None  # someone else's id, my signature
    assert read_ticket(f"{conversation_id}.{int(issued) + 3600}.{mac}", IDENTITY_SECRET, now=NOW) is None  # extended
    assert read_ticket(conversation_id, IDENTITY_SECRET, now=NOW) is None  # unsigned
    assert read_ticket(f"{conversation_id}.{issued}.{'0' * 64}", IDENTITY_SECRET, now=NOW) is None
    assert (
        read_ticket(
            sign_ticket(conversation_id, "another-secret-0123456789abcdefghijkl", now=NOW), IDENTITY_SECRET, now=NOW
        )
        is None
    )
    for junk in (None, 7, "", ".", "..", "x" * 500, f"{conversation_id}.-5.{mac}", f"{conversation_id}.1e9.{mac}"):
        assert read_ticket(junk, IDENTITY_SECRET, now=NOW) is None


def test_a_ticket_expires_a_day_after_its_last_use():
    first = channel().bind({}, now=NOW)
    later = channel().bind({"ticket": first.ticket}, now=NOW + timedelta(hours=23))
    assert later.conversation_id == first.conversation_id  # and `later` carries a fresh ticket
    again = channel().bind({"ticket": later.ticket}, now=NOW + timedelta(hours=46))
    assert again.conversation_id == first.conversation_id
    expired = channel().bind({"ticket": first.ticket}, now=NOW + timedelta(hours=24, seconds=1))
    assert expired.conversation_id != first.conversation_id and expired.conversation_id.startswith(ANONYMOUS_PREFIX)
    assert read_ticket(first.ticket, IDENTITY_SECRET, now=NOW - timedelta(hours=1)) is None  # issued in the future


def test_a_ticket_never_resumes_a_borrowers_conversation():
    """Even signed with our secret, only anonymous ids are resumable; a borrower needs a token."""
    borrower = conversation_id_for("web", "LN-10001", IDENTITY_SECRET)
    assert read_ticket(sign_ticket(borrower, IDENTITY_SECRET, now=NOW), IDENTITY_SECRET, now=NOW) is None


def test_the_widget_secret_and_the_identity_secret_are_not_interchangeable():
    # A widget token is not a channel identity, so it can't be smuggled to the actions as one.
    with pytest.raises(InvalidIdentity):
        read_channel_identity(token(secret=IDENTITY_SECRET), IDENTITY_SECRET, now=NOW, conversation_id="c")
    assert read_widget_token(token(), WIDGET_SECRET, now=NOW) == "LN-10001"


@pytest.mark.parametrize(
    "origins, origin, allowed",
    [
        ("*", "https://evil.example", True),
        ("https://app.acme.example", "https://app.acme.example", True),
        ("https://app.acme.example, http://localhost:8080", "http://localhost:8080/", True),
        ("https://app.acme.example", "https://evil.example", False),
        ("https://app.acme.example", None, True),  # not a browser
    ],
)
def test_origins(origins, origin, allowed):
    assert channel(origins).origin_allowed(origin) is allowed


@pytest.mark.parametrize(
    "data, text",
    [
        ({"message": "  hi  "}, "hi"),
        ("hi", "hi"),
        ({"message": "x" * 50_000}, "x" * MAX_MESSAGE_CHARS),
        ({"message": ""}, None),
        ({"message": "   "}, None),
        ({"message": 42}, None),
        ({"message": {"nested": "dict"}}, None),
        ({"text": "hi"}, None),
        (None, None),
        (["hi"], None),
        (3.5, None),
    ],
)
def test_message_text(data, text):
    assert message_text(data) == text


# --- history replay ---


def _events(start: float):
    return [
        {"event": "action", "name": "action_session_start", "timestamp": start},
        {"event": "session_started", "timestamp": start},
        {"event": "user", "text": "an earlier session", "timestamp": start},
        # The next session: the greeting is logged before the message that started it.
        {"event": "action", "name": "action_session_start", "timestamp": start + 1},
        {"event": "bot", "text": "Hello.", "data": {}, "timestamp": start + 1},
        {"event": "session_started", "timestamp": start + 1},
        {"event": "action", "name": "action_listen", "timestamp": start + 1},
        {"event": "user", "text": "hi", "timestamp": start + 2},
        {"event": "action", "name": "verify_form", "timestamp": start + 2},
        {"event": "bot", "text": "Thanks.\n\nYour loan reference?", "data": {}, "timestamp": start + 2},
        {"event": "slot", "name": "loan_ref", "value": "LN-10001", "timestamp": start + 2},
        {"event": "user", "text": "EXTERNAL: reminder", "metadata": {"is_external": True}, "timestamp": start + 3},
        {
            "event": "bot",
            "text": "Pick one",
            "timestamp": start + 3,
            "data": {
                "buttons": [
                    {"title": "6 monthly payments", "payload": '/choose_plan{"plan_months": "6"}'},
                    {"title": "Pay now", "payload": "/pay_now"},
                ]
            },
        },
        {"event": "user", "text": '/choose_plan{"plan_months": "6"}', "timestamp": start + 4},
    ]


def test_history_replays_the_current_session_as_the_widget_showed_it():
    messages = history_messages(_events(NOW.timestamp() - 60), session_minutes=60, now=NOW)
    assert messages == [
        {"sender": "user", "text": "hi"},
        {"sender": "bot", "text": "Hello.", "buttons": []},
        {"sender": "bot", "text": "Thanks.", "buttons": []},
        {"sender": "bot", "text": "Your loan reference?", "buttons": []},
        {
            "sender": "bot",
            "text": "Pick one",
            "buttons": [
                {"title": "6 monthly payments", "payload": '/choose_plan{"plan_months": "6"}'},
                {"title": "Pay now", "payload": "/pay_now"},
            ],
        },
        {"sender": "user", "text": "6 monthly payments"},
    ]


def test_a_typed_date_of_birth_is_never_replayed():
    start = NOW.timestamp() - 60
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": start},
        {"event": "session_started", "timestamp": start},
        {"event": "user", "text": "LN-10001", "timestamp": start},
        {"event": "slot", "name": "requested_slot", "value": "date_of_birth", "timestamp": start},
        {"event": "bot", "text": "And your date of birth?", "data": {}, "timestamp": start},
        {"event": "user", "text": "12/03/1984", "timestamp": start + 1},
        {"event": "bot", "text": "Those details don't match.", "data": {}, "timestamp": start + 1},
        {"event": "user", "text": "12 March 1985", "timestamp": start + 2},
        {"event": "slot", "name": "requested_slot", "value": None, "timestamp": start + 2},
        {"event": "bot", "text": "Thank you, you're verified.", "data": {}, "timestamp": start + 2},
        {"event": "user", "text": "I lost my job", "timestamp": start + 3},
    ]
    texts = [m["text"] for m in history_messages(events, session_minutes=60, now=NOW) if m["sender"] == "user"]
    assert texts == ["LN-10001", DOB_MASK, DOB_MASK, "I lost my job"]


def test_an_expired_session_is_not_replayed():
    assert history_messages(_events(NOW.timestamp() - 2 * 3600), session_minutes=60, now=NOW) == []
    assert history_messages([], session_minutes=60, now=NOW) == []


# --- the socket handlers, with a fake Rasa ---


class FakeTrackerStore:
    def __init__(self, events_by_id):
        self.events_by_id = events_by_id

    async def retrieve(self, conversation_id):
        events = self.events_by_id.get(conversation_id)
        if events is None:
            return None
        return SimpleNamespace(events=[SimpleNamespace(as_dict=lambda e=e: e) for e in events])


class Harness:
    """The channel's blueprint with its socket.io server's emit/enter_room recorded."""

    def __init__(self, history=None):
        self.channel = channel(origins="https://app.acme.example")
        self.received = []
        self.emitted = []
        self.rooms = []

        async def on_new_message(message):
            self.received.append(message)

        blueprint = self.channel.blueprint(on_new_message)
        agent = SimpleNamespace(
            tracker_store=FakeTrackerStore(history or {}),
            domain=SimpleNamespace(session_config=SimpleNamespace(session_expiration_time=60)),
        )
        blueprint.ctx.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
        sio = self.channel.sio

        async def emit(event, data=None, room=None, **_):
            self.emitted.append((event, data, room))

        async def enter_room(sid, room, namespace=None):
            self.rooms.append((sid, room))

        sio.emit, sio.enter_room = emit, enter_room
        self.handlers = sio.handlers["/"]

    def run(self, event, *args):
        return asyncio.run(self.handlers[event](*args))


def test_handlers_bind_on_connect_and_ignore_the_clients_session_id_and_metadata():
    victim = conversation_id_for("web", "LN-10001", IDENTITY_SECRET)
    h = Harness(history={victim: [{"event": "user", "text": "my secret", "timestamp": 1e12}]})
    h.run("connect", "sid-1", {"HTTP_ORIGIN": "https://app.acme.example"}, {"session_id": victim})
    [(sid, room)] = h.rooms
    assert sid == "sid-1" and room.startswith(ANONYMOUS_PREFIX)

    h.run("session_request", "sid-1", {"session_id": victim})
    (confirm, data, to), (history, replay, _) = h.emitted
    assert confirm == "session_confirm" and to == "sid-1" and data["session_id"] == room
    assert history == "history" and replay == {"messages": []}  # not the victim's

    forged_identity = "eyJhbGciOiJIUzI1NiJ9.e30.forged"
    h.run(
        "user_uttered",
        "sid-1",
        {"message": "hi", "session_id": victim, "metadata": {METADATA_KEY: forged_identity}, "customData": {"x": 1}},
    )
    [message] = h.received
    assert message.sender_id == room and message.text == "hi"
    assert message.metadata == {} and message.input_channel == "socketio"


def test_a_logged_in_borrower_gets_their_history_and_signed_identity():
    mine = conversation_id_for("web", "LN-10001", IDENTITY_SECRET)
    h = Harness(
        history={
            mine: [
                {"event": "session_started", "timestamp": NOW.timestamp()},
                {"event": "user", "text": "hi", "timestamp": 1e12},
            ]
        }
    )
    h.run("connect", "sid-2", {}, {"token": widget_token("LN-10001", WIDGET_SECRET, now=datetime.now(timezone.utc))})
    h.run("session_request", "sid-2", None)
    assert h.rooms == [("sid-2", mine)]
    assert h.emitted[0][1]["identified"] is True
    assert h.emitted[1][1] == {"messages": [{"sender": "user", "text": "hi"}]}
    h.run("user_uttered", "sid-2", {"message": "12 March 1985"})
    [message] = h.received
    assert message.sender_id == mine
    identity = read_channel_identity(
        message.metadata[METADATA_KEY], IDENTITY_SECRET, now=datetime.now(timezone.utc), conversation_id=mine
    )
    assert identity.value == "LN-10001"


def test_hostile_payloads_and_unknown_sockets_are_ignored():
    h = Harness()
    for data in (None, 42, [], {"message": None}, {"message": ["x"]}):
        h.run("user_uttered", "sid-3", data)  # never connected
    h.run("connect", "sid-3", {}, "not a dict")
    for data in (None, 42, [], {"message": None}, {"message": ["x"]}, "   "):
        h.run("user_uttered", "sid-3", data)
    h.run("session_request", "sid-unknown", None)
    assert h.received == [] and h.emitted == []
    h.run("disconnect", "sid-3", "client disconnect")
    h.run("user_uttered", "sid-3", {"message": "after disconnect"})
    assert h.received == []


def test_a_foreign_origin_is_refused():
    from socketio.exceptions import ConnectionRefusedError

    h = Harness()
    with pytest.raises(ConnectionRefusedError):
        h.run("connect", "sid-4", {"HTTP_ORIGIN": "https://evil.example"}, {})
    assert h.rooms == []


# --- the page server ---


class FakeStore:
    def candidate_loan(self, kind, value):
        return value if (kind, value) == ("loan_ref", "LN-10001") else None


@pytest.fixture
def web_server():
    from http.server import ThreadingHTTPServer

    from bot.ops.web import WidgetSite, make_handler

    servers = []

    def start(app_env: str):
        settings = Settings(app_env=app_env, widget_jwt_secret=WIDGET_SECRET)
        site = WidgetSite(settings, "http://127.0.0.1:5005", store=FakeStore())
        server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _post(url, body: bytes):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_page_points_at_rasa_and_allows_only_its_own_scripts(web_server):
    base = web_server("development")
    with urllib.request.urlopen(base + "/", timeout=5) as response:
        page = response.read().decode()
        csp = response.headers["Content-Security-Policy"]
    assert 'content="http://127.0.0.1:5005"' in page and 'content="on"' in page
    assert "script-src 'self'" in csp and "ws://127.0.0.1:5005" in csp
    with urllib.request.urlopen(base + "/widget/chat-widget.js", timeout=5) as response:
        assert "ChatWidget" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base + "/../bot/settings.py", timeout=5)
    assert missing.value.code == 404


def test_demo_login_mints_a_token_in_development_only(web_server):
    dev = web_server("development")
    status, data = _post(dev + "/demo/token", b'{"loan_ref": "ln10001"}')
    assert status == 200 and data["loan_ref"] == "LN-10001"
    assert read_widget_token(data["token"], WIDGET_SECRET, now=datetime.now(timezone.utc)) == "LN-10001"
    for body in (b'{"loan_ref": "LN-99999"}', b'{"loan_ref": 5}', b"[]", b"not json"):
        assert _post(dev + "/demo/token", body)[0] in (400, 404)
    assert _post(dev + "/demo/token", b"x" * 5000)[0] == 413

    prod = web_server("production")
    assert _post(prod + "/demo/token", b'{"loan_ref": "LN-10001"}') == (404, {"error": "not found"})
    with urllib.request.urlopen(prod + "/", timeout=5) as response:
        assert 'content="off"' in response.read().decode()
