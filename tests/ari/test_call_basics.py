"""A call over real loopback sockets: Stasis, answer, hangup, errors, teardown."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from ari_app.ari.client import AriClient, basic_auth_header
from ari_app.ari.errors import (
    AriConnectionError,
    AriTimeout,
    BadRequest,
    ChannelGone,
    NotFound,
    Unauthorized,
)
from ari_app.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelStateChange,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.listener import EventListener
from ari_app.testing.event_log import APP, EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk


async def test_inbound_call_enters_stasis_is_answered_and_hung_up(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    call = await fake.place_call(
        did="5551000", caller_number="+15557654321", caller_name="Ann", args=["main", "x"]
    )
    start = await log.wait_for(StasisStart)
    assert start.args == ("main", "x")
    assert start.channel.caller.number == "+15557654321"
    assert start.channel.caller.name == "Ann"
    assert start.channel.dialplan.exten == "5551000"
    assert start.channel.state == "Ring"
    assert start.channel.in_stasis_app(APP)

    await client.answer(call.channel_id)
    change = await log.wait_for(ChannelStateChange)
    assert change.channel.state == "Up"
    assert (await client.get_channel(call.channel_id)).state == "Up"

    await call.send_dtmf("5")
    dtmf = await log.wait_for(ChannelDtmfReceived)
    assert dtmf.digit == "5"

    await call.hangup()
    await log.wait_for(StasisEnd)
    # As on Asterisk 22: the caller's hangup request has no cause, and an inbound channel
    # that left Stasis is no longer the app's (no ChannelDestroyed).
    assert log.types(call.channel_id) == [
        "StasisStart",
        "ChannelStateChange",
        "ChannelDtmfReceived",
        "ChannelHangupRequest",
        "StasisEnd",
    ]
    raw = [e for e in fake.event_log if e["type"] == "ChannelHangupRequest"]
    assert "cause" not in raw[-1]
    assert "soft" not in raw[-1]
    assert call.state == "Gone"
    assert await client.list_channels() == []
    assert await client.list_bridges() == []


async def test_app_hangup_is_a_soft_hangup_request_then_stasis_end(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    call = await fake.place_call()
    await log.wait_for(StasisStart)
    await client.hangup(call.channel_id, reason="normal")
    await log.wait_for(StasisEnd)
    assert log.types(call.channel_id) == ["StasisStart", "ChannelHangupRequest", "StasisEnd"]
    request = await log.wait_for(ChannelHangupRequest)
    assert (request.cause, request.soft) == (32, True)
    assert not any(isinstance(e, ChannelDestroyed) for e in log.events)
    assert call.state == "Gone"
    assert call.channel.sip_final == 603  # hung up before answer


async def test_channel_gone_is_a_typed_error(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    call = await fake.place_call()
    await log.wait_for(StasisStart)
    await call.hangup()
    await log.wait_for(StasisEnd)
    with pytest.raises(ChannelGone):
        await client.answer(call.channel_id)
    with pytest.raises(ChannelGone):
        await client.play(call.channel_id, "sound:hello")
    with pytest.raises(NotFound) as bridge_error:
        await client.get_bridge("nope")
    assert not isinstance(bridge_error.value, ChannelGone)


async def test_missing_required_parameter_is_400(fake: FakeAsterisk, client: AriClient) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{fake.ari_url}/channels/externalMedia",
            params={"app": APP, "external_host": "127.0.0.1:4000"},
            headers={"Authorization": fake.auth_header},
        ) as resp,
    ):
        assert resp.status == 400
        assert "format" in (await resp.json())["message"]
    with pytest.raises(BadRequest):
        await client.external_media("bogus", external_host="127.0.0.1:4000")


async def test_auth_is_required(fake: FakeAsterisk) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.ari_url}/asterisk/info") as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"].startswith("Basic")
        async with http.get(
            f"{fake.ari_url}/asterisk/info",
            headers={"Authorization": basic_auth_header(fake.username, "wrong")},
        ) as resp:
            assert resp.status == 401
        async with http.get(
            f"{fake.ari_url}/asterisk/info",
            params={"api_key": f"{fake.username}:{fake.password}"},
        ) as resp:
            assert resp.status == 200
    wrong = AriClient(fake.ari_url, fake.username, "wrong", APP)
    with pytest.raises(Unauthorized):
        await wrong.asterisk_info()
    await wrong.close()


async def test_asterisk_info(client: AriClient) -> None:
    info = await client.asterisk_info()
    assert info["system"]["version"].startswith("22.")
    only = await client.asterisk_info(only=["system"])
    assert set(only) == {"system"}


async def test_every_request_has_a_timeout_and_refused_is_typed() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mute = AriClient(f"http://127.0.0.1:{port}/ari", "a", "b", APP, timeout=0.3)
    with pytest.raises(AriTimeout):
        await mute.answer("1.1")
    await mute.close()
    for writer in accepted:
        writer.close()
    server.close()
    await server.wait_closed()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    refused = AriClient(f"http://127.0.0.1:{free}/ari", "a", "b", APP, timeout=2)
    with pytest.raises(AriConnectionError):
        await refused.list_channels()
    await refused.close()


async def test_get_variable_unset_is_none_but_gone_channel_raises(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    call = await fake.place_call()
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    assert await client.get_variable(call.channel_id, "NOT_SET") is None
    await client.set_variable(call.channel_id, "LINE", "main")
    assert await client.get_variable(call.channel_id, "LINE") == "main"
    await call.hangup()
    with pytest.raises(ChannelGone):
        await client.get_variable(call.channel_id, "LINE")
