"""The forms' validation actions do less work per call and answer exactly as before
(issue 18 §10): the verification form's extraction reads a date of birth only from a
message with a loan reference in it, and the plan and promise forms read the account
once per call instead of once more in every validate_ method.

Each action runs twice on the same real tracker, once as it is and once with the
earlier reading put back (the old code path), and the events, the messages and the
loan store's rows are compared."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa_sdk.executor import CollectingDispatcher

from actions import offers, verification
from actions.offers import ValidatePlanForm, ValidatePromiseForm
from actions.verification import ValidateVerifyForm
from bot.domain.parsing import parse_loan_ref_given, parse_verification_details
from bot.domain.privacy import SEALED_PREFIX, unseal
from bot.settings import load_settings
from tests.actions.support import DOMAIN, ROOT, clear_caches, copy_sqlite_store, snapshot, tracker, verified

TODAY = date(2026, 12, 7)


def _nlu_texts() -> list[str]:
    """Every training example's text (entity markup removed), English and Chinese."""
    texts = []
    for path in sorted((ROOT / "data" / "nlu").rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(re.sub(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})", r"\1", line[2:]))
    return texts


NLU_TEXTS = _nlu_texts()
TYPED = [
    "hi",
    "LN-10001",
    "ln10001",
    "it's LN-10009, born 3 april 2000",
    "借款编号LN-10007，生日1988年2月2日",
    "DOB 12/03/1985 ref LN10001",
    "12 March 1985",
    "LN-10001 12/03/1985",
    "LN-10001 born banana",
    "what do you need that for",
    "/inform",
    "",
    "   ",
    "loan 48213",
    "I owe 5000 since 2026",
]


def test_the_loan_reference_alone_is_the_one_the_whole_reading_gives():
    assert len(NLU_TEXTS) > 3000
    for text in NLU_TEXTS + TYPED:
        assert parse_loan_ref_given(text) == parse_verification_details(text, TODAY).loan_ref, text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("LNln-0123456789 /年月日abc借款编号,.")), max_size=40))
def test_the_loan_reference_alone_agrees_on_any_text(text):
    assert parse_loan_ref_given(text) == parse_verification_details(text, TODAY).loan_ref


def _opened(value):
    """Sealed payloads opened (each sealing draws a new nonce): what they carry is compared."""
    if isinstance(value, str) and SEALED_PREFIX in value:
        return ("sealed", unseal(value, load_settings().action_server_secret))
    if isinstance(value, dict):
        return {k: _opened(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_opened(v) for v in value]
    return value


def _run(action, trk) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, DOMAIN))
    return _opened(events), _opened(dispatcher.messages)


def _both(loans, run_new, run_old) -> None:
    """The action as it is and with the earlier reading, from the same loan store: the
    same answer and the same rows written."""
    url = str(loans.db.engine.url)
    path = Path(loans.db.engine.url.database)
    saved = path.with_suffix(".saved")
    copy_sqlite_store(path, saved, url)
    new = run_new()
    new_rows = snapshot(loans)
    copy_sqlite_store(saved, path, url)
    clear_caches()
    old = run_old()
    assert new == old
    assert snapshot(loans) == new_rows


def _verify_trk(text: str, requested: str | None, **slots):
    candidates = [{"event": "slot", "name": "requested_slot", "value": requested}] if requested else []
    return tracker(
        {"requested_slot": requested, **slots},
        intent="inform",
        text=text,
        active_loop={"name": "verify_form"},
        extra_events=candidates,
    )


@pytest.mark.parametrize("text", TYPED + NLU_TEXTS[::200])
@pytest.mark.parametrize("requested", ["loan_ref", "date_of_birth", None])
def test_the_verification_form_answers_as_before(text, requested, loans, monkeypatch):
    def old():
        with monkeypatch.context() as m:
            m.setattr(verification, "typed_loan_ref", lambda trk: verification.typed_details(trk).loan_ref)
            return _run(ValidateVerifyForm(), _verify_trk(text, requested))

    _both(loans, lambda: _run(ValidateVerifyForm(), _verify_trk(text, requested)), old)


def _form_trk(form: str, text: str, intent: str, candidates: dict, loan_ref: str = "LN-10001", **slots):
    return tracker(
        verified(loan_ref, requested_slot=next(iter(candidates), None), **slots),
        intent=intent,
        text=text,
        active_loop={"name": form},
        extra_events=[{"event": "slot", "name": k, "value": v} for k, v in candidates.items()],
    )


PLAN_CASES = [
    ("6", "inform", {"plan_months": "6"}),
    ('/choose_plan{"plan_months": "6"}', "choose_plan", {"plan_months": "6"}),
    ("over 3 months please", "inform", {"plan_months": "over 3 months please"}),
    ("12", "inform", {"plan_months": "12"}),
    ("banana", "inform", {"plan_months": "banana"}),
    ("I can pay 100 a month", "offer_monthly_amount", {"plan_months": "I can pay 100 a month"}),
    ("50 a week", "offer_monthly_amount", {"plan_months": "50 a week"}),
    ("10 a month", "offer_monthly_amount", {"plan_months": "10 a month"}),
    ("just a bad month", "offer_monthly_amount", {"plan_months": "just a bad month"}),
    ("in 10 days", "inform", {"first_payment_date": "in 10 days"}),
    ("tomorrow", "inform", {"first_payment_date": "tomorrow"}),
    ("31 February", "inform", {"first_payment_date": "31 February"}),
    ("next year", "inform", {"first_payment_date": "next year"}),
    ("6 from the 15th", "inform", {"plan_months": "6", "first_payment_date": "the 15th"}),
]
PROMISE_CASES = [
    ("in 10 days", "inform", {"promise_date": "in 10 days"}),
    ("friday", "inform", {"promise_date": "friday"}),
    ("I'd like to promise to pay", "choose_promise_to_pay", {"promise_date": "I'd like to promise to pay"}),
    ("100 on friday", "inform", {"promise_date": "100 on friday"}),
    ("in 3 months", "inform", {"promise_date": "in 3 months"}),
    ("banana", "inform", {"promise_date": "banana"}),
]


@pytest.mark.parametrize("loan_ref", ["LN-10001", "LN-10004", "LN-10008"])
@pytest.mark.parametrize(
    "form_cls, form, case",
    [(ValidatePlanForm, "plan_form", c) for c in PLAN_CASES]
    + [(ValidatePromiseForm, "promise_form", c) for c in PROMISE_CASES],
)
def test_the_plan_and_promise_forms_answer_as_before_with_one_account_read(
    form_cls, form, case, loan_ref, loans, monkeypatch
):
    text, intent, candidates = case
    reads = []
    real_account = type(loans).account
    monkeypatch.setattr(type(loans), "account", lambda self, ref: reads.append(ref) or real_account(self, ref))
    before = snapshot(loans)
    new = _run(form_cls(), _form_trk(form, text, intent, candidates, loan_ref))
    assert snapshot(loans) == before
    assert len(reads) == 1  # was one per required_slots call and one per validate_ method
    with monkeypatch.context() as m:
        m.setattr(offers.CollectingForm, "account", lambda self, trk: offers.verified_account(trk))
        old = _run(form_cls(), _form_trk(form, text, intent, candidates, loan_ref))
    assert new == old
    assert len(reads) > 2


def test_the_account_is_read_again_when_the_verification_slots_change(loans):
    form = ValidatePlanForm()
    trk = _form_trk("plan_form", "6", "inform", {"plan_months": "6"})
    first = form.account(trk)
    assert first is not None and form.account(trk) is first
    trk.slots["verified_loan_ref"] = "LN-10004"
    assert form.account(trk).loan_ref == "LN-10004"
    trk.slots["verified"] = False
    assert form.account(trk) is None
