"""What the load benchmark measures on the wire: our RTP pacing (arrival times against
timestamps, per talk spurt) and how fast our audio stops when the caller barges in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ari_app.media.pacer import FramePacer
from ari_app.media.rtp import RtpError
from ari_app.media.rtp import decode as decode_rtp
from ari_app.testing.fake_asterisk import SILENCE_RMS
from ari_app.testing.media import RtpLeg
from ari_app.testing.model import FRAME_BYTES

FRAME_MS = 20


SPURT_GAP_S = 0.2
"""Our RTP timestamps run on through pauses; a packet 200 ms later than its timestamp says
starts a new talk spurt (the speaker paused between utterances)."""


QUIET_RUN_FRAMES = 30
"""600 ms of quiet after the caller's onset mark the end of our (stopped) speech."""


ONSET_RMS = 30.0
"""The caller's speech starts at the first frame above this level (espeak pads with zeros)."""


@dataclass(slots=True)
class _Spurt:
    first_arrival: float
    first_ts: int
    last_ts: int
    last_arrival: float
    counted: bool
    """Began while the probe was recording."""
    drifts_ms: list[float] = field(default_factory=list)


class PacingProbe:
    """Arrival times of our RTP packets at the fake's sockets, against their timestamps."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        """``clock``: seconds, read at each packet's arrival."""
        self.clock = clock
        self.wrapped: set[int] = set()
        self.drifts_ms: list[float] = []
        """|arrival offset - timestamp offset| of every packet, within its talk spurt."""
        self.spurt_end_drifts_ms: list[float] = []
        self.spurt_lengths_s: list[float] = []
        self.recording = True
        """Talk spurts that begin while this is False are not counted."""
        self._legs_spurts: list[tuple[list[_Spurt], int]] = []

    def attach(self, leg: RtpLeg) -> None:
        """Start timing the packets ``leg`` receives."""
        if id(leg) in self.wrapped:
            return
        self.wrapped.add(id(leg))
        inner = leg.on_datagram
        rate = leg.fmt.sample_rate
        spurt: list[_Spurt] = []

        def timed(data: bytes) -> None:
            now = self.clock()
            try:
                packet = decode_rtp(data)
            except RtpError:
                inner(data)
                return
            current = spurt[0] if spurt else None
            pause = 0.0
            if current is not None:
                sent_gap = ((packet.timestamp - current.last_ts) & 0xFFFFFFFF) / rate
                pause = now - current.last_arrival - sent_gap
            if current is None or packet.marker or pause > SPURT_GAP_S:
                if current is not None:
                    self._close(current, rate)
                current = _Spurt(now, packet.timestamp, packet.timestamp, now, self.recording)
                spurt[:] = [current]
            current.last_ts = packet.timestamp
            current.last_arrival = now
            expected = ((packet.timestamp - current.first_ts) & 0xFFFFFFFF) / rate
            drift = (now - current.first_arrival - expected) * 1000
            current.drifts_ms.append(drift)
            inner(data)

        leg.on_datagram = timed  # type: ignore[method-assign]
        self._legs_spurts.append((spurt, rate))

    def _close(self, spurt: _Spurt, rate: int) -> None:
        if len(spurt.drifts_ms) < 2 or not spurt.counted:
            return
        self.drifts_ms.extend(abs(d) for d in spurt.drifts_ms)
        self.spurt_end_drifts_ms.append(abs(spurt.drifts_ms[-1]))
        self.spurt_lengths_s.append(((spurt.last_ts - spurt.first_ts) & 0xFFFFFFFF) / rate)

    def finish(self) -> None:
        """Close every open talk spurt (counted if it began while recording)."""
        for spurts, rate in self._legs_spurts:
            if spurts:
                self._close(spurts[0], rate)
                spurts.clear()


async def long_spurt_drift(seconds: float) -> list[float]:
    """Push ``seconds`` of audio through a :class:`FramePacer` (one long talk spurt, as a long
    answer would be) while the load runs; the send times' drift from the 20 ms grid, in ms,
    frame by frame."""
    loop = asyncio.get_running_loop()
    times: list[float] = []
    pacer = FramePacer(lambda frame: times.append(loop.time()), 640, name="bench-drift")
    try:
        pacer.push(bytes(640 * int(seconds * 50)))
        await pacer.wait_idle()
    finally:
        await pacer.close()
    return [(at - times[0] - n * 0.02) * 1000 for n, at in enumerate(times)]


def _sounding_frames(pcm: bytes) -> npt.NDArray[np.intp]:
    """Indices of the whole 20 ms frames of ``pcm`` (16 kHz) that are not near-digital
    silence."""
    frames = len(pcm) // FRAME_BYTES
    samples = np.frombuffer(pcm[: frames * FRAME_BYTES], dtype="<i2").astype(np.float64)
    rms = np.sqrt(np.mean(samples.reshape(frames, FRAME_BYTES // 2) ** 2, axis=1))
    return np.flatnonzero(rms > ONSET_RMS)


def onset_frame(pcm: bytes) -> int:
    """Index of the first 20 ms frame of ``pcm`` (16 kHz) that is not near-digital silence."""
    sounding = _sounding_frames(pcm)
    return int(sounding[0]) if len(sounding) else 0


def end_frame(pcm: bytes) -> int:
    """Index just after the last 20 ms frame of ``pcm`` (16 kHz) that is not near-digital
    silence: where the caller's words end, trailing sounds included (0 for silence)."""
    sounding = _sounding_frames(pcm)
    return int(sounding[-1]) + 1 if len(sounding) else 0


def reply_onset_ms(levels: Sequence[float], end: int) -> int | None:
    """Milliseconds from frame ``end`` to the first frame heard that is not near-digital
    silence (``levels``: RMS per 20 ms frame heard), or None if none is heard yet."""
    for index in range(end, len(levels)):
        if levels[index] > ONSET_RMS:
            return (index - end) * FRAME_MS
    return None


def barge_stop_ms(levels: list[float], onset: int) -> int | None:
    """Milliseconds from frame ``onset`` to the end of the last loud frame before a quiet run."""
    quiet = 0
    for index in range(onset, len(levels)):
        if levels[index] > SILENCE_RMS:
            quiet = 0
            continue
        quiet += 1
        if quiet >= QUIET_RUN_FRAMES:
            first_quiet = index - QUIET_RUN_FRAMES + 1
            return max(0, first_quiet - onset) * FRAME_MS
    return None
