"""Call-progress tones we play ourselves: North American ringback while agents ring."""

from __future__ import annotations

import numpy as np

from ari_app.media.frames import AudioFrame


def ringback(
    sample_rate: int, on_s: float = 2.0, off_s: float = 4.0, level: float = 0.12
) -> AudioFrame:
    """One ringback cycle: 440 + 480 Hz for ``on_s``, then silence for ``off_s``."""
    t = np.arange(int(sample_rate * on_s)) / sample_rate
    tone = level * (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t)) / 2
    silence = np.zeros(int(sample_rate * off_s))
    samples = np.concatenate([tone, silence]) * 32767
    return AudioFrame(samples.astype("<i2").tobytes(), sample_rate)
