"""Personal data that borrowers type never reaches the tracker store or the logs.

bot.domain.privacy finds it in text; components.tracker_store masks it before Rasa's
stores write it (read back here from the SQL tables themselves and from the
in-memory store), and the log-record factory masks it in every log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.domain.privacy import MASK, install_log_masking, mask_personal_data
from components.tracker_store import (
    CachingSQLTrackerStore,
    MaskingInMemoryTrackerStore,
    MaskingSQLTrackerStore,
    masked_events,
)

TODAY = date(2026, 11, 23)

CARD = "4111 1111 1111 1111"
ID_NUMBERS = ["11010519491231002X", "AB 12 34 56 C", "ab123456c", "078-05-1120", "536904399"]
BIRTH_DATES = [
    "1985-03-04",
    "04/03/1985",
    "4.3.85",
    "4th of March 1985",
    "March 4th, 1985",
    "1985年3月4日",
    "04031985",
    "19850304",
    "4 Mar '85",
]


@pytest.mark.parametrize("secret", [CARD, "4111-1111-1111-1111", "4111111111111111", "6200 0000 0000 0005 123"])
def test_card_like_numbers_are_masked(secret):
    assert mask_personal_data(f"my card is {secret} ok", TODAY) == f"my card is {MASK} ok"


@pytest.mark.parametrize("secret", ID_NUMBERS)
def test_id_numbers_are_masked(secret):
    assert mask_personal_data(f"id: {secret}.", TODAY) == f"id: {MASK}."


@pytest.mark.parametrize("secret", BIRTH_DATES)
def test_old_dates_are_masked(secret):
    assert mask_personal_data(f"born {secret}", TODAY) == f"born {MASK}"


@pytest.mark.parametrize(
    "text",
    [
        "I can pay £50 on 15/12",
        "I'll pay 1.2k by 2026-12-15",
        "loan LN-10001, please",
        "I paid 250.00 on 3rd November 2026",
        "next friday, the 15th",
        "I earn 1,200,000 a year",
        "call me on +44 7700 900001",
        "reference 987654321",  # nine digits that are no valid SSN (no 9xx area)
        "option 2",
        "QQ 12 34 56 C is HMRC's example, never issued",
        "12 months at 100 a month",
        "我可以在2026年12月15日还款",
    ],
)
def test_what_the_conversation_needs_is_kept(text):
    assert mask_personal_data(text, TODAY) == text


def test_two_digit_years_are_read_as_the_nearest_past():
    assert mask_personal_data("15/12/26", TODAY) == "15/12/26"  # 2026: a payment date
    assert mask_personal_data("15/12/05", TODAY) == MASK  # 2005: a birth date


# ------------------------------------------------------------------ trackers


def _conversation(sender: str = "borrower-1") -> DialogueStateTracker:
    """Verification with a typed date of birth, an ambiguous answer's buttons,
    then a dispute that quotes a card and an ID number."""
    started = time.time()  # as in Rasa, the session's first action is not older than its start
    events = [
        ActionExecuted("action_session_start", timestamp=started),
        SessionStarted(timestamp=started),
        ActionExecuted("action_listen"),
        UserUttered("hi, loan LN-10001", {"name": "greet", "confidence": 1.0}),
        SlotSet("requested_slot", "date_of_birth"),
        ActionExecuted("action_listen"),
        UserUttered("third of march nineteen eighty five", {"name": "inform", "confidence": 0.9}),
        SlotSet("date_of_birth", "third of march nineteen eighty five"),
        BotUttered(
            "Which did you mean?",
            {
                "buttons": [
                    {"title": "4 March 1985", "payload": "1985-03-04"},
                    {"title": "3 April 1985", "payload": "1985-04-03"},
                ]
            },
        ),
        ActionExecuted("action_listen"),
        UserUttered("1985-03-04", {"name": "inform", "confidence": 1.0}),
        SlotSet("date_of_birth", "checked"),
        SlotSet("requested_slot", None),
        ActionExecuted("action_listen"),
        UserUttered(
            f"I dispute this, my card {CARD} and id {ID_NUMBERS[0]} were stolen",
            {"name": "dispute_debt", "confidence": 0.8},
        ),
        SlotSet("dispute_text", f"my card {CARD} and id {ID_NUMBERS[0]} were stolen"),
        BotUttered("I have recorded your dispute."),
        UserUttered("I can pay £50 on 15/12", {"name": "inform", "confidence": 0.9}),
    ]
    return DialogueStateTracker.from_events(sender, events)


SECRETS = [
    CARD,
    CARD.replace(" ", ""),
    ID_NUMBERS[0],
    "1985-03-04",
    "4 March 1985",
    "3 April 1985",
    "1985-04-03",
    "nineteen eighty five",
]


def _assert_no_secrets(text: str) -> None:
    found = [secret for secret in SECRETS if secret in text]
    assert not found, f"personal data stored: {found}"


def test_masked_events_keep_the_conversation():
    events = masked_events(_conversation().events)
    assert [e.text for e in events if isinstance(e, BotUttered)] == [
        "Which did you mean?",
        "I have recorded your dispute.",
    ]
    assert [b["payload"] for b in next(e for e in events if isinstance(e, BotUttered)).data["buttons"]] == [MASK, MASK]
    texts = [e.text for e in events if isinstance(e, UserUttered)]
    assert texts == [
        "hi, loan LN-10001",
        MASK,
        MASK,
        f"I dispute this, my card {MASK} and id {MASK} were stolen",
        "I can pay £50 on 15/12",
    ]
    intents = [e.intent_name for e in events if isinstance(e, UserUttered)]
    assert intents == ["greet", "inform", "inform", "dispute_debt", "inform"]
    assert len(events) == len(_conversation().events)


@pytest.mark.parametrize("kind", [MaskingSQLTrackerStore, CachingSQLTrackerStore])
def test_the_sql_tracker_store_tables_hold_no_personal_data(tmp_path, kind):
    db = tmp_path / "trackers.db"
    store = kind(Domain.empty(), dialect="sqlite", db=str(db))
    tracker = _conversation()
    asyncio.run(store.save(tracker))
    # the next turn is saved on top: only new events are added, none twice
    tracker.update(BotUttered("Thanks, I have noted 15 December."))
    asyncio.run(store.save(tracker))

    with sa.create_engine(f"sqlite:///{db}").connect() as connection:
        rows = connection.execute(sa.text("SELECT type_name, intent_name, data FROM events ORDER BY id")).all()
    assert len(rows) == len(tracker.events)
    _assert_no_secrets(json.dumps([list(row) for row in rows], ensure_ascii=False))
    assert [r.intent_name for r in rows if r.type_name == "user"][-1] == "inform"

    stored = asyncio.run(store.retrieve("borrower-1"))
    assert [e.text for e in stored.events if isinstance(e, UserUttered)][-1] == "I can pay £50 on 15/12"
    dob_values = [e.value for e in stored.events if isinstance(e, SlotSet) and e.key == "date_of_birth"]
    assert dob_values == [MASK, "checked"]


@pytest.mark.postgres
@pytest.mark.parametrize("kind", [MaskingSQLTrackerStore, CachingSQLTrackerStore])
def test_the_postgres_tracker_store_tables_hold_no_personal_data(postgres_url, kind):
    url = sa.engine.make_url(postgres_url)
    store = kind(
        Domain.empty(),
        dialect="postgresql",
        host=url.host,
        port=url.port,
        db=url.database,
        username=url.username or "",
        password=url.password or "",
    )
    sender = "privacy-test-borrower"
    asyncio.run(store.save(_conversation(sender)))
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT data FROM events WHERE sender_id = :s"), {"s": sender}).all()
    assert rows
    _assert_no_secrets(json.dumps([row.data for row in rows], ensure_ascii=False))


def test_the_in_memory_tracker_store_holds_no_personal_data():
    store = MaskingInMemoryTrackerStore(Domain.empty())
    asyncio.run(store.save(_conversation()))
    _assert_no_secrets(json.dumps(store.serialised(), ensure_ascii=False))
    _assert_no_secrets(json.dumps(asyncio.run(store.retrieve("borrower-1")).current_state(EventVerbosity.ALL)))


def test_log_lines_are_masked(caplog):
    install_log_masking()
    logger = logging.getLogger("rasa.core.processor")
    with caplog.at_level(logging.DEBUG, logger="rasa.core.processor"):
        logger.debug("Received user message '%s' with intent '%s'", f"card {CARD}, born 04/03/1985", "inform")
        logger.info(f"id {ID_NUMBERS[0]}")
    _assert_no_secrets(caplog.text)
    assert "04/03/1985" not in caplog.text
    assert f"Received user message 'card {MASK}, born {MASK}' with intent 'inform'" in caplog.text


def test_the_sql_store_keeps_the_greeting_of_the_current_session(tmp_path):
    """action_session_start utters the greeting before Rasa stamps session_started."""
    store = MaskingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "trackers.db"))
    old = time.time() - 7200
    greeting_time = time.time()
    events = [
        ActionExecuted("action_session_start", timestamp=old),
        SessionStarted(timestamp=old),
        ActionExecuted("action_listen", timestamp=old),
        UserUttered("hi from yesterday", timestamp=old),
        ActionExecuted("action_session_start", timestamp=greeting_time),
        BotUttered("Hello, I'm the automated assistant.", timestamp=greeting_time),
        SessionStarted(timestamp=greeting_time + 0.5),
        ActionExecuted("action_listen", timestamp=greeting_time + 0.5),
        UserUttered("hi", timestamp=greeting_time + 1),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events("returning", events)))
    current = asyncio.run(store.retrieve("returning"))
    assert [e.text for e in current.events if isinstance(e, (UserUttered, BotUttered))] == [
        "Hello, I'm the automated assistant.",
        "hi",
    ]
    everything = asyncio.run(store.retrieve_full_tracker("returning"))
    assert len(everything.events) == len(events)


def test_a_sealed_value_opens_only_with_its_secret_and_while_fresh():
    from bot.domain.privacy import seal, unseal

    sealed = seal("1985-03-12", "s3cret")
    assert "1985" not in sealed and mask_personal_data(sealed) == sealed  # nothing to mask, nothing to leak
    assert unseal(f'/inform{{"dob_choice": "{sealed}"}}', "s3cret") == "1985-03-12"
    assert unseal(sealed, "other") is None
    assert unseal(sealed[:-4] + "AAAA", "s3cret") is None
    assert unseal(sealed, "s3cret", max_age_seconds=-1) is None  # expired
    assert unseal("1985-03-12", "s3cret") is None


# ------------------------------------------------------------ warnings and exceptions

# A process set up as `rasa run` sets itself up (warnings once, structured log
# lines as JSON when not on a terminal), then as components.tracker_store does.
_RASA_LIKE_PROCESS = """
import logging, sys
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.log_utils import configure_structlog
configure_logging_and_warnings(logging.DEBUG, warn_only_once=True, filter_repeated_logs=True)
configure_structlog(logging.DEBUG)
from bot.domain.privacy import install_log_masking
install_log_masking()

import structlog
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

domain = Domain.from_dict({"intents": ["inform"], "entities": ["amount"]})
for text in sys.argv[1:]:
    YAMLStoryReader.unpack_regex_message(Message({"text": text}), domain)
structlog.get_logger().error("rest.message.received.timeout", text=sys.argv[1])
try:
    raise ValueError("could not read " + sys.argv[1])
except ValueError:
    logging.getLogger("rasa.core.channels").exception("failed")
print("done", flush=True)
"""


def test_rasa_warnings_log_lines_and_exceptions_are_masked():
    """Rasa warns "Failed to parse arguments in line '<message>'" through
    `warnings` (not logging) for a message starting with "/" it cannot read;
    its structured log lines are JSON with Chinese escaped; exceptions quote."""
    messages = [
        f"/paid by card {CARD}, NI AB123456C",  # an intent Rasa doesn't know
        '/inform{"amount": 5} card 4111.1111.1111.1111',  # text after the entities
        "/inform{身份证号11010519491231002X}",  # entities that aren't JSON
        "/inform@x 9-Sep-1970",  # a confidence that isn't a number
    ]
    run = subprocess.run(
        [sys.executable, "-c", _RASA_LIKE_PROCESS, *messages],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "done" in run.stdout, output
    assert output.count("Failed to parse arguments") == 4, output  # Rasa did warn, each time
    assert "rest.message.received.timeout" in output and "ValueError: could not read" in output
    leaks = [s for s in (CARD, "4111.1111.1111.1111", "AB123456C", "11010519491231002X", "9-Sep-1970") if s in output]
    assert not leaks, output


_CRASHING_PROCESS = """
import sys, threading
from bot.domain.privacy import install_log_masking
install_log_masking()
thread = threading.Thread(target=lambda: int("card " + sys.argv[1]), name="worker")
thread.start(); thread.join()
raise ValueError("could not read 身份证号" + sys.argv[2])
"""


def test_an_uncaught_crash_prints_its_traceback_masked():
    """Python prints an uncaught exception itself (sys.excepthook, threading.excepthook), not through logging."""
    run = subprocess.run(
        [sys.executable, "-c", _CRASHING_PROCESS, CARD, "11010519491231002X"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 1
    assert "Exception in thread worker" in run.stderr and "ValueError: could not read 身份证号" in run.stderr
    assert CARD not in run.stderr and "11010519491231002X" not in run.stderr, run.stderr


@pytest.mark.parametrize("kind", ["sql", "memory"])
def test_the_bot_text_is_masked_too_should_a_response_ever_quote_the_borrower(tmp_path, kind):
    if kind == "sql":
        store = MaskingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "trackers.db"))
    else:
        store = MaskingInMemoryTrackerStore(Domain.empty())
    tracker = _conversation("quoted")
    tracker.update(BotUttered(f"Noted: by card {CARD} (卡号4111.1111.1111.1111), due 15 December 2026."))
    asyncio.run(store.save(tracker))
    stored = [e.text for e in asyncio.run(store.retrieve_full_tracker("quoted")).events if isinstance(e, BotUttered)]
    assert stored[-1] == f"Noted: by card {MASK} (卡号{MASK}), due 15 December 2026."
    assert stored[:-1] == ["Which did you mean?", "I have recorded your dispute."]
