"""The language a message shows (components/language.py): Chinese characters are
Chinese, English only when it is clearly English, and what shows no language
(short words many languages share, references, numbers, buttons) shows none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

import components.language as language
from components.intent_classifier import TfidfIntentClassifier
from components.language import MAX_DETECTED_CHARS, detect_language, script_of


@pytest.mark.parametrize(
    "text",
    [
        "您好",
        "好的",
        "嗯",
        "ok 好的",
        "hi 你好",
        "借款编号LN-10007，生日1988年2月2日",
        "1988年2月2日",
        "我想分6期还",
        "能不能每个月还500",
    ],
)
def test_chinese_characters_are_chinese(text):
    assert detect_language(text) == "zh"
    assert script_of(text) == "zh"


@pytest.mark.parametrize(
    "text",
    [
        "hi there",
        "thanks",
        "no thanks",
        "yes please",
        "I lost my job",
        "work dried up",
        "it's LN-10009, born 3 april 2000",
        "can I pay 50 a month",
        "the first one",
        "yes but I am worried",
        "good morning",
    ],
)
def test_english_is_english(text):
    assert detect_language(text) == "en"
    assert script_of(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "OK",
        "k",
        "lol",
        "LN-10007",
        "500",
        "2",
        "😀",
        "",
        "   ",
        "12 March 1985",
        "LN-10001 1980-06-01",
        "/affirm",
        '/choose_plan{"months": 6}',
        "merci beaucoup",
        "hola como estas",
    ],
)
def test_what_shows_no_language_changes_nothing(text):
    assert detect_language(text) is None


@pytest.mark.parametrize(
    "text",
    ["I lost my job last month, 身份证号110101199003071234", "my national id number is on the card, 身份证 123456"],
)
def test_english_with_a_few_chinese_characters_is_english(text):
    assert script_of(text) == "en"
    assert detect_language(text) == "en"


def test_a_huge_message_is_read_by_its_opening():
    assert detect_language("I can't pay this month. " * 10_000) == "en"
    assert detect_language("x" * MAX_DETECTED_CHARS + "你好") is None  # beyond the opening


@given(st.text(max_size=200))
def test_any_text_gets_a_language_or_none(text):
    assert detect_language(text) in ("en", "zh", None)


def test_the_detector_is_built_when_the_model_loads(tmp_path):
    """The intent classifier's `load` builds the detector (a replica's first message does
    not wait for it), and what it detects is what the detector built at a message gave."""
    texts = ["I lost my job", "ok", "k", "hello there", "LN-10007", "Hola, ¿cómo estás?", "yes please", "bonjour"]
    language._detector.cache_clear()
    built_at_a_message = [detect_language(t) for t in texts]
    language._detector.cache_clear()
    context = ExecutionContext(GraphSchema({}), "test")
    TfidfIntentClassifier.load({}, LocalModelStorage(tmp_path), Resource("never_trained"), context)
    assert language._detector.cache_info().currsize == 1
    assert [detect_language(t) for t in texts] == built_at_a_message
