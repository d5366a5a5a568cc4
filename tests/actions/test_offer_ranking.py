"""The offer menu with offer learning on (issue 14): the plan lengths kept most often in
the borrower's segment come first and the first is suggested, only among the lengths
the policy allows; each learned ranking is recorded with its segment and reasons."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from actions.offers import ActionOfferOptions
from bot.adapters.orm import Agreement
from bot.domain.agreements import AgreementProposal
from bot.services.offer_ranking import forget_cached_outcomes
from tests.actions.support import ROOT, buttons, message, run, tracker, verified


def kept_plans(loans, today, months: int, n: int, *, status="completed", reason="unemployment", dpd=12):
    """`n` menu plans of `months` months in the demo loan LN-10001's segment, kept or broken."""
    for i in range(n):
        proposal = AgreementProposal(
            kind="instalment_plan",
            total_amount=Decimal("60.00"),
            currency="GBP",
            instalments=((today + timedelta(days=5), Decimal("30.00")), (today + timedelta(days=35), Decimal("30.00"))),
            terms={"months": months, "source": "menu"},
        )
        agreement = loans.record_agreement("LN-10002", proposal, idempotency_key=f"k-{months}-{status}-{i}").agreement
        with loans.db.transaction() as s:
            row = s.scalar(select(Agreement).where(Agreement.agreement_ref == agreement.agreement_ref))
            row.status = status
            row.context = {"reason_code": reason, "days_past_due": dpd, "product": "personal_loan", "language": "en"}


def learning_on(monkeypatch):
    from tests.actions.support import clear_caches

    monkeypatch.setenv("OFFER_LEARNING", "on")
    clear_caches()
    forget_cached_outcomes()


def test_the_plan_kept_most_often_in_the_segment_comes_first_and_is_suggested(loans, today, monkeypatch):
    kept_plans(loans, today, 6, 30)
    kept_plans(loans, today, 3, 30, status="broken")
    learning_on(monkeypatch)
    dispatcher, events = run(ActionOfferOptions(), tracker(verified(reason_code="unemployment"), sender="conv-r"))
    offer = message(dispatcher, "utter_offer_options")
    assert [title for title, _ in buttons(offer)][2:] == [
        "6 monthly payments of £41.66 (suggested)",
        "3 monthly payments of £83.33",
    ]  # 12 months stays off the menu: below the policy's minimum instalment
    # "the first plan" means the one shown first (components/step_policy.py reads offer_choices)
    shown = next(e["value"] for e in events if e.get("name") == "offer_choices")
    assert shown[2]["payload"] == '/choose_plan{"plan_months": "6"}'
    [ranked] = [e for e in loans.audit_events("LN-10001") if e["event_type"] == "offers_ranked"]
    details = ranked["details"]
    assert ranked["conversation_id"] == "conv-r"
    assert details["segment"] == "reason_code=unemployment|dpd_bucket=1-29|product=personal_loan"
    assert (details["method"], details["order"], details["recommended"]) == ("thompson", [6, 3], 6)
    assert details["arms"] == {"3": {"kept": 0, "broken": 30}, "6": {"kept": 30, "broken": 0}}
    assert details["reason"].startswith("6 months first: kept 30 of 30 in reason_code=unemployment")


def test_another_segment_learns_nothing_from_these_outcomes(loans, today, monkeypatch):
    kept_plans(loans, today, 6, 30, reason="forgot")
    learning_on(monkeypatch)
    run(ActionOfferOptions(), tracker(verified(reason_code="unemployment")))
    [ranked] = [e for e in loans.audit_events("LN-10001") if e["event_type"] == "offers_ranked"]
    assert ranked["details"]["arms"] == {"3": {"kept": 0, "broken": 0}, "6": {"kept": 0, "broken": 0}}
    assert ranked["details"]["reason"].startswith("no plan outcomes yet in reason_code=unemployment")


def test_learning_off_shows_the_fixed_menu_and_records_nothing(loans, today):
    kept_plans(loans, today, 6, 30)
    dispatcher, _ = run(ActionOfferOptions(), tracker(verified(reason_code="unemployment")))
    titles = [title for title, _ in buttons(message(dispatcher, "utter_offer_options"))][2:]
    assert titles == ["3 monthly payments of £83.33", "6 monthly payments of £41.66"]
    assert "offers_ranked" not in [e["event_type"] for e in loans.audit_events("LN-10001")]


def test_the_command_shows_what_is_known_and_simulates(loans, today):
    kept_plans(loans, today, 6, 2)
    env = {**os.environ, "DATABASE_URL": loans.db.url}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "offers", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    known = json.loads(out.stdout)
    assert known["learning"] == "off"
    segment = known["outcomes"]["reason_code=unemployment|dpd_bucket=1-29|product=personal_loan"]
    assert segment == {"6": {"kept": 2, "broken": 0, "posterior_mean": 0.75}}
    sim = subprocess.run(
        [sys.executable, "-m", "bot", "offers", "--simulate", "--days", "120", "--per-day", "10", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sim.returncode == 0, sim.stderr
    result = json.loads(sim.stdout)
    assert result["seed"] == 14 and result["borrowers"] == 1200 and len(result["by_month"]) == 4
