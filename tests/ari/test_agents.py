"""Agent endpoints: originate and create+dial, answer / no answer / busy / offline, with
the Dial, state and device-state events Asterisk 22 emits (as in ../shared/ari-captures:
no ChannelCreated; a phone that rings out gives only ChannelDestroyed 19/480); agents in a
bridge hear the caller."""

from __future__ import annotations

import numpy as np

from ari_app.ari.client import AriClient
from ari_app.ari.events import (
    ChannelDestroyed,
    ChannelHangupRequest,
    DeviceStateChanged,
    Dial,
    EndpointStateChange,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.listener import EventListener
from ari_app.testing.audio import tone
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk


def _dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / 16000)[int(np.argmax(spectrum))])


async def test_originate_to_answering_agent_then_bridge_with_caller(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    fake.configure_endpoint("PJSIP/201", "answer", answer_delay=0.05)
    await client.subscribe(["deviceState:PJSIP/201", "endpoint:PJSIP/201"])
    call = await fake.place_call(did="100", caller_number="+15550123")
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)

    agent = await client.originate(
        "PJSIP/201", app_args="agent,x", caller_id='"Front desk" <100>', ring_timeout=10
    )
    start = await log.wait_for(StasisStart, channel__id=agent.id)
    assert start.args == ("agent", "x")
    assert start.channel.state == "Up"
    assert log.types(agent.id) == [
        "Dial",
        "ChannelStateChange",
        "Dial",
        "ChannelStateChange",
        "Dial",
        "StasisStart",
    ]
    statuses = [e.dialstatus for e in log.events if isinstance(e, Dial)]
    assert statuses == ["", "RINGING", "ANSWER"]
    devices = [e.device_state.state for e in log.events if isinstance(e, DeviceStateChanged)]
    assert devices == ["RINGING", "INUSE"]
    assert any(isinstance(e, EndpointStateChange) for e in log.events)
    assert (await client.get_device_state("PJSIP/201")).state == "INUSE"
    assert (await client.get_endpoint("PJSIP", "201")).channel_ids == (agent.id,)

    bridge = await client.create_bridge("mixing")
    await client.add_channel(bridge.id, [call.channel_id, agent.id])
    await call.send_audio(tone(523, 600))
    agent_side = fake.call(agent.id)
    await agent_side.wait_heard_speech(ms=300, level=1000, within=5)
    heard = agent_side.heard()
    assert abs(_dominant_hz(heard) - 523) < 15

    await client.hangup(agent.id)
    await log.wait_for(ChannelDestroyed, channel__id=agent.id)
    await fake.wait_until(lambda: devices_now(log)[-1:] == ["NOT_INUSE"], 5)
    await client.destroy_bridge(bridge.id)
    await call.hangup()


def devices_now(log: EventLog) -> list[str]:
    return [e.device_state.state for e in log.events if isinstance(e, DeviceStateChanged)]


async def test_no_answer_busy_and_offline(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    fake.configure_endpoint("PJSIP/202", "no_answer")
    fake.configure_endpoint("PJSIP/203", "busy")
    fake.configure_endpoint("PJSIP/301", "offline")
    assert (await client.get_endpoint("PJSIP", "301")).state == "offline"
    assert (await client.get_device_state("PJSIP/301")).state == "UNAVAILABLE"
    assert (await client.get_device_state("PJSIP/203")).state == "BUSY"
    states = {d.name: d.state for d in await client.list_device_states()}
    assert states["PJSIP/202"] == "NOT_INUSE"

    ringing = await client.originate("PJSIP/202", ring_timeout=1)
    busy = await client.originate("PJSIP/203")
    offline = await client.originate("PJSIP/301")
    no_answer = await log.wait_for(ChannelDestroyed, channel__id=ringing.id)
    assert (no_answer.cause, no_answer.cause_txt) == (19, "User alerting, no answer")
    busy_end = await log.wait_for(ChannelDestroyed, channel__id=busy.id)
    assert busy_end.cause == 17
    offline_end = await log.wait_for(ChannelDestroyed, channel__id=offline.id)
    assert offline_end.cause == 20

    def statuses(channel_id: str) -> list[str]:
        return [e.dialstatus for e in log.events if isinstance(e, Dial) and e.peer.id == channel_id]

    # Asterisk reports the end of an originated dial only by ChannelDestroyed.
    assert statuses(ringing.id) == ["", "RINGING"]
    assert statuses(busy.id) == [""]
    assert statuses(offline.id) == [""]
    raw = [e for e in fake.event_log if e["type"] == "ChannelDestroyed"]
    assert {(e["channel"]["id"], e.get("tech_cause")) for e in raw} == {
        (ringing.id, 480),
        (busy.id, 486),
        (offline.id, 480),
    }
    assert not any(
        isinstance(e, ChannelHangupRequest) and e.channel.id == ringing.id for e in log.events
    )
    assert not any(
        isinstance(e, StasisStart) and e.channel.id in (ringing.id, busy.id, offline.id)
        for e in log.events
    )
    assert await client.list_channels() == []


async def test_create_then_dial_reports_the_caller(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    fake.configure_endpoint("PJSIP/202", "answer", answer_delay=0.05)
    call = await fake.place_call()
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    created = await client.create_channel("PJSIP/202", app_args="dialled")
    start = await log.wait_for(StasisStart, channel__id=created.id)
    assert start.channel.state == "Down"
    await client.dial(created.id, caller=call.channel_id, ring_timeout=5)
    answered = await log.wait_for(Dial, peer__id=created.id, dialstatus="ANSWER")
    assert answered.caller is not None
    assert answered.caller.id == call.channel_id
    assert (await client.get_channel(created.id)).state == "Up"
    await client.hangup(created.id)
    await log.wait_for(ChannelDestroyed, channel__id=created.id)
    await call.hangup()
    await log.wait_for(StasisEnd, channel__id=call.channel_id)
    assert not any(
        isinstance(e, ChannelDestroyed) and e.channel.id == call.channel_id for e in log.events
    )


async def test_app_hangs_up_a_ringing_agent_dial_ends_noanswer(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    listener, log = events
    fake.configure_endpoint("PJSIP/202", "no_answer")
    await listener.subscribe(["deviceState:PJSIP/202"])
    ringing = await client.originate("PJSIP/202", ring_timeout=0)  # rings until hung up
    await log.wait_for(Dial, peer__id=ringing.id, dialstatus="RINGING")
    assert (await client.get_device_state("PJSIP/202")).state == "RINGING"
    await client.hangup(ringing.id)
    destroyed = await log.wait_for(ChannelDestroyed, channel__id=ringing.id)
    assert destroyed.cause == 16
    assert log.types(ringing.id)[-3:] == ["ChannelHangupRequest", "Dial", "ChannelDestroyed"]
    assert [e.dialstatus for e in log.events if isinstance(e, Dial)][-1] == "NOANSWER"
    assert (await client.get_device_state("PJSIP/202")).state == "NOT_INUSE"
    assert devices_now(log) == ["RINGING", "NOT_INUSE"]
    await fake.wait_until(lambda: not fake._tasks, 2)  # the ringing task ended too
