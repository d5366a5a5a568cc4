"""What a borrower types that is personal (date of birth, card and ID numbers)
is in neither the tracker store's tables nor the servers' logs (both servers
run at debug level in these tests, where Rasa logs every message)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot.domain.privacy import MASK
from tests.e2e.test_conversations import sender

pytestmark = pytest.mark.e2e

CARD = "4111 1111 1111 1111"
NINO = "AB 12 34 56 C"
CN_ID = "11010519491231002X"
WRONG_DOB, DOB = "13/06/1980", "1st of June 1980"


def test_personal_data_is_masked_in_the_tracker_store_and_the_logs(servers):
    ref = servers.new_loan()
    who = sender()
    servers.say(who, "hi")
    servers.say(who, ref)
    assert "don't match our records" in servers.say(who, WRONG_DOB)  # a wrong date is masked too
    servers.say(who, ref)
    assert "you're verified" in servers.say(who, DOB)
    servers.say(who, f"someone stole my card {CARD}, my NI number is {NINO} and id {CN_ID}")

    with sqlite3.connect(servers.work / "trackers.db") as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ?", (who,)).fetchall()
    stored = "\n".join(row[0] for row in rows)
    texts = [json.loads(row[0]).get("text") for row in rows if json.loads(row[0])["event"] == "user"]
    assert f"someone stole my card {MASK}, my NI number is {MASK} and id {MASK}" in texts  # stored, masked
    assert texts.count(MASK) == 2  # both dates of birth, whole

    logs = (servers.work / "rasa.log").read_text() + (servers.work / "actions.log").read_text()
    assert f"someone stole my card {MASK}" in logs  # Rasa did log the message, masked

    for secret in (CARD, CARD.replace(" ", ""), NINO, CN_ID, WRONG_DOB, DOB, "1980-06-01", "1980-06-13"):
        assert secret not in stored, f"{secret!r} in the tracker store"
        assert secret not in logs, f"{secret!r} in the logs"
