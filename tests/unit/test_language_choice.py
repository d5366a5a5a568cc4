"""The borrower's choice of language (bot.domain.language_choice, the step readers,
components/step_policy.py and components/patches/language.py): which language a
request asks for, that the readers take it as a subject and never as an answer, and
that the choice stands against the next message's script until asked again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.domain import steps
from bot.domain.language_choice import asks_for_person, chooses_language, language_asked, language_named
from components import step_policy
from components.patches import language as language_patch

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("I would like to speak English please", "en"),
        ("can we do this in English?", "en"),
        ("Chinese please", "zh"),
        ("请说中文", "zh"),
        ("能用中文吗", "zh"),
        ("说英文吧", "en"),
        ("说English吧", "en"),
        ("可以用英语吗", "en"),
        ("用普通话说吧", "zh"),
        ("do you speak mandarin", "zh"),
        # the language refused is not the one asked for
        ("I can't read Chinese, English please", "en"),
        ("not Chinese, English please", "en"),
        ("不要英文，说中文", "zh"),
        ("别用英文了，说中文", "zh"),
        ("英文看不懂，能说中文吗", "zh"),
        ("中文我看不太懂，用英文吧", "en"),
        ("please answer in chinese, my english is not good", "zh"),
        ("Chinese instead of English", "zh"),
        ("my phone shows chinese, please answer in english", "en"),
        # none named
        ("can we change languages?", None),
        ("换一种语言", None),
        ("English is hard for me", None),
        ("order me an englishman's breakfast", None),
    ],
)
def test_the_language_asked_for_is_the_last_one_named_and_not_refused(text, wanted):
    assert language_named(text) == wanted


def test_a_request_to_switch_naming_no_language_asks_for_the_other_one():
    assert language_asked("can we change languages?", "en") == "zh"
    assert language_asked("换一种语言", "zh") == "en"
    assert language_asked("English please", "en") == "en"  # asked again: stays


def test_a_language_refused_and_none_named_asks_for_the_other_one():
    assert language_asked("我英文不好", "zh") == language_asked("我英文不好", "en") == "zh"
    assert language_asked("Chinese is hard for me", "zh") == "en"


@pytest.mark.parametrize(
    "text", ["can you speak Spanish", "能说粤语吗", "what languages do you speak", "do you have Japanese"]
)
def test_a_language_not_spoken_or_a_question_is_not_a_guess(text):
    assert language_asked(text, "en") is None and language_asked(text, "zh") is None


@pytest.mark.parametrize(
    "text",
    [
        "I don't speak English well, can I talk to a person",
        "can I speak to someone who speaks Chinese",
        "我英文不好，能找人工吗",
        "有会说中文的客服吗",
    ],
)
def test_a_person_asked_for_is_not_a_language_choice(text):
    assert asks_for_person(text)
    assert not chooses_language(text, "choose_language", 0.9)


@pytest.mark.parametrize(
    "text", ["English please", "english", "in Chinese", "中文", "说中文吧", "请用英文", "中文谢谢"]
)
def test_a_bare_language_is_a_choice_whatever_the_classifier_says(text):
    assert chooses_language(text, "inform", 0.9)


def test_an_unsure_lean_to_a_language_choice_is_not_one():
    assert chooses_language("could we do this in English", "choose_language", 0.8)
    assert not chooses_language("could we do this in English", "choose_language", 0.3)
    assert not chooses_language("I lost my job", "choose_language", 0.45)


LANGUAGE_REQUESTS = [
    ("can we do this in English?", [("choose_language", 0.92)]),
    ("English please", [("reason_other", 0.5)]),
    ("请说中文", [("choose_language", 0.88)]),
    ("中文", [("inform", 0.6)]),
    ("/choose_language", []),
]


@pytest.mark.parametrize(("text", "ranking"), LANGUAGE_REQUESTS)
def test_the_readers_take_a_language_choice_as_a_subject_never_as_an_answer(text, ranking):
    for reader in (steps.read_at_reason, steps.read_at_offers, steps.read_at_read_back):
        reading = reader(text, ranking)
        assert (reading.meaning, reading.intent) == (steps.TOPIC, "choose_language"), reader.__name__


def test_a_person_asked_for_at_a_step_stays_a_person():
    text, ranking = "I don't speak English well, can I talk to a person", [("request_human", 0.9)]
    assert steps.read_at_reason(text, ranking).intent != "choose_language"
    assert steps.read_at_offers(text, ranking) == steps.Reading(steps.TOPIC, intent="request_human")
    assert steps.read_at_read_back(text, ranking) == steps.Reading(steps.TOPIC, intent="request_human")


def test_a_reason_mentioning_a_language_is_read_as_without_it():
    for ranking in ([("reason_unemployment", 0.8)], [("reason_unemployment", 0.35), ("choose_language", 0.3)]):
        with_it = steps.read_at_reason("I lost my job as an English teacher", ranking)
        assert with_it == steps.read_at_reason("I lost my job as a teacher", ranking)
        assert with_it.intent != "choose_language"


# ---------------------------------------------------------------- the step policy


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _tracker(domain: Domain, step_slots: list, text: str, ranking: list, after: list | None = None):
    parse = {
        "text": text,
        "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": [],
    }
    events = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("I lost my job", {"name": "reason_unemployment", "confidence": 0.9}),
        ActionExecuted("action_account_summary"),
        BotUttered("the question"),
        *step_slots,
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, parse["intent"], parse_data=parse),
        *(after or []),
    ]
    return DialogueStateTracker.from_events("t", events, slots=domain.slots)


@pytest.mark.parametrize(
    "step_slots",
    [
        [SlotSet("dialogue_step", "reason")],
        [SlotSet("dialogue_step", "offers")],
        [SlotSet("verified", True), SlotSet("awaiting_confirmation", True), SlotSet("pending_agreement", "{}")],
    ],
)
def test_at_a_step_a_language_asked_for_is_said_then_the_step_again(domain, step_slots):
    asked = _tracker(domain, step_slots, "中文", [("inform", 0.6)])  # the classifier's lean aside
    assert step_policy.next_action(asked) == "action_choose_language"
    said = _tracker(domain, step_slots, "中文", [("inform", 0.6)], [ActionExecuted("action_choose_language")])
    assert step_policy.next_action(said) == "action_back_to_step"
    back = _tracker(
        domain,
        step_slots,
        "中文",
        [("inform", 0.6)],
        [ActionExecuted("action_choose_language"), ActionExecuted("action_back_to_step")],
    )
    assert step_policy.next_action(back) == ACTION_LISTEN_NAME


def test_outside_a_step_the_rules_answer_a_language_choice(domain):
    assert step_policy.next_action(_tracker(domain, [], "English please", [("choose_language", 0.9)])) is None


# ---------------------------------------------------------------- the patch: a choice stands


class _Processor:
    """What the patched log_message uses of Rasa's MessageProcessor besides Rasa's own
    log_message (replaced below by one that logs the message on a tracker)."""

    def __init__(self, domain: Domain, tracker: DialogueStateTracker) -> None:
        self.domain, self.tracker, self.saved = domain, tracker, 0

    async def save_tracker(self, tracker: DialogueStateTracker) -> None:
        self.saved += 1


async def _logged(self: _Processor, message: UserMessage, should_save_tracker: bool = True) -> DialogueStateTracker:
    self.tracker.update(UserUttered(message.text, metadata=message.metadata), self.domain)
    return self.tracker


def _say(processor: _Processor, text: str) -> dict:
    message = UserMessage(text, sender_id="t")
    tracker = asyncio.run(language_patch._log_message_in_its_language(processor, message))
    return {
        "language": tracker.get_slot("language"),
        "borrower_language": tracker.get_slot("borrower_language"),
        "metadata": message.metadata.get(language_patch.METADATA_KEY),
    }


def test_each_message_sets_its_language_until_one_is_chosen(domain, monkeypatch):
    monkeypatch.setattr(language_patch, "_log_message", _logged)
    processor = _Processor(domain, DialogueStateTracker("t", domain.slots))
    assert _say(processor, "我最近失业了，手头很紧") == {"language": "zh", "borrower_language": "zh", "metadata": "zh"}
    assert _say(processor, "I lost my job last month and money is tight")["language"] == "en"
    assert processor.saved == 2
    # The borrower chooses Chinese (actions/language.py sets these three slots).
    for slot in ("language", "borrower_language", "language_chosen"):
        processor.tracker.update(SlotSet(slot, "zh"), domain)
    after = _say(processor, "I lost my job last month and money is tight")
    assert after == {"language": "zh", "borrower_language": "zh", "metadata": "en"}  # understood, answered in Chinese
    # Chosen again (English): English stays against a Chinese message.
    for slot in ("language", "borrower_language", "language_chosen"):
        processor.tracker.update(SlotSet(slot, "en"), domain)
    assert _say(processor, "我最近失业了，手头很紧")["language"] == "en"
    # The choice gone (a new session clears it): each message's script again.
    processor.tracker.update(SlotSet("language_chosen", None), domain)
    assert _say(processor, "我最近失业了，手头很紧")["language"] == "zh"
