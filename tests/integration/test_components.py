"""The VulnerabilityDetector NLU component makes crisis language win over the classifier."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.vulnerability import VulnerabilityDetector


def classified(text: str, intent: str, confidence: float = 0.9) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}, {"name": "crisis", "confidence": 0.05}])
    return message


def test_crisis_language_overrides_the_predicted_intent_and_ranking():
    [message] = VulnerabilityDetector().process([classified("I can't go on", "cancel_plan")])
    assert message.get("intent") == {"name": "crisis", "confidence": 1.0}
    ranking = message.get("intent_ranking")
    assert ranking[0] == {"name": "crisis", "confidence": 1.0}
    assert all(r["confidence"] == 0.0 for r in ranking[1:])  # no ambiguity for FallbackClassifier


def test_other_vulnerabilities_become_disclose_vulnerability():
    [message] = VulnerabilityDetector().process([classified("I have a gambling problem", "reason_over_indebted")])
    assert message.get("intent")["name"] == "disclose_vulnerability"


def test_bereavement_keeps_its_reason_intent_and_ordinary_text_is_untouched():
    [bereaved, ordinary] = VulnerabilityDetector().process(
        [classified("my mum passed away", "reason_bereavement"), classified("can I pay over 6 months", "choose_plan")]
    )
    assert bereaved.get("intent")["name"] == "reason_bereavement"
    assert ordinary.get("intent") == {"name": "choose_plan", "confidence": 0.9}


def test_an_unsure_lean_to_crisis_without_crisis_words_is_a_disclosure():
    # "crying all morning": the classifier leaned to crisis at 0.3; the words say distress.
    text = "ive been crying all morning about this, i just dont know what to do"
    [unsure, sure] = VulnerabilityDetector().process([classified(text, "crisis", 0.3), classified(text, "crisis", 0.9)])
    assert unsure.get("intent") == {"name": "disclose_vulnerability", "confidence": 1.0}
    assert sure.get("intent") == {"name": "crisis", "confidence": 1.0}


@pytest.mark.parametrize("text", ["i cant cope anymore honestly", "我最近压力太大了，快崩溃了"])
def test_a_disclosure_the_classifier_is_barely_sure_of_is_not_left_ambiguous(text):
    """ "can't cope … caring for her": the classifier at 0.51 for a disclosure and 0.49 for
    a crisis (or a family emergency). Left so, the fallback's ambiguity check asked the
    borrower what they meant; the words say vulnerable, so it is that, unambiguously."""
    message = Message(data={"text": text})
    message.set("intent", {"name": "disclose_vulnerability", "confidence": 0.508})
    message.set(
        "intent_ranking",
        [{"name": "disclose_vulnerability", "confidence": 0.508}, {"name": "crisis", "confidence": 0.491}],
    )
    [read] = VulnerabilityDetector().process([message])
    assert read.get("intent") == {"name": "disclose_vulnerability", "confidence": 1.0}
    assert [r["confidence"] for r in read.get("intent_ranking")] == [1.0, 0.0]
