"""Intents heard before retrieval: a person, handoff phrases, goodbye, yes/no, repeat."""

from __future__ import annotations

import pytest

from ari_app.answer.intents import IntentDetector, IntentKind, PhraseMatcher

DETECTOR = IntentDetector(
    handoff_phrases=["refund", "complaint", "cancel my appointment"], people=["Maya", "Omar"]
)


@pytest.mark.parametrize(
    "text",
    [
        "um can I just talk to a real person please",
        "agent",
        "Representative!",
        "operator",
        "talk to someone",
        "can I speak with somebody",
        "is there anyone I can talk to",
        "put me through to the front desk",
        "transfer me",
        "get me a human",
        "I'd like to talk to Maya",
        "customer service please",
        "can I speak to Doctor Lee",
        "I would like to speak with a perfect lean",  # "a person please", misheard
        "could I talk with the billing lady",
    ],
)
def test_person_requests(text: str) -> None:
    assert DETECTOR.detect(text).kind is IntentKind.PERSON


@pytest.mark.parametrize(
    "text",
    [
        "I don't need to talk to anyone, what are your hours",
        "can someone see me today for a toothache",
        "how do I get to the office",
        "do you take cigna",
        "what time do you open",
        "can I talk to you about my bill",
        "I want to speak about a refund of my deposit",
        "I don't want to speak to a machine",
    ],
)
def test_not_person_requests(text: str) -> None:
    assert DETECTOR.detect(text).kind is not IntentKind.PERSON


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I want a refund", "refund"),
        ("can I get my refunds processed", "refund"),
        ("I'd like to complain", "complaint"),
        ("I need to cancel an appointment", "cancel my appointment"),
        ("I have to cancel my dental appointment", "cancel my appointment"),
    ],
)
def test_custom_phrases(text: str, phrase: str) -> None:
    intent = DETECTOR.detect(text)
    assert intent.kind is IntentKind.CUSTOM_PHRASE
    assert intent.phrase == phrase


def test_cancellation_policy_is_a_question_not_a_handoff() -> None:
    assert DETECTOR.detect("what's your cancellation policy").kind is IntentKind.NONE


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("yes please", IntentKind.YES),
        ("yeah sure", IntentKind.YES),
        ("no thanks", IntentKind.NO),
        ("nope", IntentKind.NO),
        ("no nothing more", IntentKind.NO),  # heard on a real call: was "not understood"
        ("nothing more thanks", IntentKind.NO),
        ("no that's all thank you", IntentKind.GOODBYE),
        ("bye", IntentKind.GOODBYE),
        ("that's it, have a good day", IntentKind.GOODBYE),
        ("no happy mall thank you goodbye", IntentKind.GOODBYE),  # a real call, misheard
        ("okay thanks bye", IntentKind.GOODBYE),
        ("can my son say goodbye to his old dentist first", IntentKind.NONE),
        ("sorry can you repeat that", IntentKind.REPEAT),
        ("say that again", IntentKind.REPEAT),
        ("yes what's your address", IntentKind.NONE),
        ("no I wanted to ask about parking", IntentKind.NONE),
        ("", IntentKind.NONE),
    ],
)
def test_conversation_intents(text: str, kind: IntentKind) -> None:
    assert DETECTOR.detect(text).kind is kind


def test_phrase_matcher_allows_small_gaps_only() -> None:
    matcher = PhraseMatcher(["payment plan"])
    assert matcher.find("do you have a payment plan") == "payment plan"
    assert matcher.find("a payment on a plan") == "payment plan"
    assert matcher.find("payment for my monthly plan") is None
    assert matcher.find("payment is due and then some other words about a plan") is None
    assert matcher.vocabulary == {"payment", "plan"}
