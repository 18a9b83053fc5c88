"""ARI outbound WebSockets, the routing side: which socket carries each call's requests
and events.

Asterisk's outbound sockets (accepted by :mod:`ari_app.ari.outbound_server`) are either
persistent (one Asterisk, the events of the app) or per call (``<app>:<channel name>``).
:class:`Route` sends a call's or an Asterisk's requests over its latest open socket,
:class:`OutboundLink` sorts sockets and their events into routes and recovers the calls
of a (re)connected one, and :class:`OutboundEvents` is what the runtime uses in place of
:class:`~ari_app.ari.listener.EventListener` in outbound mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriConnectionError, AriError, NotFound
from ari_app.ari.events import ApplicationRegistered, AriEvent, StasisEnd, StasisStart
from ari_app.ari.listener import EventCallback, RecoveredCallback
from ari_app.ari.models import Channel
from ari_app.ari.outbound_server import OutboundConnection, OutboundServer
from ari_app.ari.reconnect import ConnState

__all__ = [
    "OutboundConnection",
    "OutboundEvents",
    "OutboundLink",
    "OutboundServer",
    "Route",
    "RoutedEventCallback",
    "RoutedRecoveredCallback",
]

log = logging.getLogger(__name__)


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
