"""The fake's HTTP control API under /fake: be the caller from outside Python."""

from __future__ import annotations

import aiohttp
import numpy as np

from ari_app.ari.client import AriClient
from ari_app.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    Dial,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.listener import EventListener
from ari_app.testing.audio import tone
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk


async def test_http_control_api_drives_a_call(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    headers = {"Authorization": fake.auth_header}
    async with aiohttp.ClientSession(base_url=fake.url, headers=headers) as http:
        async with http.post("/fake/calls", json={"did": "555", "args": ["main"]}) as resp:
            assert resp.status == 201
            channel_id = (await resp.json())["channel"]["id"]
        start = await log.wait_for(StasisStart, channel__id=channel_id)
        assert start.args == ("main",)
        assert start.channel.dialplan.exten == "555"
        await client.answer(channel_id)
        await client.send_dtmf(channel_id, "42")
        async with http.get(f"/fake/channels/{channel_id}/dtmf") as resp:
            assert (await resp.json())["digits"] == "42"
        async with http.post(f"/fake/channels/{channel_id}/dtmf", params={"digits": "0"}):
            pass
        assert (await log.wait_for(ChannelDtmfReceived)).digit == "0"

        async with http.post(
            f"/fake/channels/{channel_id}/audio", params={"rate": "8000"}, data=b"\x00"
        ) as resp:
            assert resp.status == 400  # odd byte count: clear message, nothing lost
        await client.play(channel_id, "tone:beep")
        await fake.call(channel_id).wait_heard_speech(ms=200, level=1000, within=5)
        async with http.get(
            f"/fake/channels/{channel_id}/heard", params={"rate": "8000", "format": "wav"}
        ) as resp:
            assert (await resp.read())[:4] == b"RIFF"
        async with http.post(
            f"/fake/channels/{channel_id}/audio", params={"rate": "16000"}, data=tone(300, 100)
        ) as resp:
            assert resp.status == 204
        async with http.get("/fake/channels") as resp:
            assert [c["id"] for c in await resp.json()] == [channel_id]
        async with http.put("/fake/endpoints/PJSIP/999", json={"behaviour": "busy"}) as resp:
            assert (await resp.json())["behaviour"] == "busy"
        assert (await client.get_device_state("PJSIP/999")).state == "BUSY"
        async with http.get("/fake/requests") as resp:
            operations = [r["operation"] for r in await resp.json()]
        assert "answer" in operations
        assert "play" in operations
        async with http.post(f"/fake/channels/{channel_id}/hangup") as resp:
            assert resp.status == 204
        await log.wait_for(StasisEnd, channel__id=channel_id)
        async with http.get("/fake/channels") as resp:
            assert await resp.json() == []
        async with http.get("/fake/bridges") as resp:
            assert await resp.json() == []
        async with http.get(f"/fake/channels/{channel_id}/heard") as resp:
            assert resp.status == 200
            assert resp.content_type == "application/octet-stream"
            pcm = await resp.read()
    samples = np.frombuffer(pcm, dtype="<i2")
    assert np.abs(samples).max() > 3000  # the beep it heard is still readable


async def test_http_control_api_answers_and_rings_out_agents(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    headers = {"Authorization": fake.auth_header}
    async with aiohttp.ClientSession(base_url=fake.url, headers=headers) as http:
        for resource in ("201", "202"):
            async with http.put(
                f"/fake/endpoints/PJSIP/{resource}", json={"behaviour": "manual"}
            ) as resp:
                assert resp.status == 200
        first = await client.originate("PJSIP/201", app_args="agent", ring_timeout=20)
        second = await client.originate("PJSIP/202", app_args="agent", ring_timeout=20)
        for agent in (first, second):
            await log.wait_for(Dial, peer__id=agent.id, dialstatus="RINGING")
        async with http.post(f"/fake/channels/{first.id}/answer") as resp:
            assert resp.status == 204
        start = await log.wait_for(StasisStart, channel__id=first.id)
        assert start.channel.state == "Up"
        async with http.post(f"/fake/channels/{second.id}/ring-out") as resp:
            assert resp.status == 204
        gone = await log.wait_for(ChannelDestroyed, channel__id=second.id)
        assert gone.cause == 19
        async with http.post(f"/fake/channels/{first.id}/ring-out") as resp:
            assert resp.status == 409  # not ringing any more
        await client.hangup(first.id)

        async with http.post("/fake/calls", json={"did": "556", "app": "nobody"}) as resp:
            call_id = (await resp.json())["channel"]["id"]
        async with http.get(f"/fake/channels/{call_id}/dialplan") as resp:
            steps = (await resp.json())["steps"]
        assert "Stasis(nobody) -> FAILED" in steps[1]
        assert any("rang PJSIP/201&PJSIP/202" in step for step in steps)
        await fake.hangup_from_party(call_id)
