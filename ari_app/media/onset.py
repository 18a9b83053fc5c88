"""Where a caller's words really began, when the VAD noticed them late.

Silero is slow to be sure of a first quiet word after digital silence: with a fresh state
it flagged "do you see children" anywhere from its first frame to 640 ms in, depending on
how the 20 ms frames fell on its 32 ms windows, and the recogniser, given the usual
pre-roll before the detected start, heard "you see children" or "see children". The sound
that leads into the detected start is the caller's too: :func:`onset_index` walks back
over it, by level above the quietest frame, so the utterance begins where the sound did.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

RISE_DB = 12.0
"""A frame this far above the quietest recent frame is sound (steady noise is not)."""
MAX_GAP_FRAMES = 15
"""Quieter frames (300 ms at 20 ms) allowed inside the sound walked back over."""
MAX_BACK_FRAMES = 50
"""How far back (1 s at 20 ms) before the detected start the onset is looked for."""


def rms_db(rms: float) -> float:
    """An RMS in 16-bit sample units as dB (0 dB at or below one unit: digital silence)."""
    return 20 * math.log10(max(rms, 1.0))


def level_db(pcm: bytes) -> float:
    """The RMS level of 16-bit little-endian PCM in dB (0 dB for digital silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    if not len(samples):
        return 0.0
    return rms_db(float(np.sqrt(np.mean(samples * samples))))


def onset_index(levels_db: Sequence[float], detected: int) -> int:
    """The first frame of the sound that runs (with short gaps) into frame ``detected``.

    ``levels_db`` are the recent frames' levels, oldest first; the result is at most
    ``detected`` and at least ``detected - MAX_BACK_FRAMES``.
    """
    if not levels_db or detected <= 0:
        return max(detected, 0)
    floor = min(levels_db)
    start = detected
    gap = 0
    for index in range(
        min(detected, len(levels_db)) - 1, max(0, detected - MAX_BACK_FRAMES) - 1, -1
    ):
        if levels_db[index] >= floor + RISE_DB:
            start, gap = index, 0
        else:
            gap += 1
            if gap > MAX_GAP_FRAMES:
                break
    return start
