"""What a call emits as it goes: one enum-typed event per step, ``ENDED`` always last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CallEventType(StrEnum):
    """Kinds of call events."""

    STARTED = "started"
    ANSWERED = "answered"
    GREETING = "greeting"
    CALLER_SAID = "caller_said"
    AGENT_SAID = "agent_said"
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


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One thing that happened on a call; ``at_ms`` counts from the call's start."""

    type: CallEventType
    call_id: str
    at_ms: int
    data: dict[str, Any] = field(default_factory=dict)


CallEventListener = Callable[[CallEvent], None]
