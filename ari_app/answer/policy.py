"""The dialog policy: what the agent does next, from the conversation's state and one event.

Pure code: ``decide(state, event, settings)`` returns the new state and a :class:`Decision`;
no clock, no model, no input/output. Events are what the caller did: said something
(already analysed), stayed silent, or pressed a key. Every handoff carries a reason code:
``asked_for_person``, ``custom_phrase:<phrase>``, ``low_confidence``, ``no_match``,
``no_input`` or ``dtmf_0``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from ari_app.answer.engine import Analysis, Verdict
from ari_app.answer.intents import IntentKind


class Action(StrEnum):
    """What the agent does next."""

    ANSWER = "answer"
    REPHRASE = "rephrase"
    REPROMPT = "reprompt"
    PROMPT = "prompt"
    REPEAT = "repeat"
    HANDOFF = "handoff"
    GOODBYE = "goodbye"
    IGNORE = "ignore"


class Awaiting(StrEnum):
    """A yes/no question the agent has just asked, if any."""

    NOTHING = "nothing"
    ANYTHING_ELSE = "anything_else"
    HANDOFF_OFFER = "handoff_offer"


class Reason(StrEnum):
    """Handoff reason codes (``custom_phrase`` is followed by ``:<phrase>``)."""

    ASKED_FOR_PERSON = "asked_for_person"
    CUSTOM_PHRASE = "custom_phrase"
    LOW_CONFIDENCE = "low_confidence"
    NO_MATCH = "no_match"
    NO_INPUT = "no_input"
    DTMF_0 = "dtmf_0"


@dataclass(frozen=True)
class Prompts:
    """What the agent says around answers; an operator may reword them."""

    anything_else: str = "Is there anything else I can help you with?"
    what_else: str = "Sure. What else can I help you with?"
    how_can_i_help: str = "How can I help you?"
    rephrase: str = "Sorry, I'm not sure I understood. Could you say that another way?"
    rephrase_again: str = "Sorry, I still didn't get that. Could you put it differently?"
    reprompt: str = "Are you still there? How can I help you?"
    handoff: str = "Let me put you through to a member of our team."
    goodbye: str = "Thank you for calling. Goodbye."
    nothing_to_repeat: str = "I haven't said anything yet. How can I help you?"


@dataclass(frozen=True)
class PolicySettings:
    """Limits from the line's ``handoff`` settings."""

    max_failed_turns: int = 2
    max_silences: int = 2
    prompts: Prompts = Prompts()


@dataclass(frozen=True)
class DialogState:
    """Everything the policy remembers between turns."""

    failed_turns: int = 0
    silences: int = 0
    awaiting: Awaiting = Awaiting.NOTHING
    last_reply: str | None = None
    topic: str | None = None
    """The last routing topic heard, kept for a later handoff."""
    unanswered: tuple[str, ...] = ()
    """Questions the agent could not answer, oldest first."""


@dataclass(frozen=True)
class Heard:
    """The caller said something (already analysed by the answer engine)."""

    analysis: Analysis


@dataclass(frozen=True)
class Silence:
    """The caller said nothing before the listening timeout."""


@dataclass(frozen=True)
class Dtmf:
    """The caller pressed a key."""

    digit: str


Event = Heard | Silence | Dtmf


@dataclass(frozen=True)
class Decision:
    """What to do and say; ``reason``/``topic`` set on handoffs, ``gap`` on unanswered turns."""

    action: Action
    say: str = ""
    reason: str | None = None
    topic: str | None = None
    entry_id: str | None = None
    confidence: float = 0.0
    gap: bool = False


def _handoff(
    state: DialogState,
    reason: str,
    settings: PolicySettings,
    topic: str | None,
    confidence: float = 0.0,
) -> tuple[DialogState, Decision]:
    say = settings.prompts.handoff
    new = replace(state, awaiting=Awaiting.NOTHING, last_reply=say)
    return new, Decision(
        Action.HANDOFF, say, reason=reason, topic=topic or state.topic, confidence=confidence
    )


def _say(
    state: DialogState, decision: Decision, awaiting: Awaiting
) -> tuple[DialogState, Decision]:
    return replace(state, awaiting=awaiting, last_reply=decision.say), decision


def decide(
    state: DialogState, event: Event, settings: PolicySettings
) -> tuple[DialogState, Decision]:
    """The next state and decision after ``event``."""
    prompts = settings.prompts
    if isinstance(event, Dtmf):
        if event.digit == "0":
            return _handoff(state, Reason.DTMF_0, settings, None, 1.0)
        return state, Decision(Action.IGNORE)
    if isinstance(event, Silence):
        silences = state.silences + 1
        state = replace(state, silences=silences)
        if silences >= settings.max_silences:
            return _handoff(state, Reason.NO_INPUT, settings, None)
        return _say(state, Decision(Action.REPROMPT, prompts.reprompt), state.awaiting)
    analysis = event.analysis
    if analysis.verdict is Verdict.EMPTY:
        return decide(state, Silence(), settings)
    state = replace(state, silences=0, topic=analysis.topic or state.topic)
    kind = analysis.intent.kind
    if kind is IntentKind.PERSON:
        return _handoff(state, Reason.ASKED_FOR_PERSON, settings, analysis.topic, 1.0)
    if kind is IntentKind.CUSTOM_PHRASE:
        reason = f"{Reason.CUSTOM_PHRASE}:{analysis.intent.phrase}"
        return _handoff(state, reason, settings, analysis.topic, 1.0)
    if kind is IntentKind.REPEAT:
        return state, Decision(Action.REPEAT, state.last_reply or prompts.nothing_to_repeat)
    if kind is IntentKind.GOODBYE:
        return _say(state, Decision(Action.GOODBYE, prompts.goodbye), Awaiting.NOTHING)
    if kind is IntentKind.YES:
        if state.awaiting is Awaiting.HANDOFF_OFFER:
            return _handoff(state, Reason.ASKED_FOR_PERSON, settings, analysis.topic, 1.0)
        if state.awaiting is Awaiting.ANYTHING_ELSE:
            return _say(state, Decision(Action.PROMPT, prompts.what_else), Awaiting.NOTHING)
        return _say(state, Decision(Action.PROMPT, prompts.how_can_i_help), Awaiting.NOTHING)
    if kind is IntentKind.NO:
        if state.awaiting is Awaiting.ANYTHING_ELSE:
            return _say(state, Decision(Action.GOODBYE, prompts.goodbye), Awaiting.NOTHING)
        if state.awaiting is Awaiting.HANDOFF_OFFER:
            prompt = Decision(Action.PROMPT, "Okay. " + prompts.anything_else)
            return _say(state, prompt, Awaiting.ANYTHING_ELSE)
        return _say(state, Decision(Action.PROMPT, prompts.how_can_i_help), Awaiting.NOTHING)
    if analysis.verdict is Verdict.CONFIDENT and analysis.answer is not None:
        offer = analysis.entry is not None and analysis.entry.offer_handoff
        text = analysis.answer if offer else f"{analysis.answer} {prompts.anything_else}"
        awaiting = Awaiting.HANDOFF_OFFER if offer else Awaiting.ANYTHING_ELSE
        answer = Decision(
            Action.ANSWER, text, entry_id=analysis.entry_id, confidence=analysis.confidence
        )
        return _say(state, answer, awaiting)
    failed = state.failed_turns + 1
    state = replace(state, failed_turns=failed, unanswered=(*state.unanswered, analysis.text))
    reason = Reason.NO_MATCH if analysis.verdict is Verdict.NO_MATCH else Reason.LOW_CONFIDENCE
    if failed >= settings.max_failed_turns:
        new, decision = _handoff(state, reason, settings, analysis.topic, analysis.confidence)
        return new, replace(decision, gap=True, entry_id=analysis.entry_id)
    text = prompts.rephrase if failed == 1 else prompts.rephrase_again
    rephrase = Decision(
        Action.REPHRASE,
        text,
        reason=str(reason),
        entry_id=analysis.entry_id,
        confidence=analysis.confidence,
        gap=True,
    )
    return _say(state, rephrase, Awaiting.NOTHING)
