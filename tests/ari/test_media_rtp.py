"""Audio over real RTP on loopback: caller <-> mixing bridge <-> externalMedia.

As on Asterisk 22 (../shared/ari-captures/s1_faq*.jsonl): the caller's audio reaches the
app in the channel's format (slin16 with payload type 118); from the app, an externalMedia
channel takes only static payload types, so μ-law is heard and slin16 (118) is dropped.
"""

from __future__ import annotations

import asyncio
import socket
from functools import partial

import numpy as np
import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.events import ChannelDestroyed, StasisEnd, StasisStart
from ari_app.ari.listener import EventListener
from ari_app.media.codecs import SLIN16, ULAW, WireFormat
from ari_app.media.frames import AudioFrame
from ari_app.media.rtp_transport import RtpTransport
from ari_app.testing.audio import tone
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.testing.media import RtpLeg

RATE = 16000


def dominant_hz(pcm: bytes, rate: int = RATE) -> float:
    """The strongest frequency in ``pcm``."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def level(pcm: bytes) -> float:
    """RMS level of 16-bit PCM."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0


async def collect(transport: RtpTransport, ms: int, min_level: float) -> bytes:
    """Read received frames until ``ms`` of audio louder than ``min_level`` arrived."""
    loud = bytearray()
    async with asyncio.timeout(10):
        while len(loud) < RATE * 2 * ms // 1000:
            frame = (await transport.frames.get()).pcm_at(RATE, "this test")
            if level(frame) > min_level:
                loud += frame
    return bytes(loud)


def raw_types(fake: FakeAsterisk, channel_id: str) -> list[str]:
    """Types of the events the fake sent about ``channel_id`` (also those the client skips)."""
    return [
        e["type"]
        for e in fake.event_log
        if (e.get("channel") or e.get("peer") or {}).get("id") == channel_id
    ]


async def start_call_with_media(
    fake: FakeAsterisk, client: AriClient, log: EventLog, fmt: WireFormat
) -> tuple[str, str, str, RtpTransport]:
    call = await fake.place_call(did="100", caller_number="+15550111")
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)
    rtp = await RtpTransport.open(fmt, "127.0.0.1", 0, pcm_rate=RATE)
    host, port = rtp.local_address
    media = await client.external_media(fmt.name, external_host=f"{host}:{port}")
    assert media.name.startswith("UnicastRTP/")
    address = media.channelvars["UNICASTRTP_LOCAL_ADDRESS"]
    remote_port = int(media.channelvars["UNICASTRTP_LOCAL_PORT"])
    assert await client.get_variable(media.id, "UNICASTRTP_LOCAL_PORT") == str(remote_port)
    rtp.set_remote(address, remote_port)
    await log.wait_for(StasisStart, channel__id=media.id)
    bridge = await client.create_bridge("mixing")
    await client.add_channel(bridge.id, [call.channel_id, media.id])
    return call.channel_id, media.id, bridge.id, rtp


@pytest.mark.parametrize("fmt", [SLIN16, ULAW], ids=lambda f: f.name)
async def test_audio_both_ways_and_full_teardown(
    fake: FakeAsterisk,
    client: AriClient,
    events: tuple[EventListener, EventLog],
    fmt: WireFormat,
) -> None:
    _, log = events
    tasks_before = asyncio.all_tasks()
    caller_id, media_id, bridge_id, rtp = await start_call_with_media(fake, client, log, fmt)
    call = fake.call(caller_id)

    # The caller speaks (440 Hz); the app receives it over RTP through the bridge.
    await call.send_audio(tone(440, 1000), RATE)
    heard_by_app = await collect(rtp, 400, 1000)
    assert abs(dominant_hz(heard_by_app) - 440) < 15

    # The app speaks (660 Hz), paced at real time: μ-law is heard, slin16 (PT 118) dropped.
    await rtp.send(AudioFrame(tone(660, 1000), RATE))
    await rtp.wait_sent()
    assert rtp.stats.sent == 50
    assert rtp.stats.garbage == 0
    leg = fake.rtp_legs[media_id]
    if fmt is ULAW:
        await call.wait_heard_speech(ms=400, level=1000, within=10)
        heard = call.heard(RATE)
        loud = b"".join(
            heard[i : i + 640]
            for i in range(0, len(heard), 640)
            if level(heard[i : i + 640]) > 1000
        )
        assert abs(dominant_hz(loud) - 660) < 15
    else:
        await fake.wait_until(lambda: leg.dropped == 50, 5)
        assert leg.received == 0
        assert max(call.channel.heard_levels) < 100

    # The caller hangs up; the app tears its side down like a CallSession would.
    await call.hangup()
    await log.wait_for(StasisEnd, channel__id=caller_id)
    await client.hangup(media_id)
    await client.destroy_bridge(bridge_id)
    await rtp.close()
    await log.wait_for(ChannelDestroyed, channel__id=media_id)
    assert log.types(caller_id) == [
        "StasisStart",
        "ChannelStateChange",
        "ChannelEnteredBridge",
        "ChannelHangupRequest",
        "ChannelLeftBridge",
        "StasisEnd",
    ]
    assert raw_types(fake, media_id) == [
        "Dial",
        "ChannelStateChange",
        "Dial",
        "StasisStart",
        "ChannelEnteredBridge",
        "ChannelConnectedLine",
        "ChannelHangupRequest",
        "ChannelLeftBridge",
        "StasisEnd",
        "ChannelDestroyed",
    ]
    assert await client.list_channels() == []
    assert await client.list_bridges() == []
    assert fake.channels == {}
    assert fake.bridges == {}
    assert fake.rtp_legs[media_id].transport is None
    await fake.wait_until(lambda: not fake._tasks, 2)
    # Only the fake's HTTP keep-alive handlers for the client's pooled connections remain.
    leftover = {
        t.get_coro().__qualname__  # type: ignore[union-attr]
        for t in asyncio.all_tasks() - tasks_before
        if not t.done() and t is not asyncio.current_task()
    }
    assert leftover <= {"RequestHandler.start"}


async def test_garbage_udp_is_counted_and_ignored(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    caller_id, _media_id, _bridge_id, rtp = await start_call_with_media(fake, client, log, SLIN16)
    leg = next(iter(fake.rtp_legs.values()))
    assert leg.transport is not None
    fake_rtp_address = leg.transport.get_extra_info("sockname")[:2]
    rng = np.random.default_rng(7)
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _batch in range(20):
            for _ in range(50):
                junk = bytes(rng.integers(0, 256, int(rng.integers(0, 200)), dtype=np.uint8))
                if junk:
                    junk = bytes([junk[0] & 0x3F]) + junk[1:]  # never RTP version 2
                sock.sendto(junk, rtp.local_address)
                sock.sendto(junk, fake_rtp_address)
            sent += 50
            # Let both endpoints drain their socket buffers before the next batch.
            await fake.wait_until(partial(_both_counted, rtp, leg, sent), 5)
    assert rtp.stats.wrong_source == 1000  # strict source: junk from another port never decoded
    assert leg.garbage == 1000

    call = fake.call(caller_id)
    await call.send_audio(tone(500, 600), RATE)
    heard_by_app = await collect(rtp, 300, 1000)
    assert abs(dominant_hz(heard_by_app) - 500) < 15
    await call.hangup()
    await rtp.close()


def _both_counted(rtp: RtpTransport, leg: RtpLeg, n: int) -> bool:
    return rtp.stats.wrong_source >= n and leg.garbage >= n


async def test_barge_in_stops_sending_within_one_frame(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    caller_id, _media_id, _bridge_id, rtp = await start_call_with_media(fake, client, log, SLIN16)
    await rtp.send(AudioFrame(tone(700, 3000), RATE))
    await fake.wait_until(lambda: rtp.stats.sent >= 10, 5)
    rtp.flush()
    sent_at_flush = rtp.stats.sent
    assert rtp.queued_bytes == 0
    ticks = fake.ticks
    await fake.wait_until(lambda: fake.ticks >= ticks + 10, 5)
    assert rtp.stats.sent - sent_at_flush <= 1
    await fake.call(caller_id).hangup()
    await rtp.close()


async def test_media_alone_in_its_bridge_gets_no_rtp(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    """Asterisk sends to the app only while the bridge has audio for it (a peer or a
    playback): with the caller taken out (as for a voicemail recording) nothing is sent."""
    _, log = events
    caller_id, media_id, bridge_id, rtp = await start_call_with_media(fake, client, log, ULAW)
    leg = fake.rtp_legs[media_id]
    await fake.wait_until(lambda: leg.sent >= 5, 5)
    await client.remove_channel(bridge_id, caller_id)
    sent, ticks = leg.sent, fake.ticks
    await fake.wait_until(lambda: fake.ticks >= ticks + 10, 5)
    assert leg.sent <= sent + 1  # at most the frame of the tick in progress
    await client.add_channel(bridge_id, caller_id)
    await fake.wait_until(lambda: leg.sent >= sent + 5, 5)
    await fake.call(caller_id).hangup()
    await rtp.close()
