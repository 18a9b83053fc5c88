"""Connection guard of the dashboard: a connection limit and a header deadline.

aiohttp alone lets any number of idle connections stay open for an hour, so a client that
opens sockets and sends nothing can use up the process's file descriptors (and then calls
fail to get RTP ports). :class:`GuardedSite` serves the app like ``web.TCPSite``, and its
:class:`ConnectionGuard` (whose middleware the app runs first):

- refuses connections past ``max_connections`` (closed at once, counted);
- closes a connection whose request headers have not all arrived ``header_timeout``
  seconds after it opened or after its previous response (slow or silent clients);
- lets aiohttp close idle keep-alive connections after ``keepalive_timeout``
  (:data:`RUNNER_SETTINGS`).

Every closed or refused connection is counted in
``ari_app_dashboard_rejected_connections_total`` by reason. :func:`quiet_accept_errors`
keeps asyncio from logging "out of system resource" on every accept retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ari_app import counters

MAX_CONNECTIONS = 64
"""Dashboard connections open at once (a browser uses about six)."""
HEADER_TIMEOUT = 10.0
"""Seconds a connection has to deliver a request's headers."""
RUNNER_SETTINGS: dict[str, Any] = {"keepalive_timeout": 15.0, "max_field_size": 8190}
"""Keyword arguments for ``web.AppRunner``: idle keep-alive connections close after 15 s."""


class _Guarded(asyncio.Protocol):
    """Wraps aiohttp's protocol for one connection: admission and the header deadline."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.transport: asyncio.Transport | None = None
        self.admitted = False
        self.busy = False
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if len(self.guard.open) >= self.guard.max_connections:
            counters.DASHBOARD_REJECTED_CONNECTIONS.inc(reason="limit")
            transport.abort()
            return
        self.admitted = True
        self.guard.open[transport] = self
        self.inner.connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.guard.header_timeout, self._expire)

    def _expire(self) -> None:
        self._timer = None
        if self.busy or self.transport is None or self.transport.is_closing():
            return
        if self.transport.get_write_buffer_size() > 0:  # still sending a response
            self._arm()
            return
        counters.DASHBOARD_REJECTED_CONNECTIONS.inc(reason="header_timeout")
        self.transport.abort()

    def begin(self) -> None:
        """A request's headers arrived: no deadline while it is handled."""
        self.busy = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def end(self) -> None:
        """The request was handled: the next one's headers have a deadline again."""
        self.busy = False
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.admitted:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.admitted else None

    def pause_writing(self) -> None:
        if self.admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.admitted:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.admitted:
            return
        if self.transport is not None:
            self.guard.closed(self.transport)
        self.inner.connection_lost(exc)


class ConnectionGuard:
    """The connections of one dashboard: the limit, the deadline and who is open."""

    def __init__(
        self, max_connections: int = MAX_CONNECTIONS, header_timeout: float = HEADER_TIMEOUT
    ) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.open: dict[asyncio.BaseTransport, _Guarded] = {}
        self._closed = asyncio.Event()

    def closed(self, transport: asyncio.BaseTransport) -> None:
        """Forget a connection that ended."""
        self.open.pop(transport, None)
        self._closed.set()

    async def wait_open_below(self, count: int) -> None:
        """Return once fewer than ``count`` connections are open."""
        while len(self.open) >= count:
            self._closed.clear()
            await self._closed.wait()

    def middleware(self) -> Middleware:
        """Tells the guard when a request is being handled (the first middleware)."""

        @web.middleware
        async def track(request: web.Request, handler: Handler) -> web.StreamResponse:
            guard = self.open.get(request.transport) if request.transport else None
            if guard is not None:
                guard.begin()
            try:
                return await handler(request)
            finally:
                if guard is not None:
                    guard.end()

        return track


class GuardedSite(web.BaseSite):
    """Like ``web.TCPSite``, with the connections watched by ``guard``."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard):
        super().__init__(runner)
        self._host = host
        self._port = port
        self.guard = guard

    @property
    def name(self) -> str:
        """The URL served."""
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        """Listen on ``host:port``."""
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Guarded(server(), self.guard), self._host, self._port, backlog=128
        )


class _RateLimit(logging.Filter):
    """Lets one record of each message through per ``interval`` seconds."""

    def __init__(self, needle: str, interval: float = 60.0) -> None:
        super().__init__()
        self.needle = needle
        self.interval = interval
        self._last = -interval

    def filter(self, record: logging.LogRecord) -> bool:
        if self.needle not in str(record.msg):
            return True
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        return True


_ACCEPT_FILTER = _RateLimit("socket.accept() out of system resource")


def quiet_accept_errors() -> None:
    """Log asyncio's "accept() out of system resource" once a minute, not every second."""
    logger = logging.getLogger("asyncio")
    if _ACCEPT_FILTER not in logger.filters:
        logger.addFilter(_ACCEPT_FILTER)
