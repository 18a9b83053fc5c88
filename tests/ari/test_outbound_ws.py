"""ARI outbound WebSockets on loopback: the fake Asterisk connects to our endpoint per call
(and persistently), the app drives the call with REST over that socket, events arrive on it;
a call whose connection fails goes to the dialplan's fallback; wrong credentials are refused.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from ari_app.ari.client import AriClient, basic_auth_header
from ari_app.ari.errors import AriConnectionError, ChannelGone, NotFound
from ari_app.ari.events import AriEvent, StasisEnd, StasisStart
from ari_app.ari.listener import EventCallback
from ari_app.ari.models import Channel
from ari_app.ari.outbound import (
    OutboundConnection,
    OutboundEvents,
    OutboundLink,
    OutboundServer,
)
from ari_app.ari.reconnect import ConnState
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.testing.outbound import PERSISTENT, OutboundWebsocket
from tests.ari.test_contract import SPEC

USER, PASSWORD = "asterisk-out", "s3cret"


class FrontDesk:
    """A tiny app: on StasisStart answer, bridge the caller, and remember what it saw."""

    def __init__(self) -> None:
        self.connections: list[OutboundConnection] = []
        self.clients: list[AriClient] = []
        self.logs: list[EventLog] = []
        self.bridges: list[str] = []
        self.errors: list[Exception] = []

    async def on_connection(self, conn: OutboundConnection) -> EventCallback:
        self.connections.append(conn)
        log = EventLog()
        self.logs.append(log)

        async def on_event(event: AriEvent) -> None:
            log(event)
            if isinstance(event, StasisStart):
                client = conn.client(event.envelope.application, timeout=5.0)
                self.clients.append(client)
                await client.answer(event.channel.id)
                bridge = await client.create_bridge("mixing")
                await client.add_channel(bridge.id, event.channel.id)
                self.bridges.append(bridge.id)
                try:
                    await client.get_channel("no-such-channel")
                except ChannelGone as exc:
                    self.errors.append(exc)

        return on_event


@pytest.fixture
async def desk_server() -> AsyncIterator[tuple[FrontDesk, OutboundServer]]:
    desk = FrontDesk()
    server = OutboundServer(USER, PASSWORD, desk.on_connection)
    await server.start()
    yield desk, server
    await server.stop()


def _assert_in_spec(fake: FakeAsterisk, clients: list[AriClient]) -> None:
    for client in clients:
        assert client.request_log
        for record in client.request_log:
            op = SPEC.get((record.method, record.template))
            assert op is not None, f"{record.method} {record.template} not in spec"
            assert record.query <= op.query, record
            assert record.body <= op.body, record
            assert set(re.findall(r"{(\w+)}", record.template)) == op.path
    for entry in fake.request_log:
        op = SPEC[(entry["method"], entry["template"])]
        assert set(entry["params"]) <= op.query, entry


async def test_per_call_connection_carries_events_and_rest(
    fake: FakeAsterisk, desk_server: tuple[FrontDesk, OutboundServer]
) -> None:
    desk, server = desk_server
    config = OutboundWebsocket(
        uri=server.url, apps=["desk"], username=USER, password=PASSWORD, close_delay=0.05
    )
    fake.outbound.add(config)
    calls = [await fake.place_call("555", app="desk"), await fake.place_call("556", app="desk")]
    for call in calls:
        await call.wait_state("Up")
    await fake.wait_until(lambda: len(desk.errors) == 2)  # the handlers' last step

    # One WebSocket per call, each carrying only its call's events, as <app>:<channel name>.
    assert len(desk.connections) == 2
    assert config.connects == 2
    apps = {conn.application for conn in desk.connections}
    assert apps == {f"desk:{call.channel.name}" for call in calls}
    for bridge_id, call in zip(desk.bridges, calls, strict=True):
        assert fake.bridges[bridge_id].channels == [call.channel_id]
    for conn, log in zip(desk.connections, desk.logs, strict=True):
        start = await log.wait_for(StasisStart)
        assert start.envelope.application == conn.application
        assert {e.envelope.application for e in log.events} == {conn.application}
    assert [type(e) for e in desk.errors] == [ChannelGone, ChannelGone]
    assert isinstance(desk.errors[0], NotFound)
    assert desk.errors[0].status == 404
    assert calls[0].dialplan_log[-1].endswith(f"-> entered as desk:{calls[0].channel.name}")

    # Caller hangs up: StasisEnd on that call's socket, then Asterisk closes it.
    await calls[0].hangup()
    await desk.logs[0].wait_for(StasisEnd, channel__id=calls[0].channel_id)
    async with asyncio.timeout(5):
        await desk.connections[0].closed.wait()
    assert not desk.connections[1].closed.is_set()
    # A request after the close fails as a lost connection, typed.
    with pytest.raises(Exception, match="closed"):
        await desk.clients[0].get_channel(calls[1].channel_id)
    _assert_in_spec(fake, desk.clients)


async def test_failed_connection_sends_the_call_to_the_fallback(
    fake: FakeAsterisk, desk_server: tuple[FrontDesk, OutboundServer]
) -> None:
    desk, server = desk_server
    refused = OutboundWebsocket(
        uri=server.url,
        apps=["desk"],
        username=USER,
        password="wrong",
        reconnect_attempts=2,
        reconnect_interval=10,
    )
    fake.outbound.add(refused)
    call = await fake.place_call("557", app="desk")
    await fake.wait_until(lambda: "FAILED" in call.channel.variables.get("STASISSTATUS", ""))
    assert refused.failures == 2
    assert refused.connects == 0
    assert server.refused == 2
    assert desk.connections == []
    assert any("FAILED (outbound websocket)" in line for line in call.dialplan_log)
    await fake.wait_until(lambda: any("rang PJSIP/201&PJSIP/202" in x for x in call.dialplan_log))


async def test_nobody_listening_fails_the_call(fake: FakeAsterisk) -> None:
    server = OutboundServer(USER, PASSWORD, FrontDesk().on_connection)
    await server.start()
    url = server.url
    await server.stop()  # the port is now closed: connection refused
    config = OutboundWebsocket(
        uri=url, apps=["desk"], username=USER, password=PASSWORD, reconnect_attempts=1
    )
    fake.outbound.add(config)
    call = await fake.place_call("558", app="desk")
    await fake.wait_until(lambda: call.channel.variables.get("STASISSTATUS") == "FAILED")
    assert config.failures == 1


async def test_handshake_needs_credentials_and_the_ari_protocol(
    desk_server: tuple[FrontDesk, OutboundServer],
) -> None:
    _, server = desk_server
    good = {"Authorization": basic_auth_header(USER, PASSWORD)}
    async with aiohttp.ClientSession() as http:
        for headers, protocols, status in (
            ({"Authorization": basic_auth_header(USER, "nope")}, ("ari",), 401),
            ({"Authorization": "Basic !!!"}, ("ari",), 401),
            ({}, ("ari",), 401),
            (good, ("media",), 400),
            (good, (), 400),
        ):
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await http.ws_connect(server.url, headers=headers, protocols=protocols)
            assert exc.value.status == status
        async with http.ws_connect(server.url, headers=good, protocols=("ari",)) as ws:
            assert ws.protocol == "ari"
    assert server.refused == 5


async def test_persistent_connection_serves_the_app(
    fake: FakeAsterisk, desk_server: tuple[FrontDesk, OutboundServer]
) -> None:
    desk, server = desk_server
    config = OutboundWebsocket(
        uri=server.url,
        apps=["desk"],
        connection_type=PERSISTENT,
        username=USER,
        password=PASSWORD,
    )
    fake.outbound.add(config)
    await fake.wait_until(lambda: fake.app_registered("desk"))
    calls = [await fake.place_call("560", app="desk"), await fake.place_call("561", app="desk")]
    await fake.wait_until(lambda: len(desk.bridges) == 2)
    assert len(desk.connections) == 1
    assert config.connects == 1
    log = desk.logs[0]
    for call in calls:
        start = await log.wait_for(StasisStart, channel__id=call.channel_id)
        assert start.envelope.application == "desk"
    _assert_in_spec(fake, desk.clients)


async def test_bad_rest_requests_get_asterisks_answers(fake: FakeAsterisk) -> None:
    """What parse_rest_request_msg answers to malformed RESTRequests (res/ari), seen by a
    bare WebSocket server standing in for the app."""
    inbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    sockets: list[web.WebSocketResponse] = []

    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("ari",))
        await ws.prepare(request)
        sockets.append(ws)
        async for msg in ws:
            inbox.put_nowait(json.loads(msg.data))
        return ws

    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        fake.outbound.add(OutboundWebsocket(uri=f"ws://127.0.0.1:{port}/", apps=["raw"]))
        call = await fake.place_call("570", app="raw")
        start = await inbox.get()
        assert start["type"] == "StasisStart"
        assert start["application"] == f"raw:{call.channel.name}"
        ws = sockets[0]
        ping = {"type": "RESTRequest", "uri": "asterisk/ping", "method": "GET"}
        for message, status in (
            ("not json", 400),
            ({"type": "Nope", "uri": "x", "method": "GET"}, 400),
            ({"type": "RESTRequest", "method": "GET", "request_id": "r"}, 400),
            ({**ping, "method": "FETCH"}, 400),
            ({**ping, "request_id": "p1", "transaction_id": "t1"}, 200),
            ({**ping, "uri": "/asterisk/ping"}, 405),
            ({**ping, "uri": "channels/nope", "query_strings": [{"name": "x"}]}, 400),
            ({**ping, "uri": "channels/nope"}, 404),
        ):
            await ws.send_str(message if isinstance(message, str) else json.dumps(message))
            reply = await inbox.get()
            assert reply["type"] == "RESTResponse", (message, reply)
            assert reply["status_code"] == status, (message, reply)
            assert reply["application"] == start["application"]
            if status == 200:
                assert (reply["request_id"], reply["transaction_id"]) == ("p1", "t1")
                assert reply["uri"] == "asterisk/ping"
                assert reply["content_type"] == "application/json"
                assert "ping" in json.loads(str(reply["message_body"]))
    finally:
        for ws in sockets:
            await ws.close()
        await runner.cleanup()


async def test_per_call_socket_lost_mid_call_reconnects_then_fails_to_the_dialplan(
    fake: FakeAsterisk, desk_server: tuple[FrontDesk, OutboundServer]
) -> None:
    """Asterisk reconnects a per-call socket the app dropped (another worker behind a load
    balancer can take the call up); when nobody answers any more, the call leaves Stasis
    with STASISSTATUS=FAILED and the dialplan's fallback rings the front desk."""
    desk, server = desk_server
    config = OutboundWebsocket(
        uri=server.url,
        apps=["desk"],
        username=USER,
        password=PASSWORD,
        reconnect_attempts=2,
        reconnect_interval=10,
    )
    fake.outbound.add(config)
    call = await fake.place_call("580", app="desk")
    await fake.wait_until(lambda: len(desk.bridges) == 1)
    app_id = f"desk:{call.channel.name}"

    await desk.connections[0].ws.close()  # the worker drops the socket
    await fake.wait_until(lambda: len(desk.connections) == 2)
    assert config.connects == 2
    again = desk.connections[1].client(app_id, timeout=5.0)
    channel = await again.get_channel(call.channel_id)
    assert channel.state == "Up"
    assert call.channel.app == app_id

    await server.stop()  # every worker gone: reconnecting fails
    await fake.wait_until(lambda: call.channel.variables.get("STASISSTATUS") == "FAILED")
    assert not call.channel.in_stasis
    assert config.failures == 2
    assert any("(reconnect) -> FAILED (outbound websocket)" in x for x in call.dialplan_log)
    await fake.wait_until(lambda: any("rang PJSIP/201&PJSIP/202" in x for x in call.dialplan_log))


async def test_persistent_link_is_one_client_across_reconnects(fake: FakeAsterisk) -> None:
    """OutboundLink: one AriClient for the whole app (as the supervisor has), requests over
    the live socket; after Asterisk reconnects, the channels still in the app are recovered."""
    log = EventLog()
    recovered: list[list[str]] = []

    async def on_recovered(channels: list[Channel]) -> None:
        recovered.append([c.id for c in channels])

    link = OutboundLink("desk", log, on_recovered=on_recovered, timeout=5.0)
    server = OutboundServer(USER, PASSWORD, link.on_connection)
    await server.start()
    try:
        with pytest.raises(AriConnectionError):
            await link.client.ping()
        fake.outbound.add(
            OutboundWebsocket(
                uri=server.url,
                apps=["desk"],
                connection_type=PERSISTENT,
                username=USER,
                password=PASSWORD,
                reconnect_interval=10,
            )
        )
        await fake.wait_until(lambda: recovered == [[]])
        call = await fake.place_call("590", app="desk")
        start = await log.wait_for(StasisStart, channel__id=call.channel_id)
        await link.client.answer(start.channel.id)
        await call.wait_state("Up")

        first = link.current
        assert first is not None
        await first.ws.close()  # the socket drops; Asterisk reconnects
        await fake.wait_until(lambda: len(recovered) == 2)
        assert link.connects == 2
        assert link.current is not first
        assert recovered[1] == [call.channel_id]
        await link.client.hangup(call.channel_id)
        await log.wait_for(StasisEnd, channel__id=call.channel_id)
    finally:
        await link.close()
        await server.stop()


def _state(events: OutboundEvents) -> str:
    return events.state.value


async def test_outbound_events_stand_in_for_the_event_listener(fake: FakeAsterisk) -> None:
    """OutboundEvents: start/stop/state/on_event/on_recovered like EventListener, one client;
    per call, a request runs over any open socket (Asterisk invokes it the same); each
    per-call socket is a route of its own, with no app-wide recovery."""
    events = OutboundEvents("desk", USER, PASSWORD)
    log = EventLog()
    recovered: list[list[str]] = []
    events.on_event = log
    events.on_recovered = lambda channels: recovered.append([c.id for c in channels])
    assert _state(events) == "idle"
    await events.start()
    try:
        assert _state(events) == "connecting"
        fake.outbound.add(
            OutboundWebsocket(
                uri=events.server.url,
                apps=["desk"],
                username=USER,
                password=PASSWORD,
                close_delay=0.05,
            )
        )
        calls = [await fake.place_call("595", app="desk"), await fake.place_call("596", app="desk")]
        starts = [await log.wait_for(StasisStart, channel__id=c.channel_id) for c in calls]
        assert {s.envelope.application for s in starts} == {f"desk:{c.channel.name}" for c in calls}
        # Per-call sockets are routes of their own, one per call; no app-wide recovery
        # runs for them (GET applications/desk is 404: only desk:<channel> is registered),
        # since the other calls in Stasis(desk, ...) may be other workers'.
        routes = events.link.calls  # made before each socket's first event is handled
        assert {app for _, app in routes} == {f"desk:{c.channel.name}" for c in calls}
        assert {aid for aid, _ in routes} == {fake.asterisk_id}
        assert recovered == []
        assert _state(events) == "connected"

        await events.client.hangup(calls[1].channel_id)  # over the latest socket
        await log.wait_for(StasisEnd, channel__id=calls[1].channel_id)
        await fake.wait_until(lambda: len(events.server.connections) == 1)
        await events.client.hangup(calls[0].channel_id)  # over the one still open
        await log.wait_for(StasisEnd, channel__id=calls[0].channel_id)
        await fake.wait_until(lambda: events.state is ConnState.CONNECTING)
        with pytest.raises(AriConnectionError):
            await events.client.ping()
    finally:
        await events.stop()
    assert _state(events) == "stopped"


@pytest.mark.parametrize("connection_type", [PERSISTENT, "per_call_config"])
async def test_two_asterisks_on_one_worker_each_call_over_its_own_asterisk(
    fake: FakeAsterisk, tmp_path: Path, connection_type: str
) -> None:
    """Two Asterisks connected to one worker (a load balancer may do that): each call's
    events come with the client of its own Asterisk's route (by asterisk_id), so answering
    it reaches the Asterisk that holds it — even when both have a PJSIP/trunk-00000001."""
    second = FakeAsterisk(
        recordings_dir=tmp_path / "second", system_name="ast2", asterisk_id="02:42:ac:11:00:02"
    )
    await second.start("127.0.0.1", 0)
    events = OutboundEvents("desk", USER, PASSWORD)
    clients: dict[str, AriClient] = {}

    async def on_routed(event: AriEvent, client: AriClient) -> None:
        if isinstance(event, StasisStart):
            clients[event.channel.id] = client
            await client.answer(event.channel.id)

    events.link.on_routed = on_routed
    await events.start()
    try:
        for pbx in (fake, second):
            pbx.outbound.add(
                OutboundWebsocket(
                    uri=events.server.url,
                    apps=["desk"],
                    connection_type=connection_type,
                    username=USER,
                    password=PASSWORD,
                    reconnect_interval=10,
                    close_delay=0.05,
                )
            )
        if connection_type == PERSISTENT:
            await fake.wait_until(lambda: len(events.link.asterisks) == 2)
        calls = [
            await fake.place_call("600", app="desk"),
            await second.place_call("601", app="desk"),
        ]
        assert calls[0].channel.name == calls[1].channel.name  # the same name on both
        for call in calls:
            await call.wait_state("Up")
        first, other = (clients[c.channel_id] for c in calls)
        assert first is not other
        if connection_type == PERSISTENT:
            assert set(events.link.asterisks) == {fake.asterisk_id, second.asterisk_id}
            assert first is events.link.asterisks[fake.asterisk_id].client
        else:
            app = f"desk:{calls[0].channel.name}"
            assert set(events.link.calls) == {(fake.asterisk_id, app), (second.asterisk_id, app)}
        for call in calls:
            await call.hangup()
        await fake.wait_until(lambda: all(c.state == "Gone" for c in calls))
    finally:
        await events.stop()
        await second.stop()
