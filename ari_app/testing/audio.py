"""Audio helpers of the fake Asterisk: sound files, tones, WAV files, levels."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from ari_app.media.codecs import resample
from ari_app.testing.model import RATE


def tone(freq_hz: float, ms: int, level: float = 0.3, rate: int = RATE) -> bytes:
    """A sine tone as 16-bit PCM at ``rate``."""
    n = rate * ms // 1000
    t = np.arange(n) / rate
    samples = (np.sin(2 * np.pi * freq_hz * t) * level * 32767).astype("<i2")
    return samples.tobytes()


DTMF_FREQS: dict[str, tuple[int, int]] = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip


def read_wav(data: bytes, rate: int = RATE) -> bytes:
    """Decode a 16-bit mono/stereo WAV to mono PCM at ``rate``; ``ValueError`` if unusable."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            width, channels, src_rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a usable WAV file: {exc}") from None
    if width != 2:
        raise ValueError(f"WAV sample width {width} bytes; only 16-bit is supported")
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return resample(samples.tobytes(), src_rate, rate)


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """A mono 16-bit WAV file holding ``pcm``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()


def write_wav(path: Path, pcm: bytes, rate: int, *, append: bool = False) -> None:
    """Write (or append to) a WAV file; blocking, call it in a thread."""
    if append and path.exists():
        pcm = read_wav(path.read_bytes(), rate) + pcm
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(wav_bytes(pcm, rate))
    tmp.replace(path)


def rms(pcm: bytes) -> float:
    """Root mean square level of 16-bit PCM (0 for empty)."""
    if len(pcm) < 2:
        return 0.0
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples)))


def mix(frames: list[bytes]) -> bytes:
    """Sum 16-bit frames of equal length with clipping."""
    if not frames:
        return b""
    if len(frames) == 1:  # one other party in a two-party bridge: nothing to add
        return frames[0]
    total = np.zeros(len(frames[0]) // 2, dtype=np.int32)
    for frame in frames:
        total += np.frombuffer(frame, dtype="<i2")
    return np.clip(total, -32768, 32767).astype("<i2").tobytes()
