"""The Synthesizer protocol: text in, 16-bit mono PCM at 8 or 16 kHz out, sentence by sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from ari_app.errors import AriAppError, Stage
from ari_app.media.frames import AudioFrame

TTS_RATES: Final = (8000, 16000)
"""Output sample rates in Hertz a synthesizer produces."""


class TtsError(AriAppError):
    """Speech synthesis failed (unknown voice, engine error, bad settings)."""

    stage = Stage.TTS


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    """How to speak: the engine's voice, speed and the output sample rate."""

    voice: str = "en-us"
    """espeak-ng voice name (``en-us``, ``en-gb-x-rp``) or identifier (``gmw/en-us``)."""
    rate_wpm: int = 165
    """Speaking rate in words per minute."""
    sample_rate: int = 8000
    """Output sample rate in Hertz: 8000 or 16000."""

    def __post_init__(self) -> None:
        """Reject impossible settings with a clear message."""
        if self.sample_rate not in TTS_RATES:
            raise TtsError(f"TTS sample rate must be 8000 or 16000 Hz, got {self.sample_rate}")
        if not 80 <= self.rate_wpm <= 450:
            raise TtsError(f"TTS rate must be 80..450 words per minute, got {self.rate_wpm}")


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Synthesised audio of one sentence."""

    text: str
    """The sentence spoken."""
    pcm: bytes
    """16-bit little-endian mono PCM."""
    sample_rate: int
    """Hertz."""

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self.pcm) / 2 / self.sample_rate

    @property
    def frame(self) -> AudioFrame:
        """The audio with its rate, as a call plays it."""
        return AudioFrame(self.pcm, self.sample_rate)


@runtime_checkable
class Synthesizer(Protocol):
    """Turns text into telephone-rate PCM without blocking the event loop."""

    settings: VoiceSettings

    async def synthesize(self, text: str) -> bytes:
        """All of ``text`` as one block of PCM at ``settings.sample_rate``."""

    def stream(self, text: str) -> AsyncIterator[AudioChunk]:
        """``text`` sentence by sentence; the first chunk comes before the rest are made."""
