"""components/patches/speedups.py changes how fast Rasa does things, never what it does."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from components import patches
from components.patches.speedups import (
    _quickly_valid,
    _response_validator,
    _validate_action_result,
    close_kept_sessions,
)
from tests.ports import free_port

EVENT_NAMES = [
    "user",
    "action",
    "slot",
    "bot",
    "active_loop",
    "followup",
    "restart",
    "session_started",
    "reset_slots",
    "form",
    "undo",
    "rewind",
    "reminder",
    "agent",
    "no_such_event",
]
FIELDS = [
    "name",
    "value",
    "text",
    "timestamp",
    "metadata",
    "policy",
    "confidence",
    "parse_data",
    "data",
    "entities",
    "intent",
    "input_channel",
    "trigger_date_time",
    "kill_on_user_msg",
    "validate",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.sampled_from(["name", "x"]), st.text(max_size=3), max_size=2),
)
EVENTS = st.one_of(
    # the event's name is a known one, or anything at all (a list must not crash the quick check)
    st.fixed_dictionaries(
        {"event": st.one_of(st.sampled_from(EVENT_NAMES), VALUES)}, optional={f: VALUES for f in FIELDS}
    ),
    VALUES,
)
RESPONSES = st.fixed_dictionaries(
    {},
    optional={
        "events": st.one_of(st.lists(EVENTS, max_size=4), VALUES),
        "responses": st.one_of(st.lists(VALUES, max_size=2), VALUES),
    },
)


@settings(max_examples=600, deadline=None)
@given(RESPONSES)
def test_the_quick_check_accepts_exactly_what_rasas_schema_accepts(response):
    assert _quickly_valid(response) == _response_validator().is_valid(response)


@pytest.mark.parametrize("name", [["slot"], {"event": "slot"}, 3, None])
def test_an_event_whose_name_is_not_a_string_is_refused_as_rasa_refuses_it(name):
    response = {"events": [{"event": name}]}
    assert _quickly_valid(response) is False
    assert _response_validator().is_valid(response) is False


def test_real_action_responses_pass_the_quick_check():
    response = {
        "events": [
            {"event": "slot", "timestamp": None, "name": "verified", "value": True},
            {"event": "active_loop", "timestamp": None, "name": None},
            {"event": "followup", "timestamp": None, "name": "action_listen"},
        ],
        "responses": [{"response": "utter_verified", "first_name": "Amelia", "buttons": [], "custom": {}}],
    }
    assert _quickly_valid(response)


def test_a_bad_response_gets_rasas_own_error():
    with pytest.raises(ValidationError) as raised:
        _validate_action_result(None, {"events": [{"event": "slot", "name": 7}]})
    assert "Failed to validate Action server response" in raised.value.message


def test_action_calls_share_one_connection_and_survive_a_restarted_action_server():
    """Two calls, one TCP connection; after the action server restarts, the next call still works."""
    patches.install()  # as when Rasa loads our components
    domain = Domain.load("domain.yml")
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    port = free_port()
    peers: list[tuple] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [{"event": "slot", "name": "verified", "value": True}], "responses": []})

    async def serve() -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    async def scenario() -> list:
        action = RemoteAction("action_tell_balance", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
        tracker = DialogueStateTracker("t-keep", domain.slots)
        call = lambda: action.run(CollectingOutputChannel(), nlg, tracker, domain)  # noqa: E731
        runner = await serve()
        first, second = await call(), await call()
        await runner.cleanup()  # the action server goes away...
        runner = await serve()  # ...and comes back
        third = await call()
        await close_kept_sessions()
        await runner.cleanup()
        return [first, second, third]

    results = asyncio.run(scenario())
    assert all([e.key for e in events] == ["verified"] for events in results)  # no polite-failure answer
    assert peers[0] == peers[1] and len(peers) == 3
