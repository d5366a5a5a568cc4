"""The feedback question (issue 14 §5) against a seeded store: asked once when an
agreement is recorded (in the borrower's language, with buttons 1-5 and skip), never
after a crisis or a vulnerability disclosure, and the answer filed in `feedback`
(rating, masked comment, channel, language, loan and agreement)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.agreements import ActionProposePlan, ActionRecordAgreement
from actions.feedback import ActionRecordFeedback, ask_or_carry_on
from bot.adapters.orm import Agreement, Feedback
from tests.actions.support import (
    DOMAIN,
    clear_caches,
    confirm,
    event_types,
    names,
    propose,
    run,
    slots_of,
    tracker,
    user_event,
    verified,
)


def plan(today, loan_ref="LN-10001") -> dict:
    first = today + timedelta(days=7)
    return propose(ActionProposePlan(), {"plan_months": "3", "first_payment_date": first.isoformat()}, loan_ref)


def rows(loans) -> list[Feedback]:
    with loans.db.reader() as s:
        return list(s.scalars(select(Feedback).order_by(Feedback.id)).all())


def asked(loans, today, sender="conv-fb", loan_ref="LN-10001", **slots):
    """An agreement recorded in conversation `sender`; the slots its reply set."""
    dispatcher, events = confirm(plan(today, loan_ref), loan_ref, sender=sender, **slots)
    return dispatcher, slots_of(events)


def answer(text, slots, sender="conv-fb", loan_ref="LN-10001", language="en", channel="rest", intent="inform"):
    trk = tracker(
        verified(loan_ref, language=language, **slots), intent=intent, text=text, sender=sender, channel=channel
    )
    return run(ActionRecordFeedback(), trk)


def test_the_question_is_asked_once_the_agreement_is_recorded(loans, today):
    dispatcher, slots = asked(loans, today)
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_feedback_question"]
    assert slots["feedback_step"] == "asked" and slots["feedback_ref"].startswith("FB-")
    [row] = rows(loans)
    assert (row.feedback_ref, row.status, row.rating, row.comment) == (slots["feedback_ref"], "asked", None, None)
    assert (row.conversation_id, row.channel, row.language) == ("conv-fb", "rest", "en")
    with loans.db.reader() as s:
        agreement = s.get(Agreement, row.agreement_id)
    assert agreement.conversation_id == "conv-fb" and agreement.loan_id == row.loan_id
    assert event_types(loans, "LN-10001")[-2:] == ["agreement_created", "feedback_asked"]


def test_a_rating_with_words_is_filed_masked_and_thanked(loans, today):
    _, slots = asked(loans, today, sender="+447700900001")
    words = "4, quick and easy but my card 4111 1111 1111 1111 was shown"
    dispatcher, events = answer(words, slots, sender="+447700900001", channel="twilio")
    assert names(dispatcher) == ["utter_feedback_thanks_comment"]
    assert slots_of(events) == {"feedback_step": None}
    [row] = rows(loans)
    assert (row.status, row.rating) == ("rated", 4)
    assert row.comment.startswith("quick and easy but my card ")
    assert "4111" not in row.comment  # masked like any borrower text (bot.domain.privacy)
    assert row.answered_at is not None and row.channel == "rest"  # the channel the question was asked on
    given = loans.audit_events("LN-10001")[-1]
    assert given["event_type"] == "feedback_given"
    assert given["details"] == {"feedback_ref": row.feedback_ref, "rating": 4, "comment": True}
    assert "quick" not in str(given)  # the words are in the feedback table only


def test_a_rating_alone_and_a_skip(loans, today):
    _, slots = asked(loans, today)
    dispatcher, _ = answer("5", slots)
    assert names(dispatcher) == ["utter_feedback_thanks"]
    assert (rows(loans)[0].rating, rows(loans)[0].comment) == (5, None)
    # answered already: a second answer changes nothing
    answer("1", slots)
    assert rows(loans)[0].rating == 5


def test_skip_is_filed_as_skipped(loans, today):
    _, slots = asked(loans, today)
    dispatcher, _ = answer("no thanks", slots, intent="deny")
    assert names(dispatcher) == ["utter_feedback_skipped"]
    [row] = rows(loans)
    assert (row.status, row.rating, row.comment) == ("skipped", None, None)
    assert event_types(loans, "LN-10001")[-1] == "feedback_skipped"


@pytest.mark.parametrize("text", ["7", "-1", "0", "10/10"])
def test_a_number_outside_the_scale_gets_the_scale_and_files_nothing(loans, today, text):
    _, slots = asked(loans, today)
    dispatcher, events = answer(text, slots)
    assert names(dispatcher) == ["utter_feedback_scale"]
    assert slots_of(events) == {"feedback_step": "asked_again"}
    assert rows(loans)[0].status == "asked"


def test_in_chinese_the_question_and_a_chinese_rating(loans, today):
    dispatcher, slots = asked(loans, today, loan_ref="LN-10007", language="zh")
    assert names(dispatcher)[-1] == "utter_feedback_question"
    [row] = rows(loans)
    assert row.language == "zh"
    dispatcher, _ = answer("五分，很方便", slots, loan_ref="LN-10007", language="zh")
    assert names(dispatcher) == ["utter_feedback_thanks_comment"]
    [row] = rows(loans)
    assert (row.rating, row.comment, row.language) == (5, "很方便", "zh")


def test_the_buttons_are_one_to_five_and_skip_in_both_languages():
    for variation in DOMAIN["responses"]["utter_feedback_question"]:
        payloads = [b["payload"] for b in variation["buttons"]]
        assert payloads == ["1", "2", "3", "4", "5", "skip"]
    titles = [[b["title"] for b in v["buttons"]][-1] for v in DOMAIN["responses"]["utter_feedback_question"]]
    assert titles == ["Skip", "跳过"]


def test_never_asked_twice_in_a_conversation(loans, today):
    dispatcher, _ = asked(loans, today, feedback_ref="FB-EARLIER1")
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_anything_else"]
    assert rows(loans) == []


def test_never_asked_once_collection_stopped(loans):
    # A stopped conversation records no agreement; the question is refused all the same.
    account = loans.account("LN-10001")
    dispatcher = CollectingDispatcher()
    trk = tracker(verified(collection_stopped=True))  # a crisis, a vulnerability, a dispute ...
    events = ask_or_carry_on(dispatcher, trk, account, agreement_ref="AG-NONE", resolved_kind="pay_now")
    assert events == [] and [m["response"] for m in dispatcher.messages] == ["utter_anything_else"]
    assert rows(loans) == []


@pytest.mark.parametrize(
    ("intent", "text"), [("crisis", "I can't go on"), ("disclose_vulnerability", "I have depression")]
)
def test_never_asked_after_a_crisis_or_disclosure_in_the_conversation(loans, today, intent, text):
    pending = plan(today)
    slots = verified(pending_agreement=pending, awaiting_confirmation=True)
    trk = tracker(slots, text="yes", sender="c", history=[user_event(text, intent)])
    dispatcher, _ = run(ActionRecordAgreement(), trk)
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_anything_else"]
    assert rows(loans) == []


def test_never_asked_of_a_borrower_flagged_vulnerable(loans, today):
    pending = plan(today)
    loans.flag_vulnerable("LN-10001", "mental_health", conversation_id="earlier", channel="rest")
    dispatcher, _ = confirm(pending)
    assert "utter_feedback_question" not in names(dispatcher)
    assert rows(loans) == []


def test_switched_off_by_the_lender(loans, today, monkeypatch):
    monkeypatch.setenv("FEEDBACK_QUESTION", "off")
    clear_caches()
    dispatcher, _ = asked(loans, today)
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_anything_else"]
    assert rows(loans) == []


def test_a_failing_store_never_stops_the_conversation(loans, today, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(type(loans), "ask_feedback", broken)
    dispatcher, slots = asked(loans, today)
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_anything_else"]
    assert "feedback_ref" not in slots
    [agreement] = [a for a in loans.agreements() if a.loan_ref == "LN-10001"]
    assert agreement.status == "active"


def test_before_verification_nothing_is_filed(loans):
    trk = tracker({"feedback_ref": "FB-NOTMINE1"}, intent="inform", text="1")
    dispatcher, _ = run(ActionRecordFeedback(), trk)
    assert names(dispatcher) == ["utter_how_can_i_help"]
    assert rows(loans) == []
