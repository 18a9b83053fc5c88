"""Transcribing a whole voicemail WAV with a streaming recognizer, off the event loop.

With Whisper (the default) the stream decodes the whole message at the end, cut at its
quiet moments into pieces that fit Whisper's 10 s window, so long messages are complete.
"""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Protocol

from ari_app.voicemail.errors import RecordingInvalid


class Transcriber(Protocol):
    """Turns a WAV file's bytes into text."""

    async def __call__(self, wav: bytes) -> str:
        """The words heard in the recording ('' if none)."""


class _Result(Protocol):
    @property
    def text(self) -> str: ...


class _Stream(Protocol):
    def accept(self, pcm: bytes) -> object: ...
    def finish(self) -> _Result: ...
    def close(self) -> None: ...


class _Engine(Protocol):
    def open_stream(self, sample_rate: int) -> _Stream: ...


FRAME_MS = 20


class EngineTranscriber:
    """A transcriber over a loaded recognizer engine (``ari_app.asr``), run in a thread."""

    def __init__(self, engine: _Engine) -> None:
        self._engine = engine

    async def __call__(self, wav: bytes) -> str:
        """Feed the recording in 20 ms frames and return the final text."""
        return await asyncio.to_thread(self._transcribe, wav)

    def _transcribe(self, wav: bytes) -> str:
        try:
            with wave.open(io.BytesIO(wav), "rb") as reader:
                if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
                    raise RecordingInvalid("voicemail audio must be 16-bit mono PCM")
                rate = reader.getframerate()
                pcm = reader.readframes(reader.getnframes())
        except wave.Error as exc:
            raise RecordingInvalid(f"voicemail audio is not a WAV file: {exc}") from exc
        stream = self._engine.open_stream(rate)
        try:
            step = rate * FRAME_MS // 1000 * 2
            for offset in range(0, len(pcm), step):
                stream.accept(pcm[offset : offset + step])
            return stream.finish().text
        finally:
            stream.close()
