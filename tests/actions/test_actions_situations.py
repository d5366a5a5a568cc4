"""Unit tests for the actions added for borrower situations.

Disputes, fraud and payment claims, third parties, opt-outs, vulnerability and
crisis, handoff, hardship and settlement, existing plans, general questions, the
two-stage fallback, the "stuck" mechanism of the forms, and the conduct rule that
no offer is made while collection is blocked.

Same setup as tests/actions/test_actions.py (see tests/actions/support.py): rasa-sdk's real
`CollectingDispatcher` and `Tracker`, the parsed domain and a fresh seeded SQLite
store per test; every uttered response is checked against the domain.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from dateutil.relativedelta import relativedelta
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.account import ActionAccountSummary
from actions.agreements import (
    ActionProposePayNow,
    ActionProposePlan,
    ActionProposePromise,
    ActionRejectProposal,
)
from actions.conversation import FAQ_INTENTS, ActionAnswerQuestion, ActionFallback, consecutive_misunderstandings
from actions.existing_plan import (
    ActionAskNewPaymentDate,
    ActionPlanStatus,
    ActionProposeCancel,
    ActionProposeDateChange,
    ValidateChangeDateForm,
)
from actions.forbearance import ActionOfferHardship, ActionOfferSettlement
from actions.handoff import ActionRequestHuman
from actions.offers import (
    ActionAskPlanMonths,
    ActionAskPromiseDate,
    ActionOfferOptions,
    ValidatePlanForm,
    ValidatePromiseForm,
)
from actions.reasons import ActionRecordReason
from actions.situations import (
    ActionHandleThirdParty,
    ActionHandleVulnerability,
    ActionRecordDispute,
    ActionRecordFraudClaim,
    ActionRecordPaymentClaim,
    ActionStopContact,
    ValidatePaymentClaimForm,
)
from actions.verification import ValidateVerifyForm
from bot.adapters.orm import Instalment
from bot.bootstrap import services
from bot.domain.clock import local_today, utcnow
from bot.domain.conduct import opted_out
from bot.domain.formatting import format_date, format_datetime, format_money
from bot.domain.parsing import parse_past_date
from bot.domain.payment_links import verify_payment_token
from bot.domain.privacy import MASK
from bot.domain.situations import dispute_kind
from bot.ops.demo import PLAN_HOLDER
from bot.services.handoff import WITHHELD
from tests.actions.support import (
    DEV_SECRET,
    DOMAIN,
    HOURS,
    LENDER,
    PHONE,
    assert_nothing_about_the_loan,
    assert_read_back,
    bot_event,
    buttons,
    change_loan,
    clear_caches,
    confirm,
    day,
    event_types,
    message,
    money,
    names,
    run,
    slots_of,
    snapshot,
    tracker,
    user_event,
    validate,
    verified,
)

STOPPED = {"collection_stopped": True, "pending_agreement": None, "awaiting_confirmation": False}
END_LOOP = {"event": "active_loop", "timestamp": None, "name": None}
SETTLER = "LN-10006"  # 120 days past due, £2,600.00 outstanding, £1,500.00 overdue


def no_money_said(dispatcher: CollectingDispatcher) -> None:
    assert "£" not in json.dumps(dispatcher.messages, ensure_ascii=False), dispatcher.messages


def required(form, slots: dict, domain_slots: list[str]) -> list[str]:
    return asyncio.run(form.required_slots(domain_slots, CollectingDispatcher(), tracker(slots), DOMAIN))


def run_form(form, form_name: str, slot: str, value: str, slots: dict, intent: str = "inform"):
    """One answer to a form, through rasa-sdk's FormValidationAction.run as Rasa calls it."""
    trk = tracker(
        {**slots, slot: value, "requested_slot": slot},
        intent=intent,
        text=value,
        extra_events=[{"event": "slot", "name": slot, "value": value}],
        active_loop={"name": form_name},
    )
    return run(form, trk)


def the_case(store, loan_ref: str) -> dict:
    [case] = store.cases(loan_ref)
    return case


# ================================================================ disputes


@pytest.mark.parametrize(
    "words, kind",
    [
        ("the amount is wrong, you've added charges I never agreed to", "wrong_amount"),
        ("the balance is too much", "wrong_amount"),
        ("I don't owe you anything", "not_owed"),
        ("", "not_owed"),
        (None, "not_owed"),
    ],
)
def test_dispute_kind(words, kind):
    assert dispute_kind(words) == kind


def test_dispute_opens_a_case_puts_the_loan_on_hold_and_stops_collecting(loans, today):
    words = "I dispute this, the amount is wrong"
    pending = {"kind": "pay_now"}  # something read back earlier is withdrawn
    trk = tracker(
        verified(pending_agreement=pending, awaiting_confirmation=True),
        intent="dispute_debt",
        text=words,
        sender="conv-d",
    )
    dispatcher, events = run(ActionRecordDispute(), trk)
    assert names(dispatcher) == ["utter_dispute_recorded", "utter_dispute_next_steps"]
    no_money_said(dispatcher)
    case = the_case(loans, "LN-10001")
    assert dispatcher.messages[0]["case_ref"] == case["case_ref"] and case["case_ref"].startswith("CS-")
    assert (case["kind"], case["status"], case["borrower_words"]) == ("dispute", "open", words)
    assert case["details"] == {"dispute_kind": "wrong_amount"}
    assert slots_of(events) == {**STOPPED, "reason_code": "dispute"}
    # the reason is stored with the borrower's words, and the loan is on hold
    report = loans.loan_report("LN-10001")
    assert [(r["reason_code"], r["borrower_words"], r["channel"]) for r in report["reasons"]] == [
        ("dispute", words, "rest")
    ]
    assert report["status"] == "on_hold"
    account = loans.account("LN-10001")
    assert (account.open_cases, account.on_collection_hold) == (("dispute",), True)
    audit = loans.audit_events("LN-10001")
    assert [e["event_type"] for e in audit[-2:]] == ["reason_recorded", "dispute_opened"]
    assert audit[-1]["details"] == {"case_ref": case["case_ref"]} and audit[-1]["conversation_id"] == "conv-d"


def test_after_a_dispute_nothing_is_offered_in_this_or_a_later_conversation(loans):
    _, events = run(ActionRecordDispute(), tracker(verified(), intent="dispute_debt", text="I don't owe this"))
    this_conversation = tracker(verified(**slots_of(events)))
    later = tracker(verified(), sender="conv-later")
    for trk in (this_conversation, later):
        dispatcher, offered = run(ActionOfferOptions(), trk)
        assert (names(dispatcher), offered) == (["utter_account_on_hold"], [])
    dispatcher, _ = run(ActionAccountSummary(), later)
    assert names(dispatcher)[2:] == ["utter_account_on_hold", "utter_anything_else"]


def test_a_second_dispute_reuses_the_open_case(loans):
    first, _ = run(ActionRecordDispute(), tracker(verified(), intent="dispute_debt", text="not mine to pay"))
    again, _ = run(ActionRecordDispute(), tracker(verified(), intent="dispute_debt", text="and the fee is wrong"))
    assert message(again, "utter_dispute_recorded")["case_ref"] == message(first, "utter_dispute_recorded")["case_ref"]
    assert the_case(loans, "LN-10001")["details"] == {"dispute_kind": "wrong_amount"}  # updated, still one case
    assert event_types(loans, "LN-10001").count("dispute_opened") == 1


def test_dispute_before_verification_records_nothing(loans):
    before = snapshot(loans)
    dispatcher, events = run(
        ActionRecordDispute(), tracker({"loan_ref": "LN-10001"}, intent="dispute_debt", text="not mine")
    )
    assert (names(dispatcher), events) == (["utter_verify_first"], [])
    assert snapshot(loans) == before and loans.cases() == []


# ================================================================ fraud


def test_fraud_claim_when_verified_opens_a_case_and_queues_a_handoff(loans):
    words = "I never took out this loan, someone used my details"
    trk = tracker(verified(), intent="not_my_loan", text=words, sender="conv-f", channel="whatsapp")
    dispatcher, events = run(ActionRecordFraudClaim(), trk)
    assert names(dispatcher) == ["utter_fraud_recorded", "utter_handoff_queued"]
    no_money_said(dispatcher)
    case = the_case(loans, "LN-10001")
    assert (case["kind"], case["status"], case["borrower_words"], case["details"]) == ("fraud_claim", "open", words, {})
    assert dispatcher.messages[0]["case_ref"] == case["case_ref"]
    [handoff] = loans.handoffs()
    assert dispatcher.messages[1]["handoff_ref"] == handoff["handoff_ref"]
    assert (handoff["reason"], handoff["priority"], handoff["conversation_id"], handoff["channel"]) == (
        "fraud",
        "normal",
        "conv-f",
        "whatsapp",
    )
    assert slots_of(events) == {**STOPPED, "reason_code": "fraud_not_my_loan"}
    assert loans.loan_report("LN-10001")["reasons"][-1]["reason_code"] == "fraud_not_my_loan"
    assert loans.account("LN-10001").on_collection_hold is True
    assert event_types(loans, "LN-10001")[-3:] == ["reason_recorded", "fraud_claim_opened", "handoff_requested"]


def test_fraud_claim_before_verification_reveals_nothing(loans):
    before = event_types(loans, "LN-10001")
    trk = tracker({"loan_ref": "LN-10001"}, intent="not_my_loan", text="this is not my loan", sender="anon")
    dispatcher, events = run(ActionRecordFraudClaim(), trk)
    assert (names(dispatcher), events) == (["utter_fraud_unverified"], [])
    msg = dispatcher.messages[0]
    assert (msg["lender_phone"], msg["lender_hours"]) == (PHONE, HOURS)
    assert_nothing_about_the_loan(dispatcher)
    last = loans.audit_events()[-1]
    assert (last["event_type"], last["conversation_id"]) == ("fraud_report_unverified", "anon")
    assert event_types(loans, "LN-10001") == before  # not tied to the loan someone typed
    assert loans.cases() == [] and loans.handoffs() == []


# ================================================================ payment claims


@pytest.mark.parametrize("typed, days_ago", [("yesterday", 1), ("2 days ago", 2), ("I paid it 3 days ago", 3)])
def test_paid_on_in_the_past(today, typed, days_ago):
    assert parse_past_date(typed, today, "DMY") == today - timedelta(days=days_ago)
    dispatcher, result = validate(
        ValidatePaymentClaimForm(), "paid_on", typed, tracker(verified(), intent="inform", text=typed)
    )
    assert result == {"paid_on": (today - timedelta(days=days_ago)).isoformat(), "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%d %B %Y"])
def test_paid_on_as_a_date(today, fmt):
    paid_on = today - timedelta(days=5)
    typed = paid_on.strftime(fmt)
    _dispatcher, result = validate(ValidatePaymentClaimForm(), "paid_on", typed, tracker(verified(), intent="inform"))
    assert result == {"paid_on": paid_on.isoformat(), "invalid_answers": 0}


def test_paid_on_as_an_iso_date(today):
    typed = (today - timedelta(days=5)).isoformat()
    _dispatcher, result = validate(ValidatePaymentClaimForm(), "paid_on", typed, tracker(verified(), intent="inform"))
    assert result == {"paid_on": typed, "invalid_answers": 0}


@pytest.mark.parametrize("typed", ["I may have paid it already", "wait a sec", "I paid it on the 20th"])
def test_paid_on_in_a_sentence(today, typed):
    last_20th = today.replace(day=20) if today.day >= 20 else (today - relativedelta(months=1)).replace(day=20)
    expected = last_20th.isoformat() if "20th" in typed else None
    _, result = validate(ValidatePaymentClaimForm(), "paid_on", typed, tracker(verified(), intent="inform"))
    assert result["paid_on"] == expected


@pytest.mark.parametrize("typed", ["tomorrow", "next week", "banana", "", None])
def test_paid_on_that_is_not_a_past_date(typed):
    dispatcher, result = validate(ValidatePaymentClaimForm(), "paid_on", typed, tracker(verified(), intent="inform"))
    assert result == {"paid_on": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_paid_date_invalid"]


@pytest.mark.parametrize("typed, amount", [("£250", "250.00"), ("I paid 60 quid", "60.00"), ("120.50", "120.50")])
def test_paid_amount(typed, amount):
    dispatcher, result = validate(
        ValidatePaymentClaimForm(), "paid_amount", typed, tracker(verified(), intent="inform")
    )
    assert result == {"paid_amount": amount, "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "typed, response",
    [("lots", "utter_amount_invalid"), ("0", "utter_amount_not_positive"), ("-5", "utter_amount_not_positive")],
)
def test_paid_amount_unusable(typed, response):
    dispatcher, result = validate(
        ValidatePaymentClaimForm(), "paid_amount", typed, tracker(verified(), intent="inform")
    )
    assert result == {"paid_amount": None, "invalid_answers": 1}
    assert names(dispatcher) == [response]


def test_paid_amount_below_one_penny():
    dispatcher, result = validate(
        ValidatePaymentClaimForm(), "paid_amount", "0.0049", tracker(verified(), intent="inform")
    )
    assert result == {"paid_amount": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_amount_not_positive"]


@pytest.mark.parametrize(
    "typed, method",
    [("  bank   transfer ", "bank transfer"), ("x" * 300, "x" * 100), ("", None), (None, None)],
)
def test_paid_method_is_tidied_and_capped(typed, method):
    dispatcher, result = validate(
        ValidatePaymentClaimForm(), "paid_method", typed, tracker(verified(), intent="inform")
    )
    assert result == {"paid_method": method}
    assert dispatcher.messages == []


def test_payment_claim_is_recorded_as_a_case_and_stops_collecting(loans, today):
    paid_on = today - timedelta(days=2)
    slots = verified(paid_on=paid_on.isoformat(), paid_amount="250", paid_method="bank transfer")
    dispatcher, events = run(
        ActionRecordPaymentClaim(), tracker(slots, intent="inform", text="bank transfer", sender="conv-p")
    )
    assert names(dispatcher) == ["utter_payment_claim_recorded"]
    case = the_case(loans, "LN-10001")
    msg = dispatcher.messages[0]
    assert (msg["amount"], msg["date"], msg["case_ref"]) == ("£250.00", day(paid_on), case["case_ref"])
    assert "method" not in msg  # the borrower's words are never repeated back
    assert (case["kind"], case["status"], case["borrower_words"]) == ("payment_claim", "open", None)
    assert case["details"] == {
        "paid_on": paid_on.isoformat(),
        "amount": "250",
        "currency": "GBP",
        "method": "bank transfer",
    }
    assert slots_of(events) == {
        **STOPPED,
        "reason_code": "already_paid",
        "paid_on": None,
        "paid_amount": None,
        "paid_method": None,
    }
    assert loans.loan_report("LN-10001")["reasons"][-1]["reason_code"] == "already_paid"
    assert event_types(loans, "LN-10001")[-1] == "payment_claim_opened"
    # a payment claim doesn't put the loan on hold, but nothing more is asked for in this conversation
    assert loans.account("LN-10001").on_collection_hold is False
    dispatcher, _ = run(ActionOfferOptions(), tracker(verified(**slots_of(events))))
    assert names(dispatcher) == ["utter_no_collection_now"]


CARD_AND_NI = "by card 4111 1111 1111 1111, NI AB123456C"


def test_how_the_borrower_paid_is_masked_at_once():
    _, result = validate(ValidatePaymentClaimForm(), "paid_method", CARD_AND_NI, tracker(verified(), intent="inform"))
    assert result == {"paid_method": f"by card {MASK}, NI {MASK}"}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_payment_claim_repeats_nothing_the_borrower_typed_and_keeps_it_masked(loans, today, language):
    """Even were the slot to hold the words unmasked, neither the reply (as Rasa
    fills it, from the values and the slots) nor the case holds the card."""
    slots = verified(language=language, paid_on=(today - timedelta(days=1)).isoformat(), paid_amount="50")
    slots["paid_method"] = CARD_AND_NI
    dispatcher, _ = run(ActionRecordPaymentClaim(), tracker(slots, intent="inform", text=CARD_AND_NI))
    [msg] = dispatcher.messages
    values = {**{k: v for k, v in slots.items() if v is not None}, **msg}
    [reply] = [v["text"] for v in DOMAIN["responses"][msg["response"]] if _variation_language(v) == language]
    reply = reply.format(**values)
    assert msg["case_ref"] in reply
    assert "4111" not in reply and "AB123456C" not in reply and "card" not in reply
    assert the_case(loans, "LN-10001")["details"]["method"] == f"by card {MASK}, NI {MASK}"


def _variation_language(variation: dict) -> str:
    conditions = variation.get("condition") or []
    return next((c["value"] for c in conditions if c.get("name") == "language"), "en")


def test_a_reason_keeps_an_id_number_written_after_chinese_masked(loans):
    words = "I lost my job last month, 身份证号11010519491231002X"
    run(ActionRecordReason(), tracker(verified("LN-10006"), intent="reason_unemployment", text=words))
    kept = loans.loan_report("LN-10006")["reasons"][-1]["borrower_words"]
    assert kept == f"I lost my job last month, 身份证号{MASK}"


def test_a_handoff_transcript_masks_what_either_side_quoted(loans):
    """This turn's messages reach the action unmasked (the tracker store masks
    them after the turn), the bot's as well as the borrower's."""
    history = [
        user_event("by card 4111.1111.1111.1111", "inform"),
        bot_event("Thank you (by card 4111.1111.1111.1111, NI AB123456C)."),
    ]
    text = "a person please, 卡号4111111111111111"
    run(ActionRequestHuman(), tracker(verified(), intent="request_human", text=text, history=history))
    [handoff] = loans.handoffs()
    assert [line["text"] for line in handoff["transcript"]] == [
        f"by card {MASK}",
        f"Thank you (by card {MASK}, NI {MASK}).",
        f"a person please, 卡号{MASK}",
    ]


def test_payment_claim_in_chinese_for_a_cny_loan(loans, today):
    paid_on = today - timedelta(days=1)
    slots = verified("LN-10007", language="zh", paid_on=paid_on.isoformat(), paid_amount="6000", paid_method="支付宝")
    dispatcher, _ = run(ActionRecordPaymentClaim(), tracker(slots, intent="inform"))
    msg = message(dispatcher, "utter_payment_claim_recorded")
    assert (msg["amount"], msg["date"]) == (format_money(Decimal("6000"), "CNY", "zh"), format_date(paid_on, "zh"))
    assert the_case(loans, "LN-10007")["details"]["currency"] == "CNY"


def test_payment_claim_before_verification(loans):
    before = snapshot(loans)
    dispatcher, events = run(
        ActionRecordPaymentClaim(), tracker({"paid_on": "2026-11-20", "paid_amount": "10", "paid_method": "card"})
    )
    assert (names(dispatcher), events) == (["utter_verify_first"], [])
    assert snapshot(loans) == before and loans.cases() == []


def test_payment_claim_after_the_form_gave_up_records_nothing(loans):
    trk = tracker(
        verified(invalid_answers=2, paid_on=None, paid_amount=None, paid_method=None), intent="inform", text="dunno"
    )
    try:
        run(ActionRecordPaymentClaim(), trk)
        crashed = False
    except TypeError:  # Decimal(None)
        crashed = True
    assert loans.cases() == []  # today a case with empty details is opened first
    assert not crashed


# ================================================================ third party


def test_third_party_reveals_nothing_and_forgets_the_verification(loans):
    before = event_types(loans, "LN-10001")
    trk = tracker(
        verified(pending_agreement={"kind": "pay_now"}, awaiting_confirmation=True),
        intent="third_party",
        text="this is his wife, he's not here",
        sender="conv-3",
        active_loop={"name": "plan_form"},
    )
    dispatcher, events = run(ActionHandleThirdParty(), trk)
    assert names(dispatcher) == ["utter_third_party"]
    msg = dispatcher.messages[0]
    assert (msg["lender_name"], msg["lender_phone"], msg["lender_hours"]) == (LENDER, PHONE, HOURS)
    assert_nothing_about_the_loan(dispatcher)
    assert slots_of(events) == {
        "verified": False,
        "verified_loan_ref": None,
        "pending_agreement": None,
        "awaiting_confirmation": False,
    }
    assert END_LOOP in events
    last = loans.audit_events()[-1]
    assert (last["event_type"], last["conversation_id"], last["details"]) == ("third_party_contact", "conv-3", {})
    assert event_types(loans, "LN-10001") == before  # nothing recorded against the loan


# ================================================================ stop contact


def test_stop_contact_asks_which_channels(loans):
    before = snapshot(loans)
    dispatcher, events = run(ActionStopContact(), tracker(verified(), intent="stop_contact", text="stop messaging me"))
    assert (names(dispatcher), events) == (["utter_ask_opt_out_scope"], [])
    assert buttons(dispatcher.messages[0]) == [
        ("This channel only", '/stop_contact{"opt_out_scope": "channel"}'),
        ("All channels", '/stop_contact{"opt_out_scope": "all"}'),
    ]
    assert snapshot(loans) == before


@pytest.mark.parametrize(
    "channel, stored, shown",
    [("telegram", "telegram", "Telegram"), ("sms", "sms", "SMS"), (None, "web", "this chat")],
)
def test_stop_contact_on_this_channel(loans, channel, stored, shown):
    trk = tracker(verified(opt_out_scope="channel"), intent="stop_contact", channel=channel, sender="conv-o")
    dispatcher, events = run(ActionStopContact(), trk)
    assert names(dispatcher) == ["utter_opt_out_recorded_channel"]
    assert dispatcher.messages[0]["channel"] == shown
    assert slots_of(events) == {"opt_out_scope": None}
    account = loans.account("LN-10001")
    assert account.opted_out_channels == (stored,)
    assert opted_out(stored, account.opted_out_channels) and not opted_out("email", account.opted_out_channels)
    audit = loans.loan_report("LN-10001")["audit_events"][-1]
    assert (audit["event_type"], audit["details"], audit["channel"]) == (
        "contact_opt_out",
        {"opted_out_channel": stored},
        stored,
    )


def test_stop_contact_on_all_channels(loans):
    run(ActionStopContact(), tracker(verified(opt_out_scope="channel"), intent="stop_contact", channel="sms"))
    dispatcher, events = run(
        ActionStopContact(), tracker(verified(opt_out_scope="all"), intent="stop_contact", channel="sms")
    )
    assert names(dispatcher) == ["utter_opt_out_recorded_all"]
    assert slots_of(events) == {"opt_out_scope": None}
    account = loans.account("LN-10001")
    assert account.opted_out_channels == ("all", "sms")
    assert all(opted_out(c, account.opted_out_channels) for c in ("sms", "email", "whatsapp", "telegram", "web"))
    audit = loans.loan_report("LN-10001")["audit_events"][-1]
    assert (audit["event_type"], audit["details"]) == ("contact_opt_out", {"opted_out_channel": "all"})


def test_stop_contact_twice_is_stored_once(loans):
    for _ in range(2):
        dispatcher, _ = run(ActionStopContact(), tracker(verified(opt_out_scope="all"), intent="stop_contact"))
        assert names(dispatcher) == ["utter_opt_out_recorded_all"]
    assert loans.account("LN-10001").opted_out_channels == ("all",)
    assert event_types(loans, "LN-10001").count("contact_opt_out") == 1


def test_stop_contact_before_verification(loans):
    before = event_types(loans, "LN-10001")
    trk = tracker({"loan_ref": "LN-10001", "opt_out_scope": "all"}, intent="stop_contact", sender="anon")
    dispatcher, events = run(ActionStopContact(), trk)
    assert (names(dispatcher), events) == (["utter_opt_out_unverified"], [])
    assert dispatcher.messages[0]["lender_phone"] == PHONE
    assert_nothing_about_the_loan(dispatcher)
    assert loans.audit_events()[-1]["event_type"] == "opt_out_request_unverified"
    assert event_types(loans, "LN-10001") == before
    assert loans.account("LN-10001").opted_out_channels == ()


# ================================================================ vulnerability and crisis


VERIFICATION_HISTORY = [
    user_event("hi", "greet"),
    bot_event("Please tell me your loan reference."),
    user_event("LN-10001", "inform"),
    bot_event("Thank you. And what is your date of birth?"),
    user_event("12 March 1985", "inform"),
    bot_event("Thank you, Amelia, you're verified."),
]


def test_crisis_gives_the_crisis_line_flags_and_hands_over_urgently(loans):
    words = "I can't go on, I want to end it all"
    trk = tracker(
        verified(pending_agreement={"kind": "pay_now"}, awaiting_confirmation=True),
        intent="crisis",
        text=words,
        sender="conv-c",
        history=VERIFICATION_HISTORY,
        active_loop={"name": "plan_form"},
    )
    dispatcher, events = run(ActionHandleVulnerability(), trk)
    assert names(dispatcher) == ["utter_crisis_support", "utter_crisis_followup"]
    assert dispatcher.messages[0]["crisis_line"] == services().settings.crisis_line
    no_money_said(dispatcher)
    assert slots_of(events) == STOPPED
    assert END_LOOP in events
    assert loans.account("LN-10001").vulnerable is True
    flagged = loans.audit_events("LN-10001")[-2]
    assert (flagged["event_type"], flagged["details"]) == ("vulnerability_flagged", {"category": "crisis"})
    [handoff] = loans.handoffs()
    assert (handoff["reason"], handoff["priority"], handoff["conversation_id"]) == ("crisis", "urgent", "conv-c")
    # the person picking it up sees the conversation, but not the date of birth
    transcript = handoff["transcript"]
    assert [line["from"] for line in transcript] == ["borrower", "assistant"] * 3 + ["borrower"]
    assert transcript[4] == {"from": "borrower", "text": WITHHELD}
    assert transcript[2] == {"from": "borrower", "text": "LN-10001"}
    assert transcript[-1] == {"from": "borrower", "text": words}
    assert "1985" not in json.dumps(transcript)


def test_crisis_words_are_recognised_whatever_the_intent(loans):
    dispatcher, _ = run(
        ActionHandleVulnerability(),
        tracker(verified(), intent="disclose_vulnerability", text="I don't want to live anymore"),
    )
    assert names(dispatcher) == ["utter_crisis_support", "utter_crisis_followup"]
    assert loans.handoffs()[0]["priority"] == "urgent"


def test_crisis_resources_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("CRISIS_LINE", "Lifeline 13 11 14")
    monkeypatch.setenv("DEBT_ADVICE", "National Debt Helpline 1800 007 007")
    clear_caches()
    crisis, _ = run(ActionHandleVulnerability(), tracker(verified(), intent="crisis", text="I want to die", sender="a"))
    assert message(crisis, "utter_crisis_support")["crisis_line"] == "Lifeline 13 11 14"
    other, _ = run(
        ActionHandleVulnerability(),
        tracker(verified(), intent="disclose_vulnerability", text="I have cancer", sender="b"),
    )
    assert message(other, "utter_vulnerability_support")["debt_advice"] == "National Debt Helpline 1800 007 007"


def test_the_emergency_number_is_the_markets(monkeypatch):
    uk, _ = run(ActionHandleVulnerability(), tracker(verified(), intent="crisis", text="I want to die", sender="a"))
    assert message(uk, "utter_crisis_support")["emergency_number"] == "999"
    monkeypatch.setenv("EMERGENCY_NUMBER", "911")
    clear_caches()
    us, _ = run(ActionHandleVulnerability(), tracker(verified(), intent="crisis", text="I want to die", sender="b"))
    assert message(us, "utter_crisis_support")["emergency_number"] == "911"


def test_a_chinese_borrower_in_crisis_gets_the_resources_in_chinese(loans):
    slots = verified("LN-10007", language="zh")
    crisis, _ = run(ActionHandleVulnerability(), tracker(slots, intent="crisis", text="我不想活了", sender="a"))
    assert "撒玛利亚会" in message(crisis, "utter_crisis_support")["crisis_line"]
    other, _ = run(
        ActionHandleVulnerability(), tracker(slots, intent="disclose_vulnerability", text="我得了癌症", sender="b")
    )
    assert "免费" in message(other, "utter_vulnerability_support")["debt_advice"]
    assert message(other, "utter_vulnerability_followup")["lender_hours"] == "周一至周五，上午9点至下午5点"


@pytest.mark.parametrize(
    "words, category",
    [
        ("I have a gambling addiction", "addiction"),
        ("I'm not coping, really bad depression", "mental_health"),
        ("I'm having chemo at the moment", "serious_illness"),
        ("my dad died last week", "bereavement"),
        ("things are just hard for me", "other"),
    ],
)
def test_vulnerability_gives_support_flags_and_hands_over(loans, words, category):
    trk = tracker(verified(), intent="disclose_vulnerability", text=words, sender="conv-v")
    dispatcher, events = run(ActionHandleVulnerability(), trk)
    assert names(dispatcher) == ["utter_vulnerability_support", "utter_vulnerability_followup"]
    assert dispatcher.messages[0]["debt_advice"] == services().settings.debt_advice
    assert (dispatcher.messages[1]["lender_phone"], dispatcher.messages[1]["lender_hours"]) == (PHONE, HOURS)
    no_money_said(dispatcher)
    assert slots_of(events) == STOPPED and END_LOOP in events
    assert loans.account("LN-10001").vulnerable is True
    assert loans.audit_events("LN-10001")[-2]["details"] == {"category": category}
    [handoff] = loans.handoffs()
    assert (handoff["reason"], handoff["priority"]) == ("vulnerability", "normal")


def test_vulnerability_before_verification_still_helps_but_flags_no_loan(loans):
    before = event_types(loans, "LN-10001")
    trk = tracker({"loan_ref": "LN-10001"}, intent="crisis", text="I want to kill myself", sender="anon")
    dispatcher, events = run(ActionHandleVulnerability(), trk)
    assert names(dispatcher) == ["utter_crisis_support", "utter_crisis_followup"]
    assert_nothing_about_the_loan(dispatcher)
    assert slots_of(events) == STOPPED
    assert loans.account("LN-10001").vulnerable is False
    assert event_types(loans, "LN-10001") == before
    assert [e["event_type"] for e in loans.audit_events()[-2:]] == [
        "vulnerability_disclosed_unverified",
        "handoff_requested",
    ]
    assert loans.audit_events()[-2]["details"] == {"category": "crisis"}
    [handoff] = loans.handoffs()
    assert (handoff["priority"], handoff["conversation_id"]) == ("urgent", "anon")


def test_a_crisis_after_asking_for_a_person_makes_the_handoff_urgent(loans):
    run(ActionRequestHuman(), tracker(verified(), intent="request_human", sender="conv-u"))
    run(ActionHandleVulnerability(), tracker(verified(), intent="crisis", text="I want to end it all", sender="conv-u"))
    [handoff] = loans.handoffs()
    assert handoff["priority"] == "urgent"


def test_a_flagged_borrower_is_not_asked_for_payment_later(loans):
    run(ActionHandleVulnerability(), tracker(verified(), intent="disclose_vulnerability", text="I'm in rehab"))
    later = tracker(verified(), sender="conv-later")
    dispatcher, _ = run(ActionOfferOptions(), later)
    assert names(dispatcher) == ["utter_no_collection_now"]
    dispatcher, _ = run(ActionAccountSummary(), later)
    assert names(dispatcher)[2:] == ["utter_no_collection_now", "utter_anything_else"]


# ================================================================ handoff


def test_handoff_reply_by_is_in_the_borrowers_time_zone(loans, monkeypatch):
    monkeypatch.setenv("HANDOFF_REPLY_HOURS", "4")
    clear_caches()
    before = utcnow()
    dispatcher, _ = run(ActionRequestHuman(), tracker(verified("LN-10010"), intent="request_human"))  # New York
    [handoff] = loans.handoffs()
    reply_by = datetime.fromisoformat(handoff["reply_by"])
    assert before + timedelta(hours=4) <= reply_by <= utcnow() + timedelta(hours=4)
    assert message(dispatcher, "utter_handoff_queued")["reply_by"] == format_datetime(
        reply_by, "America/New_York", "en"
    )


# ================================================================ hardship


def hardship_button(holiday: int, months: int, amount: str) -> tuple[str, str]:
    if holiday:
        title = f"No payments for {holiday} month(s), then {months} monthly payments of {money(amount)}"
    else:
        title = f"Smaller payments: {months} monthly payments of {money(amount)}"
    return title, "/request_hardship" + json.dumps({"holiday_months": str(holiday)})


def test_hardship_lists_the_arrangements(loans):
    before = snapshot(loans)
    dispatcher, events = run(ActionOfferHardship(), tracker(verified(), intent="request_hardship"))
    assert names(dispatcher) == ["utter_hardship_options"]
    # £250.00 over the longest hardship term (24 months, at least £10.00 a month), after 0-3 months' holiday
    assert buttons(dispatcher.messages[0]) == [hardship_button(h, 24, "10.41") for h in range(4)]
    # on screen: "the first one" means the first of these (components/step_policy.py)
    assert slots_of(events) == {
        "holiday_months": None,
        "hardship_amount": None,
        "dialogue_step": "offers",
        "offer_choices": dispatcher.messages[0]["buttons"],
    }
    assert snapshot(loans) == before


def test_hardship_for_bnpl_uses_its_policy():
    dispatcher, _ = run(ActionOfferHardship(), tracker(verified("LN-10003"), intent="request_hardship"))
    assert buttons(message(dispatcher, "utter_hardship_options")) == [
        hardship_button(0, 6, "10.00"),
        hardship_button(1, 6, "10.00"),
    ]


@pytest.mark.parametrize("holiday", ["9", "x"])  # not one of the arrangements offered
def test_hardship_unknown_pick_lists_the_arrangements_again(holiday):
    dispatcher, events = run(
        ActionOfferHardship(), tracker(verified(holiday_months=holiday), intent="request_hardship")
    )
    assert names(dispatcher) == ["utter_hardship_options"]
    assert len(buttons(dispatcher.messages[0])) == 4
    assert slots_of(events)["holiday_months"] is None and slots_of(events)["hardship_amount"] is None
    assert slots_of(events)["offer_choices"] == dispatcher.messages[0]["buttons"]


def test_hardship_pick_is_read_back(loans, today):
    before = snapshot(loans)
    dispatcher, events = run(ActionOfferHardship(), tracker(verified(holiday_months="2"), intent="request_hardship"))
    assert names(dispatcher) == ["utter_confirm_hardship"]
    first = today + relativedelta(months=3)  # two months' holiday, then monthly
    msg = dispatcher.messages[0]
    assert (msg["first_date"], msg["schedule"], msg["total"]) == (
        day(first),
        "23 payments of £10.41 and a final payment of £10.57",
        "£250.00",
    )
    pending = assert_read_back(events, "hardship_deferral", "250.00", from_form=False)
    assert slots_of(events)["holiday_months"] is None
    assert pending["terms"]["holiday_months"] == 2 and pending["terms"]["months"] == 24
    assert snapshot(loans) == before


def test_hardship_is_recorded_with_instalments_after_the_holiday(loans, today):
    _, events = run(ActionOfferHardship(), tracker(verified(holiday_months="1"), intent="request_hardship"))
    pending = slots_of(events)["pending_agreement"]
    dispatcher, recorded = confirm(pending)
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_feedback_question"]  # no payment link
    assert dispatcher.messages[0]["kind"] == "hardship arrangement"
    [agreement] = [a for a in loans.agreements() if a.loan_ref == "LN-10001"]
    assert slots_of(recorded)["agreement_ref"] == agreement.agreement_ref
    assert (agreement.kind, agreement.status, agreement.total_amount) == (
        "hardship_deferral",
        "active",
        Decimal("250.00"),
    )
    dates = [i.due_date for i in agreement.instalments]
    assert dates == [today + relativedelta(months=2 + n) for n in range(24)]
    assert min(dates) > today + relativedelta(months=1)  # nothing due during the holiday
    assert [i.amount for i in agreement.instalments] == [Decimal("10.41")] * 23 + [Decimal("10.57")]
    assert agreement.terms["holiday_months"] == 1


def test_hardship_unavailable_for_a_tiny_balance(loans):
    change_loan(loans, "LN-10003", overdue_amount=Decimal("8.00"))  # under 2 x £5.00
    dispatcher, events = run(ActionOfferHardship(), tracker(verified("LN-10003"), intent="request_hardship"))
    assert names(dispatcher) == ["utter_hardship_unavailable"]
    assert slots_of(events) == {"holiday_months": None, "hardship_amount": None}
    assert dispatcher.messages[0]["lender_phone"] == PHONE


def test_hardship_before_verification():
    dispatcher, events = run(ActionOfferHardship(), tracker(intent="request_hardship"))
    assert (names(dispatcher), events) == (["utter_verify_first"], [])


@pytest.mark.parametrize("action, slots", [(ActionOfferHardship, {"holiday_months": "1"}), (ActionOfferSettlement, {})])
def test_hardship_and_settlement_refuse_when_an_arrangement_exists(loans, action, slots):
    change_loan(loans, PLAN_HOLDER, days_past_due=100)  # eligible for a settlement too
    dispatcher, events = run(action(), tracker(verified(PLAN_HOLDER, **slots)))
    assert names(dispatcher) == ["utter_agreement_exists"]
    assert not slots_of(events).get("pending_agreement")


# ================================================================ settlement


def settlement_values(amount: str, discount: str, today) -> dict:
    return {
        "amount": money(amount),
        "discount": discount,
        "date": day(today + timedelta(days=14)),
        "outstanding_balance": "£2,600.00",
    }


@pytest.mark.parametrize("loan_ref", ["LN-10001", "LN-10004"])  # 12 and 75 days past due
def test_settlement_not_offered_under_90_days(loans, loan_ref):
    dispatcher, events = run(ActionOfferSettlement(), tracker(verified(loan_ref), intent="ask_settlement"))
    # no dead end: what policy does allow, on screen again; nothing read back
    assert names(dispatcher)[0] == "utter_settlement_unavailable"
    assert "utter_offer_options" in names(dispatcher)
    assert slots_of(events)["dialogue_step"] == "offers"
    assert "pending_agreement" not in slots_of(events)


def test_settlement_is_offered_at_the_initial_discount(loans, today):
    before = snapshot(loans)
    dispatcher, events = run(ActionOfferSettlement(), tracker(verified(SETTLER), intent="ask_settlement"))
    assert names(dispatcher) == ["utter_confirm_settlement"]
    msg = dispatcher.messages[0]
    assert {k: msg[k] for k in ("amount", "discount", "date", "outstanding_balance")} == settlement_values(
        "2340.00", "10%", today
    )
    assert slots_of(events)["settlement_improved"] is False
    pending = assert_read_back(events, "settlement", "2340.00", from_form=False)
    assert pending["instalments"] == [[(today + timedelta(days=14)).isoformat(), "2340.00"]]
    assert {k: pending["terms"][k] for k in ("outstanding_balance", "discount", "improved")} == {
        "outstanding_balance": "2600.00",
        "discount": "0.10",
        "improved": False,
    }
    assert snapshot(loans) == before


def test_a_no_to_the_settlement_improves_it_once(loans, today):
    pending = slots_of(run(ActionOfferSettlement(), tracker(verified(SETTLER)))[1])["pending_agreement"]
    trk = tracker(verified(SETTLER, pending_agreement=pending, awaiting_confirmation=True), intent="deny", text="no")
    dispatcher, events = run(ActionRejectProposal(), trk)
    assert names(dispatcher) == ["utter_settlement_improved"]
    msg = dispatcher.messages[0]
    assert {k: msg[k] for k in ("amount", "discount", "date", "outstanding_balance")} == settlement_values(
        "1950.00", "25%", today
    )
    assert slots_of(events)["settlement_improved"] is True
    improved = assert_read_back(events, "settlement", "1950.00", from_form=False)
    assert (improved["terms"]["improved"], improved["terms"]["discount"]) == (True, "0.25")
    assert improved["terms"]["idempotency_key"] != pending["terms"]["idempotency_key"]
    # a second no withdraws it and shows the options again
    trk = tracker(verified(SETTLER, pending_agreement=improved, awaiting_confirmation=True), intent="deny", text="no")
    dispatcher, events = run(ActionRejectProposal(), trk)
    assert names(dispatcher) == ["utter_proposal_withdrawn", "utter_offer_options", "utter_offer_monthly_amount_hint"]
    assert slots_of(events)["pending_agreement"] is None and slots_of(events)["awaiting_confirmation"] is False
    assert [a for a in loans.agreements() if a.loan_ref == SETTLER] == []


@pytest.mark.parametrize("improved, amount", [(False, "2340.00"), (True, "1950.00")])
def test_a_yes_records_the_settlement_and_sends_a_payment_link(loans, today, improved, amount):
    pending = slots_of(run(ActionOfferSettlement(), tracker(verified(SETTLER)))[1])["pending_agreement"]
    if improved:
        trk = tracker(
            verified(SETTLER, pending_agreement=pending, awaiting_confirmation=True), intent="deny", text="no"
        )
        pending = slots_of(run(ActionRejectProposal(), trk)[1])["pending_agreement"]
    dispatcher, _ = confirm(pending, SETTLER)
    assert names(dispatcher) == ["utter_agreement_recorded", "utter_payment_link", "utter_feedback_question"]
    assert dispatcher.messages[0]["kind"] == "settlement"
    [token] = parse_qs(urlparse(dispatcher.messages[1]["payment_url"]).query)["token"]
    claims = verify_payment_token(token, DEV_SECRET)
    assert (claims["loan_ref"], claims["amount"], claims["currency"]) == (SETTLER, amount, "GBP")
    [agreement] = [a for a in loans.agreements() if a.loan_ref == SETTLER]
    assert (agreement.kind, agreement.total_amount) == ("settlement", Decimal(amount))
    assert [(i.due_date, i.amount) for i in agreement.instalments] == [(today + timedelta(days=14), Decimal(amount))]
    assert agreement.terms["improved"] is improved


def test_settlement_in_chinese_for_a_cny_loan():
    shanghai_today = local_today("Asia/Shanghai")  # the borrower's own date, a day ahead of London in the evening
    dispatcher, events = run(ActionOfferSettlement(), tracker(verified("LN-10007", language="zh")))  # 95 days past due
    msg = message(dispatcher, "utter_confirm_settlement")
    assert (msg["amount"], msg["outstanding_balance"], msg["date"]) == (
        format_money(Decimal("16200.00"), "CNY", "zh"),
        format_money(Decimal("18000.00"), "CNY", "zh"),
        format_date(shanghai_today + timedelta(days=14), "zh"),
    )
    assert_read_back(events, "settlement", "16200.00", "CNY", from_form=False)


def test_settlement_before_verification():
    dispatcher, events = run(ActionOfferSettlement(), tracker(intent="ask_settlement"))
    assert (names(dispatcher), events) == (["utter_verify_first"], [])


# ================================================================ an existing plan


def test_plan_status(loans):
    agreement = loans.account(PLAN_HOLDER).open_agreement
    dispatcher, events = run(ActionPlanStatus(), tracker(verified(PLAN_HOLDER), intent="ask_next_payment"))
    assert (names(dispatcher), events) == (["utter_plan_status"], [])
    msg = dispatcher.messages[0]
    assert {
        k: msg[k]
        for k in ("kind", "agreement_ref", "next_amount", "next_due_date", "remaining_count", "remaining_amount")
    } == {
        "kind": "payment plan",
        "agreement_ref": agreement.agreement_ref,
        "next_amount": "£100.00",
        "next_due_date": day(agreement.instalments[0].due_date),
        "remaining_count": 3,
        "remaining_amount": "£300.00",
    }


def test_plan_status_after_a_payment(loans):
    with loans.db.transaction() as s:
        s.scalars(select(Instalment).where(Instalment.sequence == 1)).one().status = "paid"
    agreement = loans.account(PLAN_HOLDER).open_agreement
    dispatcher, _ = run(ActionPlanStatus(), tracker(verified(PLAN_HOLDER), intent="ask_plan_remaining"))
    msg = message(dispatcher, "utter_plan_status")
    assert (msg["next_due_date"], msg["remaining_count"], msg["remaining_amount"]) == (
        day(agreement.instalments[1].due_date),
        2,
        "£200.00",
    )


def test_plan_status_without_a_plan():
    dispatcher, events = run(ActionPlanStatus(), tracker(verified(), intent="ask_next_payment"))
    assert (names(dispatcher), events) == (["utter_no_active_plan"], [])


def test_plan_status_before_verification():
    dispatcher, events = run(ActionPlanStatus(), tracker({"loan_ref": PLAN_HOLDER}, intent="ask_next_payment"))
    assert (names(dispatcher), events) == (["utter_verify_first"], [])


@pytest.mark.parametrize(
    "slots, expected",
    [
        (verified(PLAN_HOLDER), ["new_payment_date"]),
        (verified(), []),  # no plan to change
        (verified(PLAN_HOLDER, invalid_answers=2), []),
        ({"loan_ref": PLAN_HOLDER}, []),
    ],
)
def test_change_date_form_required_slots(slots, expected):
    assert required(ValidateChangeDateForm(), slots, ["new_payment_date"]) == expected


def change_date(text, intent="inform", **slots):
    trk = tracker(verified(PLAN_HOLDER, **slots), intent=intent, text=text, active_loop={"name": "change_date_form"})
    return validate(ValidateChangeDateForm(), "new_payment_date", text, trk)


def test_new_payment_date_within_the_window(today):
    chosen = (today + timedelta(days=10)).isoformat()
    dispatcher, result = change_date(chosen)
    assert result == {"new_payment_date": chosen, "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize("offset, response", [(31, "utter_date_too_far"), (-1, "utter_date_in_past")])
def test_new_payment_date_outside_the_window(today, offset, response):
    chosen = today + timedelta(days=offset)
    dispatcher, result = change_date(chosen.isoformat())
    assert result == {"new_payment_date": None, "invalid_answers": 1}
    assert names(dispatcher) == [response]
    msg = dispatcher.messages[0]
    assert (msg["date"], msg["earliest_date"], msg["latest_date"]) == (
        day(chosen),
        day(today),
        day(today + timedelta(days=30)),
    )


def test_new_payment_date_unparseable():
    dispatcher, result = change_date("whenever suits")
    assert result == {"new_payment_date": None, "invalid_answers": 1}
    assert names(dispatcher) == ["utter_date_invalid"]


def test_asking_to_change_the_date_without_one_asks_quietly():
    dispatcher, result = change_date("can I change my payment date", intent="change_payment_date")
    assert result == {"new_payment_date": None}
    assert dispatcher.messages == []


def test_new_payment_date_ignores_payloads():
    dispatcher, result = change_date("/change_payment_date", intent="change_payment_date")
    assert (result, dispatcher.messages) == ({"new_payment_date": None}, [])


def test_ask_new_payment_date_gives_the_window(today):
    dispatcher, events = run(ActionAskNewPaymentDate(), tracker(verified(PLAN_HOLDER)))
    assert (names(dispatcher), events) == (["utter_ask_new_payment_date"], [])
    msg = dispatcher.messages[0]
    assert (msg["earliest_date"], msg["latest_date"]) == (day(today), day(today + timedelta(days=30)))


def test_date_change_is_read_back_then_amends_the_plan(loans, today):
    old = loans.account(PLAN_HOLDER).open_agreement
    chosen = today + timedelta(days=10)
    before = snapshot(loans)
    dispatcher, events = run(
        ActionProposeDateChange(), tracker(verified(PLAN_HOLDER, new_payment_date=chosen.isoformat()))
    )
    assert names(dispatcher) == ["utter_confirm_date_change"]
    msg = dispatcher.messages[0]
    assert (msg["count"], msg["schedule"], msg["total"], msg["first_date"]) == (
        3,
        "3 payments of £100.00",
        "£300.00",
        day(chosen),
    )
    assert slots_of(events)["new_payment_date"] is None
    pending = assert_read_back(events, "instalment_plan", "300.00", from_form=False)
    assert (pending["terms"]["operation"], pending["terms"]["amends"]) == ("amend", old.agreement_ref)
    assert snapshot(loans) == before

    dispatcher, recorded = confirm(pending, PLAN_HOLDER, sender="conv-a")
    assert names(dispatcher) == ["utter_agreement_amended", "utter_feedback_question"]  # no payment link
    new = loans.account(PLAN_HOLDER).open_agreement
    assert dispatcher.messages[0]["agreement_ref"] == new.agreement_ref != old.agreement_ref
    slots = slots_of(recorded)
    assert slots == {**slots, "awaiting_confirmation": False, "agreement_ref": new.agreement_ref}
    assert slots["feedback_step"] == "asked"  # a changed plan resolves the conversation too
    assert [(i.due_date, i.amount, i.status) for i in new.instalments] == [
        (chosen + relativedelta(months=n), Decimal("100.00"), "scheduled") for n in range(3)
    ]
    assert (new.kind, new.status, new.total_amount) == ("instalment_plan", "active", Decimal("300.00"))
    statuses = {a.agreement_ref: a.status for a in loans.agreements()}
    assert statuses == {old.agreement_ref: "amended", new.agreement_ref: "active"}
    audit, asked = loans.audit_events(PLAN_HOLDER)[-2:]  # then the feedback question was asked
    assert asked["event_type"] == "feedback_asked"
    assert audit["event_type"] == "agreement_amended" and audit["conversation_id"] == "conv-a"
    assert audit["details"] == {"agreement_ref": new.agreement_ref, "replaces": old.agreement_ref}
    again, _ = confirm(pending, PLAN_HOLDER)  # a second yes changes nothing
    assert names(again) == ["utter_agreement_already_recorded"]
    assert len(loans.agreements()) == 2


def test_date_change_without_a_date_or_a_plan(loans, today):
    dispatcher, events = run(ActionProposeDateChange(), tracker(verified(PLAN_HOLDER)))
    assert (names(dispatcher), slots_of(events)) == ([], {"new_payment_date": None, "invalid_answers": 0})
    dispatcher, events = run(ActionProposeDateChange(), tracker(verified(new_payment_date=today.isoformat())))
    assert (names(dispatcher), slots_of(events)) == (["utter_no_active_plan"], {"new_payment_date": None})


def test_date_change_after_the_form_gave_up_resets_the_count():
    _, events = run(ActionProposeDateChange(), tracker(verified(PLAN_HOLDER, invalid_answers=2)))
    assert slots_of(events).get("invalid_answers") == 0


def test_cancel_is_read_back_then_cancels_the_plan(loans):
    old = loans.account(PLAN_HOLDER).open_agreement
    before = snapshot(loans)
    dispatcher, events = run(ActionProposeCancel(), tracker(verified(PLAN_HOLDER), intent="cancel_plan"))
    assert names(dispatcher) == ["utter_confirm_cancel"]
    assert dispatcher.messages[0]["agreement_ref"] == old.agreement_ref
    pending = slots_of(events)["pending_agreement"]
    assert slots_of(events)["awaiting_confirmation"] is True
    assert (pending["terms"]["operation"], pending["terms"]["cancels"], pending["instalments"]) == (
        "cancel",
        old.agreement_ref,
        [],
    )
    assert snapshot(loans) == before

    dispatcher, recorded = confirm(pending, PLAN_HOLDER)
    assert names(dispatcher) == ["utter_agreement_cancelled"]
    assert dispatcher.messages[0]["agreement_ref"] == old.agreement_ref
    assert slots_of(recorded) == {"pending_agreement": None, "awaiting_confirmation": False}
    [cancelled] = loans.agreements()
    assert cancelled.status == "cancelled"
    assert {i.status for i in cancelled.instalments} == {"cancelled"}
    assert loans.account(PLAN_HOLDER).open_agreement is None
    assert event_types(loans, PLAN_HOLDER)[-1] == "agreement_cancelled"


def test_cancel_without_a_plan():
    dispatcher, events = run(ActionProposeCancel(), tracker(verified(), intent="cancel_plan"))
    assert (names(dispatcher), events) == (["utter_no_active_plan"], [])


def test_keeping_the_plan_offers_nothing_new(loans):
    pending = slots_of(run(ActionProposeCancel(), tracker(verified(PLAN_HOLDER)))[1])["pending_agreement"]
    trk = tracker(
        verified(PLAN_HOLDER, pending_agreement=pending, awaiting_confirmation=True), intent="deny", text="no, keep it"
    )
    dispatcher, _ = run(ActionRejectProposal(), trk)
    assert "utter_offer_options" not in names(dispatcher)


# ================================================================ questions


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_faq_answers(loans, intent):
    before = snapshot(loans)
    dispatcher, events = run(ActionAnswerQuestion(), tracker(intent=intent, text="?"))
    assert (names(dispatcher), events) == ([f"utter_faq_{intent}"], [])
    msg = dispatcher.messages[0]
    assert (msg["lender_name"], msg["lender_phone"], msg["lender_hours"]) == (LENDER, PHONE, HOURS)
    assert_nothing_about_the_loan(dispatcher)
    assert snapshot(loans) == before


@pytest.mark.parametrize("form", ["plan_form", "promise_form", "verify_form", "payment_claim_form"])
def test_faq_inside_a_form_goes_back_to_it(form):
    trk = tracker(
        verified(), intent="ask_credit_impact", text="will this affect my credit score?", active_loop={"name": form}
    )
    dispatcher, events = run(ActionAnswerQuestion(), trk)
    assert (names(dispatcher), events) == (["utter_faq_ask_credit_impact", "utter_back_to_it"], [])


def test_question_that_is_not_an_faq():
    dispatcher, events = run(ActionAnswerQuestion(), tracker(intent="smalltalk", text="nice weather"))
    assert (names(dispatcher), events) == (["utter_default"], [])


# ================================================================ fallback


def fallback_trk(history: list, text="asdf qwerty", intent="nlu_fallback"):
    return tracker(verified(), intent=intent, text=text, history=history)


def test_first_misunderstanding_asks_to_rephrase():
    dispatcher, events = run(ActionFallback(), fallback_trk([user_event("hello", "greet"), bot_event("Hi")]))
    assert (names(dispatcher), events) == (["utter_ask_rephrase"], [])


def test_second_misunderstanding_in_a_row_offers_a_person_or_the_options():
    history = [
        user_event("blah", "nlu_fallback"),
        bot_event("Sorry, could you put that another way?"),
        {"event": "action", "name": "action_fallback"},
    ]
    dispatcher, events = run(ActionFallback(), fallback_trk(history))
    assert (names(dispatcher), events) == (["utter_still_not_understood"], [])
    variation = DOMAIN["responses"]["utter_still_not_understood"][0]  # English
    assert {"title": "Talk to a person", "payload": "/request_human"} in variation["buttons"]


def test_an_understood_message_in_between_starts_again():
    history = [
        user_event("blah", "nlu_fallback"),
        bot_event("Sorry?"),
        user_event("how much do I owe", "ask_balance"),
        bot_event("..."),
    ]
    dispatcher, _ = run(ActionFallback(), fallback_trk(history))
    assert names(dispatcher) == ["utter_ask_rephrase"]


def test_consecutive_misunderstandings_counts_user_messages_only():
    events = [
        user_event("hi", "greet"),
        user_event("x", "nlu_fallback"),
        bot_event("?"),
        {"event": "action", "name": "action_listen"},
        user_event("y", "nlu_fallback"),
        bot_event("??"),
        user_event("z", "nlu_fallback"),
    ]
    assert consecutive_misunderstandings(events) == 3
    assert consecutive_misunderstandings(events[:2]) == 1
    assert consecutive_misunderstandings([user_event("hi", "greet")]) == 0
    assert consecutive_misunderstandings([]) == 0


# ================================================================ stuck in a form

# (form validation, form, slot, an unusable answer, verified loan)
STUCK_CASES = [
    (ValidateVerifyForm, "verify_form", "loan_ref", "no idea", None),
    (ValidatePlanForm, "plan_form", "plan_months", "banana", "LN-10001"),
    (ValidatePlanForm, "plan_form", "first_payment_date", "whenever", "LN-10001"),
    (ValidatePromiseForm, "promise_form", "promise_date", "soon-ish", "LN-10001"),
    (ValidatePaymentClaimForm, "payment_claim_form", "paid_on", "banana", "LN-10001"),
    (ValidatePaymentClaimForm, "payment_claim_form", "paid_amount", "lots", "LN-10001"),
    (ValidateChangeDateForm, "change_date_form", "new_payment_date", "whenever", PLAN_HOLDER),
]


@pytest.mark.parametrize("form_cls, form, slot, answer, loan_ref", STUCK_CASES)
def test_two_unusable_answers_in_a_row_end_the_form_and_offer_a_person(form_cls, form, slot, answer, loan_ref):
    slots = verified(loan_ref) if loan_ref else {}
    if slot == "first_payment_date":
        slots["plan_months"] = "3"
    if slot == "paid_amount":
        slots["paid_on"] = "2026-11-01"
    domain_slots = DOMAIN["forms"][form]["required_slots"]

    # first miss: explained, counted, the form goes on asking
    dispatcher, events = run_form(form_cls(), form, slot, answer, slots)
    assert slots_of(events) == {slot: None, "invalid_answers": 1}
    assert "utter_stuck_offer_help" not in names(dispatcher) and len(names(dispatcher)) == 1
    assert required(form_cls(), {**slots, "invalid_answers": 1}, domain_slots) == domain_slots

    # second miss in a row: a person is offered and the form stops (no third question)
    dispatcher, events = run_form(form_cls(), form, slot, answer, {**slots, "invalid_answers": 1})
    assert names(dispatcher)[-1] == "utter_stuck_offer_help" and len(names(dispatcher)) == 2
    assert slots_of(events) == {slot: None, "invalid_answers": 2, "requested_slot": None}
    assert required(form_cls(), {**slots, "invalid_answers": 2}, domain_slots) == []


def test_stuck_offer_has_a_person_button():
    variation = DOMAIN["responses"]["utter_stuck_offer_help"][0]  # English
    assert {"title": "Talk to a person", "payload": "/request_human"} in variation["buttons"]


def test_a_usable_answer_after_a_miss_resets_the_count(today):
    chosen = (today + timedelta(days=3)).isoformat()
    dispatcher, events = run_form(
        ValidatePromiseForm(), "promise_form", "promise_date", chosen, verified(invalid_answers=1)
    )
    assert slots_of(events) == {"promise_date": chosen, "invalid_answers": 0}
    assert dispatcher.messages == []


@pytest.mark.parametrize("action", [ActionProposePlan, ActionProposePromise])
def test_after_a_form_gave_up_the_options_are_not_repeated(loans, action):
    before = snapshot(loans)
    dispatcher, events = run(action(), tracker(verified(invalid_answers=2)))
    assert dispatcher.messages == []  # the borrower was just offered a person
    assert slots_of(events) == {
        "promise_date": None,
        "plan_months": None,
        "plan_monthly_amount": None,
        "first_payment_date": None,
        "invalid_answers": 0,
    }
    assert snapshot(loans) == before


# ================================================================ no offers while collection is blocked


def block_by_dispute(store):
    store.open_case(SETTLER, "dispute", "not mine")
    return {}, "utter_account_on_hold"


def block_by_fraud(store):
    store.open_case(SETTLER, "fraud_claim", "someone used my name")
    return {}, "utter_account_on_hold"


def block_by_vulnerability(store):
    store.flag_vulnerable(SETTLER, "mental_health")
    return {}, "utter_no_collection_now"


def block_in_this_conversation(store):
    return {"collection_stopped": True}, "utter_no_collection_now"


def block_by_reason(store):
    return {"reason_code": "already_paid"}, "utter_no_collection_now"


BLOCKS = [block_by_dispute, block_by_fraud, block_by_vulnerability, block_in_this_conversation, block_by_reason]


def blocked_actions(today):
    """(action, slots, what it says when nothing blocks it)"""
    return [
        (ActionOfferOptions, {}, "utter_offer_options"),
        (ActionProposePayNow, {}, "utter_confirm_pay_now"),
        (ActionProposePromise, {"promise_date": (today + timedelta(days=3)).isoformat()}, "utter_confirm_promise"),
        (
            ActionProposePlan,
            {"plan_months": "3", "first_payment_date": (today + timedelta(days=7)).isoformat()},
            "utter_confirm_plan",
        ),
        (ActionOfferHardship, {}, "utter_hardship_options"),
        (ActionOfferHardship, {"holiday_months": "1"}, "utter_confirm_hardship"),
        (ActionOfferSettlement, {}, "utter_confirm_settlement"),
    ]


@pytest.mark.parametrize("block", BLOCKS)
def test_collection_blocked_stops_every_offer_and_proposal(loans, today, block):
    extra, response = block(loans)
    # the same actions offer and read back when nothing blocks them (LN-10006 is eligible for all)
    for action, slots, _ in blocked_actions(today):
        before = snapshot(loans)
        dispatcher, events = run(action(), tracker(verified(SETTLER, **slots, **extra), intent="inform"))
        assert names(dispatcher) == [response], action.__name__
        if response == "utter_no_collection_now":
            assert (dispatcher.messages[0]["lender_phone"], dispatcher.messages[0]["lender_hours"]) == (PHONE, HOURS)
        no_money_said(dispatcher)
        assert not slots_of(events).get("pending_agreement") and not slots_of(events).get("awaiting_confirmation")
        assert snapshot(loans) == before


def test_the_same_actions_offer_when_nothing_blocks(loans, today):
    for action, slots, response in blocked_actions(today):
        dispatcher, _ = run(action(), tracker(verified(SETTLER, **slots), intent="inform"))
        assert names(dispatcher)[0] == response, action.__name__


@pytest.mark.parametrize("block", BLOCKS)
def test_collection_blocked_after_a_reason_or_a_no(loans, block):
    extra, response = block(loans)
    dispatcher, _ = run(
        ActionRecordReason(), tracker(verified(SETTLER, **extra), intent="reason_forgot", text="I forgot")
    )
    assert names(dispatcher) == ["utter_empathy_forgot", response]
    pending = {"kind": "pay_now", "total_amount": "1500.00", "currency": "GBP", "instalments": [], "terms": {}}
    trk = tracker(
        verified(SETTLER, pending_agreement=pending, awaiting_confirmation=True, **extra), intent="deny", text="no"
    )
    dispatcher, _ = run(ActionRejectProposal(), trk)
    assert names(dispatcher) == ["utter_proposal_withdrawn", response]


@pytest.mark.parametrize("action", [ActionAskPlanMonths, ActionAskPromiseDate])
def test_form_questions_ask_for_no_payment_while_blocked(loans, action):
    loans.open_case(SETTLER, "dispute", "not mine")
    dispatcher, _ = run(action(), tracker(verified(SETTLER)))
    no_money_said(dispatcher)


def signed_stop(secret: str | None = None):
    """ "STOP" by SMS from +447700900001, which our Twilio connector vouches for
    (signed with `secret`, by default the real one)."""
    from datetime import datetime, timezone

    from bot.domain.identity import METADATA_KEY, ChannelIdentity, mint_channel_identity

    token = mint_channel_identity(
        ChannelIdentity("twilio", "phone", "+447700900001"),
        secret or services().settings.channel_identity_secret,
        now=datetime.now(timezone.utc),
        conversation_id="+447700900001",
    )
    trk = tracker({}, intent="stop_contact", text="STOP", channel="twilio", sender="+447700900001")
    trk.latest_message["metadata"] = {METADATA_KEY: token}
    return trk


def test_stop_from_the_address_we_wrote_to_is_honoured_without_verification(loans, monkeypatch):
    """A reminder went to the borrower's phone; "STOP" from that phone (a signed
    channel identity) opts out of that channel at once and reveals nothing."""
    dispatcher, _events = run(ActionStopContact(), signed_stop())
    assert names(dispatcher) == ["utter_opt_out_recorded_channel"]
    assert dispatcher.messages[0]["channel"] == "SMS"
    assert loans.account("LN-10001").opted_out_channels == ("twilio",)


def test_stop_with_a_forged_identity_records_nothing(loans):
    dispatcher, _events = run(ActionStopContact(), signed_stop("not-our-secret"))
    assert names(dispatcher) == ["utter_opt_out_unverified"]
    assert loans.account("LN-10001").opted_out_channels == ()


def test_stop_from_a_number_shared_by_two_borrowers_opts_both_out(loans):
    from datetime import date

    loans.upsert_loans(
        [
            {
                "loan_ref": "LN-20001",
                "borrower_name": "Sam Clarke",
                "date_of_birth": date(1984, 1, 1),
                "phone": "+447700900001",
                "email": None,
                "timezone": "Europe/London",
                "language": "en",
                "product": "personal_loan",
                "currency": "GBP",
                "principal": Decimal("1000.00"),
                "outstanding_balance": Decimal("500.00"),
                "overdue_amount": Decimal("0.00"),
                "days_past_due": 0,
                "next_due_date": date(2026, 12, 1),
            }
        ]
    )
    dispatcher, _ = run(ActionStopContact(), signed_stop())
    assert names(dispatcher) == ["utter_opt_out_recorded_channel"]
    assert loans.account("LN-10001").opted_out_channels == ("twilio",)
    assert loans.account("LN-20001").opted_out_channels == ("twilio",)
