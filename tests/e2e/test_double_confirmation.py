"""The same confirmation arriving twice at once — from two conversations (two
channels or devices) or as a retried webhook — records exactly one agreement,
enforced by the database."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.e2e
DOB = "1 June 1980"


def to_read_back(servers, who: str, loan_ref: str) -> None:
    servers.say(who, "hi")
    servers.say(who, loan_ref)
    assert "verified" in servers.say(who, DOB)
    servers.say(who, "I lost my job")
    servers.say(who, '/choose_plan{"plan_months": "6"}')
    assert "To confirm" in servers.say(who, "in 10 days")


def test_yes_from_two_conversations_at_once_records_one_agreement(servers):
    loan_ref = servers.new_loan()
    phone, laptop = f"dbl-{uuid.uuid4().hex[:8]}", f"dbl-{uuid.uuid4().hex[:8]}"
    to_read_back(servers, phone, loan_ref)
    to_read_back(servers, laptop, loan_ref)
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda who: servers.say(who, "yes"), [phone, laptop]))
    recorded = [a for a in servers.store.agreements() if a.loan_ref == loan_ref]
    assert len(recorded) == 1
    assert sum("AG-" in reply for reply in replies) >= 1
    # The other conversation is told about the agreement that exists, not given a second one.
    assert all(recorded[0].agreement_ref in reply or "already" in reply for reply in replies)


def test_a_retried_yes_in_one_conversation_records_one_agreement(servers):
    loan_ref = servers.new_loan()
    who = f"dbl-{uuid.uuid4().hex[:8]}"
    to_read_back(servers, who, loan_ref)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: servers.say(who, "yes"), range(2)))
    assert len([a for a in servers.store.agreements() if a.loan_ref == loan_ref]) == 1
