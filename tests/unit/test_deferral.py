"""Not now is an answer (issue 17): the rules of bot/services/deferral.py and data/rules/deferral.yml."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from bot.services import deferral
from bot.services.reminders import MAX_REQUESTED_DAYS_AHEAD, BorrowerContact

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 23)


def contact(**changes) -> BorrowerContact:
    values = {
        "id": 1,
        "timezone": "Europe/London",
        "language": "en",
        "preferred_channel": "sms",
        "phone": "+447700900001",
        "telegram_chat_id": None,
        "vulnerable": False,
        "opted_out": (),
    }
    return BorrowerContact(**{**values, **changes})


@dataclass
class FakeStore:
    borrower: BorrowerContact = field(default_factory=contact)
    holds: tuple[str, ...] = ()
    requests: list[tuple[date, str]] = field(default_factory=list)

    def record_deferral(self, loan_ref, *, step, pending_kind=None, conversation_id=None, channel=None) -> bool:
        return True

    def reminder_contact(self, loan_ref):
        return deferral.ReminderContact(self.borrower, self.holds)

    def record_reminder_request(self, loan_ref, *, on, reminder_channel, conversation_id=None, channel=None) -> bool:
        self.requests.append((on, reminder_channel))
        return True


@pytest.mark.parametrize(
    "state, step",
    [
        ({"awaiting_confirmation": True, "active_form": None, "offers_shown": True, "reason_given": True}, "read_back"),
        (
            {"awaiting_confirmation": False, "active_form": "plan_form", "offers_shown": True, "reason_given": True},
            "plan_form",
        ),
        ({"awaiting_confirmation": False, "active_form": None, "offers_shown": True, "reason_given": True}, "offers"),
        ({"awaiting_confirmation": False, "active_form": None, "offers_shown": False, "reason_given": False}, "reason"),
        (
            {"awaiting_confirmation": False, "active_form": None, "offers_shown": False, "reason_given": True},
            "conversation",
        ),
    ],
)
def test_the_step_a_deferral_is_recorded_against(state, step):
    assert deferral.deferral_step(**state) == step


@pytest.mark.parametrize(
    "text",
    [
        "let me think about it",
        "/defer_decision",
        "",
        "让我考虑一下",
        "我要和家人商量一下",
        "等我发工资后再决定",
        "我再想想",
        "过几天再说",
        "晚些时候再回复你",
        "等一下再聊",
        "后天再看吧",
        "我回去看看工资再说",
        "现在不方便说",
        "不想谈这个",
    ],
)
def test_what_counts_as_asking_for_time(text):
    assert deferral.sounds_like_deferral(text)


@pytest.mark.parametrize(
    "text",
    ["我失业了", "这不是我的贷款", "我想分6期还", "不考虑", "好的，没问题", "再见", "以后再也不借了", "我不想说谎"],
)
def test_chinese_the_classifier_misfiles_is_not_asking_for_time(text):
    assert not deferral.sounds_like_deferral(text)


def test_the_reminder_offered_is_a_few_days_ahead_on_the_preferred_channel():
    offer = deferral.reminder_offer(FakeStore(), "LN-1", TODAY)
    assert offer == deferral.ReminderOffer(TODAY + timedelta(days=deferral.REMIND_AFTER_DAYS), "sms")
    assert deferral.REMIND_AFTER_DAYS < MAX_REQUESTED_DAYS_AHEAD


@pytest.mark.parametrize(
    "store",
    [
        FakeStore(contact(opted_out=("all",))),
        FakeStore(contact(opted_out=("twilio",))),  # sms, as the channel's connector
        FakeStore(contact(vulnerable=True)),
        FakeStore(holds=("dispute",)),
        FakeStore(contact(preferred_channel="telegram")),  # no chat id on file
        FakeStore(contact(preferred_channel="email")),  # reminders can't go there
    ],
)
def test_no_reminder_is_offered_where_the_contact_rules_forbid_one(store):
    assert deferral.reminder_offer(store, "LN-1", TODAY) is None
    assert deferral.request_reminder(
        store, "LN-1", TODAY + timedelta(days=3), TODAY, conversation_id="c", channel="rest"
    ) == (deferral.ReminderRequest("not_allowed"))
    assert store.requests == []


def test_a_reminder_is_recorded_between_tomorrow_and_the_furthest_day():
    store = FakeStore()
    for days in (1, MAX_REQUESTED_DAYS_AHEAD):
        on = TODAY + timedelta(days=days)
        result = deferral.request_reminder(store, "LN-1", on, TODAY, conversation_id="c", channel="rest")
        assert result == deferral.ReminderRequest("scheduled", on, "sms")
    for days in (0, -3, MAX_REQUESTED_DAYS_AHEAD + 1):
        result = deferral.request_reminder(
            store, "LN-1", TODAY + timedelta(days=days), TODAY, conversation_id="c", channel="rest"
        )
        assert result.status == "bad_date"
    assert [on for on, _ in store.requests] == [
        TODAY + timedelta(days=1),
        TODAY + timedelta(days=MAX_REQUESTED_DAYS_AHEAD),
    ]


# ---------------------------------------------------------------- data/rules/deferral.yml


def rules() -> list[dict]:
    return yaml.safe_load((ROOT / "data" / "rules" / "deferral.yml").read_text())["rules"]


def test_every_not_now_goes_to_action_defer():
    for rule in rules():
        steps = rule["steps"]
        if steps[0].get("intent") == "defer_decision":
            assert steps[1] == {"action": "action_defer"}, rule["rule"]
    verified = [r for r in rules() if r.get("condition") == [{"slot_was_set": [{"verified": True}]}]]
    assert [r["steps"] for r in verified] == [[{"intent": "defer_decision"}, {"action": "action_defer"}]]


def test_in_a_form_not_now_stops_the_form():
    in_forms = {
        r["condition"][0]["active_loop"]: r["steps"] for r in rules() if "active_loop" in str(r.get("condition"))
    }
    assert set(in_forms) == {"verify_form", "plan_form", "promise_form", "change_date_form", "payment_claim_form"}
    for steps in in_forms.values():
        assert steps == [
            {"intent": "defer_decision"},
            {"action": "action_defer"},
            {"action": "action_deactivate_loop"},
            {"active_loop": None},
        ]


def test_the_reminder_buttons_lead_to_their_answers():
    answers = {r["steps"][0].get("intent"): r["steps"][1:] for r in rules() if not r.get("condition")}
    assert answers["request_reminder"] == [{"action": "action_request_reminder"}]
    assert answers["decline_reminder"] == [{"action": "utter_reminder_declined"}]
