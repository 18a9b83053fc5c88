"""Recorded messages played through our own media path: a WAV's samples at the call's rate.

A line's recorded greeting (``sounds/closed.wav``) is read once (in a worker thread),
mixed to mono, resampled to :data:`~ari_app.call.media_path.PCM_RATE` and kept; a call
plays it as a stream of chunks exactly like synthesised speech, so barge-in and ``#``
stop it the same way. A file that changed on disk (a new recording, then ``SIGHUP``) is
read again.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from ari_app.call.media_path import PCM_RATE
from ari_app.media.codecs import resample
from ari_app.media.frames import AudioFrame

CHUNK_MS = 100
"""Length of the chunks a recording is handed to the transport in."""


def read_recording(path: Path, rate: int = PCM_RATE) -> bytes:
    """16-bit mono PCM at ``rate`` from a 16-bit mono or stereo WAV (blocking)."""
    with wave.open(str(path), "rb") as wav:
        width, channels, source_rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit WAV; recorded messages must be 16-bit")
    samples = np.frombuffer(frames[: len(frames) // (2 * channels) * 2 * channels], dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return resample(samples.tobytes(), source_rate, rate)


class Recordings:
    """Recorded messages by path, decoded once per file version."""

    def __init__(self, rate: int = PCM_RATE) -> None:
        self.rate = rate
        self._cache: dict[Path, tuple[int, int, bytes]] = {}

    async def pcm(self, path: Path) -> bytes:
        """The recording's samples at :attr:`rate` (read in a thread when new or changed)."""
        stat = await asyncio.to_thread(path.stat)
        cached = self._cache.get(path)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        pcm = await asyncio.to_thread(read_recording, path, self.rate)
        self._cache[path] = (stat.st_mtime_ns, stat.st_size, pcm)
        return pcm

    async def chunks(self, path: Path) -> AsyncIterator[AudioFrame]:
        """The recording as frames of :data:`CHUNK_MS` at :attr:`rate`, for a voice to play."""
        pcm = await self.pcm(path)
        step = self.rate * 2 * CHUNK_MS // 1000
        for start in range(0, len(pcm), step):
            yield AudioFrame(pcm[start : start + step], self.rate)
