"""The dialog policy is pure: state and event in, state and decision out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ari_app.answer.engine import Analysis, Verdict
from ari_app.answer.intents import NO_INTENT, Intent, IntentKind
from ari_app.answer.kb import Entry
from ari_app.answer.policy import (
    Action,
    Awaiting,
    DialogState,
    Dtmf,
    Heard,
    PolicySettings,
    Silence,
    decide,
)

SETTINGS = PolicySettings(max_failed_turns=2, max_silences=2)
PARKING = Entry("parking", ("Is there parking?",), "Yes, behind the building.")
BOOKING = Entry(
    "booking",
    ("Can I book?",),
    "The front desk books. Shall I put you through?",
    offer_handoff=True,
)


def answer(entry: Entry = PARKING, topic: str | None = None) -> Heard:
    return Heard(
        Analysis(
            "q",
            "q",
            NO_INTENT,
            Verdict.CONFIDENT,
            entry=entry,
            answer=entry.answer,
            confidence=0.8,
            margin=0.3,
            topic=topic,
        )
    )


def unsure(
    verdict: Verdict = Verdict.LOW_CONFIDENCE, text: str = "hmm what", topic: str | None = None
) -> Heard:
    return Heard(
        Analysis(text, text, NO_INTENT, verdict, entry=PARKING, confidence=0.5, topic=topic)
    )


def intent(kind: IntentKind, phrase: str | None = None, topic: str | None = None) -> Heard:
    return Heard(
        Analysis("x", "x", Intent(kind, phrase), Verdict.INTENT, confidence=1.0, topic=topic)
    )


def test_answer_then_anything_else_then_no_says_goodbye() -> None:
    state, decision = decide(DialogState(), answer(), SETTINGS)
    assert decision.action is Action.ANSWER
    assert decision.say == "Yes, behind the building. Is there anything else I can help you with?"
    assert decision.entry_id == "parking"
    assert state.awaiting is Awaiting.ANYTHING_ELSE
    state, decision = decide(state, intent(IntentKind.NO), SETTINGS)
    assert decision.action is Action.GOODBYE


def test_yes_to_anything_else_prompts() -> None:
    state, _ = decide(DialogState(), answer(), SETTINGS)
    state, decision = decide(state, intent(IntentKind.YES), SETTINGS)
    assert decision.action is Action.PROMPT
    assert state.awaiting is Awaiting.NOTHING


def test_offer_then_yes_hands_off_as_asked_for_person() -> None:
    state, decision = decide(DialogState(), answer(BOOKING), SETTINGS)
    assert decision.say == BOOKING.answer
    assert state.awaiting is Awaiting.HANDOFF_OFFER
    _, decision = decide(state, intent(IntentKind.YES), SETTINGS)
    assert decision.action is Action.HANDOFF
    assert decision.reason == "asked_for_person"


def test_offer_then_no_asks_anything_else() -> None:
    state, _ = decide(DialogState(), answer(BOOKING), SETTINGS)
    state, decision = decide(state, intent(IntentKind.NO), SETTINGS)
    assert decision.action is Action.PROMPT
    assert state.awaiting is Awaiting.ANYTHING_ELSE


def test_rephrase_once_then_hand_off_with_reason() -> None:
    state, decision = decide(DialogState(), unsure(), SETTINGS)
    assert decision.action is Action.REPHRASE
    assert decision.gap
    state, decision = decide(state, unsure(Verdict.NO_MATCH, "still what"), SETTINGS)
    assert decision.action is Action.HANDOFF
    assert decision.reason == "no_match"
    assert decision.gap
    assert state.unanswered == ("hmm what", "still what")


def test_failed_turns_count_across_answers() -> None:
    settings = PolicySettings(max_failed_turns=3)
    state, d1 = decide(DialogState(), unsure(), settings)
    state, d2 = decide(state, answer(), settings)
    state, d3 = decide(state, unsure(), settings)
    state, d4 = decide(state, unsure(), settings)
    assert [d1.action, d2.action, d3.action, d4.action] == [
        Action.REPHRASE,
        Action.ANSWER,
        Action.REPHRASE,
        Action.HANDOFF,
    ]
    assert d1.say != d3.say  # the second request to rephrase is worded differently
    assert d4.reason == "low_confidence"


def test_silences_reprompt_then_hand_off_and_speech_resets() -> None:
    state, decision = decide(DialogState(), Silence(), SETTINGS)
    assert decision.action is Action.REPROMPT
    state, _ = decide(state, answer(), SETTINGS)
    assert state.silences == 0
    state, decision = decide(state, Silence(), SETTINGS)
    assert decision.action is Action.REPROMPT
    state, decision = decide(state, Silence(), SETTINGS)
    assert decision.action is Action.HANDOFF
    assert decision.reason == "no_input"


def test_empty_transcript_counts_as_silence() -> None:
    empty = Heard(Analysis("", "", NO_INTENT, Verdict.EMPTY))
    state, decision = decide(DialogState(), empty, SETTINGS)
    assert decision.action is Action.REPROMPT
    assert state.silences == 1


def test_dtmf_zero_hands_off_other_keys_ignored() -> None:
    state, decision = decide(DialogState(), Dtmf("5"), SETTINGS)
    assert decision.action is Action.IGNORE
    _, decision = decide(state, Dtmf("0"), SETTINGS)
    assert (decision.action, decision.reason) == (Action.HANDOFF, "dtmf_0")


def test_person_and_custom_phrase_reasons_and_topic() -> None:
    _, decision = decide(DialogState(), intent(IntentKind.PERSON), SETTINGS)
    assert decision.reason == "asked_for_person"
    _, decision = decide(
        DialogState(), intent(IntentKind.CUSTOM_PHRASE, "refund", topic="billing"), SETTINGS
    )
    assert decision.reason == "custom_phrase:refund"
    assert decision.topic == "billing"


def test_topic_heard_earlier_is_kept_for_the_handoff() -> None:
    state, _ = decide(DialogState(), unsure(text="my invoice is wrong", topic="billing"), SETTINGS)
    _, decision = decide(state, intent(IntentKind.PERSON), SETTINGS)
    assert decision.topic == "billing"


def test_repeat_says_the_last_reply_again() -> None:
    _, decision = decide(DialogState(), intent(IntentKind.REPEAT), SETTINGS)
    assert decision.action is Action.REPEAT
    assert "haven't said anything" in decision.say
    state, first = decide(DialogState(), answer(), SETTINGS)
    state2, again = decide(state, intent(IntentKind.REPEAT), SETTINGS)
    assert again.say == first.say
    assert state2 == state


def test_goodbye() -> None:
    _, decision = decide(DialogState(), intent(IntentKind.GOODBYE), SETTINGS)
    assert decision.action is Action.GOODBYE


REASONS = {"asked_for_person", "low_confidence", "no_match", "no_input", "dtmf_0"}

_EVENTS = st.one_of(
    st.sampled_from(
        [
            answer(),
            answer(BOOKING),
            unsure(),
            unsure(Verdict.NO_MATCH),
            intent(IntentKind.PERSON),
            intent(IntentKind.CUSTOM_PHRASE, "refund"),
            intent(IntentKind.YES),
            intent(IntentKind.NO),
            intent(IntentKind.REPEAT),
            intent(IntentKind.GOODBYE),
            Silence(),
        ]
    ),
    st.sampled_from("0123456789*#").map(Dtmf),
)


@given(
    events=st.lists(_EVENTS, max_size=25),
    failed=st.integers(min_value=1, max_value=4),
    silences=st.integers(min_value=1, max_value=4),
)
def test_any_conversation_hands_off_with_a_reason_within_the_limits(
    events: list[Heard | Silence | Dtmf], failed: int, silences: int
) -> None:
    settings = PolicySettings(max_failed_turns=failed, max_silences=silences)
    state = DialogState()
    for event in events:
        state, decision = decide(state, event, settings)
        if decision.action is Action.HANDOFF:
            assert decision.reason in REASONS or (decision.reason or "").startswith(
                "custom_phrase:"
            )
            assert decision.say
            break
        assert decision.reason is None or decision.action is Action.REPHRASE
        assert state.failed_turns < failed
        assert state.silences < silences
        if decision.action is not Action.IGNORE:
            assert decision.say
