"""Simplified Chinese in domain.yml: every response has one zh variation that says the
same thing with the same placeholders and buttons, and passes the conduct scan.

The zh variation is a Rasa conditional response variation on the `language` slot;
actions.common.render() picks it the same way for button titles and read-backs.
"""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from actions.common import render
from actions.domain_file import load_domain
from bot.domain import conduct, parsing

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = load_domain(ROOT / "domain.yml")  # a directory of topic files, merged
RESPONSES = DOMAIN["responses"]

ZH_CONDITION = [{"type": "slot", "name": "language", "value": "zh"}]

# Responses deliberately left without a zh variation, each with its reason.
NO_ZH_VARIATION: dict[str, str] = {}

CJK = re.compile(r"[\u4e00-\u9fff]")


def is_zh(variation: dict) -> bool:
    return any(c.get("name") == "language" and c.get("value") == "zh" for c in variation.get("condition") or [])


def english(name: str) -> dict:
    [variation] = [v for v in RESPONSES[name] if not v.get("condition")]
    return variation


def chinese(name: str) -> dict:
    [variation] = [v for v in RESPONSES[name] if is_zh(v)]
    return variation


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


TRANSLATED = sorted(set(RESPONSES) - set(NO_ZH_VARIATION))


def test_the_exceptions_are_real_responses_and_justified():
    # The only responses without a zh variation are the listed exceptions, each a real
    # response with a reason; a response that lacks one and is not listed fails here.
    assert len(RESPONSES) > 100, "the domain's responses were not loaded"
    without_zh = {name for name, variations in RESPONSES.items() if not any(is_zh(v) for v in variations)}
    assert not without_zh - set(NO_ZH_VARIATION), f"no zh variation: {sorted(without_zh - set(NO_ZH_VARIATION))}"
    for name, reason in NO_ZH_VARIATION.items():
        assert name in RESPONSES, f"{name} is not a response"
        assert reason.strip(), f"{name}: say why it has no zh variation"
        assert name in without_zh, f"{name} has a zh variation: drop it from NO_ZH_VARIATION"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_has_exactly_one_zh_variation_after_the_english(name):
    if name in NO_ZH_VARIATION:
        pytest.skip(NO_ZH_VARIATION[name])
    variations = RESPONSES[name]
    zh = [i for i, v in enumerate(variations) if is_zh(v)]
    assert len(zh) == 1, f"{name}: {len(zh)} zh variations"
    assert not variations[0].get("condition"), f"{name}: the English variation comes first"
    assert zh[0] > 0
    # exactly the shape render() and Rasa expect: a list of slot conditions
    assert variations[zh[0]]["condition"] == ZH_CONDITION
    assert all(not v.get("condition") or is_zh(v) for v in variations), f"{name}: unexpected condition"


@pytest.mark.parametrize("name", TRANSLATED)
def test_zh_says_it_with_the_same_placeholders_and_keys(name):
    en, zh = english(name), chinese(name)
    assert placeholders(zh["text"]) == placeholders(en["text"]), name
    assert set(zh) - {"condition"} == set(en), f"{name}: zh must keep the same keys (buttons, custom, ...)"
    for key in set(en) - {"text", "buttons"}:
        assert zh[key] == en[key], f"{name}: {key} differs"
    # no literal braces: the text formats with exactly its placeholders
    zh["text"].format(**{field: "x" for field in placeholders(zh["text"])})


@pytest.mark.parametrize("name", TRANSLATED)
def test_zh_is_chinese(name):
    zh = chinese(name)
    assert CJK.search(zh["text"]), f"{name}: no Chinese in {zh['text']!r}"
    for button in zh.get("buttons", []):
        assert CJK.search(button["title"]), f"{name}: button {button['title']!r} is not Chinese"


@pytest.mark.parametrize("name", [n for n in TRANSLATED if english(n).get("buttons")])
def test_zh_buttons_keep_count_order_and_payloads(name):
    en, zh = english(name), chinese(name)
    assert [b["payload"] for b in zh["buttons"]] == [b["payload"] for b in en["buttons"]]
    assert all(set(b) == {"title", "payload"} for b in zh["buttons"])


@pytest.mark.parametrize("name", TRANSLATED)
def test_zh_keeps_numbers_and_reference_formats(name):
    en, zh = english(name)["text"], chinese(name)["text"]
    for literal in re.findall(r"\b(?:[A-Z]{2}-)?\d{3,}\b", en):  # 999, LN-12345, 1985
        assert literal in zh, f"{name}: {literal!r} is missing in zh"


def test_money_placeholders_get_no_extra_currency_symbols():
    # amounts arrive formatted for the locale (¥1,250.00); the text adds no symbol or unit
    for name in TRANSLATED:
        text = chinese(name)["text"]
        assert not re.search(r"[¥￥$£€]|\}\s*元|人民币", text), f"{name}: {text}"


@pytest.mark.parametrize("name", TRANSLATED)
def test_render_picks_zh_for_zh_and_english_otherwise(name):
    values = {field: f"<{field}>" for field in placeholders(english(name)["text"])}
    assert render(DOMAIN, name, "zh", **values) == chinese(name)["text"].format(**values)
    assert render(DOMAIN, name, "en", **values) == english(name)["text"].format(**values)


# ---------------------------------------------------------------- conduct


def test_the_conduct_scan_covers_the_zh_variations():
    from tests.unit.test_conduct import all_response_texts

    scanned = {text for _, text in all_response_texts()}
    for name in TRANSLATED:
        zh = chinese(name)
        assert zh["text"] in scanned
        assert {b["title"] for b in zh.get("buttons", [])} <= scanned


def test_the_banned_list_has_chinese_and_the_scan_catches_it():
    assert any(CJK.search(phrase) for phrase in conduct.BANNED_PHRASES)
    assert conduct.banned_phrases_in("再不还钱就起诉你，还要通知你的家人") == ["起诉你", "家人"]
    assert conduct.banned_phrases_in("最后通牒：否则曝光到你的通讯录") == ["曝光", "通讯录", "最后通牒"]
    assert conduct.banned_phrases_in("老赖，后果自负") == ["后果自负", "老赖"]


@pytest.mark.parametrize("name", TRANSLATED)
def test_zh_text_uses_no_banned_wording(name):
    zh = chinese(name)
    for text in [zh["text"]] + [b["title"] for b in zh.get("buttons", [])]:
        assert conduct.banned_phrases_in(text) == [], f"{name}: {text}"


def test_zh_addresses_the_borrower_politely():
    # 您, never the familiar 你, in every sentence the borrower reads
    for name in TRANSLATED:
        zh = chinese(name)
        for text in [zh["text"]] + [b["title"] for b in zh.get("buttons", [])]:
            assert "你" not in text, f"{name}: use 您 ({text})"


def test_zh_responses_before_verification_reveal_no_debt():
    for name in (
        "utter_intro",
        "utter_reminder_opening",
        "utter_verify_first",
        "utter_ask_loan_ref",
        "utter_ask_date_of_birth",
        "utter_verification_failed",
        "utter_third_party",
        "utter_fraud_unverified",
        "utter_opt_out_unverified",
        "utter_faq_ask_why_contacted",
        "utter_crisis_support",
    ):
        text = chinese(name)["text"]
        for word in ("债", "欠", "逾期", "余额", "应还", "{overdue", "{amount"):
            assert word not in text, f"{name} mentions {word!r} before verification"


def test_zh_keeps_the_regulatory_statements():
    assert "债务" in chinese("utter_debt_collection_statement")["text"]
    dispute = chinese("utter_dispute_recorded")["text"]
    assert "异议" in dispute and "暂停" in dispute and "提醒" in dispute
    assert "书面" in chinese("utter_dispute_next_steps")["text"]
    assert "暂停催收" in chinese("utter_account_on_hold")["text"]
    assert "停止" in chinese("utter_fraud_recorded")["text"]
    assert "{crisis_line}" in chinese("utter_crisis_support")["text"]
    assert "免费" in chinese("utter_vulnerability_support")["text"]
    assert "法律要求" in chinese("utter_opt_out_recorded_all")["text"]
    assert "自动" in chinese("utter_faq_bot_challenge")["text"] and "自动" in chinese("utter_intro")["text"]


# ---------------------------------------------------------------- the examples we give can be typed back

TODAY = date(2026, 5, 6)


def quoted_examples(name: str) -> list[str]:
    return re.findall(r"“([^”]+)”", chinese(name)["text"])


@pytest.mark.parametrize("name", ["utter_ask_first_payment_date", "utter_ask_promise_date", "utter_date_invalid"])
def test_zh_payment_date_examples_are_understood(name):
    examples = quoted_examples(name)
    assert examples
    for example in examples:
        assert parsing.parse_payment_date(example, TODAY) is not None, example


@pytest.mark.parametrize("name", ["utter_ask_paid_on", "utter_paid_date_invalid"])
def test_zh_past_date_examples_are_understood(name):
    examples = quoted_examples(name)
    assert examples
    for example in examples:
        assert parsing.parse_past_date(example, TODAY) is not None, example


def test_zh_date_of_birth_examples_are_understood():
    for name in ("utter_ask_date_of_birth", "utter_dob_invalid"):
        found = re.search(r"\d{4}年\d{1,2}月\d{1,2}日", chinese(name)["text"])
        assert found and parsing.parse_date_of_birth(found.group(0), TODAY).value == date(1990, 7, 23)


def test_zh_amount_example_is_understood():
    [example] = quoted_examples("utter_offer_monthly_amount_hint")
    assert parsing.parse_amount(example) == Decimal("50")
