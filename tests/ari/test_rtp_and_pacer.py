"""RTP packet encoding and the loop-deadline pacer."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ari_app.media.pacer import FramePacer
from ari_app.media.rtp import RtpError, RtpPacket, decode


@given(
    pt=st.integers(0, 127),
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=400),
    marker=st.booleans(),
)
def test_rtp_round_trip(
    pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool
) -> None:
    packet = RtpPacket(pt, seq, ts, ssrc, payload, marker)
    assert decode(packet.encode()) == packet


def test_rtp_skips_csrc_extension_and_padding() -> None:
    header = bytes([0x80 | 0x20 | 0x10 | 2, 118, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3])
    csrcs = bytes(8)
    extension = bytes([0xBE, 0xDE, 0, 1]) + bytes(4)
    packet = header + csrcs + extension + b"\x01\x02\x03\x04" + bytes([0, 0, 3])
    decoded = decode(packet)
    assert decoded.payload == b"\x01\x02\x03\x04"
    assert decoded.payload_type == 118


@pytest.mark.parametrize(
    "junk", [b"", b"\x80", bytes(12), b"\x40" + bytes(20), b"\x90\x00" + bytes(10)]
)
def test_rtp_rejects_garbage(junk: bytes) -> None:
    with pytest.raises(RtpError):
        decode(junk)


async def test_pacer_sends_frames_by_deadline_and_pads_the_last() -> None:
    loop = asyncio.get_running_loop()
    sent: list[tuple[float, bytes]] = []
    pacer = FramePacer(lambda f: sent.append((loop.time(), f)), 4, frame_s=0.01, pad=b"\xff")
    start = loop.time()
    pacer.push(b"\x01" * 4 * 9 + b"\x02\x02")
    await pacer.wait_idle()
    assert len(sent) == 10
    assert sent[-1][1] == b"\x02\x02\xff\xff"
    # Frame n goes out no earlier than its deadline (never faster than real time).
    for n, (at, _) in enumerate(sent):
        assert at - start >= n * 0.01 - 0.001
    await pacer.close()


async def test_pacer_flush_stops_within_one_frame() -> None:
    sent: list[bytes] = []
    third = asyncio.Event()

    def send(frame: bytes) -> None:
        sent.append(frame)
        if len(sent) == 3:
            third.set()

    pacer = FramePacer(send, 2, frame_s=0.01)
    pacer.push(bytes(2 * 500))
    await third.wait()
    pacer.flush()
    await pacer.wait_idle()
    assert pacer.queued_bytes == 0
    assert len(sent) <= 4
    pacer.push(b"\x05\x05")
    await pacer.wait_idle()
    assert sent[-1] == b"\x05\x05"
    await pacer.close()
