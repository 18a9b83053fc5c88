"""The benchmark's own arithmetic: barge-in stop time from heard levels, pacing drift."""

from __future__ import annotations

import numpy as np
import pytest

from ari_app.bench.probes import (
    QUIET_RUN_FRAMES,
    PacingProbe,
    barge_stop_ms,
    end_frame,
    onset_frame,
    reply_onset_ms,
)
from ari_app.bench.stats import percentile
from ari_app.media.codecs import wire_format
from ari_app.media.rtp import RtpPacket
from ari_app.testing.media import RtpLeg
from ari_app.testing.model import ChannelKind, FakeChannel, LoudCount


def test_barge_stop_is_onset_to_end_of_last_loud_frame() -> None:
    """Loud until 4 frames after the onset, then quiet: 80 ms."""
    levels = [1000.0] * 14 + [0.0] * (QUIET_RUN_FRAMES + 5)
    assert barge_stop_ms(levels, onset=10) == 80


def test_barge_stop_ignores_short_pauses_in_our_speech() -> None:
    """A 200 ms pause between words is not the stop; the quiet run after it is."""
    levels = [1000.0] * 12 + [0.0] * 10 + [1000.0] * 3 + [0.0] * QUIET_RUN_FRAMES
    assert barge_stop_ms(levels, onset=10) == (25 - 10) * 20


def test_barge_stop_unknown_while_we_keep_talking() -> None:
    """No quiet run at all: no figure."""
    assert barge_stop_ms([1000.0] * 100, onset=10) is None


def test_onset_and_end_frames_bound_the_sound_however_soft() -> None:
    frame = 320  # 20 ms at 16 kHz
    loud = np.full(frame, 3000, dtype="<i2").tobytes()
    soft = np.full(frame, 60, dtype="<i2").tobytes()  # a trailing "s", not silence
    silent = bytes(2 * frame)
    assert end_frame(silent + loud + soft + silent * 3) == 3
    assert onset_frame(silent * 2 + soft + loud + silent) == 2
    assert end_frame(silent * 2) == 0
    assert onset_frame(silent * 2) == 0


def test_reply_onset_counts_frames_from_the_end_of_the_words() -> None:
    levels = [900.0, 0.0, 0.0, 5.0, 0.0, 1200.0, 800.0]  # the caller's own frames, then ours
    assert reply_onset_ms(levels, 1) == 80  # frame 5; a level of 5 is line silence
    assert reply_onset_ms(levels[:5], 1) is None


def test_percentile_interpolates_and_handles_empty() -> None:
    """numpy's linear percentile; None for no values."""
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([], 95) is None


def test_pacing_probe_measures_arrival_against_rtp_timestamps() -> None:
    """Ten packets 20 ms apart by timestamp arriving at once: the last is 180 ms early.
    The probe hands every packet on to the leg, which feeds the channel."""
    fmt = wire_format("ulaw")  # a static payload type: what Asterisk accepts over RTP
    channel = FakeChannel("media-1", "UnicastRTP/127.0.0.1:40000", ChannelKind.UNICAST_RTP)
    leg = RtpLeg(channel, fmt, ("127.0.0.1", 9))
    probe = PacingProbe(clock=lambda: 1000.0)  # every packet arrives at the same moment
    probe.attach(leg)
    payload = bytes(fmt.frame_bytes(20))
    for n in range(10):  # enough for the fake's resampler to pass audio on
        leg.on_datagram(RtpPacket(fmt.rtp_payload_type, n, n * 160, 1, payload).encode())
    probe.finish()
    assert leg.received == 10
    assert len(channel.inbound) > 0
    assert probe.spurt_lengths_s == [9 * 160 / fmt.sample_rate]
    assert max(probe.drifts_ms) == pytest.approx(180)


def test_pacing_probe_counts_only_spurts_that_begin_while_recording() -> None:
    """The benchmark measures while every caller is in a call: a talk spurt of the warm-up
    or of the callers' last calls must not count."""
    fmt = wire_format("ulaw")
    channel = FakeChannel("media-1", "UnicastRTP/127.0.0.1:40000", ChannelKind.UNICAST_RTP)
    leg = RtpLeg(channel, fmt, ("127.0.0.1", 9))
    probe = PacingProbe(clock=lambda: 1000.0)
    probe.attach(leg)
    payload = bytes(fmt.frame_bytes(20))

    def spurt(first: int, frames: int) -> None:
        for n in range(first, first + frames):
            marker = n == first  # a new talk spurt
            packet = RtpPacket(fmt.rtp_payload_type, n, n * 160, 1, payload, marker=marker)
            leg.on_datagram(packet.encode())

    probe.recording = False
    spurt(0, 5)  # the warm-up's
    probe.recording = True
    spurt(5, 4)  # ends the warm-up's spurt, which is not counted
    spurt(9, 3)
    probe.finish()  # the end of the measured window: the spurt under way counts
    probe.recording = False
    spurt(12, 6)
    probe.finish()
    assert probe.spurt_lengths_s == [3 * 160 / fmt.sample_rate, 2 * 160 / fmt.sample_rate]


def test_loud_count_counts_each_new_frame_once_and_restarts_after_a_clear() -> None:
    channel = FakeChannel(id="c", name="PJSIP/100-1", kind=ChannelKind.CALLER)
    count = LoudCount(channel, 100.0)
    loud, quiet = b"\x10\x27" * 320, bytes(640)  # 10000 and 0 in 16-bit little-endian
    for frame in (loud, quiet, loud):
        channel.hear(frame, send=False)
    assert count() == 2
    assert count() == 2  # nothing new
    channel.hear(loud, send=False)
    assert count() == 3
    channel.heard_levels.clear()
    channel.hear(quiet, send=False)
    channel.hear(loud, send=False)
    assert count() == 1
