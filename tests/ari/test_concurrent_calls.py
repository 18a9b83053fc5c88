"""Several calls at once stay separate; a call that fails does not spoil the next ones;
the event stream can be consumed as an async iterator; snoop copies a channel's audio."""

from __future__ import annotations

import asyncio

import numpy as np

from ari_app.ari.client import AriClient
from ari_app.ari.events import AriEvent, StasisEnd, StasisStart
from ari_app.ari.listener import EventListener
from ari_app.media.codecs import ULAW
from ari_app.media.frames import AudioFrame
from ari_app.media.rtp_transport import RtpTransport
from ari_app.testing.audio import tone
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk

RATE = 16000


def _dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


def _loud(pcm: bytes) -> bytes:
    frames = [pcm[i : i + 640] for i in range(0, len(pcm) - 639, 640)]
    return b"".join(
        f for f in frames if np.abs(np.frombuffer(f, dtype="<i2")).astype(np.int32).max() > 3000
    )


async def _media_for(
    client: AriClient, log: EventLog, channel_id: str
) -> tuple[RtpTransport, str, str]:
    """A μ-law RTP media leg bridged with ``channel_id`` (μ-law: an externalMedia channel
    takes only static payload types from the app), added once it is in Stasis."""
    rtp = await RtpTransport.open(ULAW, pcm_rate=RATE)
    host, port = rtp.local_address
    media = await client.external_media("ulaw", external_host=f"{host}:{port}")
    await log.wait_for(StasisStart, channel__id=media.id)
    rtp.set_remote(
        media.channelvars["UNICASTRTP_LOCAL_ADDRESS"],
        int(media.channelvars["UNICASTRTP_LOCAL_PORT"]),
    )
    bridge = await client.create_bridge("mixing")
    await client.add_channel(bridge.id, [channel_id, media.id])
    return rtp, media.id, bridge.id


async def test_three_calls_each_hear_only_their_own_app(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    freqs = [400, 600, 800]
    calls = []
    for n in range(3):
        call = await fake.place_call(did=f"10{n}")
        await log.wait_for(StasisStart, channel__id=call.channel_id)
        await client.answer(call.channel_id)
        calls.append(call)
    legs = [await _media_for(client, log, c.channel_id) for c in calls]

    # The first call fails mid-way: its caller hangs up, the app tears it down.
    await calls[0].hangup()
    await log.wait_for(StasisEnd, channel__id=calls[0].channel_id)
    rtp0, media0, bridge0 = legs[0]
    await client.hangup(media0)
    await client.destroy_bridge(bridge0)
    await rtp0.close()

    for (rtp, _, _), freq in zip(legs[1:], freqs[1:], strict=True):
        await rtp.send(AudioFrame(tone(freq, 600), RATE))
    for call in calls[1:]:
        await call.wait_heard_speech(ms=400, level=1000, within=10)
    for call, freq in zip(calls[1:], freqs[1:], strict=True):
        assert abs(_dominant_hz(_loud(call.heard())) - freq) < 15

    # A fourth call after the failure works like the first ones.
    late = await fake.place_call(did="104")
    await log.wait_for(StasisStart, channel__id=late.channel_id)
    await client.answer(late.channel_id)
    rtp3, media3, bridge3 = await _media_for(client, log, late.channel_id)
    await rtp3.send(AudioFrame(tone(1000, 400), RATE))
    await late.wait_heard_speech(ms=300, level=1000, within=10)
    assert abs(_dominant_hz(_loud(late.heard())) - 1000) < 15

    for call in (*calls[1:], late):
        await call.hangup()
    for rtp, media_id, bridge_id in (*legs[1:], (rtp3, media3, bridge3)):
        await client.hangup(media_id)
        await client.destroy_bridge(bridge_id)
        await rtp.close()
    assert await client.list_channels() == []
    assert await client.list_bridges() == []


async def test_events_as_async_iterator(fake: FakeAsterisk, client: AriClient) -> None:
    listener = EventListener(client)
    await listener.start()
    try:
        async with asyncio.timeout(5):
            await listener.connected.wait()
        call = await fake.place_call(did="300")
        await client.answer(call.channel_id)
        await call.hangup()
        seen: list[AriEvent] = []
        async with asyncio.timeout(5):
            async for event in listener:
                seen.append(event)
                if isinstance(event, StasisEnd):
                    break
        assert [e.type for e in seen] == [
            "StasisStart",
            "ChannelStateChange",
            "ChannelHangupRequest",
            "StasisEnd",
        ]
    finally:
        await listener.stop()


async def test_snoop_spy_gives_the_app_the_callers_voice(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    call = await fake.place_call()
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)
    spy = await client.snoop(call.channel_id, spy="in")
    start = await log.wait_for(StasisStart, channel__id=spy.id)
    assert start.channel.name.startswith("Snoop/")
    rtp, media_id, bridge_id = await _media_for(client, log, spy.id)
    await call.send_audio(tone(450, 800))
    received = bytearray()
    async with asyncio.timeout(5):
        while len(received) < 640 * 20:
            received += _loud((await rtp.frames.get()).pcm)
    assert abs(_dominant_hz(bytes(received)) - 450) < 15
    await call.hangup()
    await client.hangup(spy.id)
    await client.hangup(media_id)
    await client.destroy_bridge(bridge_id)
    await rtp.close()
