"""Not now is an answer (issue 17): action_defer and action_request_reminder.

What the borrower reads, the audit rows (`decision_deferred`, `reminder_requested`)
and that a read-back waiting for a yes stays valid. Same setup as the other action
tests (tests/actions/support.py): a fresh seeded SQLite store per test.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from actions.agreements import ActionProposePlan, ActionRecordAgreement
from actions.deferral import ActionDefer, ActionRequestReminder, last_reply, offers_shown
from bot.domain.formatting import format_date
from bot.services.deferral import REMIND_AFTER_DAYS
from bot.services.reminders import MAX_REQUESTED_DAYS_AHEAD
from tests.actions.support import (
    HOURS,
    PHONE,
    bot_event,
    buttons,
    day,
    message,
    names,
    run,
    slots_of,
    tracker,
    user_event,
    verified,
)

THINK = "let me think about it"


def defer(slots: dict, *, text: str = THINK, sender: str = "conv-d", **more):
    return run(ActionDefer(), tracker(slots, intent="defer_decision", text=text, sender=sender, **more))


def deferrals(loans, loan_ref: str = "LN-10001") -> list[dict]:
    return [e for e in loans.audit_events(loan_ref) if e["event_type"] == "decision_deferred"]


def reminder_requests(loans, loan_ref: str = "LN-10001") -> list[dict]:
    return [e for e in loans.audit_events(loan_ref) if e["event_type"] == "reminder_requested"]


def offers_history() -> list:
    """The options were the assistant's last reply."""
    offer = bot_event("Here are the options")
    offer["metadata"] = {"utter_action": "utter_offer_options"}
    return [user_event("I lost my job", "reason_unemployment"), offer]


# ---------------------------------------------------------------- a verified borrower


def test_no_pressure_options_open_how_to_come_back_and_a_reminder(loans, today):
    dispatcher, events = defer(verified(reason_code="unemployment"), history=offers_history())
    assert names(dispatcher) == [
        "utter_deferral_no_pressure",
        "utter_deferral_options_open",
        "utter_deferral_how_to_come_back",
        "utter_deferral_offer_reminder",
    ]
    come_back = message(dispatcher, "utter_deferral_how_to_come_back")
    assert come_back["lender_phone"] == PHONE and come_back["lender_hours"] == HOURS
    on = today + timedelta(days=REMIND_AFTER_DAYS)
    offer = message(dispatcher, "utter_deferral_offer_reminder")
    assert offer["date"] == day(on) and offer["channel"] == "SMS"  # Amelia's preferred channel
    assert buttons(offer) == [
        (f"Remind me on {day(on)}", "/request_reminder" + json.dumps({"reminder_date": on.isoformat()})),
        ("No thanks", "/decline_reminder"),
    ]
    assert events == []  # nothing taken off the table
    [event] = deferrals(loans)
    assert event["details"] == {"step": "offers"} and event["conversation_id"] == "conv-d"


def test_recorded_once_per_conversation_and_step(loans):
    slots = verified(reason_code="unemployment")
    for _ in range(2):
        dispatcher, _ = defer(slots, history=offers_history())
        assert "utter_deferral_no_pressure" in names(dispatcher)  # still answered
    assert len(deferrals(loans)) == 1
    defer(slots, history=offers_history(), sender="conv-other")  # another conversation
    defer(slots)  # the same conversation at another step (no options on screen)
    assert [(e["conversation_id"], e["details"]["step"]) for e in deferrals(loans)] == [
        ("conv-d", "offers"),
        ("conv-other", "offers"),
        ("conv-d", "conversation"),
    ]


def test_a_read_back_stays_valid_and_a_later_yes_records_it(loans, today):
    _, events = run(
        ActionProposePlan(),
        tracker(verified(plan_months="3", first_payment_date=(today + timedelta(days=5)).isoformat())),
    )
    pending = slots_of(events)["pending_agreement"]
    slots = verified(reason_code="unemployment", pending_agreement=pending, awaiting_confirmation=True)
    dispatcher, events = defer(slots, text="I need to talk to my partner first")
    assert names(dispatcher)[:2] == ["utter_deferral_no_pressure", "utter_deferral_pending_open"]
    assert not any(e.get("name") in ("pending_agreement", "awaiting_confirmation") for e in events)
    [event] = deferrals(loans)
    assert event["details"] == {"step": "read_back", "pending_kind": "instalment_plan"}
    assert [a for a in loans.agreements() if a.loan_ref == "LN-10001"] == []  # nothing recorded yet

    dispatcher, _ = run(ActionRecordAgreement(), tracker(slots, intent="affirm", text="yes", sender="conv-d"))
    assert "utter_agreement_recorded" in names(dispatcher)
    [agreement] = [a for a in loans.agreements() if a.loan_ref == "LN-10001"]
    assert agreement.kind == "instalment_plan"


def test_before_the_reason_the_options_are_still_to_come(loans):
    dispatcher, _ = defer(verified())
    assert "utter_deferral_options_later" in names(dispatcher)
    assert deferrals(loans)[0]["details"] == {"step": "reason"}


def test_in_the_middle_of_a_form_the_answer_taken_as_its_slot_is_cleared(loans):
    slots = verified(reason_code="unemployment", requested_slot="first_payment_date", first_payment_date=THINK)
    dispatcher, events = defer(slots, active_loop={"name": "plan_form"})
    assert "utter_deferral_options_open" in names(dispatcher)
    assert slots_of(events) == {"first_payment_date": None}
    assert deferrals(loans)[0]["details"] == {"step": "plan_form"}


def test_the_reply_is_in_chinese_for_a_chinese_borrower(loans):
    dispatcher, _ = defer(verified("LN-10007", language="zh"), text="我要和家人商量一下")
    offer = message(dispatcher, "utter_deferral_offer_reminder")
    assert offer["channel"] == "Telegram"
    assert "年" in offer["date"]  # a Chinese date
    [(title, _), (no, _)] = buttons(offer)
    assert title == f"在{offer['date']}提醒我" and no == "不用了，谢谢"
    assert deferrals(loans, "LN-10007")


@pytest.mark.parametrize("text", ["我失业了", "这不是我的贷款", "我想分6期还"])
def test_chinese_the_classifier_filed_here_by_mistake_is_not_a_deferral(loans, text):
    dispatcher, events = defer(verified("LN-10007", language="zh"), text=text)
    assert names(dispatcher) == ["utter_ask_rephrase"] and events == []
    assert deferrals(loans, "LN-10007") == []


@pytest.mark.parametrize("text", ["先不选 过两天回复", "我得看看这个月开销再说"])
def test_chinese_the_step_read_as_not_now_is_a_deferral(loans, text):
    """The words the step reader took as "not now" (actions/steps.py hands on to
    action_defer) are not judged again by the classifier's narrower Chinese list."""
    step_answer = [
        {"event": "action", "name": "action_step_answer"},
        {"event": "followup", "name": "action_defer"},
    ]
    slots = verified("LN-10007", language="zh", reason_code="unemployment")
    dispatcher, _ = defer(slots, text=text, history=offers_history(), extra_events=step_answer)
    assert names(dispatcher)[0] == "utter_deferral_no_pressure"
    assert [e["details"] for e in deferrals(loans, "LN-10007")] == [{"step": "offers"}]


def test_in_a_form_chinese_filed_here_by_mistake_goes_back_to_the_form(loans):
    slots = verified("LN-10007", language="zh", requested_slot="plan_months")
    dispatcher, events = defer(slots, text="我想分6期还", active_loop={"name": "plan_form"})
    assert dispatcher.messages == []
    assert events == [
        {"event": "active_loop", "timestamp": None, "name": None},
        {"event": "slot", "timestamp": None, "name": "plan_months", "value": "我想分6期还"},
        {"event": "followup", "timestamp": None, "name": "plan_form"},
    ]
    assert deferrals(loans, "LN-10007") == []


# ---------------------------------------------------------------- no reminder, or nothing to record


def test_no_reminder_is_offered_when_the_contact_rules_forbid_one(loans):
    loans.record_opt_out("LN-10001", "sms")  # Amelia's preferred channel
    dispatcher, _ = defer(verified(reason_code="unemployment"))
    assert "utter_deferral_offer_reminder" not in names(dispatcher)
    assert names(dispatcher)[-1] == "utter_deferral_how_to_come_back"
    assert len(deferrals(loans)) == 1  # the deferral is still recorded


def test_an_unverified_borrower_gets_a_short_reply_and_nothing_is_recorded(loans):
    before = loans.audit_events()
    dispatcher, events = defer({})
    assert names(dispatcher) == ["utter_deferral_no_rush"] and events == []
    assert loans.audit_events() == before


def test_with_an_arrangement_in_place_and_nothing_read_back_nothing_is_recorded(loans):
    dispatcher, _ = defer(verified("LN-10008"))  # Harry has an active plan
    assert names(dispatcher) == ["utter_deferral_no_rush"]
    assert deferrals(loans, "LN-10008") == []


def test_while_not_collecting_nothing_is_pressed_or_recorded(loans):
    loans.flag_vulnerable("LN-10001", "mental_health")
    dispatcher, _ = defer(verified())
    assert names(dispatcher) == ["utter_deferral_no_rush"]
    assert deferrals(loans) == []


# ---------------------------------------------------------------- the reminder's buttons


def remind(loan_ref="LN-10001", on=None, sender="conv-d", **slots):
    entities = {"reminder_date": on.isoformat() if hasattr(on, "isoformat") else on} if on else None
    return run(
        ActionRequestReminder(),
        tracker(
            verified(loan_ref, **slots),
            intent="request_reminder",
            text="/request_reminder",
            sender=sender,
            entities=entities,
        ),
    )


def test_remind_me_records_the_date_for_the_reminder_run(loans, today):
    on = today + timedelta(days=REMIND_AFTER_DAYS)
    dispatcher, _ = remind(on=on)
    scheduled = message(dispatcher, "utter_reminder_scheduled")
    assert scheduled["date"] == day(on) and scheduled["channel"] == "SMS"
    [event] = reminder_requests(loans)
    assert event["details"] == {"on": on.isoformat(), "reminder_channel": "sms"}
    remind(on=on)  # pressed twice: one row
    assert len(reminder_requests(loans)) == 1


def test_remind_me_without_a_date_uses_the_offered_one(loans, today):
    dispatcher, _ = remind()
    assert message(dispatcher, "utter_reminder_scheduled")["date"] == day(today + timedelta(days=REMIND_AFTER_DAYS))


@pytest.mark.parametrize("days", [0, -1, MAX_REQUESTED_DAYS_AHEAD + 1, 400])
def test_a_date_out_of_range_is_refused(loans, today, days):
    dispatcher, _ = remind(on=today + timedelta(days=days))
    assert names(dispatcher) == ["utter_reminder_unavailable"]
    assert reminder_requests(loans) == []


def test_a_date_that_is_not_a_date_is_refused(loans):
    dispatcher, _ = remind(on="soon")
    assert names(dispatcher) == ["utter_reminder_unavailable"]
    assert reminder_requests(loans) == []


def test_a_reminder_the_contact_rules_no_longer_allow_is_refused(loans, today):
    loans.record_opt_out("LN-10001", "all")
    dispatcher, _ = remind(on=today + timedelta(days=3))
    assert names(dispatcher) == ["utter_reminder_unavailable"]
    assert reminder_requests(loans) == []


def test_remind_me_before_verification_asks_to_verify(loans, today):
    dispatcher, _ = run(
        ActionRequestReminder(),
        tracker({}, intent="request_reminder", entities={"reminder_date": (today + timedelta(days=3)).isoformat()}),
    )
    assert names(dispatcher) == ["utter_verify_first"]
    assert reminder_requests(loans) == []


def test_the_chinese_reminder_confirmation(loans, today):
    on = today + timedelta(days=3)
    dispatcher, _ = remind("LN-10007", on=on, language="zh")
    scheduled = message(dispatcher, "utter_reminder_scheduled")
    assert scheduled["date"] == format_date(on, "zh") and scheduled["channel"] == "Telegram"


# ---------------------------------------------------------------- reading the last reply


def test_the_options_count_only_when_they_were_the_last_reply():
    old = offers_history() + [user_event("what are the fees", "ask_fees_interest"), bot_event("Fees are …")]
    latest = [user_event(THINK, "defer_decision")]
    assert offers_shown(offers_history() + latest)
    assert not offers_shown(old + latest)
    step_slot = [user_event("hi", "greet"), {"event": "slot", "name": "dialogue_step", "value": "offers"}]
    assert offers_shown(step_slot + latest)
    assert last_reply(latest) == []
