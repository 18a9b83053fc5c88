"""Hostile datagrams at the RTP endpoint over real loopback sockets (issue 14 #4, #16).

On 84284e2 ``strict_source`` was off and compared the IP only, so valid RTP from another
port of Asterisk's host was fed to recognition as the caller's speech; garbage and foreign
packets were counted only in per-call stats, never on ``/metrics``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ari_app import counters
from ari_app.media.codecs import ULAW
from ari_app.media.rtp import RtpPacket
from ari_app.media.rtp_transport import RtpTransport


def _tone_packet(seq: int, level: int = 0x10) -> bytes:
    return RtpPacket(ULAW.rtp_payload_type, seq, seq * 160, 1234, bytes([level]) * 160).encode()


class Watched(RtpTransport):
    """The real endpoint, telling the test when it has handled ``n`` datagrams."""

    handled = 0
    _changed: asyncio.Event | None = None

    def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        super()._on_datagram(data, addr)
        self.handled += 1
        if self._changed is not None:
            self._changed.set()

    async def wait_handled(self, n: int) -> None:
        """Wait until ``n`` datagrams in all were handled."""
        self._changed = asyncio.Event()
        async with asyncio.timeout(5):
            while self.handled < n:
                self._changed.clear()
                await self._changed.wait()


class Peers:
    """Asterisk's socket (the locked remote) and an impostor's on the same host."""

    def __init__(self, rtp: Watched) -> None:
        self.rtp = rtp
        self.asterisk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.asterisk.bind(("127.0.0.1", 0))
        self.impostor = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.impostor.bind(("127.0.0.1", 0))
        rtp.set_remote("127.0.0.1", self.asterisk.getsockname()[1])

    async def send(self, sock: socket.socket, datagrams: list[bytes]) -> None:
        before = self.rtp.handled
        for data in datagrams:
            sock.sendto(data, self.rtp.local_address)
        await self.rtp.wait_handled(before + len(datagrams))

    def close(self) -> None:
        self.asterisk.close()
        self.impostor.close()


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    rtp = await Watched.open(ULAW, "127.0.0.1", 0, pcm_rate=8000)
    assert isinstance(rtp, Watched)
    p = Peers(rtp)
    yield p
    p.close()
    await rtp.close()


async def test_valid_rtp_from_another_port_of_asterisks_host_is_dropped(peers: Peers) -> None:
    """Fault #4: spoken words sent as valid RTP from another source port became the caller."""
    before = counters.RTP_FOREIGN_PACKETS.value()
    await peers.send(peers.impostor, [_tone_packet(i, 0x20) for i in range(10)])
    assert peers.rtp.frames.empty()
    assert peers.rtp.stats.wrong_source == 10
    assert counters.RTP_FOREIGN_PACKETS.value() == before + 10
    await peers.send(peers.asterisk, [_tone_packet(100)])
    assert peers.rtp.frames.qsize() == 1


async def test_nothing_is_accepted_before_asterisks_address_is_known() -> None:
    """Fault #4: the first packet from anyone used to become the remote."""
    rtp = await Watched.open(ULAW, "127.0.0.1", 0, pcm_rate=8000)
    assert isinstance(rtp, Watched)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(_tone_packet(1), rtp.local_address)
            await rtp.wait_handled(1)
        assert rtp.remote is None
        assert rtp.frames.empty()
    finally:
        await rtp.close()


async def test_malformed_rtp_from_asterisk_is_counted_as_dropped(peers: Peers) -> None:
    """Fault #16: garbage RTP never reached ``ari_app_dropped_packets_total``."""
    before = counters.RTP_DROPPED_PACKETS.value(reason="malformed")
    await peers.send(peers.asterisk, [b"", b"\x00" * 11, b"\x80\x00" + b"\x00" * 9 + b"\xff"])
    assert counters.RTP_DROPPED_PACKETS.value(reason="malformed") == before + 3
    assert peers.rtp.frames.empty()


datagrams = st.lists(
    st.one_of(
        st.binary(max_size=300),
        # Mutations of a valid packet: same header, random bytes spliced in.
        st.tuples(st.integers(0, 171), st.binary(min_size=1, max_size=40)).map(
            lambda t: _tone_packet(7)[: t[0]] + t[1] + _tone_packet(7)[t[0] :]
        ),
        st.tuples(st.integers(0, 255), st.binary(max_size=20)).map(
            lambda t: bytes([0x80 | (t[0] & 0x3F), t[0]]) + b"\x00" * 10 + t[1]
        ),
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=datagrams, from_asterisk=st.booleans())
def test_random_datagrams_never_break_the_endpoint(batch: list[bytes], from_asterisk: bool) -> None:
    """Fuzz (#4, #16): random and mutated datagrams; afterwards genuine audio still flows."""

    async def run() -> None:
        rtp = await Watched.open(ULAW, "127.0.0.1", 0, pcm_rate=8000)
        assert isinstance(rtp, Watched)
        p = Peers(rtp)
        try:
            await p.send(p.asterisk if from_asterisk else p.impostor, batch)
            if not from_asterisk:
                assert rtp.frames.empty()
            while not rtp.frames.empty():
                rtp.frames.get_nowait()
            await p.send(p.asterisk, [_tone_packet(1000, 0x00)])
            pcm = np.frombuffer(rtp.frames.get_nowait().pcm_at(8000, "this test"), dtype="<i2")
            assert len(pcm) == 160
            assert int(np.abs(pcm).min()) > 8000  # ulaw 0x00 is a loud sample
        finally:
            p.close()
            await rtp.close()

    asyncio.run(run())
