"""Unit tests for every custom action and form validation in `actions/`.

The actions run against rasa-sdk's real `CollectingDispatcher` and `Tracker`, the
parsed `domain.yml` and a fresh, migrated and seeded SQLite loan store per test.
We check what the borrower would see (response names, their values, buttons),
the events and slots returned, and what ends up in the database.

Every uttered response is also checked against the domain: it must exist and
every `{placeholder}` in its text must be filled by the action's values or a
slot, as Rasa's NLG would need. The shared fixtures and helpers are in
`tests/actions/support.py`; the borrower situations added later (disputes,
hardship, settlement, existing plans, questions, fallback, handoff...) are tested
in `tests/actions/test_actions_situations.py`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from dateutil.relativedelta import relativedelta
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from actions.account import ActionAccountSummary, ActionTellBalance
from actions.agreements import (
    ActionProposePayNow,
    ActionProposePlan,
    ActionProposePromise,
    ActionRecordAgreement,
    ActionRejectProposal,
)
from actions.conversation import FAQ_INTENTS, MEANINGS
from actions.handoff import ActionRequestHuman
from actions.offers import (
    ActionAskFirstPaymentDate,
    ActionAskPlanMonths,
    ActionAskPromiseDate,
    ActionOfferOptions,
    ValidatePlanForm,
    ValidatePromiseForm,
)
from actions.reasons import ActionRecordReason
from actions.session import ActionSessionStart, ActionSetReminderLanguage
from actions.verification import ValidateVerifyForm
from bot.adapters.orm import Instalment
from bot.adapters.store import LoanStore
from bot.bootstrap import services
from bot.domain import steps
from bot.domain.agreements import AGREEMENT_KINDS
from bot.domain.clock import utcnow
from bot.domain.formatting import format_date, format_datetime, format_money
from bot.domain.payment_links import verify_payment_token
from bot.domain.policy import PolicyBook
from bot.domain.privacy import unseal
from bot.domain.reasons import HARDSHIP_REASONS, INTENT_TO_REASON, NO_COLLECTION_REASONS, REASON_CODES
from bot.ops.demo import PLAN_HOLDER
from tests.actions.support import (
    DEV_SECRET,
    DOMAIN,
    HOURS,
    LENDER,
    PHONE,
    PLAN_3,
    ROOT,
    SEED_DAY,
    TZ,
    assert_nothing_about_the_loan,
    assert_read_back,
    buttons,
    change_loan,
    clear_caches,
    confirm,
    day,
    event_types,
    message,
    money,
    names,
    propose,
    run,
    slots_of,
    snapshot,
    tracker,
    validate,
    verified,
)

# ================================================================ session start


def test_session_start_introduces_the_lender_and_sets_the_language(loans):
    dispatcher, events = run(ActionSessionStart(), tracker(sender="conv-s", channel="telegram"))
    assert names(dispatcher) == ["utter_intro"]
    assert dispatcher.messages[0]["lender_name"] == LENDER
    assert events[0]["event"] == "session_started"
    # the lender's phone too: responses uttered straight from rules name it (utter_out_of_scope)
    assert slots_of(events) == {
        "lender_name": LENDER,
        "lender_phone": services().settings.lender_phone,
        "language": "en",
    }
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    # audited, without tying the (not yet verified) conversation to any loan
    assert loans.audit_events()[-1] == {
        "event_type": "conversation_started",
        "details": {},
        "conversation_id": "conv-s",
    }
    assert "conversation_started" not in event_types(loans, "LN-10001")


def test_session_start_uses_the_configured_lender_and_language(monkeypatch):
    monkeypatch.setenv("LENDER_NAME", "Beta Loans")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "zh")
    clear_caches()
    dispatcher, events = run(ActionSessionStart(), tracker())
    assert dispatcher.messages[0]["lender_name"] == "Beta Loans"
    assert slots_of(events) == {
        "lender_name": "Beta Loans",
        "lender_phone": services().settings.lender_phone,
        "language": "zh",
    }


@pytest.mark.parametrize("language", ["zh", "en", None, "fr", "<script>", ["zh"]])
def test_a_reminder_speaks_the_language_it_was_sent_for(loans, language):
    entities = {"loan_ref": "LN-10001", **({"language": language} if language else {})}
    trk = tracker(intent="EXTERNAL_payment_reminder", text="", entities=entities, sender="+447700900123")
    dispatcher, events = run(ActionSetReminderLanguage(), trk)
    spoken = language if language in ("en", "zh") else "en"  # anything else: the default language
    assert dispatcher.messages == []  # the rule's utter_reminder_opening speaks next, in that language
    assert slots_of(events) == {"language": spoken, "lender_name": LENDER}


def test_a_chinese_reminder_names_the_lender_as_configured_in_chinese(loans, monkeypatch):
    monkeypatch.setenv("LENDER_NAME_ZH", "艾克米贷款")
    clear_caches()
    trk = tracker(intent="EXTERNAL_payment_reminder", text="", entities={"loan_ref": "LN-10001", "language": "zh"})
    _dispatcher, events = run(ActionSetReminderLanguage(), trk)
    assert slots_of(events) == {"language": "zh", "lender_name": "艾克米贷款"}


# ================================================================ verification


@pytest.mark.parametrize(
    "typed, expected",
    [("LN-10001", "LN-10001"), ("ln10001", "LN-10001"), ("my reference is ln 10001", "LN-10001")],
)
def test_loan_ref_is_normalised(typed, expected):
    dispatcher, result = validate(ValidateVerifyForm(), "loan_ref", typed, tracker(intent="inform", text=typed))
    assert result == {"loan_ref": expected, "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["hello", "12345", "", None])
def test_invalid_loan_ref_is_refused(typed):
    dispatcher, result = validate(ValidateVerifyForm(), "loan_ref", typed, tracker(intent="inform", text=str(typed)))
    assert result == {"loan_ref": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_loan_ref_invalid"]


def test_unparseable_date_of_birth_is_refused_without_a_verification_attempt(loans):
    before = event_types(loans, "LN-10001")
    trk = tracker({"loan_ref": "LN-10001"}, intent="inform", text="banana")
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", "banana", trk)
    assert result == {"date_of_birth": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_dob_invalid"]
    assert event_types(loans, "LN-10001") == before
    assert_nothing_about_the_loan(dispatcher)


def test_ambiguous_date_of_birth_offers_both_readings(loans):
    before = event_types(loans, "LN-10001")
    trk = tracker({"loan_ref": "LN-10001"}, intent="inform", text="12/03/1985")
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", "12/03/1985", trk)
    assert result == {"date_of_birth": None}
    assert names(dispatcher) == ["utter_dob_ambiguous"]
    offered = buttons(dispatcher.messages[0])
    assert [title for title, _ in offered] == ["12 March 1985", "3 December 1985"]
    # each reading travels sealed: the stored conversation never shows it
    secret = services().settings.action_server_secret
    assert [unseal(payload, secret) for _, payload in offered] == ["1985-03-12", "1985-12-03"]
    assert all(payload.startswith('/inform{"dob_choice": "sealed:') and "1985" not in payload for _, payload in offered)
    assert event_types(loans, "LN-10001") == before  # not counted as a failed attempt
    assert_nothing_about_the_loan(dispatcher)


def test_a_sealed_reading_verifies_and_a_forged_one_is_refused(loans):
    from datetime import date

    from actions.verification import dob_choice_payload

    good = dob_choice_payload(date(1985, 3, 12), services().settings.action_server_secret)
    dispatcher, result = validate(
        ValidateVerifyForm(), "date_of_birth", good, tracker({"loan_ref": "LN-10001"}, intent="inform", text=good)
    )
    assert result["verified"] is True
    forged = dob_choice_payload(date(1985, 3, 12), "someone-else's-secret")
    dispatcher, result = validate(
        ValidateVerifyForm(), "date_of_birth", forged, tracker({"loan_ref": "LN-10001"}, intent="inform", text=forged)
    )
    assert names(dispatcher) == ["utter_dob_invalid"] and not result.get("verified")


@pytest.mark.parametrize("typed", ["12 March 1985", "1985-03-12"])  # typed, or the ambiguity button's payload
def test_right_date_of_birth_verifies_and_is_audited(loans, typed):
    trk = tracker({"loan_ref": "LN-10001"}, intent="inform", text=typed, sender="conv-7")
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", typed, trk)
    assert result == {
        "date_of_birth": "checked",  # the date of birth itself is not kept
        "held_date_of_birth": None,
        "verified": True,
        "verified_loan_ref": "LN-10001",
        "language": "en",
        "lender_name": LENDER,
        "invalid_answers": 0,
    }
    assert names(dispatcher) == ["utter_verified"]
    assert dispatcher.messages[0]["text"] == "Thank you, Amelia, you're verified."
    events = loans.loan_report("LN-10001")["audit_events"]
    assert events[-1]["event_type"] == "verification_passed"
    assert events[-1]["channel"] == "rest"
    assert loans.audit_events("LN-10001")[-1]["conversation_id"] == "conv-7"
    # nothing about the debt itself yet: that comes with the collection statement
    text = json.dumps(dispatcher.messages)
    assert "£" not in text and "250" not in text


def test_verified_borrower_gets_their_own_language(loans):
    dispatcher, result = validate(
        ValidateVerifyForm(), "date_of_birth", "2 February 1988", tracker({"loan_ref": "LN-10007"}, intent="inform")
    )
    assert result["verified"] is True and result["language"] == "zh"
    # spoken to in Chinese from this line, as 李女士 would be: family name and title (bot/domain/names.py)
    assert dispatcher.messages[0]["text"] == "谢谢您，Li女士，身份验证已通过。"


def test_the_lender_is_named_in_the_borrowers_language(loans, monkeypatch):
    monkeypatch.setenv("LENDER_NAME_ZH", "艾克米贷款")
    clear_caches()
    _, zh = validate(
        ValidateVerifyForm(), "date_of_birth", "2 February 1988", tracker({"loan_ref": "LN-10007"}, intent="inform")
    )
    _, en = validate(
        ValidateVerifyForm(), "date_of_birth", "12 March 1985", tracker({"loan_ref": "LN-10001"}, intent="inform")
    )
    assert (zh["lender_name"], en["lender_name"]) == ("艾克米贷款", LENDER)


def test_date_of_birth_without_a_loan_ref_waits_for_the_reference(loans):
    before = loans.audit_events()
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", "12 March 1985", tracker(intent="inform"))
    assert result == {"date_of_birth": None}
    assert dispatcher.messages == []
    assert loans.audit_events() == before


def test_wrong_date_of_birth_resets_and_says_attempts_left(loans):
    trk = tracker({"loan_ref": "LN-10001"}, intent="inform", text="1 January 1980")
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", "1 January 1980", trk)
    assert result == {"loan_ref": None, "date_of_birth": None, "verification_failures": 1}
    assert names(dispatcher) == ["utter_verification_failed"]
    assert dispatcher.messages[0]["attempts_left"] == 2
    assert_nothing_about_the_loan(dispatcher)
    assert event_types(loans, "LN-10001")[-1] == "verification_failed"
    assert loans.audit_events("LN-10001")[-1]["details"]["reason"] == "date_of_birth_mismatch"


def test_unknown_loan_gets_the_same_answer_as_a_wrong_date(loans):
    trk = tracker({"loan_ref": "LN-99999"}, intent="inform")
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", "12 March 1985", trk)
    assert result == {"loan_ref": None, "date_of_birth": None, "verification_failures": 1}
    assert names(dispatcher) == ["utter_verification_failed"]
    assert dispatcher.messages[0]["attempts_left"] == 2
    details = loans.audit_events()[-1]["details"]
    assert (details["reason"], details["attempts_left"], details["path"]) == ("unknown_loan", 2, "anonymous")


def test_three_wrong_dates_lock_verification(loans):
    form = ValidateVerifyForm()
    failures = 0
    for expected_left in (2, 1):
        trk = tracker({"loan_ref": "LN-10001", "verification_failures": failures}, intent="inform")
        dispatcher, result = validate(form, "date_of_birth", "1 January 1980", trk)
        assert dispatcher.messages[0]["attempts_left"] == expected_left
        failures = result["verification_failures"]
    before = utcnow()
    trk = tracker({"loan_ref": "LN-10001", "verification_failures": failures}, intent="inform")
    dispatcher, result = validate(form, "date_of_birth", "1 January 1980", trk)
    assert dispatcher.messages == []  # action_account_summary explains the lock
    assert result["verification_locked"] is True
    assert result["verification_failures"] == 3
    assert result["date_of_birth"] is None
    until = datetime.fromisoformat(result["locked_until"])
    assert until.tzinfo is not None
    assert before + timedelta(minutes=29) < until <= utcnow() + timedelta(minutes=30)
    assert event_types(loans, "LN-10001")[-1] == "verification_locked"
    assert "verified" not in result


def test_locked_reference_refuses_even_the_right_date(loans):
    for _ in range(3):
        loans.verify("LN-10001", date(1980, 1, 1), conversation_id="earlier")
    trk = tracker({"loan_ref": "LN-10001"}, intent="inform", sender="later")
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", "12 March 1985", trk)
    assert result["verification_locked"] is True
    assert "verified" not in result
    assert dispatcher.messages == []
    assert event_types(loans, "LN-10001")[-1] == "verification_refused_locked"


def test_failures_across_different_loans_lock_the_conversation(loans):
    trk = tracker({"loan_ref": "LN-10002", "verification_failures": 2}, intent="inform")
    dispatcher, result = validate(ValidateVerifyForm(), "date_of_birth", "12 March 1985", trk)
    assert result["verification_locked"] is True
    assert result["locked_until"]
    assert dispatcher.messages == []
    lock = loans.audit_events()[-1]
    assert (lock["event_type"], lock["details"]["reason"]) == ("verification_locked", "conversation_attempts")


@pytest.mark.parametrize(
    "slots, expected",
    [
        ({}, ["loan_ref", "date_of_birth"]),
        ({"verified": True, "verified_loan_ref": "LN-10001"}, []),
        ({"verification_locked": True}, []),
        ({"invalid_answers": 1}, ["loan_ref", "date_of_birth"]),
        ({"invalid_answers": 2}, []),  # two unusable answers in a row: a person was offered
    ],
)
def test_verify_form_required_slots(slots, expected):
    required = asyncio.run(
        ValidateVerifyForm().required_slots(
            ["loan_ref", "date_of_birth"], CollectingDispatcher(), tracker(slots), DOMAIN
        )
    )
    assert required == expected


def test_verify_form_run_ends_the_form_once_verified():
    """Through rasa-sdk's own FormValidationAction.run, as Rasa calls it."""
    trk = tracker(
        {"loan_ref": "LN-10001", "date_of_birth": "12 March 1985", "requested_slot": "date_of_birth"},
        intent="inform",
        text="12 March 1985",
        extra_events=[{"event": "slot", "name": "date_of_birth", "value": "12 March 1985"}],
        active_loop={"name": "verify_form"},
    )
    dispatcher, events = run(ValidateVerifyForm(), trk)
    slots = slots_of(events)
    assert slots["verified"] is True and slots["verified_loan_ref"] == "LN-10001"
    assert slots["date_of_birth"] == "checked"
    assert slots["requested_slot"] is None
    assert names(dispatcher) == ["utter_verified"]


# ================================================================ account summary


def test_account_summary_for_a_verified_borrower(loans):
    dispatcher, events = run(ActionAccountSummary(), tracker(verified(), sender="conv-1"))
    # the answer is read as the reason first (components/step_policy.py)
    assert slots_of(events) == {"dialogue_step": "reason"}
    assert names(dispatcher) == ["utter_debt_collection_statement", "utter_account_summary", "utter_ask_reason"]
    assert dispatcher.messages[0]["lender_name"] == LENDER
    summary = dispatcher.messages[1]
    assert {
        k: summary[k]
        for k in ("product", "loan_ref", "overdue_amount", "days_past_due", "outstanding_balance", "next_due_date")
    } == {
        "product": "personal loan",
        "loan_ref": "LN-10001",
        "overdue_amount": "£250.00",
        "days_past_due": 12,
        "outstanding_balance": "£3,200.00",
        "next_due_date": day(SEED_DAY + timedelta(days=18)),  # 11 December 2026
    }
    assert summary["next_due_date"] == "11 December 2026"
    disclosure = loans.audit_events("LN-10001")[-1]
    assert disclosure["event_type"] == "disclosure_given"
    assert disclosure["conversation_id"] == "conv-1"


def test_account_summary_in_chinese_for_a_cny_loan():
    dispatcher, _ = run(ActionAccountSummary(), tracker(verified("LN-10007", language="zh")))
    summary = message(dispatcher, "utter_account_summary")
    assert summary["overdue_amount"] == format_money(Decimal("6000.00"), "CNY", "zh")
    assert summary["next_due_date"] == format_date(SEED_DAY + timedelta(days=25), "zh")
    assert summary["product"] == "个人贷款"
    assert message(dispatcher, "utter_debt_collection_statement")["lender_name"] == LENDER  # a brand, not translated


def test_a_product_without_its_own_name_is_called_a_loan(loans):
    change_loan(loans, "LN-10001", product="car_finance")
    english, _ = run(ActionAccountSummary(), tracker(verified()))
    chinese, _ = run(ActionAccountSummary(), tracker(verified(language="zh")))
    assert message(english, "utter_account_summary")["product"] == "loan"
    assert message(chinese, "utter_account_summary")["product"] == "贷款"


def test_contact_details_reach_a_chinese_borrower_in_chinese(loans, monkeypatch):
    dispatcher, _ = run(ActionAccountSummary(), tracker({"verification_locked": True, "language": "zh"}))
    assert message(dispatcher, "utter_verification_locked")["lender_hours"] == "周一至周五，上午9点至下午5点"
    monkeypatch.setenv("LENDER_HOURS", "Mon-Sat 8am-8pm")
    clear_caches()
    dispatcher, _ = run(ActionAccountSummary(), tracker({"verification_locked": True, "language": "zh"}))
    assert (
        message(dispatcher, "utter_verification_locked")["lender_hours"] == "Mon-Sat 8am-8pm"
    )  # not a stale translation
    monkeypatch.setenv("LENDER_HOURS_ZH", "周一至周六，8:00–20:00")
    monkeypatch.setenv("LENDER_NAME_ZH", "艾克米贷款")
    clear_caches()
    dispatcher, _ = run(ActionAccountSummary(), tracker({"verification_locked": True, "language": "zh"}))
    assert (
        message(dispatcher, "utter_verification_locked")["lender_hours"],
        message(dispatcher, "utter_verification_locked")["lender_name"],
    ) == ("周一至周六，8:00–20:00", "艾克米贷款")
    english, _ = run(ActionAccountSummary(), tracker({"verification_locked": True, "language": "en"}))
    assert message(english, "utter_verification_locked")["lender_hours"] == "Mon-Sat 8am-8pm"


def test_account_summary_when_locked_gives_the_lock_and_contact(loans):
    until = datetime(2026, 11, 23, 14, 30, tzinfo=timezone.utc).isoformat()
    before = loans.audit_events()
    dispatcher, events = run(
        ActionAccountSummary(), tracker({"verification_locked": True, "locked_until": until, "loan_ref": "LN-10001"})
    )
    assert events == []
    assert names(dispatcher) == ["utter_verification_locked"]
    msg = dispatcher.messages[0]
    assert msg["locked_until"] == format_datetime(datetime.fromisoformat(until), TZ, "en") == "23 November 2026, 14:30"
    assert (msg["lender_phone"], msg["lender_hours"]) == (PHONE, HOURS)
    assert_nothing_about_the_loan(dispatcher)
    assert loans.audit_events() == before  # no disclosure


def test_account_summary_when_locked_without_a_lock_time():
    dispatcher, events = run(ActionAccountSummary(), tracker({"loan_ref": "LN-10001", "verification_locked": True}))
    assert events == []
    assert names(dispatcher) == ["utter_verification_locked"]
    assert dispatcher.messages[0]["locked_until"] == "-"
    assert_nothing_about_the_loan(dispatcher)


def test_account_summary_after_the_form_gave_up_says_nothing_more(loans):
    """The verify form stopped after two unusable answers (a person was already offered)."""
    before = loans.audit_events()
    dispatcher, events = run(ActionAccountSummary(), tracker({"loan_ref": "LN-10001", "invalid_answers": 2}))
    assert dispatcher.messages == []
    assert slots_of(events) == {"invalid_answers": 0}
    assert loans.audit_events() == before  # no disclosure


def test_account_summary_with_an_existing_plan_does_not_ask_why(loans, today):
    agreement = loans.account(PLAN_HOLDER).open_agreement
    # the seeded plan's first payment is a week from SEED_DAY; keep it a week ahead of today,
    # or it would be missed by now (and said so: tests/actions/test_outcomes.py)
    with loans.db.transaction() as s:
        for instalment in s.scalars(select(Instalment)).all():
            instalment.due_date += today - SEED_DAY
    dispatcher, _ = run(ActionAccountSummary(), tracker(verified(PLAN_HOLDER)))
    assert names(dispatcher) == [
        "utter_debt_collection_statement",
        "utter_account_summary",
        "utter_existing_agreement",
        "utter_anything_else",
    ]
    assert dispatcher.messages[1]["overdue_amount"] == "£300.00"
    existing = dispatcher.messages[2]
    assert existing["kind"] == "payment plan"
    assert existing["agreement_ref"] == agreement.agreement_ref
    assert existing["total_amount"] == "£300.00"
    assert existing["next_amount"] == "£100.00"
    assert existing["next_due_date"] == day(today + timedelta(days=7))
    assert "utter_ask_reason" not in names(dispatcher)


def test_account_summary_with_a_fully_paid_agreement(loans):
    with loans.db.transaction() as s:
        for instalment in s.scalars(select(Instalment)).all():
            instalment.status = "paid"
    dispatcher, _ = run(ActionAccountSummary(), tracker(verified(PLAN_HOLDER)))
    assert names(dispatcher)[2:] == ["utter_existing_agreement_no_schedule", "utter_anything_else"]
    assert dispatcher.messages[2]["total_amount"] == "£300.00"


def test_account_summary_with_nothing_overdue(loans):
    change_loan(loans, "LN-10001", overdue_amount=Decimal("0.00"), days_past_due=0)
    dispatcher, _ = run(ActionAccountSummary(), tracker(verified()))
    assert names(dispatcher) == [
        "utter_debt_collection_statement",
        "utter_account_summary",
        "utter_nothing_overdue",
        "utter_anything_else",
    ]
    assert dispatcher.messages[1]["overdue_amount"] == "£0.00"


# ================================================================ tell balance


@pytest.mark.parametrize("slots", [{}, {"verified": True}, {"verified_loan_ref": "LN-10001"}, {"loan_ref": "LN-10001"}])
def test_tell_balance_before_verification_only_asks_to_verify(loans, slots):
    before = loans.audit_events()
    dispatcher, events = run(ActionTellBalance(), tracker(slots, intent="ask_balance", text="how much do I owe"))
    assert events == []
    assert names(dispatcher) == ["utter_verify_first"]
    assert_nothing_about_the_loan(dispatcher)
    assert loans.audit_events() == before


def test_tell_balance_when_verified():
    dispatcher, events = run(ActionTellBalance(), tracker(verified(), intent="ask_balance"))
    assert events == []
    assert names(dispatcher) == ["utter_account_summary"]
    assert dispatcher.messages[0]["overdue_amount"] == "£250.00"
    assert dispatcher.messages[0]["outstanding_balance"] == "£3,200.00"


def test_tell_balance_mentions_the_existing_plan(loans):
    dispatcher, _ = run(ActionTellBalance(), tracker(verified(PLAN_HOLDER), intent="ask_balance"))
    assert names(dispatcher) == ["utter_account_summary", "utter_existing_agreement"]
    assert dispatcher.messages[1]["agreement_ref"] == loans.account(PLAN_HOLDER).open_agreement.agreement_ref


# ================================================================ reasons


def test_record_reason_stores_code_and_words_and_offers(loans):
    trk = tracker(verified(), intent="reason_unemployment", text="  I lost my job last month ", sender="conv-2")
    dispatcher, events = run(ActionRecordReason(), trk)
    assert slots_of(events)["reason_code"] == "unemployment"
    assert slots_of(events)["dialogue_step"] == "offers"  # the next message is read as an answer to the options
    assert names(dispatcher) == ["utter_empathy_unemployment", "utter_offer_options", "utter_offer_monthly_amount_hint"]
    reasons = loans.loan_report("LN-10001")["reasons"]
    assert [(r["reason_code"], r["borrower_words"], r["channel"]) for r in reasons] == [
        ("unemployment", "I lost my job last month", "rest")
    ]
    audit = loans.audit_events("LN-10001")[-1]
    assert audit["event_type"] == "reason_recorded"
    assert audit["details"] == {"reason_code": "unemployment"}
    assert audit["conversation_id"] == "conv-2"


COLLECTABLE_REASON_INTENTS = sorted(
    (intent, code)
    for intent, code in INTENT_TO_REASON.items()
    if code not in NO_COLLECTION_REASONS and code != "bereavement"
)


def hardship_button(holiday: int, months: int, amount: str) -> tuple[str, str]:
    if holiday:
        title = f"No payments for {holiday} month(s), then {months} monthly payments of {money(amount)}"
    else:
        title = f"Smaller payments: {months} monthly payments of {money(amount)}"
    return title, "/request_hardship" + json.dumps({"holiday_months": str(holiday)})


# LN-10001's £250.00 in hardship: 24 months of £10.41 (the last £10.57), after 0-3 months' holiday
HARDSHIP_BUTTONS = [hardship_button(h, 24, "10.41") for h in range(4)]


@pytest.mark.parametrize("intent, code", COLLECTABLE_REASON_INTENTS)
def test_every_reason_intent(loans, intent, code):
    dispatcher, events = run(ActionRecordReason(), tracker(verified(), intent=intent, text="because"))
    assert slots_of(events)["reason_code"] == code
    assert [c["payload"] for c in slots_of(events)["offer_choices"]] == [
        b["payload"] for b in message(dispatcher, "utter_offer_options")["buttons"]
    ]
    assert loans.loan_report("LN-10001")["reasons"][-1]["reason_code"] == code
    assert names(dispatcher) == [f"utter_empathy_{code}", "utter_offer_options", "utter_offer_monthly_amount_hint"]
    offered = buttons(message(dispatcher, "utter_offer_options"))
    if code in HARDSHIP_REASONS:
        # CONC 7: the gentler options first, and no "pay it all now"
        assert offered == HARDSHIP_BUTTONS + [plan_button(3, "83.33"), plan_button(6, "41.66")]
    else:
        assert offered[0] == ("Pay £250.00 now", "/choose_pay_now")
        assert not any(p.startswith("/request_hardship") for _, p in offered)


def test_hardship_reasons_are_the_intended_ones():
    assert {
        "unemployment",
        "reduced_income",
        "illness",
        "bereavement",
        "family_emergency",
        "over_indebted",
    } == HARDSHIP_REASONS


def test_bereavement_stops_collection_and_hands_over_with_care(loans):
    trk = tracker(verified(), intent="reason_bereavement", text="my husband passed away", sender="conv-b")
    dispatcher, events = run(ActionRecordReason(), trk)
    assert names(dispatcher) == [
        "utter_empathy_bereavement",
        "utter_vulnerability_support",
        "utter_vulnerability_followup",
    ]
    assert dispatcher.messages[1]["debt_advice"] == services().settings.debt_advice
    assert slots_of(events) == {
        "reason_code": "bereavement",
        "collection_stopped": True,
        "pending_agreement": None,
        "awaiting_confirmation": False,
    }
    assert {"event": "active_loop", "timestamp": None, "name": None} in events
    assert "£" not in json.dumps(dispatcher.messages)  # no payment asked for
    assert loans.loan_report("LN-10001")["reasons"][-1]["reason_code"] == "bereavement"
    assert loans.account("LN-10001").vulnerable is True
    [handoff] = loans.handoffs()
    assert (handoff["reason"], handoff["priority"], handoff["conversation_id"]) == ("vulnerability", "normal", "conv-b")
    assert event_types(loans, "LN-10001")[-3:] == ["reason_recorded", "vulnerability_flagged", "handoff_requested"]
    assert loans.audit_events("LN-10001")[-2]["details"] == {"category": "bereavement"}


@pytest.mark.parametrize("intent", sorted(i for i, c in INTENT_TO_REASON.items() if c in NO_COLLECTION_REASONS))
def test_no_collection_reason_intents_never_ask_for_payment(loans, intent):
    dispatcher, events = run(ActionRecordReason(), tracker(verified(), intent=intent, text="because"))
    assert slots_of(events)["reason_code"] == INTENT_TO_REASON[intent]
    assert "utter_offer_options" not in names(dispatcher)
    assert "£" not in json.dumps(dispatcher.messages)


def test_unknown_reason_intent_is_recorded_as_other(loans):
    dispatcher, events = run(ActionRecordReason(), tracker(verified(), intent="inform", text="it's complicated"))
    assert slots_of(events)["reason_code"] == "other"
    assert names(dispatcher)[0] == "utter_empathy_other"
    assert loans.loan_report("LN-10001")["reasons"][-1]["borrower_words"] == "it's complicated"


def test_reason_words_are_capped(loans):
    run(ActionRecordReason(), tracker(verified(), intent="reason_other", text="x" * 5000))
    assert len(loans.loan_report("LN-10001")["reasons"][-1]["borrower_words"]) == 1000


def test_reason_with_an_existing_plan_gets_empathy_but_no_offers(loans):
    dispatcher, _ = run(ActionRecordReason(), tracker(verified(PLAN_HOLDER), intent="reason_illness", text="ill"))
    assert names(dispatcher) == ["utter_empathy_illness"]


def test_reason_before_verification_is_not_recorded(loans):
    before = snapshot(loans)
    dispatcher, events = run(ActionRecordReason(), tracker(intent="reason_unemployment", text="lost my job"))
    assert (names(dispatcher), events) == (["utter_verify_first"], [])
    assert snapshot(loans) == before


# ================================================================ offers


def plan_button(months: int, amount: str) -> tuple[str, str]:
    return (f"{months} monthly payments of {money(amount)}", "/choose_plan" + json.dumps({"plan_months": str(months)}))


def test_offer_options_for_a_personal_loan(today):
    dispatcher, events = run(ActionOfferOptions(), tracker(verified()))
    assert names(dispatcher) == ["utter_offer_options", "utter_offer_monthly_amount_hint"]
    offer = dispatcher.messages[0]
    # The options on screen are remembered, so "the first one" can be read as the first of them.
    shown = [{"title": b["title"], "payload": b["payload"]} for b in offer["buttons"]]
    assert slots_of(events) == {"dialogue_step": "offers", "offer_choices": shown}
    assert offer["overdue_amount"] == "£250.00"
    assert buttons(offer) == [
        ("Pay £250.00 now", "/choose_pay_now"),
        (f"Pay in full by a date (up to {day(today + timedelta(days=14))})", "/choose_promise_to_pay"),
        plan_button(3, "83.33"),
        plan_button(6, "41.66"),  # 12 months would be £20.83, below the £30.00 minimum
    ]
    assert buttons(offer)[2] == ("3 monthly payments of £83.33", '/choose_plan{"plan_months": "3"}')


def test_offer_options_for_a_small_bnpl_balance_use_its_policy():
    dispatcher, _ = run(ActionOfferOptions(), tracker(verified("LN-10003")))
    offer = message(dispatcher, "utter_offer_options")
    assert offer["overdue_amount"] == "£60.00"
    assert buttons(offer)[0] == ("Pay £60.00 now", "/choose_pay_now")
    assert buttons(offer)[2:] == [plan_button(2, "30.00"), plan_button(3, "20.00"), plan_button(4, "15.00")]


def test_offer_options_without_any_plan(loans):
    change_loan(loans, "LN-10003", overdue_amount=Decimal("15.00"))  # 2 x £7.50 < £10.00 minimum
    dispatcher, _ = run(ActionOfferOptions(), tracker(verified("LN-10003")))
    assert names(dispatcher) == ["utter_offer_options", "utter_no_plan_available"]
    assert [p for _, p in buttons(dispatcher.messages[0])] == ["/choose_pay_now", "/choose_promise_to_pay"]


def test_offer_options_before_verification():
    dispatcher, events = run(ActionOfferOptions(), tracker())
    assert (names(dispatcher), events) == (["utter_verify_first"], [])


def test_offer_options_when_nothing_is_overdue(loans):
    change_loan(loans, "LN-10001", overdue_amount=Decimal("0.00"), days_past_due=0)
    dispatcher, events = run(ActionOfferOptions(), tracker(verified()))
    assert (names(dispatcher), events) == (["utter_nothing_overdue"], [])


def test_offer_options_past_90_days_include_a_settlement(today):
    dispatcher, _ = run(ActionOfferOptions(), tracker(verified("LN-10006")))  # 120 days past due
    offered = buttons(message(dispatcher, "utter_offer_options"))
    assert offered[0] == ("Pay £1,500.00 now", "/choose_pay_now")
    # 10% off the £2,600.00 outstanding balance
    assert offered[-1] == ("Settle the whole balance for £2,340.00", "/ask_settlement")
    assert [p for _, p in offered].count("/ask_settlement") == 1


def test_offer_options_in_chinese_past_90_days_include_a_settlement():
    dispatcher, _ = run(ActionOfferOptions(), tracker(verified("LN-10007", language="zh")))  # 95 days, CNY
    offered = buttons(message(dispatcher, "utter_offer_options"))
    assert offered[-1][1] == "/ask_settlement"
    assert format_money(Decimal("16200.00"), "CNY", "zh") in offered[-1][0]  # 10% off ¥18,000.00


@pytest.mark.parametrize("loan_ref", ["LN-10001", "LN-10004"])  # 12 and 75 days past due
def test_offer_options_before_90_days_have_no_settlement(loan_ref):
    dispatcher, _ = run(ActionOfferOptions(), tracker(verified(loan_ref)))
    assert "/ask_settlement" not in [p for _, p in buttons(message(dispatcher, "utter_offer_options"))]


# ================================================================ plan form: months


def plan_trk(loan_ref="LN-10001", intent="inform", text="", **slots) -> Tracker:
    return tracker(verified(loan_ref, **slots), intent=intent, text=text, active_loop={"name": "plan_form"})


@pytest.mark.parametrize("typed, months", [("6", 6), ("3", 3), ("six months", 6), ("over 3 months please", 3)])
def test_plan_months_allowed(typed, months):
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", typed, plan_trk(text=typed))
    assert result == {
        "plan_months": str(months),
        "plan_monthly_amount": None,
        "plan_amount_said": None,
        "invalid_answers": 0,
    }
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "typed, months",
    [
        ("6 months is too short for me", None),
        ("6个月太短了", None),
        ("3 months is too short, 6 please", 6),
        ("instead of 3, make it 6", 6),
    ],
)
def test_a_plan_length_turned_away_is_not_taken(typed, months):
    """At the read-back "6 months is too short" reopens the plan form with the same
    words: the length they turn away from is asked again (the plans as buttons), not
    taken, and not counted as an unusable answer."""
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", typed, plan_trk(text=typed))
    if months is None:
        assert result == {"plan_months": None}
    else:
        assert result["plan_months"] == str(months)
    assert dispatcher.messages == []


def test_plan_months_from_the_button_entity():
    trk = plan_trk(intent="choose_plan", text='/choose_plan{"plan_months": "3"}')
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", "3", trk)
    assert result == {"plan_months": "3", "plan_monthly_amount": None, "plan_amount_said": None, "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["12", "24 months", "banana"])
def test_plan_months_not_allowed(typed):
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", typed, plan_trk(text=typed))
    assert result == {"plan_months": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_plan_months_invalid"]
    assert dispatcher.messages[0]["allowed_months"] == "3, 6"


def test_second_unusable_plan_length_in_a_row_offers_a_person():
    trk = plan_trk(text="12", invalid_answers=1)
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", "12", trk)
    assert result == {"plan_months": None, "invalid_answers": 2}
    assert names(dispatcher) == ["utter_plan_months_invalid", "utter_stuck_offer_help"]


def test_a_usable_answer_resets_the_count():
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", "3", plan_trk(text="3", invalid_answers=1))
    assert result == {"plan_months": "3", "plan_monthly_amount": None, "plan_amount_said": None, "invalid_answers": 0}
    assert dispatcher.messages == []


def test_plan_months_when_no_plan_is_possible(loans):
    change_loan(loans, "LN-10003", overdue_amount=Decimal("15.00"))
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", "2", plan_trk("LN-10003", text="2"))
    assert result == {"plan_months": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_no_plan_available"]


def test_plan_months_for_bnpl_lists_its_lengths():
    dispatcher, _ = validate(ValidatePlanForm(), "plan_months", "6", plan_trk("LN-10003", text="6"))
    assert dispatcher.messages[0]["allowed_months"] == "2, 3, 4"


def test_choosing_a_plan_without_a_length_asks_quietly():
    trk = plan_trk(intent="choose_plan", text="can I have a plan")
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", "can I have a plan", trk)
    assert result == {"plan_months": None}
    assert dispatcher.messages == []


@pytest.mark.parametrize("payload", ["/choose_plan", '/choose_plan{"plan_months": "3"}', "/affirm"])
def test_plan_months_ignores_payload_text(payload):
    dispatcher, result = validate(
        ValidatePlanForm(), "plan_months", payload, plan_trk(intent="choose_plan", text=payload)
    )
    assert result == {"plan_months": None}
    assert dispatcher.messages == []


def test_plan_months_before_verification():
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", "6", tracker(intent="inform", text="6"))
    assert result == {"plan_months": None}
    assert dispatcher.messages == []


# ---------------------------------------------------------------- plan form: counter-offers


def counter(text: str, loan_ref="LN-10001"):
    trk = plan_trk(loan_ref, intent="offer_monthly_amount", text=text)
    return validate(ValidatePlanForm(), "plan_months", text, trk)


def test_counter_offer_that_fits():
    dispatcher, result = counter("I can pay 50 a month")
    assert result == {
        "plan_months": "5",
        "plan_monthly_amount": "50.00",
        "plan_amount_said": None,
        "invalid_answers": 0,
    }
    assert names(dispatcher) == ["utter_counter_offer_fits"]
    msg = dispatcher.messages[0]
    assert (msg["amount"], msg["months"], msg["overdue_amount"]) == ("£50.00", 5, "£250.00")


# A figure below the minimum or too long for a standard plan: tests/actions/test_affordability.py


@pytest.mark.parametrize("typed", ["300 a month", "250 a month"])
def test_counter_offer_covering_everything(typed):
    dispatcher, result = counter(typed)
    assert result == {"plan_months": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_counter_offer_covers_all"]
    assert dispatcher.messages[0]["overdue_amount"] == "£250.00"


def test_counter_offer_of_zero():
    dispatcher, result = counter("0")
    assert result == {"plan_months": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_amount_not_positive"]


def test_counter_offer_unparseable():
    trk = plan_trk(intent="offer_monthly_amount", text="not much really", reason_code="reduced_income")
    dispatcher, result = validate(ValidatePlanForm(), "plan_months", "not much really", trk)
    assert result == {"plan_months": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_amount_invalid"]


def test_counter_offer_in_another_currency_says_which_is_used():
    dispatcher, result = counter("I can pay $50 a month")
    assert names(dispatcher) == ["utter_currency_differs", "utter_counter_offer_fits"]
    assert dispatcher.messages[0]["currency"] == "GBP"
    assert result == {
        "plan_months": "5",
        "plan_monthly_amount": "50.00",
        "plan_amount_said": None,
        "invalid_answers": 0,
    }


def test_counter_offer_below_one_penny():
    """A sub-penny amount rounds to zero before the check (it used to crash the plan engine)."""
    dispatcher, result = counter("0.0049 a month")
    assert result == {"plan_months": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_amount_not_positive"]


# ---------------------------------------------------------------- plan form: first payment date


@pytest.mark.parametrize("offset", [0, 7, 30])
def test_first_payment_date_within_the_window(today, offset):
    chosen = (today + timedelta(days=offset)).isoformat()
    dispatcher, result = validate(ValidatePlanForm(), "first_payment_date", chosen, plan_trk(text=chosen))
    assert result == {"first_payment_date": chosen, "invalid_answers": 0}
    assert dispatcher.messages == []


def test_first_payment_date_in_words(today):
    _dispatcher, result = validate(
        ValidatePlanForm(), "first_payment_date", "in a fortnight", plan_trk(text="in a fortnight")
    )
    assert result == {"first_payment_date": (today + timedelta(days=14)).isoformat(), "invalid_answers": 0}


@pytest.mark.parametrize("offset, response", [(31, "utter_date_too_far"), (-1, "utter_date_in_past")])
def test_first_payment_date_outside_the_window(today, offset, response):
    chosen = today + timedelta(days=offset)
    dispatcher, result = validate(ValidatePlanForm(), "first_payment_date", chosen.isoformat(), plan_trk())
    assert result == {"first_payment_date": None, "invalid_answers": 1}
    assert names(dispatcher) == [response]
    msg = dispatcher.messages[0]
    assert (msg["date"], msg["earliest_date"], msg["latest_date"]) == (
        day(chosen),
        day(today),
        day(today + timedelta(days=30)),
    )


def test_first_payment_date_unparseable():
    dispatcher, result = validate(ValidatePlanForm(), "first_payment_date", "whenever", plan_trk(text="whenever"))
    assert result == {"first_payment_date": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_date_invalid"]


@pytest.mark.parametrize("value, slots", [("/choose_plan", verified()), ("2026-12-01", {})])
def test_first_payment_date_ignores_payloads_and_unverified(value, slots):
    dispatcher, result = validate(ValidatePlanForm(), "first_payment_date", value, tracker(slots, intent="inform"))
    assert result == {"first_payment_date": None}
    assert dispatcher.messages == []


# ---------------------------------------------------------------- the forms' questions


def test_ask_plan_months_lists_the_plans():
    dispatcher, events = run(ActionAskPlanMonths(), plan_trk())
    assert events == []
    assert names(dispatcher) == ["utter_ask_plan_months"]
    assert dispatcher.messages[0]["overdue_amount"] == "£250.00"
    assert buttons(dispatcher.messages[0]) == [plan_button(3, "83.33"), plan_button(6, "41.66")]


def test_ask_plan_months_when_no_plan_is_possible(loans):
    change_loan(loans, "LN-10003", overdue_amount=Decimal("15.00"))
    dispatcher, _ = run(ActionAskPlanMonths(), plan_trk("LN-10003"))
    assert names(dispatcher) == ["utter_no_plan_available"]


def test_ask_first_payment_date_gives_the_window(today):
    dispatcher, _ = run(ActionAskFirstPaymentDate(), plan_trk())
    assert names(dispatcher) == ["utter_ask_first_payment_date"]
    msg = dispatcher.messages[0]
    assert (msg["earliest_date"], msg["latest_date"]) == (day(today), day(today + timedelta(days=30)))


def test_ask_promise_date_gives_amount_and_latest_date(today):
    dispatcher, _ = run(ActionAskPromiseDate(), tracker(verified()))
    assert names(dispatcher) == ["utter_ask_promise_date"]
    msg = dispatcher.messages[0]
    assert (msg["overdue_amount"], msg["latest_date"]) == ("£250.00", day(today + timedelta(days=14)))


@pytest.mark.parametrize("action", [ActionAskPlanMonths, ActionAskFirstPaymentDate, ActionAskPromiseDate])
def test_ask_actions_before_verification(action):
    dispatcher, events = run(action(), tracker())
    assert (names(dispatcher), events) == (["utter_verify_first"], [])


# ================================================================ promise form


def promise_trk(text: str, intent="inform", loan_ref="LN-10001") -> Tracker:
    return tracker(verified(loan_ref), intent=intent, text=text, active_loop={"name": "promise_form"})


def promise(text: str, intent="inform", loan_ref="LN-10001"):
    return validate(ValidatePromiseForm(), "promise_date", text, promise_trk(text, intent, loan_ref))


@pytest.mark.parametrize("offset", [0, 5, 14])
def test_promise_date_within_the_window(today, offset):
    chosen = (today + timedelta(days=offset)).isoformat()
    dispatcher, result = promise(chosen)
    assert result == {"promise_date": chosen, "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["in a fortnight", "£250 in a fortnight", "I'll pay 250.00 in a fortnight"])
def test_promise_in_words_with_the_full_amount(today, typed):
    dispatcher, result = promise(typed, intent="choose_promise_to_pay")
    assert result == {"promise_date": (today + timedelta(days=14)).isoformat(), "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize("offset, response", [(15, "utter_date_too_far"), (-1, "utter_date_in_past")])
def test_promise_date_outside_the_window(today, offset, response):
    chosen = today + timedelta(days=offset)
    dispatcher, result = promise(chosen.isoformat())
    assert result == {"promise_date": None, "invalid_answers": 1}
    assert names(dispatcher) == [response]
    msg = dispatcher.messages[0]
    assert (msg["date"], msg["earliest_date"], msg["latest_date"]) == (
        day(chosen),
        day(today),
        day(today + timedelta(days=14)),
    )


def test_promise_below_the_overdue_amount():
    dispatcher, result = promise("I can pay 100 in a fortnight")
    assert result == {"promise_date": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_promise_must_cover_overdue"]
    msg = dispatcher.messages[0]
    assert (msg["overdue_amount"], msg["amount"]) == ("£250.00", "£100.00")


def test_promise_above_the_overdue_amount():
    dispatcher, result = promise("£400 in a fortnight")
    assert result == {"promise_date": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_amount_above_overdue"]
    assert dispatcher.messages[0]["overdue_amount"] == "£250.00"


def test_promise_of_nothing():
    dispatcher, result = promise("0")
    assert result == {"promise_date": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_amount_not_positive"]


def test_promise_date_unparseable():
    dispatcher, result = promise("soon-ish")
    assert result == {"promise_date": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_date_invalid"]


def test_choosing_a_promise_without_a_date_asks_quietly():
    dispatcher, result = promise("I'll pay it all", intent="choose_promise_to_pay")
    assert result == {"promise_date": None}
    assert dispatcher.messages == []


@pytest.mark.parametrize("value, slots", [("/choose_promise_to_pay", verified()), ("2026-12-01", {})])
def test_promise_ignores_payloads_and_unverified(value, slots):
    dispatcher, result = validate(
        ValidatePromiseForm(), "promise_date", value, tracker(slots, intent="choose_promise_to_pay")
    )
    assert result == {"promise_date": None}
    assert dispatcher.messages == []


# ================================================================ read-back (nothing recorded)


def test_propose_pay_now_reads_back_and_records_nothing(loans, today):
    before = snapshot(loans)
    dispatcher, events = run(
        ActionProposePayNow(), tracker(verified(), intent="choose_pay_now", text="/choose_pay_now")
    )
    assert names(dispatcher) == ["utter_confirm_pay_now"]
    assert dispatcher.messages[0]["amount"] == "£250.00"
    pending = assert_read_back(events, "pay_now", "250.00")
    assert pending["instalments"] == [[today.isoformat(), "250.00"]]
    assert snapshot(loans) == before


def test_propose_pay_now_before_verification(loans):
    dispatcher, events = run(ActionProposePayNow(), tracker(intent="choose_pay_now"))
    assert (names(dispatcher), events) == (["utter_verify_first"], [])


def test_propose_promise_reads_back_and_records_nothing(loans, today):
    from bot.domain.formatting import format_day

    chosen = today + timedelta(days=5)
    before = snapshot(loans)
    dispatcher, events = run(
        ActionProposePromise(), tracker(verified(promise_date=chosen.isoformat()), intent="inform")
    )
    assert names(dispatcher) == ["utter_confirm_promise"]
    # the day is read back with its weekday (issue 13 §5: "next Friday" as it was taken)
    assert (dispatcher.messages[0]["amount"], dispatcher.messages[0]["date"]) == ("£250.00", format_day(chosen, "en"))
    pending = assert_read_back(events, "promise_to_pay", "250.00")
    assert pending["instalments"] == [[chosen.isoformat(), "250.00"]]
    assert pending["terms"]["promise_date"] == chosen.isoformat()
    assert snapshot(loans) == before


def test_propose_promise_without_a_date_shows_the_offers(loans):
    dispatcher, events = run(ActionProposePromise(), tracker(verified(), intent="inform"))
    assert names(dispatcher) == ["utter_offer_options", "utter_offer_monthly_amount_hint"]
    assert "pending_agreement" not in slots_of(events)


def test_propose_plan_from_the_menu(loans, today):
    first = today + timedelta(days=7)
    before = snapshot(loans)
    trk = tracker(verified(plan_months="3", first_payment_date=first.isoformat()), intent="inform")
    dispatcher, events = run(ActionProposePlan(), trk)
    assert names(dispatcher) == ["utter_confirm_plan"]
    msg = dispatcher.messages[0]
    assert msg["count"] == 3
    assert msg["schedule"] == "2 payments of £83.33 and a final payment of £83.34"
    assert (msg["total"], msg["first_date"]) == ("£250.00", day(first))
    pending = assert_read_back(events, "instalment_plan", "250.00")
    assert pending["instalments"] == [[(first + relativedelta(months=n)).isoformat(), a] for a, n in PLAN_3]
    assert pending["terms"]["source"] == "menu" and pending["terms"]["months"] == 3
    assert snapshot(loans) == before


def test_propose_plan_from_a_counter_offer(loans, today):
    first = today + timedelta(days=3)
    trk = tracker(verified(plan_months="5", plan_monthly_amount="50.00", first_payment_date=first.isoformat()))
    dispatcher, events = run(ActionProposePlan(), trk)
    msg = message(dispatcher, "utter_confirm_plan")
    assert (msg["count"], msg["schedule"], msg["total"]) == (5, "5 payments of £50.00", "£250.00")
    pending = assert_read_back(events, "instalment_plan", "250.00")
    assert pending["terms"]["source"] == "borrower_amount"
    assert [a for _, a in pending["instalments"]] == ["50.00"] * 5


@pytest.mark.parametrize(
    "slots",
    [
        {"plan_months": "12", "first_payment_date": "2026-12-01"},
        {"plan_months": "3"},
        {"first_payment_date": "2026-12-01"},
    ],
)
def test_propose_plan_without_valid_terms_shows_the_offers(loans, slots):
    before = snapshot(loans)
    dispatcher, events = run(ActionProposePlan(), tracker(verified(**slots)))
    assert names(dispatcher)[0] == "utter_offer_options"
    assert "pending_agreement" not in slots_of(events)
    assert snapshot(loans) == before


# ================================================================ recording the agreement


def test_record_plan_after_yes_writes_one_exact_agreement(loans, today):
    first = today + timedelta(days=7)
    pending = propose(ActionProposePlan(), {"plan_months": "3", "first_payment_date": first.isoformat()})
    dispatcher, events = confirm(pending)
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_feedback_question"]
    recorded = dispatcher.messages[0]
    assert recorded["kind"] == "payment plan"
    [agreement] = [a for a in loans.agreements() if a.loan_ref == "LN-10001"]
    assert recorded["agreement_ref"] == agreement.agreement_ref
    assert slots_of(events) == {
        "awaiting_confirmation": False,
        "agreement_ref": agreement.agreement_ref,
        "feedback_ref": slots_of(events)["feedback_ref"],  # the feedback question (tests/actions/test_feedback.py)
        "feedback_step": "asked",
    }
    assert (agreement.kind, agreement.status, agreement.channel) == ("instalment_plan", "active", "rest")
    assert agreement.total_amount == Decimal("250.00")
    assert sum(i.amount for i in agreement.instalments) == agreement.total_amount
    assert [(i.due_date, i.amount) for i in agreement.instalments] == [
        (first + relativedelta(months=n), Decimal(a)) for a, n in PLAN_3
    ]
    assert {i.status for i in agreement.instalments} == {"scheduled"}
    assert agreement.terms["idempotency_key"] == pending["terms"]["idempotency_key"]
    audit, asked = loans.audit_events("LN-10001")[-2:]  # then the feedback question was asked
    assert audit["event_type"] == "agreement_created" and audit["conversation_id"] == "conv-9"
    assert audit["details"]["agreement_ref"] == agreement.agreement_ref
    assert asked["event_type"] == "feedback_asked"


def test_a_second_yes_is_answered_with_the_same_reference(loans):
    pending = propose(ActionProposePayNow(), {})
    first, _ = confirm(pending)
    ref = message(first, "utter_agreement_recorded")["agreement_ref"]
    again, events = confirm(pending)
    assert names(again) == ["utter_agreement_already_recorded"]
    assert again.messages[0]["agreement_ref"] == ref
    assert slots_of(events) == {"awaiting_confirmation": False}
    assert [a.agreement_ref for a in loans.agreements() if a.loan_ref == "LN-10001"] == [ref]
    assert event_types(loans, "LN-10001").count("agreement_created") == 1


def test_record_promise(loans, today):
    chosen = today + timedelta(days=10)
    dispatcher, _ = confirm(propose(ActionProposePromise(), {"promise_date": chosen.isoformat()}))
    assert message(dispatcher, "utter_agreement_recorded")["kind"] == "promise to pay"
    assert "utter_payment_link" not in names(dispatcher)
    [agreement] = [a for a in loans.agreements() if a.loan_ref == "LN-10001"]
    assert [(i.due_date, i.amount) for i in agreement.instalments] == [(chosen, Decimal("250.00"))]


def test_record_pay_now_sends_a_signed_payment_link(loans, today):
    dispatcher, _ = confirm(propose(ActionProposePayNow(), {}))
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_payment_link", "utter_feedback_question"]
    assert dispatcher.messages[0]["kind"] == "payment"
    link = dispatcher.messages[1]
    assert link["valid_hours"] == 24
    url = urlparse(link["payment_url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "pay.acme-lending.example", "/pay")
    [token] = parse_qs(url.query)["token"]
    claims = verify_payment_token(token, DEV_SECRET)
    assert (claims["loan_ref"], claims["amount"], claims["currency"]) == ("LN-10001", "250.00", "GBP")
    assert claims["exp"] - claims["iat"] == 24 * 3600
    [agreement] = [a for a in loans.agreements() if a.loan_ref == "LN-10001"]
    assert agreement.kind == "pay_now"
    assert [(i.due_date, i.amount) for i in agreement.instalments] == [(today, Decimal("250.00"))]


def test_record_when_another_channel_recorded_an_agreement_first(loans, today):
    """Read back here, then confirmed elsewhere first: the second yes records nothing."""
    pending = propose(ActionProposePayNow(), {})
    other = propose(ActionProposePromise(), {"promise_date": (today + timedelta(days=3)).isoformat()})
    first, _ = confirm(other, sender="conv-other")
    existing = message(first, "utter_agreement_recorded")["agreement_ref"]
    dispatcher, events = confirm(pending)
    assert names(dispatcher) == ["utter_agreement_exists"]
    msg = dispatcher.messages[0]
    assert (msg["agreement_ref"], msg["lender_phone"]) == (existing, PHONE)
    assert slots_of(events) == {"pending_agreement": None, "awaiting_confirmation": False}
    assert [a.agreement_ref for a in loans.agreements() if a.loan_ref == "LN-10001"] == [existing]


@pytest.mark.parametrize(
    "action, slots_for",
    [
        (ActionProposePayNow, lambda today: {}),
        (ActionProposePromise, lambda today: {"promise_date": (today + timedelta(days=3)).isoformat()}),
        (
            ActionProposePlan,
            lambda today: {"plan_months": "3", "first_payment_date": (today + timedelta(days=7)).isoformat()},
        ),
    ],
)
def test_propose_refuses_when_the_loan_already_has_an_arrangement(loans, today, action, slots_for):
    slots = slots_for(today)
    existing = loans.account(PLAN_HOLDER).open_agreement
    before = snapshot(loans)
    dispatcher, events = run(action(), tracker(verified(PLAN_HOLDER, **slots)))
    assert names(dispatcher) == ["utter_agreement_exists"]
    msg = dispatcher.messages[0]
    assert (msg["agreement_ref"], msg["lender_phone"], msg["lender_hours"]) == (existing.agreement_ref, PHONE, HOURS)
    assert slots_of(events) == {
        "promise_date": None,
        "plan_months": None,
        "plan_monthly_amount": None,
        "first_payment_date": None,
        "invalid_answers": 0,
    }
    assert snapshot(loans) == before


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("deny", "no"),
        ("inform", "the 20th"),
        ("choose_pay_now", "pay now"),
        ("affirm", "yes but I'm worried I won't keep up"),  # a hedged yes is not a yes
        ("dispute_debt", "that's not right"),
        ("affirm", "hmm"),
    ],
)
def test_record_needs_an_explicit_yes(loans, intent, text):
    pending = propose(ActionProposePayNow(), {})
    before = snapshot(loans)
    dispatcher, events = confirm(pending, intent=intent, text=text)
    assert (names(dispatcher), events) == (["utter_nothing_to_confirm"], [])
    assert snapshot(loans) == before


@pytest.mark.parametrize("slots", [verified(), {"pending_agreement": {"kind": "pay_now"}}])
def test_record_needs_a_pending_proposal_and_verification(loans, slots):
    before = snapshot(loans)
    dispatcher, events = run(ActionRecordAgreement(), tracker(slots, intent="affirm"))
    assert (names(dispatcher), events) == (["utter_nothing_to_confirm"], [])
    assert snapshot(loans) == before


def test_a_yes_whose_write_ends_after_rasas_deadline_records_nothing(loans, monkeypatch):
    """The call came in time, but the write finished after Rasa had already told the
    borrower that nothing was recorded (components/action_guard.py): it rolls back."""
    import time
    from types import SimpleNamespace

    from bot.adapters import database as db_module

    pending = propose(ActionProposePayNow(), {})
    before = snapshot(loans)
    monkeypatch.setattr(db_module, "time", SimpleNamespace(time=lambda: time.time() + 60))  # a 60-second write
    dispatcher, _ = confirm(pending)
    assert names(dispatcher) in ([], ["utter_agreement_not_recorded"])  # never "recorded"
    assert snapshot(loans) == before
    monkeypatch.undo()
    agreements = loans.count("agreements")
    dispatcher, _ = confirm(pending)  # the borrower's next "yes" records it
    assert "utter_agreement_not_recorded" not in names(dispatcher)
    assert loans.count("agreements") == agreements + 1


def test_record_when_the_database_fails_keeps_the_proposal(loans, monkeypatch):
    pending = propose(ActionProposePayNow(), {})

    def broken(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(LoanStore, "record_agreement", broken)
    dispatcher, events = confirm(pending)
    assert names(dispatcher) == ["utter_agreement_not_recorded"]
    assert dispatcher.messages[0]["lender_phone"] == PHONE
    assert events == []  # pending_agreement stays for a retry
    monkeypatch.undo()
    assert [a for a in loans.agreements() if a.loan_ref == "LN-10001"] == []


# ================================================================ saying no


def test_reject_withdraws_the_proposal_and_offers_again(loans):
    pending = propose(ActionProposePayNow(), {})
    before = snapshot(loans)
    slots = verified(pending_agreement=pending, awaiting_confirmation=True, plan_months="3")
    dispatcher, events = run(ActionRejectProposal(), tracker(slots, intent="deny", text="no"))
    assert names(dispatcher) == ["utter_proposal_withdrawn", "utter_offer_options", "utter_offer_monthly_amount_hint"]
    assert slots_of(events) == {
        "pending_agreement": None,
        "awaiting_confirmation": False,
        "promise_date": None,
        "plan_months": None,
        "plan_monthly_amount": None,
        "first_payment_date": None,
        "invalid_answers": 0,
        "dialogue_step": "offers",
        "offer_choices": [{"title": b["title"], "payload": b["payload"]} for b in dispatcher.messages[1]["buttons"]],
    }
    assert snapshot(loans) == before


@pytest.mark.parametrize("slots, response", [(verified(), "utter_goodbye"), ({}, "utter_how_can_i_help")])
def test_reject_without_a_proposal(slots, response):
    dispatcher, events = run(ActionRejectProposal(), tracker(slots, intent="deny", text="no"))
    assert (names(dispatcher), events) == ([response], [])


# ================================================================ a person


def test_request_human_when_verified_queues_a_handoff_on_the_loan(loans):
    before = utcnow()
    trk = tracker(
        verified(), intent="request_human", text="can I talk to a person", sender="conv-h", channel="whatsapp"
    )
    dispatcher, events = run(ActionRequestHuman(), trk)
    assert events == []
    assert names(dispatcher) == ["utter_handoff_queued"]
    msg = dispatcher.messages[0]
    assert (msg["lender_phone"], msg["lender_hours"], msg["lender_name"]) == (PHONE, HOURS, LENDER)
    [handoff] = loans.handoffs()
    assert msg["handoff_ref"] == handoff["handoff_ref"] and handoff["handoff_ref"].startswith("HO-")
    assert (
        handoff["conversation_id"],
        handoff["channel"],
        handoff["reason"],
        handoff["priority"],
        handoff["status"],
    ) == ("conv-h", "whatsapp", "requested", "normal", "queued")
    assert handoff["transcript"] == [{"from": "borrower", "text": "can I talk to a person"}]
    reply_by = datetime.fromisoformat(handoff["reply_by"])
    assert before + timedelta(hours=24) <= reply_by <= utcnow() + timedelta(hours=24)
    assert msg["reply_by"] == format_datetime(reply_by, TZ, "en")  # in the borrower's time zone
    audit = loans.audit_events("LN-10001")[-1]
    assert (audit["event_type"], audit["conversation_id"]) == ("handoff_requested", "conv-h")
    assert audit["details"] == {"reason": "requested", "handoff_ref": handoff["handoff_ref"]}


def test_request_human_twice_keeps_one_queued_handoff(loans):
    first, _ = run(ActionRequestHuman(), tracker(verified(), intent="request_human", sender="conv-h"))
    again, _ = run(ActionRequestHuman(), tracker(verified(), intent="request_human", sender="conv-h"))
    assert (
        message(again, "utter_handoff_queued")["handoff_ref"] == message(first, "utter_handoff_queued")["handoff_ref"]
    )
    assert len(loans.handoffs()) == 1


def test_request_human_before_verification(loans):
    before = event_types(loans, "LN-10001")
    dispatcher, _ = run(ActionRequestHuman(), tracker({"loan_ref": "LN-10001"}, intent="request_human", sender="anon"))
    assert names(dispatcher) == ["utter_handoff_queued"]
    assert_nothing_about_the_loan(dispatcher)
    last = loans.audit_events()[-1]
    assert (last["event_type"], last["conversation_id"]) == ("handoff_requested", "anon")
    assert event_types(loans, "LN-10001") == before  # not tied to an unverified loan
    [handoff] = loans.handoffs()
    assert handoff["conversation_id"] == "anon"


# ================================================================ domain consistency

ACTION_SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "actions").glob("*.py"))}
_LITERAL_RE = re.compile(r"""(?<![\w{])(f?)(["'])(utter_[A-Za-z0-9_]*)(\{[^"'}]*\})?[A-Za-z0-9_]*\2""")
# f-string families and every value they can take
FAMILIES = {
    "utter_empathy_": sorted(set(REASON_CODES) - NO_COLLECTION_REASONS),
    "utter_kind_": list(AGREEMENT_KINDS),
    "utter_faq_": list(FAQ_INTENTS),
    "utter_meaning_": list(MEANINGS),
    "utter_confirm_request_": sorted(steps.CONSEQUENTIAL),
    # product_name() falls back to utter_product_other for codes without a response
    "utter_product_": [
        p
        for p in PolicyBook.load(services().settings.policy_file).products
        if f"utter_product_{p}" in DOMAIN["responses"]
    ],
}


def responses_used_by_actions() -> set[str]:
    used = set()
    for source in ACTION_SOURCES.values():
        for prefix, _quote, name, placeholder in ((m[1], m[2], m[3], m[4]) for m in _LITERAL_RE.finditer(source)):
            if prefix == "f" and placeholder:
                assert name in FAMILIES, f"unknown response family {name}{{...}}: add it to FAMILIES"
                used |= {name + value for value in FAMILIES[name]}
            else:
                used.add(name)
    return used


def test_the_response_scanner_sees_every_kind_of_reference():
    used = responses_used_by_actions()
    assert {"utter_intro", "utter_date_in_past", "utter_counter_offer_too_long", "utter_button_plan"} <= used
    assert "utter_empathy_forgot" in used and "utter_kind_promise_to_pay" in used
    assert not any(name.endswith("_") for name in used)


def test_every_response_the_actions_use_is_in_the_domain():
    missing = responses_used_by_actions() - set(DOMAIN["responses"])
    assert not missing, f"used by actions/ but not in domain.yml: {sorted(missing)}"


def responses_unused() -> set[str]:
    used = responses_used_by_actions()
    files = list((ROOT / "data").rglob("*.yml")) + list((ROOT / "tests").glob("test_stories*.yml"))
    # Rasa-side code that utters responses itself: the action guard, the channels;
    # and the team console, which tells the borrower a person has joined or left.
    files += list((ROOT / "components").rglob("*.py")) + list((ROOT / "channels").glob("*.py"))
    files += list((ROOT / "bot" / "ops" / "console").rglob("*.py"))
    for path in files:
        used |= set(re.findall(r"\butter_[A-Za-z0-9_]+", path.read_text(encoding="utf-8")))
    # Forms ask for a slot with utter_ask_<slot> unless there is an action_ask_<slot>.
    for form in DOMAIN["forms"].values():
        for slot in form["required_slots"]:
            if f"action_ask_{slot}" not in DOMAIN["actions"]:
                used.add(f"utter_ask_{slot}")
    return set(DOMAIN["responses"]) - used


def test_the_formerly_dead_responses_are_used_or_gone():
    used = responses_used_by_actions()
    assert {"utter_currency_differs", "utter_nothing_to_confirm"} <= used
    # utter_something_went_wrong is the polite answer when an action fails (tests/actions/test_action_failures.py).
    assert "utter_something_went_wrong" in used


def test_every_domain_response_is_used():
    assert responses_unused() == set()


def test_every_form_slot_can_be_asked_for():
    for form in DOMAIN["forms"].values():
        for slot in form["required_slots"]:
            assert f"action_ask_{slot}" in DOMAIN["actions"] or f"utter_ask_{slot}" in DOMAIN["responses"]


def test_domain_actions_match_the_action_server():
    """The action server registers every Action subclass in the `actions` package."""
    import importlib
    import pkgutil

    import actions

    served = set()
    for info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{info.name}")
        for cls in vars(module).values():
            own = isinstance(cls, type) and issubclass(cls, Action) and cls.__module__ == module.__name__
            if own and not inspect.isabstract(cls):
                served.add(cls().name())
    assert served == set(DOMAIN["actions"])
