"""What the fake puts on the wire is what Asterisk puts there: RTP v2, payload type 118 with
big-endian 16 kHz samples for slin16, PT 0 with 160-byte mu-law frames for ulaw, 20 ms
apart in sequence and timestamp; and what it takes: only static payload types (PT 118 from
the app is dropped, as Asterisk 22 drops it). Checked with a bare UDP socket, not our own
decoder."""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct

import numpy as np
import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.events import StasisStart
from ari_app.ari.listener import EventListener
from ari_app.media.codecs import ulaw_decode, ulaw_encode
from ari_app.testing.audio import tone
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def _energy_near(samples: np.ndarray, rate: int, hz: float) -> float:
    power = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(power[np.abs(freqs - hz) < 30].sum() / power.sum())


@pytest.mark.parametrize(
    ("fmt", "pt", "size", "rate"), [("slin16", 118, 640, 16000), ("ulaw", 0, 160, 8000)]
)
async def test_wire_format_of_external_media(
    fake: FakeAsterisk,
    client: AriClient,
    events: tuple[EventListener, EventLog],
    fmt: str,
    pt: int,
    size: int,
    rate: int,
) -> None:
    _, log = events
    start = asyncio.get_running_loop().time()

    async def paced(n: int) -> None:
        """A phone sends a packet every 20 ms (Asterisk's mixer drops audio sent in bursts)."""
        nonlocal start
        if n == 0:
            start = asyncio.get_running_loop().time()
        await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - asyncio.get_running_loop().time()))

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        call = await fake.place_call()
        await log.wait_for(StasisStart, channel__id=call.channel_id)
        await client.answer(call.channel_id)
        port = sock.getsockname()[1]
        media = await client.external_media(fmt, external_host=f"127.0.0.1:{port}")
        asterisk = (
            media.channelvars["UNICASTRTP_LOCAL_ADDRESS"],
            int(media.channelvars["UNICASTRTP_LOCAL_PORT"]),
        )
        await log.wait_for(StasisStart, channel__id=media.id)
        bridge = await client.create_bridge()
        await client.add_channel(bridge.id, [call.channel_id, media.id])
        await call.send_audio(tone(440, 600))

        packets: list[bytes] = []
        async with asyncio.timeout(5):
            while len(packets) < 25:
                packets.append(await loop.sock_recv(sock, 2048))
        headers = [struct.unpack("!BBHII", p[:12]) for p in packets]
        assert all(h[0] == 0x80 for h in headers)  # version 2, no padding/extension/CSRC
        assert all(h[1] & 0x7F == pt for h in headers)
        assert all(len(p) == 12 + size for p in packets)
        for first, second in itertools.pairwise(headers):
            assert (second[2] - first[2]) & 0xFFFF == 1
            assert (second[3] - first[3]) & 0xFFFFFFFF == rate // 50
        assert len({h[4] for h in headers}) == 1  # one SSRC
        payload = b"".join(p[12:] for p in packets[-15:])
        if fmt == "slin16":
            big = np.frombuffer(payload, dtype=">i2")
            assert abs(_dominant_hz(big, rate) - 440) < 15
            little = np.frombuffer(payload, dtype="<i2")
            assert _energy_near(big, rate, 440) > 0.9
            assert _energy_near(little, rate, 440) < 0.5  # the other byte order is noise
        else:
            pcm = np.frombuffer(ulaw_decode(payload), dtype="<i2")
            assert abs(_dominant_hz(pcm, rate) - 440) < 15

        # Hand-built packets into Asterisk's port: with the channel's own payload type they
        # reach the caller only if it is static (ulaw 0); slin16's 118 is dropped unheard.
        samples = np.frombuffer(tone(620, 600, rate=rate), dtype="<i2")
        wire = (
            samples.astype(">i2").tobytes() if fmt == "slin16" else ulaw_encode(samples.tobytes())
        )
        leg = fake.rtp_legs[media.id]
        for n in range(len(wire) // size):
            header = struct.pack("!BBHII", 0x80, pt, n, n * rate // 50, 1234)
            await loop.sock_sendto(sock, header + wire[n * size : (n + 1) * size], asterisk)
            await paced(n)
        if fmt == "slin16":
            await fake.wait_until(lambda: leg.dropped == 30, 5)
            assert leg.received == 0
            # Static μ-law (PT 0) into the slin16 channel is taken and transcoded.
            ulaw = ulaw_encode(np.frombuffer(tone(620, 600, rate=8000), dtype="<i2").tobytes())
            for n in range(len(ulaw) // 160):
                header = struct.pack("!BBHII", 0x80, 0, 100 + n, n * 160, 1234)
                await loop.sock_sendto(sock, header + ulaw[n * 160 : (n + 1) * 160], asterisk)
                await paced(n)
        await call.wait_heard_speech(ms=300, level=1000, within=5)
        # The last packets may still be on their way once 300 ms are heard.
        await fake.wait_until(lambda: leg.received == 30, 5)
        heard = np.frombuffer(call.heard(16000), dtype="<i2")
        loud = heard[np.abs(heard) > 0]
        assert abs(_dominant_hz(loud, 16000) - 620) < 20
        await call.hangup()
        await client.hangup(media.id)
        await client.destroy_bridge(bridge.id)
    finally:
        sock.close()
