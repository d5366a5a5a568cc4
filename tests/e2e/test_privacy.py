"""What a borrower types that is personal (date of birth, card and ID numbers)
is in neither the tracker store's tables nor the servers' logs (both servers
run at debug level in these tests, where Rasa logs every message)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.privacy import MASK
from tests.e2e.conftest import ROOT, running_servers
from tests.e2e.test_conversations import sender
from tests.e2e.test_fuzz import FUZZ
from tests.unit.test_privacy import AFTER, BEFORE, card_numbers, cn_resident_ids, ni_numbers, old_dates

pytestmark = pytest.mark.e2e

CARD = "4111 1111 1111 1111"
NINO = "AB 12 34 56 C"
CN_ID = "11010519491231002X"
WRONG_DOB, DOB = "13/06/1980", "1st of June 1980"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, platform):
    """This module's own servers, both logging at debug level (the shared ones log at info),
    with Rasa's SQL tracker store on SQLite: their logs and tables are what is searched."""
    work = tmp_path_factory.mktemp("privacy")
    with running_servers(work, platform, tracker_store_url=f"sqlite:///{work / 'trackers.db'}", debug=True) as started:
        yield started


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


PAID_BY = f"by card {CARD}, NI AB123456C"
CN_ID_WORDS = f"I lost my job last month, 身份证号{CN_ID}"
SLASH_MESSAGES = ["/paid by card 4111.1111.1111.1111", f"/inform{{身份证号{CN_ID}}}", "/inform@x born 9-Sep-1970"]


def _cli(servers, *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **servers.settings, "DATABASE_URL": servers.database_url},
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


SECRETS = [CARD, CARD.replace(" ", ""), "4111.1111.1111.1111", "AB123456C", CN_ID, "9-Sep-1970"]


def _verified(servers) -> tuple[str, str]:
    who, ref = sender(), servers.new_loan()
    servers.say(who, "hi")
    servers.say(who, ref)
    assert "you're verified" in servers.say(who, DOB)
    return who, ref


def _loan_store(servers) -> str:
    """Every row of every table of the loan store, as text."""
    with sqlite3.connect(servers.database_url.removeprefix("sqlite:///")) as connection:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(
            json.dumps(list(row), default=str, ensure_ascii=False)
            for name in names
            for row in connection.execute(f'SELECT * FROM "{name}"')
        )


def _assert_kept_nowhere(servers, who: str, replies: list[str]) -> None:
    """None of SECRETS in the replies, the tracker store's table, the servers'
    logs or any table of the loan store (cases, reasons, handoffs, audit)."""
    with sqlite3.connect(servers.work / "trackers.db") as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ?", (who,)).fetchall()
    stored = json.dumps([json.loads(row[0]) for row in rows], ensure_ascii=False)  # Chinese unescaped
    logs = (servers.work / "rasa.log").read_text() + (servers.work / "actions.log").read_text()
    tables = _loan_store(servers)
    for where, text in [
        ("replies", "\n".join(replies)),
        ("tracker store", stored),
        ("logs", logs),
        ("loan store", tables),
    ]:
        found = [s for s in SECRETS if s in text]
        assert not found, f"{found} in the {where}"


def test_how_a_borrower_paid_is_neither_repeated_nor_kept(servers):
    """Issue 12: a card and NI number given as how a payment was made; the
    team's `cases` and a handoff transcript show them masked."""
    who, ref = _verified(servers)
    assert "When did you make the payment" in servers.say(who, "I already paid this")
    assert "how much" in servers.say(who, "last Monday").lower()
    assert "How did you pay" in servers.say(who, "50")
    reply = servers.say(who, PAID_BY)
    assert "passed your payment of £50.00" in reply
    assert "card" not in reply  # nothing the borrower typed is repeated
    handoff_reply = servers.say(who, f"I want to talk to a person, my card is {CARD}")

    [case] = [c for c in json.loads(_cli(servers, "cases", "--json")) if c["loan_ref"] == ref]
    assert case["details"]["method"] == f"by card {MASK}, NI {MASK}"
    [handoff] = [h for h in json.loads(_cli(servers, "handoffs", "--json")) if h["conversation_id"] == who]
    assert [line["text"] for line in handoff["transcript"]][-1] == f"I want to talk to a person, my card is {MASK}"
    _assert_kept_nowhere(servers, who, [reply, handoff_reply])


def test_an_id_number_written_after_chinese_is_masked_in_the_reasons(servers):
    who, ref = _verified(servers)
    reply = servers.say(who, CN_ID_WORDS)
    [reason] = servers.store.loan_report(ref)["reasons"]
    assert reason["borrower_words"] == f"I lost my job last month, 身份证号{MASK}"
    _assert_kept_nowhere(servers, who, [reply])


def test_messages_rasa_cannot_parse_are_masked_in_its_warnings(servers):
    """Rasa warns "Failed to parse arguments in line '<the message>'" through
    Python's warnings, not its logging, for a "/" message it cannot read."""
    who, _ = _verified(servers)
    replies = [servers.say(who, text) for text in SLASH_MESSAGES]
    logs = (servers.work / "rasa.log").read_text()
    assert "Failed to parse arguments in line '/paid by card ••••••'" in logs
    _assert_kept_nowhere(servers, who, replies)


@pytest.fixture(scope="module")
def verified_conversation(servers) -> str:
    return _verified(servers)[0]


@FUZZ
@given(
    before=BEFORE,
    secret=st.one_of(card_numbers(), cn_resident_ids(), ni_numbers(), old_dates()),
    after=AFTER,
    slash=st.booleans(),
    verified=st.booleans(),
)
def test_personal_data_in_any_message_is_kept_nowhere(
    servers, verified_conversation, before, secret, after, slash, verified
):
    """The forms tests/unit/test_privacy.py generates, sent to a new or a
    verified conversation (where words become reasons, cases, transcripts),
    with or without a leading "/": nothing of them in the replies, the tracker
    store, what the servers logged meanwhile, or the loan store."""
    who = verified_conversation if verified else sender()
    logs = [servers.work / "rasa.log", servers.work / "actions.log"]
    sizes = [log.stat().st_size for log in logs]
    replies = servers.say(who, ("/" if slash else "") + before + secret + after)
    time.sleep(0.2)  # the action server's log lines of this message
    logged = "".join(log.read_bytes()[size:].decode(errors="replace") for log, size in zip(logs, sizes, strict=True))
    with sqlite3.connect(servers.work / "trackers.db") as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ?", (who,)).fetchall()
    stored = json.dumps([json.loads(row[0]) for row in rows], ensure_ascii=False)
    for where, text in [
        ("replies", replies),
        ("logs", logged),
        ("tracker store", stored),
        ("loan store", _loan_store(servers)),
    ]:
        assert secret not in text, f"{secret!r} in the {where}"
