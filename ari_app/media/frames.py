"""Audio frames that carry their format: the samples together with their rate.

Inside a call audio travels as :class:`AudioFrame` (like wyoming's ``AudioChunk``): 16-bit
little-endian PCM bytes with their sample rate, sample width and channel count. A module
that works at one rate (a transport, a voice activity detector, a recogniser) takes the
samples with :meth:`AudioFrame.pcm_at`, which refuses a frame at another rate with a clear
error; with bare ``bytes`` such a frame used to be played at the wrong speed or heard as
noise without a word. Wire formats (mu-law, big-endian slin) never leave the transports.

This module imports nothing of the application.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

WIDTHS: Final = (2,)
"""Sample widths in bytes a frame may have: the application's audio is 16-bit."""


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """PCM samples and their format: signed little-endian, interleaved when not mono."""

    pcm: bytes
    """The samples."""
    rate: int
    """Samples per second (per channel), in Hertz."""
    width: int = 2
    """Bytes per sample."""
    channels: int = 1
    """Interleaved channels."""

    def __post_init__(self) -> None:
        """Refuse a format the application cannot hold, or bytes that are not whole samples."""
        if self.rate <= 0:
            raise ValueError(f"audio frame rate must be positive, got {self.rate} Hz")
        if self.width not in WIDTHS:
            raise ValueError(f"audio frames hold 16-bit samples (width 2), got width {self.width}")
        if self.channels < 1:
            raise ValueError(f"audio frame needs at least one channel, got {self.channels}")
        if len(self.pcm) % (self.width * self.channels):
            raise ValueError(
                f"audio frame of {len(self.pcm)} bytes is not a whole number of "
                f"{self.width * self.channels}-byte samples ({self.channels} channel(s) of "
                f"{8 * self.width} bits)"
            )

    @property
    def samples(self) -> int:
        """Samples per channel."""
        return len(self.pcm) // (self.width * self.channels)

    @property
    def duration_ms(self) -> float:
        """Length in milliseconds."""
        return self.samples * 1000 / self.rate

    def pcm_at(self, rate: int, user: str) -> bytes:
        """The samples, for ``user`` that takes mono audio at ``rate`` Hz; else ``ValueError``."""
        if self.rate != rate or self.channels != 1:
            raise ValueError(
                f"{user} takes mono audio at {rate} Hz, got a frame of {self.channels} "
                f"channel(s) at {self.rate} Hz"
            )
        return self.pcm

    @classmethod
    def join(cls, frames: Iterable[AudioFrame]) -> AudioFrame:
        """One frame of ``frames`` in order; they must share one format (and be at least one)."""
        frames = list(frames)
        if not frames:
            raise ValueError("cannot join no audio frames: their format is unknown")
        first = frames[0]
        if len(frames) == 1:
            return first
        shape = (first.rate, first.width, first.channels)
        odd = next((f for f in frames if (f.rate, f.width, f.channels) != shape), None)
        if odd is not None:
            raise ValueError(
                f"cannot join audio frames of different formats: {odd.rate} Hz x "
                f"{odd.channels} after {first.rate} Hz x {first.channels}"
            )
        return cls(b"".join(f.pcm for f in frames), first.rate, first.width, first.channels)


def pcm_of(audio: AudioFrame | bytes, rate: int, user: str) -> bytes:
    """The samples of ``audio`` for ``user`` at ``rate``: a frame is checked
    (:meth:`AudioFrame.pcm_at`); bare bytes, the offline tools' form, are taken as at ``rate``."""
    return audio.pcm_at(rate, user) if isinstance(audio, AudioFrame) else audio
