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
    read_channel_identity,
    read_widget_token,
    widget_token,
)
from bot.settings import Settings
from channels.socketio import (
    ANONYMOUS_PREFIX,
    BORROWER_PREFIX,
    DOB_MASK,
    MAX_MESSAGE_CHARS,
    SecureSocketIOInput,
    history_messages,
    message_text,
    read_ticket,
    sign_ticket,
)
from components.lock_store import ConversationBusy

WIDGET_SECRET = "widget-secret-for-the-unit-tests-0123456789"
IDENTITY_SECRET = "identity-secret-for-the-unit-tests-0123456789"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def channel(origins: str = "*") -> SecureSocketIOInput:
    return SecureSocketIOInput(widget_secret=WIDGET_SECRET, identity_secret=IDENTITY_SECRET, origins=origins)


def token(loan_ref: str = "LN-10001", *, secret: str = WIDGET_SECRET, now: datetime = NOW, ttl=timedelta(hours=1)):
    return widget_token(loan_ref, secret, now=now, ttl=ttl)


# --- binding a socket to a conversation ---


def test_a_valid_token_binds_a_conversation_of_this_device_and_vouches_for_the_loan():
    binding = channel().bind({"token": token()}, now=NOW)
    assert binding.conversation_id.startswith(BORROWER_PREFIX)
    assert not binding.conversation_id.startswith(ANONYMOUS_PREFIX) and "LN-10001" not in binding.conversation_id
    assert binding.loan_ref == "LN-10001"
    assert read_ticket(binding.ticket, IDENTITY_SECRET, now=NOW, loan_ref="LN-10001") == binding.conversation_id
    assert binding.confirmation()["identified"] is True

    metadata = channel().metadata_for(binding, now=NOW)
    identity = read_channel_identity(
        metadata[METADATA_KEY], IDENTITY_SECRET, now=NOW, conversation_id=binding.conversation_id
    )
    assert (identity.channel, identity.kind, identity.value) == ("web", "loan_ref", "LN-10001")


def test_a_token_alone_never_enters_an_existing_conversation():
    """Issue 12: every holder of a valid token for a loan landed in the same (verified)
    conversation. Now a second device, or a second token, starts its own."""
    first = channel().bind({"token": token("LN-10001")}, now=NOW)
    second_device = channel().bind({"token": token("LN-10001")}, now=NOW)
    new_token = channel().bind({"token": token("LN-10001", now=NOW + timedelta(minutes=5))}, now=NOW)
    assert len({first.conversation_id, second_device.conversation_id, new_token.conversation_id}) == 3


def test_the_same_device_resumes_its_conversation_with_its_ticket_and_a_token_for_the_loan():
    first = channel().bind({"token": token("LN-10001")}, now=NOW)
    # a reload, even with a token minted afresh by the host app
    reload = channel().bind(
        {"token": token("LN-10001", now=NOW + timedelta(minutes=5)), "ticket": first.ticket}, now=NOW
    )
    assert reload.conversation_id == first.conversation_id and reload.loan_ref == "LN-10001"
    assert read_ticket(reload.ticket, IDENTITY_SECRET, now=NOW, loan_ref="LN-10001") == first.conversation_id
    # the ticket with a token for another loan, or with no (or a rejected) token: a new conversation
    other_loan = channel().bind({"token": token("LN-10002"), "ticket": first.ticket}, now=NOW)
    no_token = channel().bind({"ticket": first.ticket}, now=NOW)
    bad_token = channel().bind({"token": token(now=NOW - timedelta(hours=2)), "ticket": first.ticket}, now=NOW)
    for binding in (other_loan, no_token, bad_token):
        assert binding.conversation_id != first.conversation_id
    assert no_token.conversation_id.startswith(ANONYMOUS_PREFIX) and no_token.loan_ref is None
    assert bad_token.conversation_id.startswith(ANONYMOUS_PREFIX) and bad_token.token_rejected


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
    victim = channel().bind({"token": token()}, now=NOW).conversation_id
    binding = channel().bind({"session_id": victim, "ticket": victim, "conversation_id": victim}, now=NOW)
    assert binding.conversation_id != victim and binding.conversation_id.startswith(ANONYMOUS_PREFIX)
    with_token = channel().bind({"token": token(), "session_id": victim, "ticket": victim}, now=NOW)
    assert with_token.conversation_id != victim


def test_a_signed_ticket_resumes_the_anonymous_conversation():
    first = channel().bind({}, now=NOW)
    again = channel().bind({"ticket": first.ticket}, now=NOW)
    assert again.conversation_id == first.conversation_id and again.loan_ref is None


def test_a_ticket_is_bound_to_the_host_apps_user_when_the_token_names_one():
    """A joint loan: another user of the host app on the same device does not resume the first one's chat."""
    import jwt

    def login(sub=None):
        claims = {"loan_ref": "LN-10001", "exp": int(NOW.timestamp()) + 3600, **({"sub": sub} if sub else {})}
        return jwt.encode(claims, WIDGET_SECRET, algorithm="HS256")

    alice = channel().bind({"token": login("alice")}, now=NOW)
    assert channel().bind({"token": login("alice"), "ticket": alice.ticket}, now=NOW).conversation_id == (
        alice.conversation_id
    )
    for other in (login("bob"), login()):
        assert channel().bind({"token": other, "ticket": alice.ticket}, now=NOW).conversation_id != (
            alice.conversation_id
        )
    for bad_sub in (["alice"], "x" * 300):
        bad = jwt.encode({"loan_ref": "LN-10001", "exp": int(NOW.timestamp()) + 3600, "sub": bad_sub}, WIDGET_SECRET)
        assert channel().bind({"token": bad}, now=NOW).token_rejected


def test_a_token_wins_over_an_anonymous_ticket():
    anonymous = channel().bind({}, now=NOW)
    binding = channel().bind({"token": token(), "ticket": anonymous.ticket}, now=NOW)
    assert binding.loan_ref == "LN-10001" and binding.conversation_id != anonymous.conversation_id
    assert not binding.conversation_id.startswith(ANONYMOUS_PREFIX)


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


def test_a_ticket_alone_never_resumes_a_borrowers_conversation():
    """Even signed with our secret: a borrower's conversation needs its ticket and a token for its loan."""
    borrower = channel().bind({"token": token()}, now=NOW)
    assert read_ticket(borrower.ticket, IDENTITY_SECRET, now=NOW) is None
    assert read_ticket(borrower.ticket, IDENTITY_SECRET, now=NOW, loan_ref="LN-10002") is None
    unbound = sign_ticket(borrower.conversation_id, IDENTITY_SECRET, now=NOW)  # signed without the loan
    assert read_ticket(unbound, IDENTITY_SECRET, now=NOW) is None
    assert read_ticket(unbound, IDENTITY_SECRET, now=NOW, loan_ref="LN-10001") is None
    anonymous = channel().bind({}, now=NOW)  # an anonymous ticket is no borrower's
    assert read_ticket(anonymous.ticket, IDENTITY_SECRET, now=NOW, loan_ref="LN-10001") is None


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

    def __init__(self, history=None, refuse: Exception | None = None):
        self.channel = channel(origins="https://app.acme.example")
        self.received = []
        self.emitted = []
        self.rooms = []

        async def on_new_message(message):
            if refuse is not None:
                raise refuse
            self.received.append(message)

        blueprint = self.channel.blueprint(on_new_message)
        self.tracker_store = FakeTrackerStore(history or {})
        agent = SimpleNamespace(
            tracker_store=self.tracker_store,
            domain=SimpleNamespace(session_config=SimpleNamespace(session_expiration_time=60)),
            is_ready=lambda: True,
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


@pytest.mark.parametrize(
    ("refuse", "status"),
    [(ConversationBusy(10), 429), (RuntimeError("tracker store down"), 503)],
    ids=["busy", "failed"],
)
def test_a_message_that_was_not_processed_is_refused_to_the_socket_not_dropped(refuse, status):
    h = Harness(refuse=refuse)
    h.run("connect", "sid-1", {"HTTP_ORIGIN": "https://app.acme.example"}, {})
    h.run("user_uttered", "sid-1", {"message": "hello"})
    [(_, data, room)] = [e for e in h.emitted if e[0] == "message_refused"]
    assert room == "sid-1" and data["status"] == status and data["retry_after"] >= 1


def test_handlers_bind_on_connect_and_ignore_the_clients_session_id_and_metadata():
    victim = BORROWER_PREFIX + "0" * 32
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


def _verified_history(now: float) -> list[dict]:
    return [
        {"event": "action", "name": "action_session_start", "timestamp": now},
        {"event": "session_started", "timestamp": now},
        {"event": "user", "text": "hi", "timestamp": now},
        {"event": "slot", "name": "verified", "value": True, "timestamp": now},
        {"event": "bot", "text": "You owe £250.00.", "data": {}, "timestamp": now},
    ]


def test_a_logged_in_borrower_gets_their_history_on_the_same_device_and_a_signed_identity():
    h = Harness()
    h.run("connect", "sid-2", {}, {"token": widget_token("LN-10001", WIDGET_SECRET, now=datetime.now(timezone.utc))})
    h.run("session_request", "sid-2", None)
    [(_, mine)] = h.rooms
    assert h.emitted[0][1]["identified"] is True and h.emitted[0][1]["session_id"] == mine
    ticket = h.emitted[0][1]["ticket"]
    h.run("user_uttered", "sid-2", {"message": "12 March 1985"})
    [message] = h.received
    assert message.sender_id == mine
    identity = read_channel_identity(
        message.metadata[METADATA_KEY], IDENTITY_SECRET, now=datetime.now(timezone.utc), conversation_id=mine
    )
    assert identity.value == "LN-10001"

    # The same device reloads: its ticket and a (fresh) token for the loan resume it.
    h.tracker_store.events_by_id[mine] = _verified_history(datetime.now(timezone.utc).timestamp())
    h.emitted.clear()
    fresh = widget_token("LN-10001", WIDGET_SECRET, now=datetime.now(timezone.utc))
    h.run("connect", "sid-3", {}, {"token": fresh, "ticket": ticket})
    h.run("session_request", "sid-3", None)
    assert h.rooms[-1] == ("sid-3", mine)
    assert {"sender": "bot", "text": "You owe £250.00.", "buttons": []} in h.emitted[1][1]["messages"]


def test_a_second_device_with_a_valid_token_sees_nothing_of_the_verified_conversation():
    """Issue 12: a second device with a token for the loan got the verified history."""
    mine = BORROWER_PREFIX + "1" * 32
    h = Harness(history={mine: _verified_history(datetime.now(timezone.utc).timestamp())})
    # the first device's conversation, resumable with its ticket
    ticket = sign_ticket(mine, IDENTITY_SECRET, now=datetime.now(timezone.utc), loan_ref="LN-10001")
    h.run(
        "connect",
        "sid-a",
        {},
        {"token": widget_token("LN-10001", WIDGET_SECRET, now=datetime.now(timezone.utc)), "ticket": ticket},
    )
    h.run("session_request", "sid-a", None)
    assert h.rooms == [("sid-a", mine)] and h.emitted[1][1]["messages"]

    h.emitted.clear()
    other = widget_token("LN-10001", WIDGET_SECRET, now=datetime.now(timezone.utc))
    h.run("connect", "sid-b", {}, {"token": other})
    h.run("session_request", "sid-b", None)
    (_, second) = h.rooms[-1]
    assert second != mine and h.emitted[0][1]["identified"] is True
    assert h.emitted[1][1] == {"messages": []}
    h.run("user_uttered", "sid-b", {"message": "how much do I owe?"})
    assert h.received[-1].sender_id == second


def test_a_signed_token_with_a_non_numeric_expiry_gets_an_anonymous_conversation_not_a_crash():
    """Issue 12 section 5: `exp: "tomorrow"` in a correctly signed token crashed the connect handler."""
    import jwt

    h = Harness()
    for i, exp in enumerate(["tomorrow", [1], {"a": 1}, None, float("inf")]):
        bad = jwt.encode({"loan_ref": "LN-10001", "exp": exp}, WIDGET_SECRET, algorithm="HS256")
        h.run("connect", f"sid-{i}", {"HTTP_ORIGIN": "https://app.acme.example"}, {"token": bad})
        h.run("session_request", f"sid-{i}", None)
        confirm = h.emitted[-2][1]
        assert confirm["identified"] is False and confirm["token_rejected"] is True
        assert confirm["session_id"].startswith(ANONYMOUS_PREFIX)


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


@pytest.fixture
def web_server():
    from http.server import ThreadingHTTPServer

    from bot.ops.web import WidgetSite, make_handler

    servers = []

    def start(app_env: str):
        settings = Settings(app_env=app_env, widget_jwt_secret=WIDGET_SECRET)
        site = WidgetSite(settings, "http://127.0.0.1:5005")
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
    for body in (b'{"loan_ref": 5}', b'{"loan_ref": "hello"}', b"[]", b"not json", b"\xff\xfe", b"[" * 5000):
        assert _post(dev + "/demo/token", body[:1024])[0] == 400
    assert _post(dev + "/demo/token", b"x" * 5000)[0] == 413

    for env in ("production", "Production", "staging", ""):
        prod = web_server(env)
        assert _post(prod + "/demo/token", b'{"loan_ref": "LN-10001"}') == (404, {"error": "not found"})
        with urllib.request.urlopen(prod + "/", timeout=5) as response:
            assert 'content="off"' in response.read().decode()


def test_demo_login_answers_the_same_for_loans_that_do_not_exist(web_server):
    """Issue 12: its 404 told whether a loan exists. The store is not even asked now."""
    dev = web_server("development")
    known_status, known = _post(dev + "/demo/token", b'{"loan_ref": "LN-10001"}')
    unknown_status, unknown = _post(dev + "/demo/token", b'{"loan_ref": "LN-99999"}')
    assert known_status == unknown_status == 200
    assert set(known) == set(unknown) == {"token", "loan_ref"}
    assert read_widget_token(unknown["token"], WIDGET_SECRET, now=datetime.now(timezone.utc)) == "LN-99999"
