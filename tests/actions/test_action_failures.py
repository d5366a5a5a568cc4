"""An unexpected error inside any action gets a polite answer, not silence or a 500 with the tracker."""

from __future__ import annotations

import asyncio
import logging

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions import account, common, offers
from actions.domain_file import load_domain

DOMAIN = load_domain()  # domain.yml, a directory of topic files, merged


def tracker() -> Tracker:
    return Tracker(
        "t-fail",
        {"verified": True, "verified_loan_ref": "LN-10001"},
        {"intent": {"name": "ask_balance"}, "text": "my dob is 1985-03-12"},
        [],
        False,
        None,
        {},
        "action_listen",
    )


def explode(*_args, **_kwargs):
    raise RuntimeError("database unreachable: host=db password=secret dob=1985-03-12")


@pytest.mark.parametrize("action_cls", [account.ActionTellBalance, offers.ActionOfferOptions])
def test_an_action_that_fails_answers_politely_and_logs_no_personal_data(monkeypatch, caplog, action_cls):
    monkeypatch.setattr(common, "verified_account", explode)  # behind require_account
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.DEBUG):
        events = asyncio.run(action_cls().run(dispatcher, tracker(), DOMAIN))
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_something_went_wrong"]
    assert "RuntimeError" in caplog.text
    assert "1985" not in caplog.text and "secret" not in caplog.text


def test_the_form_validations_fail_politely_too(monkeypatch):
    from actions import verification

    monkeypatch.setattr(verification, "parse_verification_details", explode)
    t = Tracker(
        "t-fail",
        {"requested_slot": "date_of_birth", "loan_ref": "LN-10001", "date_of_birth": "x"},
        {"intent": {"name": "inform"}, "text": "x"},
        [{"event": "user", "text": "x"}, {"event": "slot", "name": "date_of_birth", "value": "x"}],
        False,
        None,
        {"name": "verify_form"},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(verification.ValidateVerifyForm().run(dispatcher, t, DOMAIN))
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_something_went_wrong"]


def test_the_base_classes_are_not_registered_as_actions():
    executor = ActionExecutor()
    executor.register_package("actions")
    # rasa-sdk registers every Action subclass loaded in the process, so actions that other
    # tests define (tests/actions/test_in_process_actions.py) are there when they ran first.
    ours = {name for name, run in executor.actions.items() if _module_of(run).startswith("actions.")}
    assert ours == set(DOMAIN["actions"])


def _module_of(run) -> str:
    return type(getattr(run, "__self__", None) or run).__module__


def test_a_call_arriving_after_rasas_deadline_does_nothing(loans):
    """Rasa told the borrower nothing was recorded (components/patches/action_guard.py); a late
    call — e.g. from a paused action server — must not act on the conversation."""
    import time

    from actions.agreements import ActionRecordAgreement
    from tests.actions.support import run, tracker

    before = loans.count("agreements")
    late = tracker({"verified": True, "verified_loan_ref": "LN-10001"}, sent_at=time.time() - 60)
    dispatcher, events = run(ActionRecordAgreement(), late)
    assert events == [] and dispatcher.messages == []
    assert loans.count("agreements") == before


def _call_an_unreachable_action_server(slots: dict | None = None) -> list:
    """Rasa's own RemoteAction, pointed at a closed port; the events it returns."""
    import socket

    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from components import patches

    patches.install()  # the guard, as when Rasa loads our components

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    domain = Domain.load("domain.yml")
    action = RemoteAction("action_tell_balance", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
    tracker = DialogueStateTracker("t-guard", domain.slots)
    for name, value in (slots or {}).items():
        tracker.update(SlotSet(name, value))
    return asyncio.run(
        action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain)
    )


def test_the_rasa_side_guard_answers_when_the_action_server_is_unreachable():
    events = _call_an_unreachable_action_server()
    texts = [e.text for e in events if getattr(e, "text", None)]
    assert texts and "nothing was recorded" in texts[0]
    assert events[-1].action_name == "action_listen"


def test_session_start_runs_whatever_the_age_of_the_last_message(loans):
    """A returning borrower's last message is from the previous session: the new
    session must still start (and reset verification)."""
    import time

    from actions.session import ActionSessionStart
    from tests.actions.support import run, tracker

    old = tracker(
        {"verified": True, "verified_loan_ref": "LN-10001"},
        sent_at=time.time() - 7200,
        extra_events=[{"event": "action", "name": "action_listen"}],
    )
    dispatcher, events = run(ActionSessionStart(), old)
    assert [m["response"] for m in dispatcher.messages] == ["utter_intro"]
    assert events[0]["event"] == "session_started"


def test_the_guard_answers_a_chinese_borrower_in_chinese(monkeypatch, request):
    from bot import bootstrap

    monkeypatch.setenv("LENDER_HOURS_ZH", "周一至周五 9:00–17:00")
    bootstrap.reset()
    request.addfinalizer(bootstrap.reset)
    events = _call_an_unreachable_action_server({"language": "zh"})
    [text] = [e.text for e in events if getattr(e, "text", None)]
    assert "本次没有记录任何内容" in text and "周一至周五 9:00–17:00" in text
