"""externalMedia over chan_websocket (transport=websocket, connection_type=server).

As on Asterisk 22 (../shared/ari-captures/s1_faq_websocket_slin16.jsonl): the channel is
answered ``Down``; it comes up and enters Stasis only once the app connected its media
WebSocket; slin16 travels little-endian (host order) both ways.
"""

from __future__ import annotations

import asyncio

import aiohttp
import numpy as np

from ari_app.ari.client import AriClient
from ari_app.ari.events import ChannelDestroyed, Dial, StasisStart
from ari_app.ari.listener import EventListener
from ari_app.media.frames import AudioFrame
from ari_app.media.ws_transport import WebSocketMediaTransport, media_url, parse_control
from ari_app.testing.audio import tone
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk


def _dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / 16000)[int(np.argmax(spectrum))])


def test_parse_control_plain_and_json() -> None:
    name, fields = parse_control("MEDIA_START connection_id:abc channel:WebSocket/x format:ulaw")
    assert name == "MEDIA_START"
    assert fields["format"] == "ulaw"
    name, fields = parse_control('{"event": "MEDIA_XOFF", "channel_id": "1.2"}')
    assert (name, fields["channel_id"]) == ("MEDIA_XOFF", "1.2")
    assert media_url("http://h:8088/ari", "c1") == "ws://h:8088/media/c1"


async def test_websocket_media_both_ways_flush_and_hangup(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    call = await fake.place_call()
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)
    media = await client.external_media(
        "slin16", transport="websocket", encapsulation="none", connection_type="server"
    )
    connection_id = media.channelvars["MEDIA_WEBSOCKET_CONNECTION_ID"]
    assert media.state == "Down"
    await log.wait_for(Dial, peer__id=media.id, dialstatus="")
    assert not any(isinstance(e, StasisStart) and e.channel.id == media.id for e in log.events)
    transport = await WebSocketMediaTransport.connect(
        media_url(client.base_url, connection_id), client.session, headers=client.auth_headers
    )
    assert transport.media_start["connection_id"] == connection_id
    assert transport.optimal_frame_size == 640
    start = await log.wait_for(StasisStart, channel__id=media.id)
    assert start.channel.state == "Up"
    assert log.types(media.id) == ["Dial", "ChannelStateChange", "Dial", "StasisStart"]
    bridge = await client.create_bridge("mixing")
    await client.add_channel(bridge.id, [call.channel_id, media.id])

    await call.send_audio(tone(440, 800))
    received = bytearray()
    async with asyncio.timeout(5):
        while len(received) < 16000:  # 0.5 s of loud audio
            frame = (await transport.frames.get()).pcm_at(16000, "this test")
            if np.abs(np.frombuffer(frame, dtype="<i2")).max() > 3000:
                received += frame
    assert abs(_dominant_hz(bytes(received)) - 440) < 15

    await transport.send(AudioFrame(tone(660, 600), 16000))
    await transport.wait_sent()
    await call.wait_heard_speech(ms=400, level=1000, within=5)

    await transport.send(AudioFrame(tone(660, 5000), 16000))
    leg = fake.ws_media[connection_id]
    await fake.wait_until(lambda: len(leg.channel.inbound) > 16000, 5)
    transport.flush()
    await fake.wait_until(lambda: "FLUSH_MEDIA" in leg.commands, 5)
    assert len(leg.channel.inbound) <= 640 * 2

    await transport.close()
    destroyed = await log.wait_for(ChannelDestroyed, channel__id=media.id)
    assert destroyed.cause == 16
    await client.destroy_bridge(bridge.id)
    await call.hangup()
    assert fake.ws_media == {}


async def test_websocket_slin16_is_little_endian_both_ways(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    """Raw frames on the media socket: what Asterisk sends and takes is little-endian."""
    _, log = events
    call = await fake.place_call()
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)
    media = await client.external_media(
        "slin16", transport="websocket", encapsulation="none", connection_type="server"
    )
    url = media_url(client.base_url, media.channelvars["MEDIA_WEBSOCKET_CONNECTION_ID"])
    async with client.session.ws_connect(url, headers=client.auth_headers) as ws:
        assert (await ws.receive_str()).startswith("MEDIA_START")
        await log.wait_for(StasisStart, channel__id=media.id)
        bridge = await client.create_bridge("mixing")
        await client.add_channel(bridge.id, [call.channel_id, media.id])
        await call.send_audio(tone(440, 600))
        loud = bytearray()
        async with asyncio.timeout(5):
            while len(loud) < 640 * 10:
                message = await ws.receive()
                if message.type is aiohttp.WSMsgType.BINARY:
                    samples = np.frombuffer(message.data, dtype="<i2")
                    if np.abs(samples).max() > 3000:
                        loud += message.data
        assert abs(_dominant_hz(bytes(loud)) - 440) < 15  # read as little-endian: clean
        spoken = tone(660, 600)
        for i in range(0, len(spoken), 640):
            await ws.send_bytes(spoken[i : i + 640])  # little-endian, as chan_websocket takes
        await call.wait_heard_speech(ms=300, level=1000, within=5)
        heard = call.heard()
        frames = [heard[i : i + 640] for i in range(0, len(heard) - 639, 640)]
        tone_frames = b"".join(
            f for f in frames if np.abs(np.frombuffer(f, dtype="<i2")).max() > 3000
        )
        assert abs(_dominant_hz(tone_frames) - 660) < 15
    await client.destroy_bridge(bridge.id)
    await call.hangup()
