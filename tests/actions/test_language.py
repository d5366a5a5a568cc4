"""The borrower's choice of language (actions/language.py) and the step asked again in
it (action_back_to_step after action_choose_language). Nothing is recorded, cancelled
or handed off."""

from __future__ import annotations

import pytest

from actions.agreements import ActionProposePayNow
from actions.language import ActionChooseLanguage
from actions.steps import ActionBackToStep
from tests.actions.support import (
    DOMAIN,
    LENDER,
    bot_event,
    message,
    names,
    propose,
    run,
    slots_of,
    snapshot,
    tracker,
    user_event,
    verified,
)


def _said(dispatcher) -> list[str]:
    return [m["text"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("text", "spoken", "wanted", "ack"),
    [
        ("I would like to speak English please", "en", "en", "Of course, we'll continue in English."),
        ("请说英文", "zh", "en", "Of course, we'll continue in English."),
        ("Chinese please", "en", "zh", "好的，我们用中文继续。"),
        ("能用中文吗", "zh", "zh", "好的，我们用中文继续。"),
        ("不要英文，说中文", "en", "zh", "好的，我们用中文继续。"),
    ],
)
def test_the_language_asked_for_is_said_in_and_kept(loans, text, spoken, wanted, ack):
    before = snapshot(loans)
    dispatcher, events = run(ActionChooseLanguage(), tracker({"language": spoken}, intent="choose_language", text=text))
    assert names(dispatcher) == ["utter_language_chosen"]
    assert _said(dispatcher) == [ack]  # rendered in the new language, not the old one
    slots = slots_of(events)
    assert slots["language"] == slots["borrower_language"] == slots["language_chosen"] == wanted
    assert slots["lender_name"] == LENDER
    assert snapshot(loans) == before  # nothing recorded, cancelled or handed off


def test_switching_without_naming_a_language_means_the_other_one_spoken_before(loans):
    # The assistant spoke Chinese; the borrower typed English (the patch then set the
    # slot to English for this turn): "switch languages" still means English.
    history = [{"event": "slot", "name": "language", "value": "zh"}, user_event("你好", "greet"), bot_event("您好")]
    trk = tracker(
        {"language": "en"},
        intent="choose_language",
        text="can we change languages?",
        history=history,
        extra_events=[],
    )
    dispatcher, events = run(ActionChooseLanguage(), trk)
    assert slots_of(events)["language_chosen"] == "en"
    assert _said(dispatcher) == ["Of course, we'll continue in English."]
    history[0]["value"] = "en"
    dispatcher, events = run(ActionChooseLanguage(), trk)
    assert slots_of(events)["language_chosen"] == "zh"


@pytest.mark.parametrize(("text", "spoken"), [("can you speak Spanish?", "en"), ("你们会说日语吗", "zh")])
def test_a_language_it_does_not_speak_gets_the_two_to_choose_from(loans, text, spoken):
    before = snapshot(loans)
    dispatcher, events = run(ActionChooseLanguage(), tracker({"language": spoken}, intent="choose_language", text=text))
    assert names(dispatcher) == ["utter_language_options"]
    for variation in DOMAIN["responses"]["utter_language_options"]:  # each button sends a language's name
        assert [b["payload"] for b in variation["buttons"]] == ["English", "中文"]
    assert events == []  # the language, and everything else, as it was
    assert snapshot(loans) == before


def _after_choice(slots: dict, text: str = "中文"):
    return tracker(
        slots, intent="choose_language", text=text, extra_events=[{"event": "action", "name": "action_choose_language"}]
    )


def test_at_the_reason_question_it_is_asked_again_in_the_language_chosen(loans):
    history = [{"event": "slot", "name": "dialogue_step", "value": "reason"}]
    trk = tracker(
        verified(language="zh", dialogue_step="reason"),
        intent="choose_language",
        text="中文",
        history=[],
        extra_events=[{"event": "action", "name": "action_choose_language"}],
    )
    # dialogue_step was set in the reply before the message
    trk.events[:0] = [user_event("hi", "greet"), *history]
    before = snapshot(loans)
    dispatcher, events = run(ActionBackToStep(), trk)
    assert names(dispatcher) == ["utter_ask_reason"]
    assert slots_of(events) == {"dialogue_step": "reason"}
    assert snapshot(loans) == before
    # Without a language chosen just before, a question answered leaves it open unasked.
    trk.events[-1] = {"event": "action", "name": "action_answer_question"}
    dispatcher, _ = run(ActionBackToStep(), trk)
    assert names(dispatcher) == []


def test_at_the_read_back_the_terms_are_read_again_in_the_language_chosen(loans):
    pending = propose(ActionProposePayNow(), {})
    slots = verified(language="zh", pending_agreement=pending, awaiting_confirmation=True)
    before = snapshot(loans)
    dispatcher, events = run(ActionBackToStep(), _after_choice(slots))
    read_back = message(dispatcher, "utter_confirm_pay_now")
    assert read_back["amount"]  # the same terms, formatted for the language chosen
    assert slots_of(events)["pending_agreement"] == pending
    assert slots_of(events)["awaiting_confirmation"] is True
    assert snapshot(loans) == before  # still waiting for a yes: nothing recorded
    # After a question instead, the read-back is only said to be still open.
    trk = tracker(slots, intent="ask_fees_interest", text="any fees?")
    dispatcher, _ = run(ActionBackToStep(), trk)
    assert names(dispatcher) == ["utter_read_back_still_open"]


def test_the_acknowledgement_exists_in_both_languages():
    variations = DOMAIN["responses"]["utter_language_chosen"]
    assert [v.get("condition", [{}])[0].get("value") for v in variations] == [None, "zh"]


def test_go_back_at_the_reason_question_asks_it_again_rather_than_saying_nothing(loans):
    """有什么还款方案给我看看 (classified go_back) at the reason question had no reply at all."""
    trk = tracker(verified(language="zh", dialogue_step="reason"), intent="go_back", text="有什么还款方案给我看看")
    trk.events[:0] = [user_event("hi", "greet"), {"event": "slot", "name": "dialogue_step", "value": "reason"}]
    before = snapshot(loans)
    dispatcher, events = run(ActionBackToStep(), trk)
    assert names(dispatcher) == ["utter_ask_reason"]
    assert slots_of(events) == {"dialogue_step": "reason"}
    assert snapshot(loans) == before
