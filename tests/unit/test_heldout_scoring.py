"""How tests/e2e/heldout.py reads a turn and scores it, on hand-made tracker events and
store snapshots (no servers)."""

from __future__ import annotations

import json
import multiprocessing
from decimal import Decimal

import pytest

from tests.e2e import heldout
from tests.e2e.heldout import Message, Result, StepScore, judge, observe

PLAN_6 = {
    "kind": "instalment_plan",
    "total_amount": "900.00",
    "currency": "GBP",
    "instalments": [],
    "terms": {"months": 6, "first_due_date": "2026-12-14", "instalment_amount": "150.00", "idempotency_key": "a"},
}
PLAN_12 = {**PLAN_6, "terms": {**PLAN_6["terms"], "months": 12, "instalment_amount": "75.00", "idempotency_key": "b"}}
PAY_NOW = {"kind": "pay_now", "total_amount": "900.00", "currency": "GBP", "terms": {"pay_by": "2026-12-04"}}
AT_READ_BACK = {"awaiting_confirmation": True, "pending_agreement": PLAN_6}
NOTHING_PENDING = {"awaiting_confirmation": False, "pending_agreement": None}
DB = {"status": "delinquent", "reasons": [], "events": [], "cases": []}


def action(name):
    return {"event": "action", "name": name}


def bot(response, text="…"):
    return {"event": "bot", "text": text, "metadata": {"utter_action": response}}


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def db(*events, reasons=(), cases=(), status="delinquent"):
    return {"status": status, "reasons": list(reasons), "events": list(events), "cases": list(cases)}


def turn(*events, before=NOTHING_PENDING, after=None, db_after=DB):
    """The observation of one turn: `events` after the message, slots before and after."""
    if after is None:
        after = dict(before)
        for e in events:
            if e["event"] == "slot":
                after[e["name"]] = e["value"]
    return observe(list(events) + [action("action_listen")], before, after, DB, db_after)


def verdict(step, means, observed, **label):
    return judge(step, Message("some words", means, **label), observed)


# ---------------------------------------------------------------- loading


def test_a_step_file_loads_with_its_labels(tmp_path):
    path = tmp_path / "offers.yml"
    path.write_text(
        "# sample\nstep: offers\nmessages:\n"
        '  - text: "cud do 40 every 2 weeks"\n    means: "amount"\n    monthly: "86.67"\n'
        '  - text: "the 6 month one"\n    means: plan\n    months: 6\n'
    )
    step, messages = heldout.load_step(path)
    assert step == "offers"
    assert messages == [
        Message("cud do 40 every 2 weeks", "amount", monthly=Decimal("86.67")),
        Message("the 6 month one", "plan", months=6),
    ]


def test_an_unquoted_yes_or_no_is_the_label_not_a_boolean(tmp_path):
    path = tmp_path / "read_back.yml"
    path.write_text('step: read_back\nmessages:\n  - text: "yep"\n    means: yes\n  - text: "nah"\n    means: no\n')
    assert [m.means for m in heldout.load_step(path)[1]] == ["yes", "no"]


@pytest.mark.parametrize(
    "body,problem",
    [
        ('step: offer\nmessages:\n  - text: "x"\n    means: "plan"\n', "step 'offer'"),
        ('step: offers\nmessages:\n  - text: "x"\n    means: "yes"\n', "label 'yes'"),
        ('step: reason\nmessages:\n  - text: "x"\n    means: "reason"\n    reason: "broke"\n', "reason code"),
        ('step: reason\nmessages:\n  - text: "x"\n    means: "human"\n  - text: "x"\n    means: "human"\n', "twice"),
        ('step: reason\nmessages:\n  - means: "human"\n', "no text"),
    ],
)
def test_a_mistake_in_a_step_file_is_an_error_not_a_zero(tmp_path, body, problem):
    path = tmp_path / "x.yml"
    path.write_text(body)
    with pytest.raises(ValueError, match=problem):
        heldout.load_step(path)


def test_floors_are_fractions_and_default_to_zero(tmp_path):
    path = tmp_path / "floors.yml"
    path.write_text("en: {reason: 0.5, offers: 0.25}\n")
    assert heldout.floors("en", path) == {"reason": 0.5, "offers": 0.25, "read_back": 0.0}
    assert heldout.floors("zh", path) == {"reason": 0.0, "offers": 0.0, "read_back": 0.0}
    path.write_text("en: {reason: 71.5}\n")
    with pytest.raises(ValueError, match="fractions"):
        heldout.floors("en", path)


def test_the_repository_floors_file_reads():
    for lang in ("en", "zh", "blind/en"):
        assert set(heldout.floors(lang)) == set(heldout.STEPS)


def test_the_sets_are_the_development_and_the_blind_set_of_each_language(tmp_path, monkeypatch):
    for directory in ("en", "zh", "blind/en"):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / "reason.yml").write_text("step: reason\nmessages: []\n")
    monkeypatch.delenv("HELDOUT_LANGS", raising=False)
    monkeypatch.delenv("HELDOUT_SETS", raising=False)
    assert heldout.languages(tmp_path) == ["en", "zh", "blind/en"]
    monkeypatch.setenv("HELDOUT_SETS", "blind")
    assert heldout.languages(tmp_path) == ["blind/en"]
    monkeypatch.setenv("HELDOUT_SETS", "dev,blind")
    monkeypatch.setenv("HELDOUT_LANGS", "zh")
    assert heldout.languages(tmp_path) == ["zh"]
    assert heldout.language_of("blind/en") == "en" and heldout.language_of("zh") == "zh"


# ---------------------------------------------------------------- observing a turn


def test_only_the_events_after_the_messages_user_event_count():
    events = [
        {"event": "user", "text": "hi"},
        bot("utter_offer_options"),
        action("action_listen"),
        {"event": "user", "text": "what now"},
        bot("utter_faq_ask_fees_interest"),
    ]
    assert heldout.after_user(events, 3) == [bot("utter_faq_ask_fees_interest")]
    assert heldout.after_user(events, 5) == []
    assert heldout.last_turn(events) == [bot("utter_faq_ask_fees_interest")]


def test_store_changes_are_observed_from_the_snapshots():
    before = db("verification_passed", reasons=["unexpected_expense"])
    after = db(
        "verification_passed",
        "agreement_created",
        "dispute_opened",
        "contact_opt_out",
        "handoff_requested",
        "vulnerability_flagged",
        "decision_deferred",
        "agreement_cancelled",
        "agreement_amended",
        reasons=["unexpected_expense", "illness"],
        cases=[{"case_ref": "CS-1", "kind": "fraud_claim"}],
        status="on_hold",
    )
    assert heldout.db_observations(before, after) == {
        "recorded",
        "dispute",
        "opt_out",
        "handoff",
        "vulnerability",
        "deferred",
        "cancelled",
        "amended",
        "reason:illness",
        "fraud",
        "hold",
    }
    assert heldout.db_observations(after, after) == set()


def test_a_reason_recorded_with_the_options_shown():
    seen = turn(
        action("action_record_reason"),
        bot("utter_empathy_unexpected_expense"),
        bot("utter_offer_options"),
        bot("utter_offer_monthly_amount_hint"),
        slot("dialogue_step", "offers"),
        db_after=db("reason_recorded", reasons=["unexpected_expense"]),
    )
    assert seen.names == {"reason:unexpected_expense", "options", "answered"}
    assert verdict("reason", "reason", seen).sensible


def test_a_new_read_back_is_named_by_its_kind_and_keeps_its_terms():
    seen = turn(action("action_propose_pay_now"), bot("utter_confirm_pay_now"), slot("pending_agreement", PAY_NOW))
    assert seen.names == {"read_back:pay_now"}  # the terms are not an answer
    assert seen.read_back == PAY_NOW
    # The slot may hold the JSON text instead of the object.
    assert turn(slot("pending_agreement", json.dumps(PAY_NOW))).read_back == PAY_NOW


def test_the_same_terms_again_are_not_a_new_read_back_but_still_pending():
    seen = turn(
        action("action_answer_question"),
        bot("utter_faq_ask_fees_interest"),
        action("action_back_to_step"),
        bot("utter_read_back_still_open"),
        before=AT_READ_BACK,
    )
    assert seen.names == {"answered", "still_pending"}
    assert verdict("read_back", "question", seen).sensible


def test_the_form_question_asked_last_is_the_form_observed():
    seen = turn(
        action("plan_form"),
        {"event": "active_loop", "name": "plan_form"},
        slot("plan_months", "6"),
        slot("requested_slot", "first_payment_date"),
        action("action_ask_first_payment_date"),
        bot("utter_ask_first_payment_date"),
    )
    assert seen.names == {"form:first_payment_date"}
    assert seen.plan_months == "6"
    finished = turn(slot("requested_slot", "promise_date"), slot("requested_slot", None))
    assert not finished.has_prefix("form:")
    # The form takes the words first; validation empties the slot when they name no length.
    words = turn(
        slot("plan_months", "the half year one"), slot("plan_months", None), slot("requested_slot", "plan_months")
    )
    assert words.plan_months is None and words.names == {"form:plan_months"}


@pytest.mark.parametrize(
    "events,expected",
    [
        ([action("action_offer_options")], {"options"}),
        ([action("action_offer_hardship"), bot("utter_hardship_options")], {"hardship_options"}),
        ([action("action_step_answer"), bot("utter_clarify_correction")], {"clarify"}),
        ([action("action_step_answer"), bot("utter_read_back_worry")], {"worry"}),
        ([action("action_reject_proposal"), bot("utter_proposal_withdrawn")], {"withdrawn"}),
        ([action("action_default_fallback")], {"rephrase"}),
        ([action("action_default_ask_affirmation")], {"rephrase"}),
        ([action("action_fallback"), bot("utter_ask_rephrase")], {"rephrase"}),
        ([action("action_answer_question"), bot("utter_default")], {"rephrase"}),
        ([action("action_answer_question"), bot("utter_faq_ask_credit_impact")], {"answered"}),
        ([action("action_step_answer"), bot("utter_change_noted")], set()),
        (
            [action("action_step_answer"), bot("utter_confirm_request_dispute_debt")],
            {"confirm:dispute_debt", "answered"},
        ),
        ([action("action_x"), bot("")], {"answered"}),  # a text without a response name
        ([action("action_propose_plan"), bot("utter_something_went_wrong")], {"failed"}),
    ],
)
def test_what_the_assistant_said_is_classified_by_name(events, expected):
    assert turn(*events).names == expected


# ---------------------------------------------------------------- sensible or not


def test_a_reason_without_the_options_is_not_sensible():
    seen = turn(
        action("action_record_reason"),
        bot("utter_empathy_illness"),
        db_after=db("reason_recorded", reasons=["illness"]),
    )
    assert not verdict("reason", "reason", seen).sensible


def test_a_bereavement_met_with_support_instead_of_the_options_is_sensible():
    seen = turn(
        action("action_record_reason"),
        bot("utter_empathy_bereavement"),
        db_after=db("reason_recorded", "vulnerability_flagged", reasons=["bereavement"]),
    )
    assert verdict("reason", "reason", seen).sensible
    assert verdict("reason", "vulnerable", seen).sensible
    unsupported = turn(
        action("action_record_reason"), bot("utter_empathy_bereavement"), db_after=db(reasons=["bereavement"])
    )
    assert not verdict("reason", "reason", unsupported).sensible


def test_what_fits_a_figure_counts_as_the_hardship_options():
    seen = turn(action("plan_form"), bot("utter_counter_offer_below_minimum"))
    assert verdict("offers", "amount", seen).sensible
    assert verdict("offers", "cant_afford", seen).sensible


def test_asking_first_about_a_dispute_is_sensible_for_a_dispute_only():
    seen = turn(action("action_step_answer"), bot("utter_confirm_request_dispute_debt"))
    assert verdict("read_back", "dispute", seen).sensible
    assert not verdict("read_back", "yes", seen).sensible


def test_a_question_answered_is_sensible_only_without_a_store_change():
    answered = turn(action("action_answer_question"), bot("utter_faq_ask_why_contacted"))
    assert verdict("reason", "question", answered).sensible
    filed = turn(bot("utter_empathy_other"), db_after=db("reason_recorded", reasons=["other"]))
    assert not verdict("reason", "question", filed).sensible
    # a reason given with the question may be filed when the question itself is answered
    both = turn(
        bot("utter_empathy_unemployment"),
        bot("utter_faq_ask_fees_interest"),
        db_after=db("reason_recorded", reasons=["unemployment"]),
    )
    assert verdict("reason", "question", both).sensible
    honest = turn(
        bot("utter_empathy_unemployment"),
        bot("utter_step_question_for_a_person"),
        db_after=db("reason_recorded", reasons=["unemployment"]),
    )
    assert verdict("reason", "question", honest).sensible


def test_an_asked_to_rephrase_turn_is_never_sensible_even_when_it_did_the_right_thing():
    seen = turn(
        action("action_step_answer"),
        bot("utter_affordability_first"),
        action("action_offer_hardship"),
        bot("utter_hardship_options"),
        action("action_default_fallback"),
        bot("utter_default"),
    )
    result = verdict("offers", "cant_afford", seen)
    assert not result.sensible and result.rephrase and result.note == "asked to rephrase"


def test_a_failed_action_is_never_sensible():
    seen = turn(
        bot("utter_something_went_wrong"),
        slot("requested_slot", "first_payment_date"),
        bot("utter_ask_first_payment_date"),
    )
    result = verdict("offers", "amount", seen, monthly=Decimal("50.00"))
    assert not result.sensible and result.note == "an action failed"


def test_an_amount_read_back_must_not_ask_more_a_month_than_offered():
    seen = turn(bot("utter_confirm_plan"), slot("pending_agreement", PLAN_12))
    assert verdict("offers", "amount", seen, monthly=Decimal("80.00")).sensible
    result = verdict("offers", "amount", seen, monthly=Decimal("50.00"))
    assert not result.sensible and "75.00" in result.note
    asked = turn(slot("requested_slot", "first_payment_date"))
    assert verdict("offers", "amount", asked, monthly=Decimal("50.00")).sensible


def test_a_plan_named_by_its_length_must_be_that_plan():
    six = turn(slot("plan_months", "6"), slot("requested_slot", "first_payment_date"))
    assert verdict("offers", "plan", six, months=6).sensible
    assert not verdict("offers", "plan", six, months=12).sensible
    assert verdict("offers", "plan", six).sensible  # the label did not say which
    read_back = turn(slot("pending_agreement", PLAN_12))
    assert verdict("offers", "plan", read_back, months=12).sensible
    assert not verdict("offers", "plan", read_back, months=3).sensible
    length_asked = turn(slot("requested_slot", "plan_months"))
    assert verdict("offers", "plan", length_asked, months=12).sensible


def test_offers_question_needs_the_answer_and_the_options_again():
    both = turn(action("action_answer_question"), bot("utter_faq_ask_credit_impact"), bot("utter_offer_options"))
    assert verdict("offers", "question", both).sensible
    assert not verdict("offers", "question", turn(bot("utter_faq_ask_credit_impact"))).sensible
    assert verdict(
        "offers", "settlement", turn(bot("utter_settlement_unavailable"), bot("utter_offer_options"))
    ).sensible
    assert not verdict("offers", "settlement", turn(bot("utter_settlement_unavailable"))).sensible


def test_at_the_read_back_a_yes_records_and_anything_else_recording_is_unintended():
    recorded = turn(bot("utter_agreement_recorded"), db_after=db("agreement_created"))
    assert verdict("read_back", "yes", recorded) == heldout.Verdict(True, False, ())
    result = verdict("read_back", "worry", recorded)
    assert result.unintended == ("recorded",) and not result.sensible


def test_a_dispute_may_open_a_dispute_or_fraud_claim_and_hold_only_when_the_borrower_disputes():
    filed = turn(
        bot("utter_dispute_recorded"),
        db_after=db("dispute_opened", cases=[{"case_ref": "CS-1", "kind": "dispute"}], status="on_hold"),
    )
    assert verdict("read_back", "dispute", filed).sensible
    assert verdict("read_back", "correction", filed).unintended == ("dispute", "hold")
    not_mine = turn(
        bot("utter_fraud_recorded"),
        db_after=db("fraud_claim_opened", "handoff_requested", reasons=["fraud_not_my_loan"], status="on_hold"),
    )
    assert verdict("reason", "dispute", not_mine).sensible  # "not theirs" is a dispute in the labels
    assert verdict("reason", "question", not_mine).unintended == ("hold", "fraud")
    clarified = turn(bot("utter_clarify_correction"), before=AT_READ_BACK)
    assert verdict("read_back", "correction", clarified).sensible
    assert verdict("reason", "dispute", clarified).sensible


def test_changing_the_length_needs_another_length_or_the_question():
    other = turn(bot("utter_confirm_plan"), slot("pending_agreement", PLAN_12), before=AT_READ_BACK)
    assert verdict("read_back", "change_months", other).sensible
    again = {**PLAN_6, "terms": {**PLAN_6["terms"], "idempotency_key": "c"}}  # read back anew, same length
    same = turn(bot("utter_confirm_plan"), slot("pending_agreement", again), before=AT_READ_BACK)
    assert same.has("read_back:instalment_plan")
    assert not verdict("read_back", "change_months", same).sensible
    asked = turn(slot("requested_slot", "plan_months"), before=AT_READ_BACK)
    assert verdict("read_back", "change_months", asked).sensible


def test_changing_the_kind_needs_another_kind():
    pay_now = turn(slot("pending_agreement", PAY_NOW), before=AT_READ_BACK)
    assert verdict("read_back", "change_kind", pay_now).sensible
    again = turn(slot("pending_agreement", PLAN_12), before=AT_READ_BACK)
    assert not verdict("read_back", "change_kind", again).sensible


def test_not_now_is_sensible_only_when_the_deferral_is_recorded():
    deferred = turn(bot("utter_deferral_no_pressure"), db_after=db("decision_deferred"))
    for step in heldout.STEPS:
        assert verdict(step, "not_now", deferred).sensible
        assert not verdict(step, "not_now", turn(bot("utter_deferral_no_pressure"))).sensible


# ---------------------------------------------------------------- the step's score


def test_unreached_conversations_are_not_scored_and_errors_are_not_sensible():
    score = StepScore(
        "offers",
        [
            Result("offers", "a", "plan", "scored", sensible=True),
            Result("offers", "b", "plan", "scored", rephrase=True, observed=["rephrase"]),
            Result("offers", "c", "human", "error", note="HTTPError"),
            Result("offers", "d", "human", "unreached", note="the options were not shown"),
            Result("offers", "e", "question", "scored", unintended=["recorded"]),
        ],
    )
    assert score.n == 4 and score.sensible == 0.25 and score.rephrase == 0.25 and score.unintended == 1
    assert [r.text for r in score.unreached] == ["d"] and [r.text for r in score.errors] == ["c"]
    assert score.by_label() == {"plan": (1, 2), "human": (0, 1), "question": (0, 1)}
    text = heldout.table("en", "model.tar.gz", [score], {"offers": 0.2})
    assert "offers        4     25.0%  20.0%     25.0%           1          1       1" in text
    assert "COULD NOT REACH STEP [human] 'd' -> the options were not shown" in text
    assert "ERROR [human] 'c' -> HTTPError" in text
    assert "UNINTENDED recorded [question] 'e'" in text
    assert "'a'" not in text  # sensible turns are not listed


def test_the_results_file(tmp_path):
    score = StepScore("reason", [Result("reason", "a", "reason", "scored", sensible=True, expected={"reason": "x"})])
    path = heldout.write_results("en", "m.tar.gz", [score], tmp_path)
    data = json.loads(path.read_text())
    assert path.name == "heldout_en.json"
    assert data["steps"]["reason"]["sensible"] == 1.0 and data["steps"]["reason"]["messages"][0]["text"] == "a"


# ---------------------------------------------------------------- preconditions


def tracker(*events, **slots):
    return {"slots": {"verified": True, **slots}, "events": [{"event": "user", "text": "…"}, *events]}


def test_each_step_is_recognised_or_reported_as_not_reached():
    assert heldout.precondition_problem("reason", tracker(bot("utter_verified"), bot("utter_ask_reason"))) is None
    assert "not verified" in heldout.precondition_problem("reason", {"slots": {}, "events": []})
    assert heldout.precondition_problem("offers", tracker(bot("utter_offer_options"))) is None
    assert "options were not shown" in heldout.precondition_problem("offers", tracker(bot("utter_ask_rephrase")))
    at_read_back = tracker(bot("utter_confirm_plan"), awaiting_confirmation=True, pending_agreement=PLAN_6)
    assert heldout.precondition_problem("read_back", at_read_back) is None
    wrong = tracker(awaiting_confirmation=True, pending_agreement=PLAN_12)
    assert "not the 6-month plan" in heldout.precondition_problem("read_back", wrong)
    assert "nothing awaiting" in heldout.precondition_problem("read_back", tracker(awaiting_confirmation=False))


def test_a_change_of_date_read_back_at_once_with_the_new_date_is_sensible():
    moved = {**PLAN_6, "terms": {**PLAN_6["terms"], "first_due_date": "2026-12-15", "idempotency_key": "c"}}
    seen = turn(action("plan_form"), slot("pending_agreement", moved), before=AT_READ_BACK)
    assert verdict("read_back", "change_date", seen).sensible
    same = {**PLAN_6, "terms": {**PLAN_6["terms"], "idempotency_key": "d"}}
    unchanged = turn(action("plan_form"), slot("pending_agreement", same), before=AT_READ_BACK)
    assert not verdict("read_back", "change_date", unchanged).sensible


def test_a_change_of_amount_read_back_at_once_at_their_figure_is_sensible():
    """'can it be 130 a month' where a plan fits 130: the plan read back again at 130."""
    theirs = {
        **PLAN_6,
        "terms": {**PLAN_6["terms"], "months": 7, "instalment_amount": "130.00", "idempotency_key": "c"},
    }
    seen = turn(bot("utter_counter_offer_fits"), slot("pending_agreement", theirs), before=AT_READ_BACK)
    assert verdict("read_back", "change_amount", seen).sensible
    same = {**PLAN_6, "terms": {**PLAN_6["terms"], "idempotency_key": "d"}}
    unchanged = turn(bot("utter_confirm_plan"), slot("pending_agreement", same), before=AT_READ_BACK)
    assert not verdict("read_back", "change_amount", unchanged).sensible


# One test per set and step (tests/e2e/test_heldout.py), merged into one results file.
def _write_set(root, lang, steps):
    (root / lang).mkdir(parents=True)
    for step in steps:
        (root / lang / f"{step}.yml").write_text(f"step: {step}\nmessages:\n  - text: a\n    means: human\n")


def test_one_case_per_set_and_step_in_step_order(tmp_path, monkeypatch):
    monkeypatch.delenv("HELDOUT_LANGS", raising=False)
    monkeypatch.delenv("HELDOUT_SETS", raising=False)
    _write_set(tmp_path, "en", ["read_back", "reason"])
    _write_set(tmp_path, "blind/zh", ["offers"])
    cases = heldout.cases(tmp_path)
    assert cases == [("en", "reason"), ("en", "read_back"), ("blind/zh", "offers")]
    assert [heldout.case_id(*c) for c in cases] == ["dev-en-reason", "dev-en-read_back", "blind-zh-offers"]
    assert heldout.load_step(heldout.step_files("en", tmp_path)["reason"])[0] == "reason"


def _merge(args):
    directory, step = args
    score = StepScore(step, [Result(step, f"{step}-{i}", "human", "scored", sensible=True) for i in range(300)])
    heldout.write_results("en", "m.tar.gz", [score], directory)


def test_each_step_merges_into_the_sets_file_even_at_once(tmp_path):
    with multiprocessing.get_context("fork").Pool(3) as pool:
        pool.map(_merge, [(tmp_path, step) for step in reversed(heldout.STEPS)])
    data = json.loads((tmp_path / "heldout_en.json").read_text())
    assert list(data["steps"]) == list(heldout.STEPS)  # all three, in step order
    assert all(data["steps"][s]["n"] == 300 for s in heldout.STEPS)
    heldout.write_results("en", "other.tar.gz", [StepScore("offers", [])], tmp_path)
    data = json.loads((tmp_path / "heldout_en.json").read_text())
    assert data["model"] == "other.tar.gz" and list(data["steps"]) == ["offers"]  # another model starts again
