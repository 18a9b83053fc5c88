"""The fake Asterisk's ARI outbound WebSockets (``res_websocket_client`` + ``ari.conf``
``type = outbound_websocket``): the fake connects *to* the application.

Faithful to Asterisk 22.10's C source:

- the handshake sends ``Sec-WebSocket-Protocol: <protocols>`` (``ari``) and, when a
  username is set, ``Authorization: Basic user:password`` (res/res_http_websocket.c,
  ``websocket_client_handshake``); a 401/400/404 or a refused connection is a failed try;
- ``reconnect_attempts`` tries with ``reconnect_interval`` ms between them
  (res/res_websocket_client.c, ``ast_websocket_client_connect``); a per-call connection
  that still fails makes ``Stasis()`` fail: ``STASISSTATUS=FAILED`` and the dialplan goes
  on (apps/app_stasis.c); a persistent one retries for ever;
- per call (``per_call_config``), ``Stasis(app)`` for an app no inbound socket serves opens
  a connection for that call; the call's application is ``<app>:<channel name>``
  (res/ari/ari_websockets.c, ``ast_ari_create_per_call_websocket``); the socket closes
  ``close_delay`` seconds (Asterisk: 3) after its StasisEnd went out;
- ``RESTRequest`` messages run as the local ARI user through the same REST handlers
  (here: the fake's own HTTP routes on loopback) and are answered with ``RESTResponse``
  (res/ari/ari_websocket_requests.c), one request at a time, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import aiohttp

from ari_app.ari.client import basic_auth_header
from ari_app.testing.dialplan import DialplanRunner
from ari_app.testing.model import AppState, FakeChannel, timestamp

if TYPE_CHECKING:
    from ari_app.testing.fake_asterisk import FakeAsterisk

log = logging.getLogger(__name__)

PER_CALL = "per_call_config"
PERSISTENT = "persistent"


@dataclass
class OutboundWebsocket:
    """One ``websocket_client.conf`` connection joined with its ``ari.conf`` outbound entry."""

    uri: str
    apps: Sequence[str]
    connection_type: str = PER_CALL
    protocols: str = "ari"
    username: str = ""
    password: str = ""
    connection_timeout: int = 500
    """Milliseconds."""
    reconnect_interval: int = 500
    """Milliseconds between tries."""
    reconnect_attempts: int = 4
    close_delay: float = 3.0
    """Seconds between the call's StasisEnd and closing a per-call socket."""
    connects: int = 0
    failures: int = 0
    sessions: list[OutboundSession] = field(default_factory=list)


class OutboundSession:
    """One outbound connection: for a call (per call) or for its apps (persistent)."""

    def __init__(
        self,
        fake: FakeAsterisk,
        config: OutboundWebsocket,
        apps: Sequence[str],
        channel_id: str = "",
    ) -> None:
        self.fake = fake
        self.config = config
        self.apps = list(apps)
        self.channel_id = channel_id
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.closing = False
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._http = aiohttp.ClientSession()

    @property
    def app_name(self) -> str:
        """The application replies are addressed to."""
        return self.apps[0]

    async def connect(self) -> bool:
        """``reconnect_attempts`` tries; True once the WebSocket is open."""
        cfg = self.config
        headers = {}
        if cfg.username:
            headers["Authorization"] = basic_auth_header(cfg.username, cfg.password)
        protocols = tuple(p.strip() for p in cfg.protocols.split(",") if p.strip())
        for attempt in range(max(cfg.reconnect_attempts, 1)):
            if attempt:
                await asyncio.sleep(cfg.reconnect_interval / 1000)
            try:
                async with asyncio.timeout(cfg.connection_timeout / 1000):
                    self.ws = await self._http.ws_connect(
                        cfg.uri, protocols=protocols, headers=headers
                    )
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                cfg.failures += 1
                log.debug("outbound websocket to %s failed: %s", cfg.uri, exc)
                continue
            cfg.connects += 1
            return True
        return False

    def register(self) -> None:
        """Make the apps active with this session's queue as their events socket."""
        for app in self.apps:
            state = self.fake.apps.setdefault(app, AppState(app))
            state.sockets = [self.queue]
        self.fake.notify()

    def unregister(self) -> None:
        """The apps are no longer served by this session."""
        for app in self.apps:
            state = self.fake.apps.get(app)
            if state is not None and self.queue in state.sockets:
                state.sockets.remove(self.queue)
        self.fake.notify()

    async def serve(self) -> None:
        """Write events, answer REST requests, until the socket closes."""
        ws = self.ws
        assert ws is not None
        writer = asyncio.create_task(self._write(ws), name="fake-outbound-writer")
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._answer(msg.data)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def close(self) -> None:
        """Close the WebSocket (code 1000) for good: no reconnect follows."""
        self.closing = True
        if self.ws is not None:
            await self.ws.close()

    async def finish(self) -> None:
        """Close the WebSocket and the loopback HTTP session."""
        await self.close()
        await self._http.close()

    async def _write(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while (text := await self.queue.get()) is not None:
            try:
                await ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
            if self.channel_id and _is_stasis_end_of(text, self.channel_id):
                self.fake.spawn(self._close_later(), f"fake-outbound-close-{self.channel_id}")
        await ws.close()

    async def _close_later(self) -> None:
        await asyncio.sleep(self.config.close_delay)
        await self.close()

    async def _answer(self, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            reply = _reply({}, 400, "Failed to parse request message JSON")
        else:
            reply = await self._invoke(request)
        reply.update(
            type="RESTResponse",
            application=self.app_name,
            timestamp=timestamp(),
            asterisk_id=self.fake.asterisk_id,
        )
        self.queue.put_nowait(json.dumps(reply))

    async def _invoke(self, request: dict[str, Any]) -> dict[str, Any]:
        """Parse as ``parse_rest_request_msg`` does, then run through the REST routes."""
        if not request.get("type"):
            return _reply(request, 400, "Bad request", "No 'type' property.")
        if request["type"] != "RESTRequest":
            return _reply(request, 400, "Bad request", "Unknown request type.")
        uri = str(request.get("uri") or "")
        if not uri:
            return _reply(request, 400, "Bad request", "Empty or missing 'uri' property.")
        path, _, query = uri.partition("?")
        request["uri"] = path
        method = str(request.get("method") or "").upper()
        if method not in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"):
            return _reply(request, 400, "Bad request", "Unknown or missing 'method' property.")
        params = parse_qsl(query, keep_blank_values=True)
        for item in request.get("query_strings") or []:
            if not isinstance(item, dict) or "name" not in item or "value" not in item:
                return _reply(request, 400, "Bad request", "Unable to parse 'query_strings' array.")
            params.append((str(item["name"]), str(item["value"])))
        body = request.get("message_body")
        data: str | None = None
        if body:
            ctype = request.get("content_type")
            if not ctype:
                return _reply(request, 400, "Bad request", "No 'content_type' for 'message_body'.")
            if ctype == "application/x-www-form-urlencoded":
                params.extend(parse_qsl(str(body), keep_blank_values=True))
            elif ctype == "application/json":
                data = str(body)
            else:
                return _reply(request, 400, "Bad request", "Unknown content type.")
        if path.startswith("/"):
            # ast_ari_invoke splits on '/': an empty first segment stops at the root handler.
            return _reply(request, 405, "Method Not Allowed", "Invalid method")
        headers = {"Authorization": self.fake.auth_header}
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self._http.request(
            method, f"{self.fake.ari_url}/{path}", params=params, data=data, headers=headers
        ) as resp:
            payload = await resp.read()
            if resp.content_type == "audio/wav":
                return _reply(request, 406, "Not Acceptable.  Use HTTP GET")
            reply = _reply(request, resp.status, resp.reason or "")
            if payload:
                reply.update(content_type="application/json", message_body=payload.decode())
            return reply


def _is_stasis_end_of(text: str, channel_id: str) -> bool:
    """True for the StasisEnd of ``channel_id`` (after which Asterisk closes a per-call socket)."""
    if '"StasisEnd"' not in text:
        return False
    message = json.loads(text)
    return bool(message.get("type") == "StasisEnd" and message["channel"]["id"] == channel_id)


def _reply(request: dict[str, Any], status: int, reason: str, message: str = "") -> dict[str, Any]:
    reply: dict[str, Any] = {
        "transaction_id": str(request.get("transaction_id") or ""),
        "request_id": str(request.get("request_id") or ""),
        "status_code": status,
        "reason_phrase": reason,
        "uri": str(request.get("uri") or ""),
    }
    if message:
        reply.update(content_type="application/json", message_body=json.dumps({"message": message}))
    return reply


class OutboundClients:
    """The fake's outbound WebSocket configurations and their live sessions."""

    def __init__(self, fake: FakeAsterisk) -> None:
        self.fake = fake
        self.configs: list[OutboundWebsocket] = []

    def add(self, config: OutboundWebsocket) -> None:
        """Configure one connection; a persistent one starts connecting at once."""
        self.configs.append(config)
        if config.connection_type == PERSISTENT:
            self.fake.spawn(self._persistent(config), f"fake-outbound-{config.uri}")

    def per_call(self, app: str) -> OutboundWebsocket | None:
        """The per-call configuration serving ``app``, if any."""
        for config in self.configs:
            if config.connection_type == PER_CALL and app in config.apps:
                return config
        return None

    async def _persistent(self, config: OutboundWebsocket) -> None:
        session = OutboundSession(self.fake, config, config.apps)
        config.sessions.append(session)
        try:
            while not session.closing:
                if not await session.connect():
                    await asyncio.sleep(config.reconnect_interval / 1000)
                    continue
                session.register()
                await session.serve()
                session.unregister()
        finally:
            session.unregister()
            await session.finish()

    async def stasis(self, channel: FakeChannel, app: str, args: list[str], where: str) -> None:
        """``Stasis(app)`` through a per-call connection: enter, or fail to the dialplan.

        A socket lost mid-call is reconnected (``reconnect_attempts`` tries, events queued
        meanwhile); when that fails the call leaves Stasis with ``STASISSTATUS=FAILED`` and
        goes on in the dialplan, as ``stasis_app_control_mark_failed`` + continue do.
        """
        config = self.per_call(app)
        assert config is not None
        app_id = f"{app}:{channel.name}"
        session = OutboundSession(self.fake, config, [app_id], channel.id)
        config.sessions.append(session)
        if not await session.connect():
            await session.finish()
            self._fail(channel, where)
            return
        session.register()
        channel.dialplan_log.append(f"{where} -> entered as {app_id}")
        self.fake.enter_stasis(channel, app_id, args)
        channel.app_data = ",".join([app, *args])  # the dialplan's Stasis() data, as written
        try:
            while True:
                await session.serve()
                if session.closing or channel.destroyed or not channel.in_stasis:
                    break
                log.warning("%s: outbound websocket disconnected, reconnecting", app_id)
                if not await session.connect():
                    self._fail(channel, f"{where} (reconnect)")
                    break
                # session_update(): the events queued meanwhile go first, then (a
                # reconnection) ApplicationRegistered for the session's app.
                session.queue.put_nowait(self._registered(app_id))
        finally:
            session.unregister()
            await session.finish()

    def _registered(self, app_id: str) -> str:
        return json.dumps(
            {
                "type": "ApplicationRegistered",
                "application": app_id,
                "timestamp": timestamp(),
                "asterisk_id": self.fake.asterisk_id,
            }
        )

    def _fail(self, channel: FakeChannel, where: str) -> None:
        """``Stasis()`` returns failed: ``STASISSTATUS=FAILED``, on at the next priority."""
        if channel.in_stasis:
            if channel.bridge_id and channel.bridge_id in self.fake.bridges:
                self.fake.bridge_remove(self.fake.bridges[channel.bridge_id], channel)
            self.fake.leave_stasis(channel)
        channel.variables["STASISSTATUS"] = "FAILED"
        channel.dialplan_log.append(f"{where} -> FAILED (outbound websocket)")
        if not channel.destroyed:
            channel.priority += 1
            DialplanRunner(self.fake, channel).run()
