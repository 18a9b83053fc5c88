"""The streaming recognition protocol shared by every engine, and its result types.

An engine (:class:`RecognizerEngine`) holds the loaded model, once per process. Each call
opens its own :class:`RecognizerStream`, feeds it 20 ms frames of 16-bit little-endian mono
PCM, reads partial results as they change and a final result at the end of the utterance.
Streams are synchronous and not thread-safe; :mod:`ari_app.asr.streaming` runs them off the
event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ari_app.errors import AriAppError, Stage


class AsrError(AriAppError):
    """Speech recognition failed (model missing, bad audio, engine error)."""

    stage = Stage.ASR


@dataclass(frozen=True, slots=True)
class WordTiming:
    """One recognised word with its place in the utterance."""

    word: str
    start_s: float
    """Seconds from the start of the utterance's audio."""
    end_s: float
    """Seconds from the start of the utterance's audio."""
    confidence: float
    """0.0 (a guess) to 1.0 (certain)."""


@dataclass(frozen=True, slots=True)
class Recognition:
    """A recognition result: partial while the caller speaks, final at the end."""

    text: str
    """Lower-case words separated by single spaces; empty when nothing was recognised."""
    is_final: bool
    confidence: float
    """0.0 to 1.0; an engine that cannot tell reports 1.0 for non-empty text."""
    audio_s: float
    """Seconds of audio fed to the stream when this result was produced."""
    words: tuple[WordTiming, ...] = field(default=())
    """Per-word timing and confidence when the engine gives them (final results)."""


@runtime_checkable
class RecognizerStream(Protocol):
    """One utterance-at-a-time recognition stream for one call (synchronous, one thread)."""

    @property
    def sample_rate(self) -> int:
        """Sample rate in Hertz of the PCM this stream accepts."""

    def accept(self, pcm: bytes) -> Recognition | None:
        """Feed PCM (normally one 20 ms frame); return a partial result when it changed."""

    def finish(self) -> Recognition:
        """End the utterance and return its final result; the stream is ready for the next."""

    def close(self) -> None:
        """Release the stream's engine resources; the stream is unusable afterwards."""


@runtime_checkable
class RecognizerEngine(Protocol):
    """A loaded recognition model that opens streams for calls."""

    name: str

    def open_stream(self, sample_rate: int) -> RecognizerStream:
        """Open a stream that accepts PCM at ``sample_rate`` Hertz (8000 or 16000)."""


@runtime_checkable
class BandAwareEngine(Protocol):
    """An engine that must know whether callers are telephone-band (pocketsphinx does:
    it fills the empty band of 8 kHz audio); others need not say."""

    detect_band: bool
    """Whether 16 kHz streams find out for themselves when told nothing."""

    def open_stream(self, sample_rate: int, *, narrowband: bool | None = None) -> RecognizerStream:
        """A stream for ``sample_rate`` audio; ``narrowband`` None: decide by rate (or detect)."""
