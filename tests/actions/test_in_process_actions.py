"""Actions run in the Rasa replica (`in_process: true`) see and answer exactly what they do over HTTP.

The same Rasa `RemoteAction.run` (with every patch installed) is called twice on
the same tracker: once against the real action server (actions/server.py's app,
served on a port in a thread of this process, so this module's actions are
registered in it too) and once with the action endpoint's `in_process: true`.
rasa-sdk's `ActionExecutor.run` is wrapped to record the call it gets and what it
returns. Compared, for each call: the call dict the executor got (the tracker and
domain the action sees), value for value and type for type; the events Rasa gets
back (timestamps aside: Rasa stamps each event when it reads it); what the loan
store holds afterwards (the database is put back between the two paths).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions.action import ActionExecutionRejection as RasaRejection
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection

from actions import threads
from actions.common import SafeAction
from actions.server import create_action_server
from bot import bootstrap
from bot.ops.endpoints import SECRET_HEADER
from components import patches
from components.patches.speedups import close_kept_sessions
from tests.actions.support import ROOT, clear_caches, copy_sqlite_store, event_types, initial_slots, snapshot, verified
from tests.ports import free_port

SECRET = "in-process-test-secret"
TRICKY = {
    "floats": [0.1, 0.1 + 0.2, 1e-7, 1e20, -0.0, 3.0],
    "ints": [2**53 + 1, -(2**31), 0],
    "text": 'a/b </script> \u2028 \\ " 还款 £12.50 🙂',
    "nested": {"1": [None, True, False, {"k": []}]},
}


class EchoAction(Action):
    """Answers with what it saw, so a difference in the call shows in the answer too."""

    def name(self) -> str:
        return "action_test_in_process_echo"

    async def run(self, dispatcher, tracker, domain):
        # what an action changes in its tracker stays in the action server (here: in its copy)
        tracker.latest_message["entities"].append({"entity": "changed", "value": 1})
        tracker.events[-1]["metadata"]["changed"] = True
        tracker.slots["loan_ref"] = "changed"
        dispatcher.utter_message(text=TRICKY["text"], buttons=[{"title": "是", "payload": "/affirm"}])
        dispatcher.utter_message(json_message={"tricky": TRICKY, "seen": tracker.latest_message})
        dispatcher.utter_message(
            response="utter_something_went_wrong", lender_phone="0800/123", lender_hours="9–5", amount=12.5
        )
        return [SlotSet("loan_ref", TRICKY["text"]), SlotSet("requested_slot", None)]


class RejectingAction(Action):
    def name(self) -> str:
        return "action_test_in_process_rejects"

    async def run(self, dispatcher, tracker, domain):
        raise ActionExecutionRejection(self.name(), "not now 不")


class FailingAction(Action):
    """Not a SafeAction: its error reaches the action server's error handler."""

    def name(self) -> str:
        return "action_test_in_process_fails"

    async def run(self, dispatcher, tracker, domain):
        raise RuntimeError("LN-10001 1985-03-12")


class WhereAmI(SafeAction):
    """Where a SafeAction's run is: in one of the worker threads (actions/threads.py)."""

    def name(self) -> str:
        return "action_test_in_process_thread"

    async def run(self, dispatcher, tracker, domain):
        return [SlotSet("loan_ref", f"{threads.in_worker()} {threading.current_thread().name[:6]}")]


@pytest.fixture(scope="module")
def action_server():
    """The real action server app on a free port, in a thread of this process."""
    app = create_action_server(SECRET)
    port = free_port()
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True))
        loop.run_until_complete(server.startup())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    yield f"http://127.0.0.1:{port}/webhook"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def recorded(monkeypatch) -> list[tuple[Any, Any]]:
    """(call, answer) of every ActionExecutor.run, in order."""
    seen: list[tuple[Any, Any]] = []
    original = ActionExecutor.run

    async def recording(self, action_call):
        import copy

        call = copy.deepcopy(action_call)
        answer = await original(self, action_call)
        seen.append((call, copy.deepcopy(answer)))
        return answer

    monkeypatch.setattr(ActionExecutor, "run", recording)
    return seen


def typed(value: Any) -> Any:
    """The value with the type of every part spelt out (1 and 1.0 and True differ)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    return (type(value).__name__, repr(value))


def untimed(events) -> list:
    return [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in events]


def endpoint(url: str, *, in_process: bool) -> EndpointConfig:
    extra = {"in_process": True} if in_process else {}
    return EndpointConfig(url, headers={SECRET_HEADER: SECRET}, enable_selective_domain=True, **extra)


def make_tracker(domain: Domain, slots: dict, user: list[tuple[str, str]], *, language: str = "en"):
    events: list[dict] = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.5},
        {"event": "session_started", "timestamp": 1.5, "metadata": {"channel": "rest", "n": 0.1 + 0.2}},
        {"event": "slot", "name": "language", "value": language, "timestamp": 1.5},
        *({"event": "slot", "name": k, "value": v, "timestamp": 1.5} for k, v in slots.items()),
    ]
    for text, intent in user:
        ranked = {"name": intent, "confidence": 0.9123456789012345}
        events += [
            {"event": "action", "name": "action_listen", "timestamp": time.time()},
            {
                "event": "user",
                "timestamp": time.time(),
                "text": text,
                "parse_data": {
                    "intent": ranked,
                    "intent_ranking": [ranked, {"name": "deny", "confidence": 1e-7}],
                    "text": text,
                    "entities": [{"entity": "amount", "value": "12.50", "start": 0, "end": 5, "extractor": "x"}],
                    "language": language,
                },
                "input_channel": "rest",
                # JSON has no int keys and no tuples: the action sees {"7": ["a", 2]} both ways
                "metadata": {"tricky": TRICKY, 7: ("a", 2)},
            },
        ]
    return DialogueStateTracker.from_dict("conv-in-process", events, domain.slots)


class TwoPaths:
    """Run one action both ways on the same tracker, the loan store put back in between."""

    def __init__(self, url: str, domain: Domain, recorded: list, loans) -> None:
        self.url, self.domain, self.recorded, self.loans = url, domain, recorded, loans
        self.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        self.db_path = Path(loans.db.engine.url.database)

    async def _run(self, name: str, tracker, *, in_process: bool):
        action = RemoteAction(name, endpoint(self.url, in_process=in_process))
        before = typed(tracker.current_state(EventVerbosity.ALL))
        try:
            return "events", untimed(await action.run(CollectingOutputChannel(), self.nlg, tracker, self.domain))
        except RasaRejection as e:
            return "rejected", (e.action_name, e.message)
        finally:
            await close_kept_sessions()
            assert typed(tracker.current_state(EventVerbosity.ALL)) == before  # Rasa's tracker untouched

    def both(self, name: str, tracker) -> tuple:
        saved = self.db_path.with_suffix(".saved")
        copy_sqlite_store(self.db_path, saved, f"sqlite:///{self.db_path}")
        start = len(self.recorded)
        over_http = asyncio.run(self._run(name, tracker, in_process=False))
        http_calls = self.recorded[start:]
        http_store = self._state()
        copy_sqlite_store(
            saved, self.db_path, f"sqlite:///{self.db_path}"
        )  # the loan store as it was before the HTTP call
        clear_caches()
        start = len(self.recorded)
        in_process = asyncio.run(self._run(name, tracker, in_process=True))
        process_calls = self.recorded[start:]
        assert typed([c for c, _ in process_calls]) == typed([c for c, _ in http_calls]), name
        assert typed([a for _, a in process_calls]) == typed([a for _, a in http_calls]), name
        assert typed(in_process) == typed(over_http), name
        assert self._state() == http_store, name
        return in_process

    def _state(self):
        store = bootstrap.services().store
        agreements, reasons, _ = snapshot(store)
        return event_types(store), len(agreements), reasons


@pytest.fixture
def two_paths(action_server, domain, recorded, loans) -> TwoPaths:
    patches.install()
    return TwoPaths(action_server, domain, recorded, loans)


def test_a_tricky_call_and_answer_are_the_same_both_ways(two_paths, domain):
    tracker = make_tracker(domain, {"loan_ref": TRICKY["text"]}, [("12.50 还款 a/b", "inform")])
    kind, events = two_paths.both("action_test_in_process_echo", tracker)
    assert kind == "events"
    assert any(e.get("name") == "loan_ref" and e.get("value") == TRICKY["text"] for e in events)
    custom = [(e.get("data") or {}).get("custom") or {} for e in events if e["event"] == "bot"]
    assert any(c.get("tricky") == TRICKY for c in custom)


def test_rejection_unknown_action_and_failure_take_the_same_paths(two_paths, domain):
    tracker = make_tracker(domain, {}, [("no", "deny")])
    kind, rejected = two_paths.both("action_test_in_process_rejects", tracker)
    assert (kind, rejected) == ("rejected", ("action_test_in_process_rejects", "not now 不"))
    for name in ("action_test_in_process_fails", "action_nobody_registered"):
        kind, events = two_paths.both(name, tracker)
        # action_guard's polite answer in both
        assert kind == "events" and events[0]["event"] == "bot", name
        assert events[-1] == {"event": "followup", "name": "action_listen"}, name


def test_a_safe_action_runs_in_a_worker_thread_both_ways(two_paths, domain):
    tracker = make_tracker(domain, {}, [("hi", "greet")])
    kind, events = two_paths.both("action_test_in_process_thread", tracker)
    assert kind == "events" and events == [
        {"event": "slot", "name": "loan_ref", "value": "True action"}
    ]  # the replica's event loop is not where the database waits


def test_a_conversation_of_real_actions_is_the_same_both_ways(two_paths, domain):
    """Real actions that read and write the loan store, English and Chinese."""
    steps = [
        ("en", {}, [("hello", "greet")], "action_session_start"),
        ("en", {}, [("LN-10001", "inform")], "validate_verify_form"),
        ("en", verified(), [("how much do I owe", "ask_balance")], "action_account_summary"),
        ("en", verified(), [("I lost my job", "reason_job_loss")], "action_record_reason"),
        ("en", verified(), [("what can I do", "ask_options")], "action_offer_options"),
        ("zh", verified(), [("我想分期", "request_plan")], "action_propose_plan"),
        ("zh", verified("LN-10002"), [("余额多少", "ask_balance")], "action_tell_balance"),
    ]
    answered = 0
    for language, slots, user, action in steps:
        base = {k: v for k, v in initial_slots().items() if v is not None and k != "language"}
        tracker = make_tracker(domain, {**base, **slots}, user, language=language)
        kind, events = two_paths.both(action, tracker)
        answered += kind == "events" and any(e["event"] == "bot" for e in events)
    assert answered >= 5  # most steps said something (each compared above, word for word)


def test_the_call_is_encoded_as_json_dumps_encodes_it(domain):
    """The domain Rasa sends with a form's validate_ action is encoded once per domain object:
    the text is json.dumps's, character for character, before and after it is kept."""
    import json

    from actions import in_process

    sent = domain.as_dict()  # what RemoteAction sends: the domain's own dict, every call
    assert sent is domain.as_dict()
    tracker = make_tracker(domain, {"loan_ref": TRICKY["text"]}, [("12.50 还款 a/b", "inform")])
    state = tracker.current_state(EventVerbosity.ALL)
    other = Domain.load(str(ROOT / "domain.yml")).as_dict()
    bodies = [
        {"next_action": "validate_verify_form", "sender_id": "c", "tracker": state, "version": "3.6", "domain": sent},
        {"next_action": "validate_plan_form", "sender_id": "d", "tracker": TRICKY, "version": "3.6", "domain": sent},
        {"next_action": "validate_plan_form", "sender_id": "d", "tracker": state, "version": "3.6", "domain": other},
        {"domain": sent},
        {"domain": sent, "next_action": "domain not last"},
        {"next_action": "action_x", "tracker": state, "domain": {"small": [1, 2.5, None]}},
        {"next_action": "action_x", "tracker": state},
        {"next_action": "action_x", "domain": None},
        [1, {"domain": sent}],
    ]
    for body in bodies * 2:  # the domain's text kept after the first, and replaced for another domain
        assert in_process.encoded(body) == json.dumps(body)
    with pytest.raises(TypeError):  # what json.dumps raises for the whole body
        in_process.encoded({"tracker": {"x": object()}, "domain": sent})
