"""Writing audio files atomically (temp file, fsync, rename, fsync the directory), checking them."""

from __future__ import annotations

import os
import re
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ari_app.voicemail.errors import RecordingInvalid

DURATION_TOLERANCE_S = 1.5
"""How far the file's duration may be from the duration Asterisk reported (whole seconds)."""


def safe_name(name: str) -> str:
    """A file-name-safe form of a recording name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned[:120] or "recording"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class WavInfo:
    """What a verified WAV file holds."""

    size_bytes: int
    duration_s: float
    sample_rate: int
    channels: int
    sample_width: int


def verify_wav(path: Path, expected_size: int, expected_duration_s: float | None = None) -> WavInfo:
    """Check the file on disk: size, a parseable PCM WAV header, data length, duration."""
    size = path.stat().st_size
    if size != expected_size:
        raise RecordingInvalid(f"{path}: {size} bytes on disk, {expected_size} fetched")
    try:
        with wave.open(str(path), "rb") as wav:
            frames = wav.getnframes()
            rate = wav.getframerate()
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            data = wav.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise RecordingInvalid(f"{path}: not a PCM WAV file ({exc})") from exc
    if rate <= 0 or frames <= 0:
        raise RecordingInvalid(f"{path}: empty recording ({frames} frames at {rate} Hz)")
    if len(data) != frames * channels * width:
        raise RecordingInvalid(
            f"{path}: header promises {frames} frames, file holds "
            f"{len(data) // max(1, channels * width)}"
        )
    duration = frames / rate
    if expected_duration_s is not None and abs(duration - expected_duration_s) > (
        DURATION_TOLERANCE_S
    ):
        raise RecordingInvalid(
            f"{path}: {duration:.2f} s of audio, Asterisk reported {expected_duration_s:.0f} s"
        )
    return WavInfo(size, duration, rate, channels, width)


SPEECH_RMS = 400.0
"""A 20 ms frame louder than this (16-bit RMS) may be speech; line noise stays well below."""
SPEECH_MIN_MS = 200
"""How much loud audio a message needs to count as someone speaking."""


def has_speech(path: Path) -> bool:
    """True when a 16-bit PCM WAV file holds at least ``SPEECH_MIN_MS`` of loud audio."""
    with wave.open(str(path), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        data = wav.readframes(wav.getnframes())
    if width != 2 or rate <= 0:
        return True  # not what we can measure: let people listen to it
    samples = np.frombuffer(data, dtype="<i2").astype(np.float64)[::channels]
    frame = rate // 50
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    if not len(frames):
        return False
    loud = np.sqrt((frames * frames).mean(axis=1)) > SPEECH_RMS
    return int(loud.sum()) * 20 >= SPEECH_MIN_MS
