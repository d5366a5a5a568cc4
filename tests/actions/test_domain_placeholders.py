"""Every value a response names reaches it (issue 17: "…please call {lender_phone}" reached a borrower)."""

from __future__ import annotations

import re
from pathlib import Path

from actions.domain_file import load_domain

ROOT = Path(__file__).resolve().parents[2]


def responses_uttered_by_rules_and_stories() -> set[str]:
    """Rules and stories utter these themselves: no action passes them values."""
    names: set[str] = set()
    for path in (ROOT / "data").rglob("*.yml"):
        names |= set(re.findall(r"action:\s*(utter_\w+)", path.read_text()))
    return names


def test_responses_uttered_by_rules_and_stories_name_only_slots():
    domain = load_domain()
    slots = set(domain["slots"])
    unfilled = {
        (name, placeholder)
        for name in responses_uttered_by_rules_and_stories()
        for variation in domain["responses"].get(name, [])
        for placeholder in re.findall(r"\{(\w+)\}", variation.get("text") or "")
        if placeholder not in slots
    }
    assert not unfilled  # a slot set at session start, or uttered by an action that passes the value
