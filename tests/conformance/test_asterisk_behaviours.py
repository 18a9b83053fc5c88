"""The rows of ../shared/ari-captures/README.md ("where the real Asterisk differs") that a
replay alone does not pin down, each checked on the fake through real sockets.

- ``continue`` sends the channel on at the next priority with ``STASISSTATUS=SUCCESS``: the
  shipped dialplan, which falls back only on ``FAILED``, then hangs the caller up (603
  before answer);
- an app that is not connected makes ``Stasis()`` fail: ``STASISSTATUS=FAILED`` sends the
  caller to the line's fallback context, which rings people;
- an app whose WebSocket died stays listed with its channels and bridges
  (``GET /applications/NAME`` answers 200);
- an externalMedia channel is ``Down`` and not in Stasis until after the response:
  ``addChannel`` 422, channel operations 409; a hangup then is carried out after its
  StasisStart;
- re-used ids: a bridge 409, an externalMedia ``channelId`` 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriHttpError, Conflict, UnprocessableEntity
from ari_app.ari.events import StasisEnd, StasisStart
from ari_app.ari.listener import EventListener
from ari_app.media.codecs import ULAW, ulaw_encode
from ari_app.media.rtp import RtpPacket
from ari_app.testing.dialplan import lab_dialplan, parse_extensions
from ari_app.testing.event_log import EventLog, listening
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.testing.media import RtpLeg
from ari_app.testing.model import FRAME_BYTES, Behaviour, ChannelKind, FakeChannel

ROOT = Path(__file__).resolve().parents[2]
APP = "ari-app"
LINE = {"did": "+16175550142", "app": APP, "args": ["main"], "context": "ari-app-inbound"}


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    """The fake running the project's shipped inbound dialplan file."""
    text = (ROOT / "dialplan" / "extensions_ari_app.conf").read_text()
    pbx = FakeAsterisk(recordings_dir=tmp_path, dialplan=parse_extensions(text))
    await pbx.start("127.0.0.1", 0)
    yield pbx
    await pbx.stop()


@pytest.fixture
async def client(fake: FakeAsterisk) -> AsyncIterator[AriClient]:
    """An ARI client of the app ``ari-app``."""
    ari = AriClient(fake.ari_url, fake.username, fake.password, APP, timeout=5.0)
    yield ari
    await ari.close()


@pytest.fixture
async def events(client: AriClient) -> AsyncIterator[tuple[EventListener, EventLog]]:
    """The app's connected events socket and what it received."""
    async with listening(client) as connected:
        yield connected


def test_the_shipped_dialplan_file_is_what_the_fake_models() -> None:
    text = (ROOT / "dialplan" / "extensions_ari_app.conf").read_text()
    shipped, modelled = parse_extensions(text), lab_dialplan()
    for context in ("ari-app-inbound", "ari-app-fallback-main"):
        for exten, steps in modelled[context].items():
            assert [s for s in shipped[context][exten] if s.app != "NoOp"] == [
                s for s in steps if s.app != "NoOp"
            ], f"{context},{exten}"


async def test_continue_gives_success_and_the_shipped_dialplan_hangs_up_603(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    call = await fake.place_call(**LINE)  # type: ignore[arg-type]
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.continue_in_dialplan(call.channel_id)
    await log.wait_for(StasisEnd, channel__id=call.channel_id)
    await call.wait_state("Gone")
    assert call.channel.variables["STASISSTATUS"] == "SUCCESS"
    assert call.dialplan_log[-1].endswith("Hangup() -> hung up with 603")
    assert call.channel.sip_final == 603
    assert not any("Dial" in step for step in call.dialplan_log)


async def test_continue_with_the_fallback_variable_rings_people(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    fake.configure_endpoint("PJSIP/201", Behaviour.ANSWER, answer_delay=0.05)
    call = await fake.place_call(**LINE)  # type: ignore[arg-type]
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    bridge = await client.create_bridge()
    await client.add_channel(bridge.id, call.channel_id)
    await client.set_variable(call.channel_id, "ARI_APP_FALLBACK", "draining")
    await client.continue_in_dialplan(call.channel_id)
    await log.wait_for(StasisEnd, channel__id=call.channel_id)
    assert log.types(call.channel_id)[-2:] == ["ChannelLeftBridge", "StasisEnd"]
    await fake.wait_until(lambda: call.channel.variables.get("DIALSTATUS") == "ANSWER")
    assert call.channel.variables["STASISSTATUS"] == "SUCCESS"
    assert any("dial PJSIP/201&PJSIP/202 -> ANSWER by PJSIP/201" in s for s in call.dialplan_log)
    await call.hangup()
    assert call.channel.sip_final is None


async def test_continue_to_a_given_place_goes_there(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    fake.configure_endpoint("PJSIP/201", Behaviour.ANSWER, answer_delay=0.05)
    call = await fake.place_call(**LINE)  # type: ignore[arg-type]
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.continue_in_dialplan(
        call.channel_id, context="ari-app-fallback-main", extension="s", priority=1
    )
    await fake.wait_until(lambda: call.channel.variables.get("DIALSTATUS") == "ANSWER")
    assert any("rang PJSIP/201&PJSIP/202" in step for step in call.dialplan_log)
    assert call.state == "Up"
    await call.hangup()


async def test_app_not_connected_fails_stasis_and_the_fallback_rings_people(
    fake: FakeAsterisk,
) -> None:
    fake.configure_endpoint("PJSIP/202", Behaviour.ANSWER, answer_delay=0.05)
    call = await fake.place_call(**LINE)  # type: ignore[arg-type]
    assert call.channel.variables["STASISSTATUS"] == "FAILED"
    assert "Stasis(ari-app,main) -> FAILED" in call.dialplan_log[1]
    await fake.wait_until(lambda: call.channel.variables.get("DIALSTATUS") == "ANSWER")
    assert any("dial PJSIP/201&PJSIP/202 -> ANSWER by PJSIP/202" in s for s in call.dialplan_log)
    await call.hangup()
    assert call.channel.sip_final is None  # answered by a person, never rejected


async def test_dead_app_stays_listed_with_its_objects_and_new_calls_fail_over(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    listener, log = events
    call = await fake.place_call(**LINE)  # type: ignore[arg-type]
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)
    bridge = await client.create_bridge(bridge_id="kept-bridge")
    await client.add_channel(bridge.id, call.channel_id)
    await listener.stop()  # the app dies: its events socket closes
    await fake.wait_until(lambda: not fake.app_registered(APP))

    async with (
        aiohttp.ClientSession(headers={"Authorization": fake.auth_header}) as http,
        http.get(f"{fake.ari_url}/applications/{APP}") as response,
    ):
        assert response.status == 200
        app = await response.json()
    assert app["channel_ids"] == [call.channel_id]
    assert app["bridge_ids"] == ["kept-bridge"]
    assert fake.channels[call.channel_id].in_stasis
    assert fake.bridges["kept-bridge"].channels == [call.channel_id]

    second = await fake.place_call(**LINE)  # type: ignore[arg-type]
    assert second.channel.variables["STASISSTATUS"] == "FAILED"
    with pytest.raises(Conflict):
        await client.create_bridge(bridge_id="kept-bridge")
    await second.hangup()
    await call.hangup()


async def test_external_media_is_down_and_outside_stasis_until_after_the_response(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    fake.hold_media_answers = True
    call = await fake.place_call(**LINE)  # type: ignore[arg-type]
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)
    bridge = await client.create_bridge(bridge_id="b1")
    media = await client.external_media("ulaw", external_host="127.0.0.1:9", channel_id="m1")
    assert media.state == "Down"
    with pytest.raises(UnprocessableEntity, match="Channel not in Stasis application"):
        await client.add_channel(bridge.id, [call.channel_id, media.id])
    with pytest.raises(Conflict, match="Channel not in Stasis application"):
        await client.answer(media.id)
    with pytest.raises(AriHttpError) as in_use:
        await client.external_media("ulaw", external_host="127.0.0.1:9", channel_id="m1")
    assert in_use.value.status == 500
    await client.hangup(media.id)  # accepted now, carried out after its StasisStart
    assert media.id in fake.channels
    fake.release_media(media.id)
    await log.wait_for(StasisEnd, channel__id=media.id)
    raw = [
        (e["type"], e.get("dialstatus"))
        for e in fake.event_log
        if (e.get("channel") or e.get("peer") or {}).get("id") == media.id
    ]
    assert raw == [
        ("Dial", ""),
        ("ChannelStateChange", None),
        ("Dial", "ANSWER"),
        ("ChannelHangupRequest", None),
        ("StasisStart", None),
        ("StasisEnd", None),
        ("ChannelDestroyed", None),
    ]
    await call.hangup()


def test_rtp_sent_in_a_burst_is_flushed_by_the_bridge_mixer_like_softmix() -> None:
    """bridge_softmix.c: with more than four mixing intervals of a channel's audio queued,
    the queue is flushed before the next frame is added ("Re-sync the audio")."""
    channel = FakeChannel(
        id="media", name="UnicastRTP/127.0.0.1:5000-1", kind=ChannelKind.UNICAST_RTP
    )
    leg = RtpLeg(channel, ULAW, ("127.0.0.1", 5000))
    frame = ulaw_encode(bytes(320))
    for n in range(50):  # a second of audio at once
        leg.on_datagram(RtpPacket(0, n, n * 160, 1, frame).encode())
    assert leg.received == 50
    assert len(channel.inbound) <= 5 * FRAME_BYTES  # not a second of delay
    channel.inbound.clear()
    for n in range(4):  # paced: each frame consumed before the next arrives
        leg.on_datagram(RtpPacket(0, 50 + n, (50 + n) * 160, 1, frame).encode())
        assert len(channel.inbound) == FRAME_BYTES
        channel.take_frame()
