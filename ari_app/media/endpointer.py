"""A pure, clock-free endpointing state machine for one listening turn.

Feed it, frame by frame, whether the VAD heard speech and how long the frame was; it says
when the caller started speaking, when they stopped (after a configurable silence), when
they spoke over our prompt (barge-in) and when they said nothing at all (no input). Time is
only the sum of the durations passed in, so tests replay audio without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class EndpointEvent(StrEnum):
    """What the endpointer noticed in a frame."""

    SPEECH_START = "speech_start"
    """The caller started speaking (``start_ms`` of speech, or ``barge_in_ms`` while playing)."""
    BARGE_IN = "barge_in"
    """Speech started while our prompt was playing: stop the prompt."""
    SPEECH_END = "speech_end"
    """The caller stopped: ``end_silence_ms`` of silence (or ``max_speech_ms`` reached)."""
    NO_INPUT = "no_input"
    """Nothing said for ``no_input_ms`` after our prompt ended."""


class EndpointState(StrEnum):
    """Where the turn is."""

    WAITING = "waiting"
    SPEAKING = "speaking"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class EndpointerSettings:
    """Durations in milliseconds, and which voice activity detector feeds the endpointer."""

    start_ms: int = 100
    """Continuous speech needed to call it the start of an utterance."""
    barge_in_ms: int = 60
    """Continuous speech needed while we are playing to call it a barge-in."""
    end_silence_ms: int = 700
    """Silence after speech that ends the utterance."""
    no_input_ms: int = 6000
    """Silence (not counting while we play) before giving up on the caller."""
    max_speech_ms: int = 20000
    """Longest utterance; it ends here even if the caller keeps talking."""
    speculate_ms: int = 200
    """Silence after speech at which recognition starts speculatively (0: never); the
    result is thrown away if the caller goes on, and is ready when the turn ends."""
    vad: Literal["silero", "webrtc"] = "silero"
    """Voice activity detector: Silero (robust to noise) or webrtcvad (lighter)."""

    def __post_init__(self) -> None:
        """Reject non-positive durations."""
        for name in ("start_ms", "barge_in_ms", "end_silence_ms", "no_input_ms", "max_speech_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"endpointer {name} must be positive, got {getattr(self, name)}")
        if self.speculate_ms < 0:
            raise ValueError(f"endpointer speculate_ms must be >= 0, got {self.speculate_ms}")


class Endpointer:
    """Turns per-frame speech decisions and durations into endpoint events (no clock)."""

    def __init__(self, settings: EndpointerSettings | None = None) -> None:
        """Start a turn in the waiting state."""
        self.settings = settings or EndpointerSettings()
        self.playing = False
        """Set True while our prompt plays: speech then is a barge-in, no-input waits."""
        self.reset()

    def reset(self) -> None:
        """Begin a new turn (keeps ``playing``)."""
        self.state = EndpointState.WAITING
        self.position_ms = 0
        """Audio time since the turn began."""
        self.speech_start_ms: int | None = None
        """Audio time where the utterance's speech began (first frame of the run)."""
        self.speech_end_ms: int | None = None
        """Audio time where the end-of-speech silence began."""
        self._run_ms = 0
        self._waited_ms = 0
        self._silence_ms = 0

    @property
    def silence_ms(self) -> int:
        """Silence so far after the caller's speech (0 unless speaking)."""
        return self._silence_ms if self.state is EndpointState.SPEAKING else 0

    def process(self, is_speech: bool, duration_ms: int) -> list[EndpointEvent]:
        """Account one frame; return the events it caused (usually none)."""
        if duration_ms <= 0:
            raise ValueError(f"frame duration must be positive, got {duration_ms}")
        start = self.position_ms
        self.position_ms += duration_ms
        if self.state is EndpointState.WAITING:
            return self._waiting(is_speech, duration_ms, start)
        if self.state is EndpointState.SPEAKING:
            return self._speaking(is_speech, duration_ms, start)
        return []

    def _waiting(self, is_speech: bool, duration_ms: int, start: int) -> list[EndpointEvent]:
        s = self.settings
        if is_speech:
            if self._run_ms == 0:
                self.speech_start_ms = start
            self._run_ms += duration_ms
        else:
            self._run_ms = 0
            self.speech_start_ms = None
        needed = s.barge_in_ms if self.playing else s.start_ms
        if self._run_ms >= needed:
            self.state = EndpointState.SPEAKING
            self._silence_ms = 0
            if self.playing:
                return [EndpointEvent.SPEECH_START, EndpointEvent.BARGE_IN]
            return [EndpointEvent.SPEECH_START]
        if not self.playing:
            self._waited_ms += duration_ms
            if self._waited_ms >= s.no_input_ms:
                self.state = EndpointState.DONE
                return [EndpointEvent.NO_INPUT]
        return []

    def _speaking(self, is_speech: bool, duration_ms: int, start: int) -> list[EndpointEvent]:
        s = self.settings
        if is_speech:
            self._silence_ms = 0
        else:
            if self._silence_ms == 0:
                self.speech_end_ms = start
            self._silence_ms += duration_ms
        began = self.speech_start_ms or 0
        if self._silence_ms >= s.end_silence_ms or self.position_ms - began >= s.max_speech_ms:
            if self._silence_ms == 0:
                self.speech_end_ms = self.position_ms
            self.state = EndpointState.DONE
            return [EndpointEvent.SPEECH_END]
        return []
