"""Reading WAV files for recognition: any sample width, channel count and rate in."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ari_app.asr.base import AsrError
from ari_app.media.codecs import resample


def read_wav(path: Path) -> tuple[bytes, int]:
    """The file's audio as 16-bit little-endian mono PCM (channels averaged) and its rate."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AsrError(f"cannot read {path} as a PCM WAV file: {exc}") from exc
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.int32)
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        samples = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8) >> 16
    elif width == 4:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.int64) >> 16
    else:
        raise AsrError(f"{path}: unsupported sample width of {width} bytes")
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return pcm, rate


def read_wav_at(path: Path, sample_rate: int) -> bytes:
    """The file's audio as 16-bit mono PCM resampled to ``sample_rate`` Hertz."""
    pcm, rate = read_wav(path)
    return resample(pcm, rate, sample_rate)


def write_wav(path: Path, pcm: bytes, sample_rate: int) -> None:
    """Write 16-bit little-endian mono PCM as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
