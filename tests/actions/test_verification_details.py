"""Issue 13 §4 and §6: both verification details in one message, in either order and
either language, verify in one step; a partial or bad message asks for what is
missing; the counters count as before; the borrower is greeted in their language, by
the name their language expects.

Each turn runs the verification form's step through rasa-sdk's own
FormValidationAction.run with the slot candidates Rasa's form would have added.
"""

from __future__ import annotations

import pytest

from actions.verification import ValidateVerifyForm
from tests.actions.support import names, run, slots_of, tracker

RASA_FILLS_FROM_TEXT = object()


def turn(text: str, *, requested: str | None = "loan_ref", slots: dict | None = None, entity: str | None = None):
    """One message to the verification form, as Rasa hands it over: the slot the form
    asked for filled from the text (when asked), a loan reference entity when the
    NLU found one."""
    candidates: dict = {}
    if entity:
        candidates["loan_ref"] = entity
    if requested:
        candidates[requested] = text
    all_slots = {"requested_slot": requested, **(slots or {}), **candidates}
    trk = tracker(
        all_slots,
        intent="inform",
        text=text,
        extra_events=[{"event": "slot", "name": k, "value": v} for k, v in candidates.items()],
        active_loop={"name": "verify_form"},
        sender="details-1",
    )
    dispatcher, events = run(ValidateVerifyForm(), trk)
    return dispatcher, slots_of(events)


def attempts(loans, loan_ref: str) -> list[str]:
    return [e for e in (e["event_type"] for e in loans.audit_events(loan_ref)) if e.startswith("verification_")]


@pytest.mark.parametrize(
    "text, loan_ref, greeting",
    [
        ("it's LN-10009, born 3 april 2000", "LN-10009", "Thank you, Isla, you're verified."),
        ("born 3 April 2000, my loan is ln 10009", "LN-10009", "Thank you, Isla, you're verified."),
        ("LN-10001 and 1985-03-12", "LN-10001", "Thank you, Amelia, you're verified."),
        ("借款编号LN-10007，生日1988年2月2日", "LN-10007", "谢谢您，Li女士，身份验证已通过。"),
        ("1988年2月2日出生，贷款编号是LN10007", "LN-10007", "谢谢您，Li女士，身份验证已通过。"),
    ],
)
def test_both_details_in_one_message_verify_in_one_step(loans, text, loan_ref, greeting):
    dispatcher, slots = turn(text)
    assert names(dispatcher) == ["utter_verified"]
    assert dispatcher.messages[0]["text"] == greeting
    assert slots["verified"] is True and slots["verified_loan_ref"] == loan_ref
    assert slots["date_of_birth"] == "checked" and slots["requested_slot"] is None  # the form ends: nothing asked again
    assert attempts(loans, loan_ref) == ["verification_passed"]  # one attempt, as before


def test_both_details_with_the_reference_found_by_the_nlu_as_an_entity(loans):
    dispatcher, slots = turn("it's LN-10009, born 3 april 2000", requested=None, entity="LN-10009")
    assert slots["verified"] is True and names(dispatcher) == ["utter_verified"]


def test_wrong_details_in_one_message_count_one_failure_and_reveal_nothing(loans):
    dispatcher, slots = turn("LN-10009, born 4 april 2000")
    assert names(dispatcher) == ["utter_verification_failed"]
    assert dispatcher.messages[0]["attempts_left"] == 2
    assert slots["loan_ref"] is None and slots["date_of_birth"] is None and not slots.get("verified")
    assert slots["verification_failures"] == 1
    assert attempts(loans, "LN-10009") == ["verification_failed"]  # one attempt, as before
    text = str(dispatcher.messages)
    assert "Isla" not in text and "£" not in text


def test_a_reference_with_an_unreadable_date_asks_for_the_date_of_birth(loans):
    dispatcher, slots = turn("LN-10009 born on the 31st of february")
    assert names(dispatcher) == []  # Rasa's form goes on to ask for the date of birth, the slot still empty
    assert slots["loan_ref"] == "LN-10009" and "date_of_birth" not in slots
    assert attempts(loans, "LN-10009") == []


def test_an_ambiguous_date_with_the_reference_offers_both_readings(loans):
    dispatcher, slots = turn("LN-10009 03/04/2000")
    assert names(dispatcher) == ["utter_dob_ambiguous"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["3 April 2000", "4 March 2000"]
    assert slots["loan_ref"] == "LN-10009" and slots["date_of_birth"] is None
    assert attempts(loans, "LN-10009") == []


@pytest.mark.parametrize(
    "dob, ref, language, greeting",
    [
        ("12 March 1985", "LN-10001", "en", "Thank you, Amelia, you're verified."),
        ("1988年2月2日", "LN-10007", "zh", "谢谢您，Li女士，身份验证已通过。"),
    ],
)
def test_a_date_of_birth_first_is_kept_until_the_reference_comes(loans, dob, ref, language, greeting):
    dispatcher, slots = turn(dob, slots={"language": language})
    assert names(dispatcher) == ["utter_dob_noted_need_loan_ref"]
    assert slots["loan_ref"] is None  # Rasa's form asks for the reference next
    held = slots["held_date_of_birth"]
    assert held and "1985" not in held and "1988" not in held  # sealed, never in clear
    assert attempts(loans, ref) == []
    assert slots.get("invalid_answers") in (None, 0)  # not counted as a bad answer

    dispatcher, slots = turn(ref, slots={"language": language, "held_date_of_birth": held})
    assert names(dispatcher) == ["utter_verified"] and dispatcher.messages[0]["text"] == greeting
    assert slots["verified"] is True and slots["held_date_of_birth"] is None
    assert attempts(loans, ref) == ["verification_passed"]


def test_a_held_date_of_birth_that_is_wrong_fails_like_any_other(loans):
    _, slots = turn("1 January 1990")
    dispatcher, slots = turn("LN-10001", slots={"held_date_of_birth": slots["held_date_of_birth"]})
    assert names(dispatcher) == ["utter_verification_failed"]
    assert slots["verification_failures"] == 1 and slots["loan_ref"] is None and slots["held_date_of_birth"] is None


def test_neither_detail_is_refused_politely(loans):
    dispatcher, slots = turn("I don't know it")
    assert names(dispatcher) == ["utter_loan_ref_invalid"]
    assert slots["invalid_answers"] == 1


def test_three_wrong_pairs_in_single_messages_lock_as_before(loans):
    failures = 0
    for _ in range(3):
        _, slots = turn("LN-10001 1 January 1980", slots={"verification_failures": failures})
        failures = slots.get("verification_failures", failures)
    assert slots["verification_locked"] is True
    _, slots = turn("LN-10001 12 March 1985", slots={"verification_failures": failures})
    assert not slots.get("verified")


def test_a_chinese_borrower_is_addressed_by_full_name_when_no_title_is_known(loans):
    from tests.actions.support import change_loan

    change_loan(loans, "LN-10007", borrower_name="李雅婷", family_name="李", title=None)
    dispatcher, _ = turn("借款编号LN-10007，生日1988年2月2日")
    assert dispatcher.messages[0]["text"] == "谢谢您，李雅婷，身份验证已通过。"
    change_loan(loans, "LN-10007", borrower_name="李雅婷", family_name="李", title="ms")
    dispatcher, _ = turn("借款编号LN-10007，生日1988年2月2日")
    assert dispatcher.messages[0]["text"] == "谢谢您，李女士，身份验证已通过。"


def test_an_english_speaker_with_a_chinese_order_name_gets_the_given_name(loans):
    from tests.actions.support import change_loan

    change_loan(loans, "LN-10001", borrower_name="Wang Fang", family_name="Wang", title="ms")
    dispatcher, _ = turn("LN-10001, 12 March 1985")
    assert dispatcher.messages[0]["text"] == "Thank you, Fang, you're verified."
