"""Telephone-like degradations for evaluation: seeded pink noise at an SNR, G.711 mu-law.

Used by ``bench/speech_default.py`` and the speech tests to make the same noisy copies of
recordings on every run.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from ari_app.media.codecs import resample, ulaw_decode, ulaw_encode

_FRAME_MS: Final = 20


def pink_noise(count: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Unit-RMS pink (1/f power) noise."""
    spectrum = np.fft.rfft(rng.standard_normal(count))
    freqs = np.fft.rfftfreq(count)
    freqs[0] = freqs[1]
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), count)
    result: npt.NDArray[np.float64] = noise / np.sqrt(np.mean(noise**2))
    return result


def speech_rms(samples: npt.NDArray[np.float64], rate: int) -> float:
    """RMS over the 20 ms frames within 30 dB of the loudest (the active speech)."""
    step = rate * _FRAME_MS // 1000
    frames = samples[: len(samples) // step * step].reshape(-1, step)
    power = np.mean(frames**2, axis=1)
    active = power[power > power.max() / 1000]
    return float(np.sqrt(np.mean(active)))


def mulaw(pcm: bytes) -> bytes:
    """PCM after a round trip through G.711 mu-law."""
    return ulaw_decode(ulaw_encode(pcm))


def noisy(
    pcm: bytes, rate: int, rng: np.random.Generator, *, snr_db: float = 10.0, speech: bool = True
) -> bytes:
    """``pcm`` with pink noise ``snr_db`` below its speech, then through mu-law.

    With ``speech=False`` only the noise is returned (same level, same length).
    """
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    level = speech_rms(samples, rate) / 10 ** (snr_db / 20)
    mixed = (samples if speech else 0.0) + level * pink_noise(len(samples), rng)
    return mulaw(np.clip(mixed, -32768, 32767).astype("<i2").tobytes())


def telephone(pcm16k: bytes) -> bytes:
    """16 kHz PCM as it reaches us from a G.711 call: 8 kHz, mu-law coded."""
    return mulaw(resample(pcm16k, 16000, 8000))
