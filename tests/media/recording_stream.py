"""A recognition stream that keeps what it was fed: what reached the recogniser, exactly."""

from __future__ import annotations

from ari_app.asr.base import Recognition


class RecordingStream:
    """Stands in for an engine's stream at 16 kHz; ``finish`` says ``text``."""

    sample_rate = 16000

    def __init__(self, text: str = "") -> None:
        self.fed: list[bytes] = []
        self.text = text

    def accept(self, pcm: bytes) -> Recognition | None:
        self.fed.append(pcm)
        return None

    def finish(self) -> Recognition:
        return Recognition(self.text, True, 1.0, 0.0)

    def close(self) -> None:
        pass
