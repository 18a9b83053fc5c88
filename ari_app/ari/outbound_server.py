"""ARI outbound WebSockets, the accepting side: Asterisk 22 (``res_websocket_client``)
connects to us.

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
may await REST requests on the very socket its event came from. Which call or Asterisk
a socket serves is :mod:`ari_app.ari.outbound`'s business.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import itertools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriConnectionError, AriTimeout, http_error
from ari_app.ari.events import MalformedEvent, decode_frame
from ari_app.ari.listener import EventCallback, EventListener
from ari_app.ari.rest_base import _error_message

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
