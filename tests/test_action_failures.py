"""An unexpected error inside any action gets a polite answer, not silence or a 500 with the tracker."""
from __future__ import annotations

import asyncio
import logging

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions import account, offers

DOMAIN = yaml.safe_load(open("domain.yml"))


def tracker() -> Tracker:
    return Tracker("t-fail", {"verified": True, "verified_loan_ref": "LN-10001"}, {"intent": {"name": "ask_balance"}, "text": "my dob is 1985-03-12"},
                   [], False, None, {}, "action_listen")


def explode(*_args, **_kwargs):
    raise RuntimeError("database unreachable: host=db password=secret dob=1985-03-12")


@pytest.mark.parametrize("action_cls,module", [(account.ActionTellBalance, account), (offers.ActionOfferOptions, offers)])
def test_an_action_that_fails_answers_politely_and_logs_no_personal_data(monkeypatch, caplog, action_cls, module):
    monkeypatch.setattr(module, "verified_account", explode)
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.DEBUG):
        events = asyncio.run(action_cls().run(dispatcher, tracker(), DOMAIN))
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_something_went_wrong"]
    assert "RuntimeError" in caplog.text
    assert "1985" not in caplog.text and "secret" not in caplog.text


def test_the_form_validations_fail_politely_too(monkeypatch):
    from actions import verification

    monkeypatch.setattr(verification, "parse_date_of_birth", explode)
    t = Tracker("t-fail", {"requested_slot": "date_of_birth", "loan_ref": "LN-10001", "date_of_birth": "x"},
                {"intent": {"name": "inform"}, "text": "x"},
                [{"event": "user", "text": "x"}, {"event": "slot", "name": "date_of_birth", "value": "x"}],
                False, None, {"name": "verify_form"}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(verification.ValidateVerifyForm().run(dispatcher, t, DOMAIN))
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_something_went_wrong"]


def test_the_base_classes_are_not_registered_as_actions():
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(DOMAIN["actions"])
