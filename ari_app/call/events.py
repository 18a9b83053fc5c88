"""What a call emits as it goes: one frozen dataclass per kind, ``Ended`` always last.

The event stream is a call's only way out: the session emits, and everything else (the
call recorder that writes the store, the metrics, the voicemail service, the demo's
transcript, the benchmark) listens. Each event carries ``call_id`` and ``at_ms`` (from the
call's start) plus the typed fields of its kind; ``type`` names the kind as a
:class:`CallEventType`, so listeners can filter without ``isinstance`` when they prefer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class CallEventType(StrEnum):
    """Kinds of call events."""

    STARTED = "started"
    ANSWERED = "answered"
    GREETING = "greeting"
    CALLER_SAID = "caller_said"
    AGENT_SAID = "agent_said"
    KNOWLEDGE_GAP = "knowledge_gap"
    BARGE_IN = "barge_in"
    DTMF = "dtmf"
    SILENCE = "silence"
    HANDOFF = "handoff"
    RINGING = "ringing"
    AGENT_ANSWERED = "agent_answered"
    WHISPER = "whisper"
    BRIDGED = "bridged"
    VOICEMAIL = "voicemail"
    VOICEMAIL_RECORDED = "voicemail_recorded"
    ERROR = "error"
    ENDED = "ended"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent:
    """Base of every call event: which call, and when (ms from the call's start)."""

    type: ClassVar[CallEventType]
    call_id: str
    at_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Started(CallEvent):
    """The call entered our application (``resumed``: taken back after a restart)."""

    type: ClassVar[CallEventType] = CallEventType.STARTED
    line: str
    caller: str
    did: str
    resumed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered(CallEvent):
    """The caller is answered and their audio reaches us."""

    type: ClassVar[CallEventType] = CallEventType.ANSWERED


@dataclass(frozen=True, slots=True, kw_only=True)
class Greeting(CallEvent):
    """The AI agent greeted the caller; ``latency_ms`` from answer to first audio."""

    type: ClassVar[CallEventType] = CallEventType.GREETING
    text: str
    latency_ms: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerSaid(CallEvent):
    """The caller's turn, as recognised."""

    type: ClassVar[CallEventType] = CallEventType.CALLER_SAID
    text: str
    confidence: float
    recognised_ms: int | None = None
    """From the end of the caller's speech to the final text (the end-of-turn window
    included)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSaid(CallEvent):
    """The AI agent's reply; ``latency_ms`` from the end of the caller's speech."""

    type: ClassVar[CallEventType] = CallEventType.AGENT_SAID
    text: str
    action: str
    confidence: float
    latency_ms: int | None
    interrupted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeGap(CallEvent):
    """A question the knowledge base could not answer."""

    type: ClassVar[CallEventType] = CallEventType.KNOWLEDGE_GAP
    question: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BargeIn(CallEvent):
    """The caller talked over ``text``; we stopped speaking."""

    type: ClassVar[CallEventType] = CallEventType.BARGE_IN
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Dtmf(CallEvent):
    """The caller pressed a key."""

    type: ClassVar[CallEventType] = CallEventType.DTMF
    digit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Silence(CallEvent):
    """The caller said nothing for a whole turn."""

    type: ClassVar[CallEventType] = CallEventType.SILENCE


@dataclass(frozen=True, slots=True, kw_only=True)
class Handoff(CallEvent):
    """The call goes to people (or voicemail) and why."""

    type: ClassVar[CallEventType] = CallEventType.HANDOFF
    reason: str
    topic: str | None
    open: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Ringing(CallEvent):
    """A ring step started: its target and the members rung (endpoint and user)."""

    type: ClassVar[CallEventType] = CallEventType.RINGING
    target: str
    members: tuple[str, ...]
    agents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentAnswered(CallEvent):
    """A person picked up; ``channel`` is their leg."""

    type: ClassVar[CallEventType] = CallEventType.AGENT_ANSWERED
    agent: str
    endpoint: str
    channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Whisper(CallEvent):
    """What the agent hears before being connected."""

    type: ClassVar[CallEventType] = CallEventType.WHISPER
    agent: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Bridged(CallEvent):
    """The caller and the agent are talking."""

    type: ClassVar[CallEventType] = CallEventType.BRIDGED
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicemailStarted(CallEvent):
    """The voicemail greeting starts."""

    type: ClassVar[CallEventType] = CallEventType.VOICEMAIL
    after_hours: bool
    greeting: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicemailRecorded(CallEvent):
    """Asterisk finished recording a message (it is still only on Asterisk)."""

    type: ClassVar[CallEventType] = CallEventType.VOICEMAIL_RECORDED
    name: str
    duration_s: float | None
    line: str
    caller: str
    asterisk_id: str = ""
    """The Asterisk holding the recording (the ``asterisk_id`` of its events), if known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallError(CallEvent):
    """The call failed: what went wrong, and at which stage."""

    type: ClassVar[CallEventType] = CallEventType.ERROR
    error: str
    stage: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Ended(CallEvent):
    """The call is over; always the last event of a call."""

    type: ClassVar[CallEventType] = CallEventType.ENDED
    outcome: str
    reason: str | None
    agent: str | None
    error: str | None = None


CallEventListener = Callable[[CallEvent], None]
"""Called with every event of every call, on the event loop; must not block."""
