"""ARI outbound WebSockets: Asterisk 22 (``res_websocket_client``) connects to us.

With ``ari.conf`` ``type = outbound_websocket`` Asterisk is the WebSocket *client*: it
opens ``websocket_client.conf``'s ``uri`` with sub-protocol ``ari`` (``protocols = ari``)
and HTTP basic auth from its ``username``/``password``. ``per_call_config`` connections
open at ``Stasis()`` time, one per call, and carry that call's events under the
application ``<app>:<channel name>``; ``persistent`` ones open at start-up for the listed
apps. REST requests travel over the same socket: we send ``RESTRequest`` (``request_id``,
``transaction_id``, ``method``, ``uri`` relative to ``/ari`` without a leading slash,
``query_strings`` as ``[{"name", "value"}]``, ``content_type`` + ``message_body``) and
Asterisk answers ``RESTResponse`` with the same ids, ``status_code``, ``reason_phrase``
and the body in ``message_body`` (res/ari/ari_websocket_requests.c).

:class:`OutboundServer` accepts those sockets (credentials and sub-protocol checked);
each becomes an :class:`OutboundConnection`, a :class:`~ari_app.ari.client.RestTransport`
for :class:`~ari_app.ari.client.AriClient` whose events reach the callback the caller
gives for it, through :meth:`EventListener.dispatch` (same parser, counters, bad-frame
handling as the inbound mode). Events are dispatched by their own task, so a handler
may await REST requests on the very socket its event came from.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import hmac
import inspect
import itertools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from ari_app.ari.client import AriClient, _error_message
from ari_app.ari.errors import (
    AriConnectionError,
    AriError,
    AriTimeout,
    NotFound,
    http_error,
)
from ari_app.ari.events import (
    ApplicationRegistered,
    AriEvent,
    MalformedEvent,
    StasisEnd,
    StasisStart,
    decode_frame,
)
from ari_app.ari.listener import EventCallback, EventListener, RecoveredCallback
from ari_app.ari.models import Channel
from ari_app.ari.reconnect import ConnState

log = logging.getLogger(__name__)

PROTOCOL = "ari"
"""The WebSocket sub-protocol Asterisk's ``protocols = ari`` asks for."""

ConnectionCallback = Callable[["OutboundConnection"], Awaitable[EventCallback | None]]
"""Called for each new connection; returns the callback for that connection's events."""


class OutboundConnection:
    """One WebSocket Asterisk opened to us: events in, REST over the socket out."""

    def __init__(self, ws: web.WebSocketResponse, remote: str) -> None:
        self.ws = ws
        self.remote = remote
        self.application = ""
        """The application of the first event (per call: ``<app>:<channel name>``)."""
        self.asterisk_id = ""
        """The ``asterisk_id`` of the first message (every event and RESTResponse has it)."""
        self.first_event = asyncio.Event()
        self.closed = asyncio.Event()
        self.listener = EventListener(AriClient("outbound:", "", "", "", transport=self))
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[str | None] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:12]

    def client(self, app: str | None = None, *, timeout: float = 10.0) -> AriClient:
        """An :class:`AriClient` whose requests go over this socket (``app`` defaults to
        :attr:`application`)."""
        return AriClient(
            "outbound:", "", "", app or self.application, timeout=timeout, transport=self
        )

    async def send(  # noqa: PLR0917
        self,
        method: str,
        path: str,
        template: str,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None,
        wait_s: float,
    ) -> bytes:
        """Send one ``RESTRequest`` and wait for its ``RESTResponse`` (typed errors)."""
        if self.ws.closed:
            raise AriConnectionError(f"{method} {path}: the outbound WebSocket is closed")
        request_id = f"{self._prefix}-{next(self._ids)}"
        message: dict[str, Any] = {
            "type": "RESTRequest",
            "transaction_id": request_id,
            "request_id": request_id,
            "method": method,
            "uri": path.lstrip("/"),
        }
        if params:
            message["query_strings"] = [{"name": k, "value": v} for k, v in params.items()]
        if body:
            message["content_type"] = "application/json"
            message["message_body"] = json.dumps(body)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self.ws.send_str(json.dumps(message))
            async with asyncio.timeout(wait_s):
                response = await future
        except TimeoutError:
            raise AriTimeout(f"{method} {path}: no answer within {wait_s} s") from None
        except (ConnectionError, RuntimeError) as exc:
            raise AriConnectionError(f"{method} {path}: {exc}") from exc
        finally:
            self._pending.pop(request_id, None)
        status = response.get("status_code")
        text = response.get("message_body")
        data = text.encode() if isinstance(text, str) else b""
        if not isinstance(status, int):
            raise AriConnectionError(f"{method} {path}: RESTResponse without a status_code")
        if status >= 400:
            message_text = _error_message(data) or str(response.get("reason_phrase", ""))
            raise http_error(status, method, path, template, message_text)
        return data

    def _take_response(self, raw: dict[str, Any]) -> None:
        future = self._pending.get(str(raw.get("request_id", "")))
        if future is None:
            log.warning("RESTResponse for no pending request (%s)", raw.get("reason_phrase"))
        elif not future.done():
            future.set_result(raw)

    async def _dispatch_events(self) -> None:
        while (text := await self._events.get()) is not None:
            await self.listener.dispatch(text)

    async def serve(self, on_event: EventCallback | None) -> None:
        """Read until the socket closes: responses to their requests, events to ``on_event``."""
        self.listener.on_event = on_event
        dispatcher = asyncio.create_task(self._dispatch_events(), name="ari-outbound-events")
        try:
            async for msg in self.ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                self._route(msg.data)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(AriConnectionError("the outbound WebSocket closed"))
            self._events.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher
            self.closed.set()

    def _route(self, text: str) -> None:
        try:
            raw = decode_frame(text)
        except MalformedEvent:
            raw = None  # the listener counts and logs it
        if isinstance(raw, dict) and not self.asterisk_id:
            self.asterisk_id = str(raw.get("asterisk_id") or "")
        if isinstance(raw, dict) and raw.get("type") == "RESTResponse":
            self._take_response(raw)
            return
        if isinstance(raw, dict) and not self.first_event.is_set():
            self.application = str(raw.get("application", ""))
            self.first_event.set()
        self._events.put_nowait(text)


def _credentials_ok(header: str, username: str, password: str) -> bool:
    if not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:], validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(decoded, f"{username}:{password}".encode())


class OutboundServer:
    """Listens for Asterisk's outbound ARI WebSockets on ``host:port`` at ``path``."""

    def __init__(  # noqa: PLR0917
        self,
        username: str,
        password: str,
        on_connection: ConnectionCallback,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/",
    ) -> None:
        self.username = username
        self.password = password
        self.on_connection = on_connection
        self.host = host
        self.port = port
        self.path = path
        self.connections: set[OutboundConnection] = set()
        self.refused = 0
        """Handshakes refused (bad credentials or sub-protocol)."""
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The ``ws://`` URL to put in websocket_client.conf's ``uri``."""
        return f"ws://{self.host}:{self.port}{self.path}"

    async def start(self) -> None:
        """Listen (port 0 picks a free port, then :attr:`port` tells which)."""
        app = web.Application()
        app.router.add_get(self.path, self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("ARI outbound WebSocket endpoint on %s", self.url)

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        for conn in list(self.connections):
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if not _credentials_ok(header, self.username, self.password):
            self.refused += 1
            log.warning("outbound ARI WebSocket from %s refused: bad credentials", request.remote)
            return web.json_response(
                {"message": "Authentication required"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="ari-app"'},
            )
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if PROTOCOL not in offered:
            self.refused += 1
            log.warning("outbound ARI WebSocket from %s refused: no 'ari' protocol", request.remote)
            return web.json_response({"message": "sub-protocol 'ari' required"}, status=400)
        ws = web.WebSocketResponse(protocols=(PROTOCOL,), heartbeat=None)
        await ws.prepare(request)
        conn = OutboundConnection(ws, str(request.remote))
        self.connections.add(conn)
        try:
            on_event = await self.on_connection(conn)
            await conn.serve(on_event)
        finally:
            self.connections.discard(conn)
        return ws


class Route:
    """The REST path to some calls: one Asterisk's persistent socket (whichever of its
    connections is the latest open one), or one call's per-call socket and its reconnections.

    A call's session keeps :attr:`client` for its whole life, so its requests always reach
    the Asterisk that holds its channels, even with several Asterisks connected to us.
    """

    def __init__(self, app: str, timeout: float = 10.0, reconnect_wait_s: float = 10.0) -> None:
        self.conns: list[OutboundConnection] = []
        self.client = AriClient("outbound:", "", "", app, timeout=timeout, transport=self)
        self.ended = False
        """Per call: the call's StasisEnd went out (the route goes once its socket closes)."""
        self.reconnect_wait_s = reconnect_wait_s
        """How long a request waits for Asterisk to reconnect a lost socket (Asterisk tries
        ``reconnect_attempts`` times, ``reconnect_interval`` apart)."""
        self._attached = asyncio.Event()

    def attach(self, conn: OutboundConnection) -> None:
        """``conn`` carries this route's traffic from now on."""
        if not self.conns or self.conns[-1] is not conn:
            self.conns = [c for c in self.conns if not c.ws.closed and c is not conn] + [conn]
        self._attached.set()

    @property
    def live(self) -> bool:
        """A socket of this route is open."""
        return any(not c.ws.closed for c in self.conns)

    def _open(self) -> OutboundConnection | None:
        return next((c for c in reversed(self.conns) if not c.ws.closed), None)

    async def _reconnected(self) -> OutboundConnection | None:
        """An open socket, waiting up to :attr:`reconnect_wait_s` for one (not once the
        call has ended: Asterisk closed its socket for good)."""
        conn = self._open()
        if conn is not None or self.ended:
            return conn
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.reconnect_wait_s):
                while (conn := self._open()) is None and not self.ended:
                    self._attached.clear()
                    await self._attached.wait()
        return conn

    async def send(  # noqa: PLR0917
        self,
        method: str,
        path: str,
        template: str,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None,
        wait_s: float,
    ) -> bytes:
        """Send over the route's latest open socket.

        A socket lost before or during the request is waited for (Asterisk reconnects it)
        and the request is sent once more over the new one; :class:`AriConnectionError`
        when none comes back.
        """
        for attempt in range(2):
            conn = await self._reconnected()
            if conn is None:
                break
            try:
                return await conn.send(method, path, template, params, body, wait_s)
            except AriConnectionError:
                if attempt or not conn.ws.closed:
                    raise
                log.warning("%s %s: the outbound WebSocket closed; sending again", method, path)
        raise AriConnectionError(f"{method} {path}: the call's outbound WebSocket is closed")


RoutedEventCallback = Callable[[AriEvent, AriClient], Awaitable[None]]
"""Gets each event with the client of the route it came on (see :class:`Route`)."""
RoutedRecoveredCallback = Callable[[list[Channel], AriClient], Awaitable[None]]
"""Gets the channels found after a (re)connection with the client of that route."""


class OutboundLink:
    """Asterisk's outbound sockets as routes (:class:`Route`), plus one :attr:`client`.

    - A **persistent** socket (its events name the app itself) joins the route of its
      Asterisk (by ``asterisk_id``); after each (re)connection the channels still in the app
      are listed and handed to ``on_recovered``, as :class:`EventListener` does after a
      reconnect. Whether a new socket is persistent is asked at once
      (``GET applications/<app>``: 404 for a per-call socket, whose app is not registered).
    - A **per-call** socket (events of ``<app>:<channel name>``) is a route of its own; when
      its first event is not the call's StasisStart, Asterisk reconnected a call that was
      in progress (perhaps on another worker, through a load balancer): its channels
      (``GET applications/<app>:<channel name>``) are handed to ``on_recovered``.

    With ``on_routed``/``on_routed_recovered`` set, events and recoveries come with their
    route's client; otherwise ``on_event``/``on_recovered`` get them alone. :attr:`client`
    sends over any open socket (the latest first): fine with one Asterisk, which runs a
    ``RESTRequest`` the same whichever socket carries it.

    Pass :meth:`on_connection` to :class:`OutboundServer`.
    """

    def __init__(
        self,
        app: str,
        on_event: EventCallback,
        *,
        on_recovered: RecoveredCallback | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.app = app
        self.on_event = on_event
        self.on_recovered = on_recovered
        self.on_routed: RoutedEventCallback | None = None
        self.on_routed_recovered: RoutedRecoveredCallback | None = None
        self.timeout = timeout
        self.client = AriClient("outbound:", "", "", app, timeout=timeout, transport=self)
        self.current: OutboundConnection | None = None
        """The latest connection; requests use it, or another one still open."""
        self.open: list[OutboundConnection] = []
        self.connects = 0
        self.connected = asyncio.Event()
        self.asterisks: dict[str, Route] = {}
        """Persistent routes by ``asterisk_id``."""
        self.calls: dict[tuple[str, str], Route] = {}
        """Per-call routes by ``asterisk_id`` and application (``<app>:<channel name>``)."""
        self.adopted = 0
        """Per-call sockets that arrived mid-call (a reconnection) and were recovered."""
        self._first: set[OutboundConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_connection(self, conn: OutboundConnection) -> EventCallback:
        """Adopt ``conn`` as the live connection (recovery runs once it is being read)."""
        self.current = conn
        self.open = [c for c in self.open if not c.ws.closed] + [conn]
        self.connects += 1
        self.connected.set()
        self._first.add(conn)
        task = asyncio.create_task(self._recover(conn), name="ari-outbound-recover")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return functools.partial(self._event, conn)

    def is_per_call(self, application: str) -> bool:
        """True for a per-call socket's application (``<app>:<channel name>``)."""
        return application.startswith(f"{self.app}:")

    def route_for(self, conn: OutboundConnection, application: str) -> Route:
        """The route ``conn`` belongs to, given an application it carries."""
        if self.is_per_call(application):
            # Two Asterisks may both have a PJSIP/alice-00000001: their ids tell them apart.
            key = (conn.asterisk_id, application)
            route = self.calls.get(key)
            if route is None:
                for old in [k for k, r in self.calls.items() if r.ended and not r.live]:
                    del self.calls[old]
                route = self.calls[key] = Route(application, self.timeout)
        else:
            route = self.asterisks.get(conn.asterisk_id)
            if route is None:
                route = self.asterisks[conn.asterisk_id] = Route(self.app, self.timeout)
        route.attach(conn)
        return route

    async def _event(self, conn: OutboundConnection, event: AriEvent) -> None:
        application = event.envelope.application
        route = self.route_for(conn, application)
        first = conn in self._first
        self._first.discard(conn)
        if self.is_per_call(application):
            # A reconnection: the events queued meanwhile come first, then
            # ApplicationRegistered; a first connection starts with StasisStart.
            if first and not isinstance(event, StasisStart):
                await self._adopt(route, application)
            elif isinstance(event, StasisEnd) and application.endswith(f":{event.channel.name}"):
                route.ended = True
        if isinstance(event, ApplicationRegistered):
            return  # (persistent: the recovery after each connection covers it)
        if self.on_routed is not None:
            await self.on_routed(event, route.client)
        else:
            result = self.on_event(event)
            if inspect.isawaitable(result):
                await result

    async def send(  # noqa: PLR0917
        self,
        method: str,
        path: str,
        template: str,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None,
        wait_s: float,
    ) -> bytes:
        """Send over the live connection; :class:`AriConnectionError` when none is open."""
        conn = self.current
        if conn is None or conn.ws.closed:
            # Asterisk runs a RESTRequest the same whichever socket carries it
            # (ast_ari_invoke as the local ARI user), so any open one will do.
            conn = next((c for c in reversed(self.open) if not c.ws.closed), None)
        if conn is None:
            raise AriConnectionError(f"{method} {path}: Asterisk has no outbound socket open")
        return await conn.send(method, path, template, params, body, wait_s)

    async def _recover(self, conn: OutboundConnection) -> None:
        """A persistent socket: list what is in the app (a per-call one answers 404)."""
        probe = conn.client(self.app, timeout=self.timeout)
        try:
            await probe.get_application(self.app)
            channels = await probe.channels_in_app()
        except NotFound:
            return  # the app is not registered: a per-call socket
        except AriError as exc:
            log.warning("could not list channels after an outbound connection: %s", exc)
            return
        route = self.route_for(conn, self.app)
        await self._recovered(channels, route)

    async def _adopt(self, route: Route, application: str) -> None:
        """A per-call socket reconnected mid-call: hand over the channels of its app."""
        log.warning("%s: its outbound WebSocket reconnected here mid-call", application)
        self.adopted += 1
        try:
            app = await route.client.get_application(application)
            ids = set(app.channel_ids)
            channels = [c for c in await route.client.list_channels() if c.id in ids]
        except AriError as exc:
            log.warning("%s: could not list its channels: %s", application, exc)
            return
        await self._recovered(channels, route)

    async def _recovered(self, channels: list[Channel], route: Route) -> None:
        try:
            if self.on_routed_recovered is not None:
                await self.on_routed_recovered(channels, route.client)
            elif self.on_recovered is not None:
                result = self.on_recovered(channels)
                if inspect.isawaitable(result):
                    await result
        except Exception:
            log.exception("the recovery callback failed; events keep flowing")

    async def close(self) -> None:
        """Stop pending recoveries."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class OutboundEvents:
    """What the runtime needs of :class:`EventListener`, in outbound mode: ``start``,
    ``stop``, ``state``, ``connected``, ``on_event``/``on_recovered``, plus :attr:`client`
    (one :class:`AriClient` over the sockets, see :class:`OutboundLink`)."""

    def __init__(  # noqa: PLR0917
        self,
        app: str,
        username: str,
        password: str,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/",
        *,
        timeout: float = 10.0,
    ) -> None:
        self.on_event: EventCallback | None = None
        self.on_recovered: RecoveredCallback | None = None
        self.link = OutboundLink(app, self._event, on_recovered=self._recovered, timeout=timeout)
        self.server = OutboundServer(username, password, self.link.on_connection, host, port, path)
        self._state = ConnState.IDLE

    @property
    def client(self) -> AriClient:
        """The REST client over Asterisk's outbound sockets."""
        return self.link.client

    @property
    def connected(self) -> asyncio.Event:
        """Set once Asterisk has connected."""
        return self.link.connected

    @property
    def state(self) -> ConnState:
        """``connected`` while a socket is open, ``connecting`` while waiting for one."""
        if self._state is not ConnState.CONNECTING:
            return self._state
        alive = any(not c.ws.closed for c in self.server.connections)
        return ConnState.CONNECTED if alive else ConnState.CONNECTING

    async def start(self) -> None:
        """Listen for Asterisk."""
        await self.server.start()
        self._state = ConnState.CONNECTING

    async def stop(self) -> None:
        """Close the sockets and stop listening."""
        self._state = ConnState.STOPPED
        await self.link.close()
        await self.server.stop()

    async def _event(self, event: AriEvent) -> None:
        if self.on_event is not None:
            result = self.on_event(event)
            if inspect.isawaitable(result):
                await result

    async def _recovered(self, channels: list[Channel]) -> None:
        if self.on_recovered is not None:
            result = self.on_recovered(channels)
            if inspect.isawaitable(result):
                await result
