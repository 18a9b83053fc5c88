"""Voice activity detection on telephone audio frames with webrtcvad.

:class:`VoiceActivityDetector` answers "is this 10/20/30 ms frame speech?"; the decision
of when an utterance starts and ends lives in :mod:`ari_app.media.endpointer`, which takes
these per-frame answers and frame durations and never reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import webrtcvad

VAD_RATES: Final = (8000, 16000, 32000, 48000)
"""Sample rates in Hertz webrtcvad accepts."""
VAD_FRAME_MS: Final = (10, 20, 30)
"""Frame durations in milliseconds webrtcvad accepts."""


class VoiceActivityDetector:
    """Classifies frames of 16-bit little-endian mono PCM as speech or not (webrtcvad)."""

    def __init__(
        self,
        sample_rate: int,
        *,
        aggressiveness: int = 2,
        frame_ms: int = 20,
        warmup_ms: int = 100,
    ) -> None:
        """Check the settings: rate in :data:`VAD_RATES`, ``frame_ms`` in :data:`VAD_FRAME_MS`.

        ``aggressiveness`` 0 (keeps most audio as speech) to 3 (strictest). webrtcvad calls
        the first ~80 ms of any signal speech while its noise model settles, so the first
        ``warmup_ms`` of audio are reported as non-speech (they still train the model).
        """
        if sample_rate not in VAD_RATES:
            raise ValueError(f"VAD sample rate must be one of {VAD_RATES}, got {sample_rate}")
        if frame_ms not in VAD_FRAME_MS:
            raise ValueError(f"VAD frames must be 10, 20 or 30 ms, got {frame_ms}")
        if not 0 <= aggressiveness <= 3:
            raise ValueError(f"VAD aggressiveness must be 0..3, got {aggressiveness}")
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.frame_bytes = sample_rate * frame_ms // 1000 * 2
        self._vad = webrtcvad.Vad(aggressiveness)
        self._warmup_frames = -(-warmup_ms // frame_ms)

    def is_speech(self, frame: bytes) -> bool:
        """True when ``frame`` (exactly ``frame_bytes`` long) holds speech."""
        if len(frame) != self.frame_bytes:
            raise ValueError(
                f"VAD frame must be {self.frame_bytes} bytes ({self.frame_ms} ms at "
                f"{self.sample_rate} Hz), got {len(frame)}"
            )
        speech = bool(self._vad.is_speech(frame, self.sample_rate))
        if self._warmup_frames > 0:
            self._warmup_frames -= 1
            return False
        return speech


class FrameSplitter:
    """Cuts a stream of PCM chunks of any size into whole frames of ``frame_bytes``."""

    def __init__(self, frame_bytes: int) -> None:
        """Frames of ``frame_bytes`` bytes."""
        self.frame_bytes = frame_bytes
        self._buffer = bytearray()

    def push(self, pcm: bytes) -> Iterator[bytes]:
        """Add PCM and yield every whole frame now available (the rest waits)."""
        self._buffer.extend(pcm)
        while len(self._buffer) >= self.frame_bytes:
            frame = bytes(self._buffer[: self.frame_bytes])
            del self._buffer[: self.frame_bytes]
            yield frame
