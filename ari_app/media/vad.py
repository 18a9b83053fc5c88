"""Voice activity detection on telephone audio frames: the choice of detector, and webrtcvad.

A detector answers "is this 20 ms frame speech?"; the decision of when an utterance starts
and ends lives in :mod:`ari_app.media.endpointer`, which takes these per-frame answers and
frame durations and never reads a clock. :func:`make_vad` builds the configured detector:
Silero (the default, :mod:`ari_app.media.silero_vad`) or webrtcvad
(:class:`VoiceActivityDetector`, light but fooled by steady background noise).

A call hands detectors :class:`~ari_app.media.frames.AudioFrame` s, which must be at the
detector's rate; the offline tools may hand bare ``bytes``, taken as at that rate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final, Literal, Protocol, overload

import webrtcvad

from ari_app.media.frames import AudioFrame, pcm_of

VAD_RATES: Final = (8000, 16000, 32000, 48000)
"""Sample rates in Hertz webrtcvad accepts."""
VAD_FRAME_MS: Final = (10, 20, 30)
"""Frame durations in milliseconds webrtcvad accepts."""
VAD_KINDS: Final = ("silero", "webrtc")
VadKind = Literal["silero", "webrtc"]


class FrameVad(Protocol):
    """A per-stream voice activity detector (holds the stream's state)."""

    sample_rate: int
    """Hertz of the frames it takes (a frame at another rate raises ``ValueError``)."""
    frame_bytes: int

    def is_speech(self, frame: AudioFrame | bytes) -> bool:
        """Whether one frame is speech (blocking)."""

    async def classify(self, frames: Sequence[AudioFrame | bytes]) -> list[bool]:
        """Whether each frame is speech, without blocking the event loop."""


def make_vad(
    kind: VadKind, sample_rate: int, *, frame_ms: int = 20, aggressiveness: int = 2
) -> FrameVad:
    """The ``kind`` detector for one stream (Silero loads its shared model on first use)."""
    if kind == "silero":
        from ari_app.media.silero_vad import SileroVad  # noqa: PLC0415

        return SileroVad(sample_rate, frame_ms=frame_ms)
    if kind == "webrtc":
        return VoiceActivityDetector(sample_rate, aggressiveness=aggressiveness, frame_ms=frame_ms)
    raise ValueError(f"unknown VAD {kind!r}; known: {', '.join(VAD_KINDS)}")


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

    def is_speech(self, frame: AudioFrame | bytes) -> bool:
        """True when ``frame`` (exactly ``frame_bytes`` long, at ``sample_rate``) holds speech."""
        frame = pcm_of(frame, self.sample_rate, "the webrtc VAD")
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

    async def classify(self, frames: Sequence[AudioFrame | bytes]) -> list[bool]:
        """:meth:`is_speech` of each frame (microseconds of work: runs inline)."""
        return [self.is_speech(frame) for frame in frames]


class FrameSplitter:
    """Cuts a stream of PCM chunks of any size into whole frames of ``frame_bytes``.

    Given :class:`~ari_app.media.frames.AudioFrame` s it yields frames at their rate, and
    refuses a frame at another rate than the first (the bytes buffered would mix rates).
    """

    def __init__(self, frame_bytes: int) -> None:
        """Frames of ``frame_bytes`` bytes."""
        self.frame_bytes = frame_bytes
        self.rate: int | None = None
        """Rate of the frames pushed (set by the first :class:`AudioFrame`)."""
        self._buffer = bytearray()

    @overload
    def push(self, pcm: AudioFrame) -> Iterator[AudioFrame]: ...
    @overload
    def push(self, pcm: bytes) -> Iterator[bytes]: ...
    def push(self, pcm: AudioFrame | bytes) -> Iterator[AudioFrame] | Iterator[bytes]:
        """Add audio and yield every whole frame now available (the rest waits)."""
        if isinstance(pcm, bytes):
            return self._cut(pcm)
        if self.rate is None:
            self.rate = pcm.rate
        data = pcm.pcm_at(self.rate, "a frame splitter")
        return (AudioFrame(frame, pcm.rate) for frame in self._cut(data))

    def _cut(self, pcm: bytes) -> Iterator[bytes]:
        self._buffer.extend(pcm)
        while len(self._buffer) >= self.frame_bytes:
            frame = bytes(self._buffer[: self.frame_bytes])
            del self._buffer[: self.frame_bytes]
            yield frame
