"""What the store holds: calls, turns, events, voicemails, as plain dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ari_app.outcomes import Outcome

__all__ = [
    "CallRecord",
    "Event",
    "Notification",
    "Outcome",
    "Turn",
    "VoicemailRecord",
    "VoicemailState",
    "iso",
    "to_datetime",
    "to_epoch",
]


class VoicemailState(StrEnum):
    """Where a voicemail job is: each step is committed before the next starts."""

    PENDING = "pending"
    """Job row written; the recording is still only on Asterisk."""
    STORED = "stored"
    """Audio written to our disk and verified."""
    SAVED = "saved"
    """Transcript (or its failure) recorded; Asterisk's copy may now be deleted."""
    DONE = "done"
    """Asterisk's copy deleted."""
    FAILED = "failed"
    """Gave up; ``error`` says why; Asterisk's copy is left in place."""
    EMPTY = "empty"
    """Finished, but nobody spoke: the audio is kept, nobody is notified."""


def to_datetime(epoch: float | None) -> datetime | None:
    """A UTC datetime from epoch seconds (None stays None)."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def to_epoch(moment: datetime | None) -> float:
    """Epoch seconds of an aware datetime (now if None)."""
    if moment is None:
        return datetime.now(UTC).timestamp()
    if moment.tzinfo is None:
        raise ValueError(f"datetime {moment.isoformat()} has no time zone")
    return moment.timestamp()


def iso(epoch: float | None) -> str | None:
    """ISO 8601 UTC text of epoch seconds, to the second."""
    moment = to_datetime(epoch)
    return None if moment is None else moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Turn:
    """One utterance in a call."""

    id: int
    call_id: str
    speaker: str
    """``caller`` or ``assistant`` (or ``agent`` for a whisper)."""
    text: str
    confidence: float | None
    start_ms: int | None
    """Start of the utterance, milliseconds from the call's start."""
    end_ms: int | None
    latency_ms: int | None
    """From the end of the caller's speech to the start of this reply, milliseconds."""
    at: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["at"] = iso(self.at)
        return data


@dataclass(frozen=True)
class Event:
    """Something that happened in a call (handoff, ring, DTMF, error...)."""

    id: int
    call_id: str
    kind: str
    data: dict[str, Any]
    at: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        result = asdict(self)
        result["at"] = iso(self.at)
        return result


@dataclass(frozen=True)
class CallRecord:
    """One call; ``outcome`` is None while the call is live."""

    id: str
    line: str
    caller: str | None
    did: str | None
    started_at: float
    ended_at: float | None
    outcome: str | None
    handoff_reason: str | None
    agent: str | None
    updated_at: float | None = None
    turns: tuple[Turn, ...] = field(default=())
    events: tuple[Event, ...] = field(default=())

    @property
    def live(self) -> bool:
        """True while the call has no outcome."""
        return self.outcome is None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end (None while live)."""
        return None if self.ended_at is None else self.ended_at - self.started_at

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, with turns and events when loaded."""
        return {
            "id": self.id,
            "line": self.line,
            "caller": self.caller,
            "did": self.did,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "outcome": self.outcome,
            "handoff_reason": self.handoff_reason,
            "agent": self.agent,
            "turns": [t.to_json() for t in self.turns],
            "events": [e.to_json() for e in self.events],
        }


@dataclass(frozen=True)
class VoicemailRecord:
    """A voicemail and the state of its job."""

    id: int
    recording_name: str
    call_id: str | None
    line: str | None
    caller: str | None
    recorded_at: float
    expected_duration_s: float | None
    state: str
    path: str | None
    size_bytes: int | None
    duration_s: float | None
    sample_rate: int | None
    transcript: str | None
    transcript_error: str | None
    error: str | None
    attempts: int
    created_at: float
    updated_at: float
    asterisk_id: str | None = None
    """The Asterisk holding the recording (its ``asterisk_id``; outbound mode), or for one
    adopted from an Asterisk of ``ari.outbound.asterisks`` its key there; None: ``ari.url``."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        for key in ("recorded_at", "created_at", "updated_at"):
            data[key] = iso(data[key])
        return data


@dataclass(frozen=True)
class Notification:
    """A notification owed for a voicemail on one channel (webhook, email)."""

    id: int
    voicemail_id: int
    channel: str
    state: str
    """``pending``, ``sent`` or ``failed``."""
    attempts: int
    last_error: str | None
