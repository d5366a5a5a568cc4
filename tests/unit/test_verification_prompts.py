"""Issue 12 §6: the example date in the date-of-birth questions is nobody's date of
birth (it was demo borrower LN-10001's), and it is still a date the assistant reads."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from actions.domain_file import load_domain
from bot.domain.parsing import parse_date_of_birth
from bot.ops.demo import demo_rows

ROOT = Path(__file__).resolve().parents[2]
RESPONSES = load_domain(ROOT / "domain.yml")["responses"]
TODAY = date(2026, 12, 3)

# "23 July 1990", "1990年7月23日"
EXAMPLE = re.compile(r"[0-9]{1,2} [A-Z][a-z]+ [0-9]{4}|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日")


def examples() -> list[tuple[str, str]]:
    found = [
        (name, match)
        for name, variations in RESPONSES.items()
        for variation in variations
        for match in EXAMPLE.findall(variation.get("text") or "")
    ]
    return found


def test_the_date_of_birth_questions_give_an_example_in_each_language():
    named = {(name, bool(re.search("[年]", text))) for name, text in examples()}
    for name in ("utter_ask_date_of_birth", "utter_dob_invalid"):
        assert {(name, False), (name, True)} <= named


@pytest.mark.parametrize("name, text", examples())
def test_no_example_date_is_a_borrowers_date_of_birth(name, text):
    parsed = parse_date_of_birth(text, TODAY)
    assert parsed.value is not None, f"{name}: the example {text!r} is not read as a date of birth"
    borrowers = {row["date_of_birth"]: row["loan_ref"] for row in demo_rows(TODAY)}
    assert parsed.value not in borrowers, f"{name}: {text!r} is {borrowers.get(parsed.value)}'s date of birth"
