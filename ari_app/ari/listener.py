"""The events WebSocket with reconnect: an explicit state machine around ``/ari/events``.

:class:`EventListener` connects, parses each message into a typed event and hands it to a
callback (or its queue). When the socket drops it backs off (capped, jittered), logs the
first failure as a warning and later ones at debug, reconnects, and then lists the channels
still in our Stasis app and hands them to ``on_recovered`` so no call is orphaned.
``sleep`` and ``rand`` are injectable so tests drive time.

No frame ends the listener: a malformed one (too big, too deep, not JSON, ``Infinity``,
an invalid shape) and an event whose handler raises are counted in
:mod:`ari_app.counters` (by reason and event type) and logged once per kind, then at most
once a minute per kind with the number suppressed meanwhile.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp

from ari_app import counters
from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError
from ari_app.ari.events import (
    KNOWN_EVENTS,
    MAX_FRAME_BYTES,
    AriEvent,
    MalformedEvent,
    parse_envelope,
    parse_event,
)
from ari_app.ari.models import Channel
from ari_app.ari.reconnect import Backoff, ConnState

log = logging.getLogger(__name__)

EventCallback = Callable[[AriEvent], Awaitable[None] | None]
RecoveredCallback = Callable[[list[Channel]], Awaitable[None] | None]
SleepFn = Callable[[float], Awaitable[None]]

LOG_INTERVAL = 60.0
"""Seconds between two log lines about the same kind of bad frame or failing handler."""


def type_label(event_type: str) -> str:
    """A bounded label for an event type an impostor may have chosen."""
    if not event_type:
        return "unknown"
    return event_type if event_type in KNOWN_EVENTS else "other"


class KindLog:
    """Logs the first occurrence of each kind, then at most once per ``interval`` per kind."""

    def __init__(self, interval: float = LOG_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}

    def should_log(self, kind: tuple[str, str]) -> int | None:
        """None to stay quiet; else how many of this kind were suppressed since the last line."""
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return None
        if len(self._last) > 1000:
            self._last.clear()
        self._last[kind] = now
        return self._suppressed.pop(kind, 0)


@dataclass(slots=True)
class EventStats:
    """Counters of the events connection."""

    received: int = 0
    malformed: int = 0
    unknown: int = 0
    handler_errors: int = 0
    connects: int = 0
    failures: int = 0


class EventListener:
    """Keeps the events WebSocket of ``client.app`` open and dispatches typed events."""

    def __init__(
        self,
        client: AriClient,
        on_event: EventCallback | None = None,
        *,
        on_recovered: RecoveredCallback | None = None,
        backoff: Backoff | None = None,
        sleep: SleepFn = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        subscribe_all: bool = False,
        heartbeat: float = 10.0,
        recover_on_first_connect: bool = False,
    ) -> None:
        self.client = client
        self.on_event = on_event
        self.on_recovered = on_recovered
        self.backoff = backoff or Backoff()
        self.subscribe_all = subscribe_all
        self.heartbeat = heartbeat
        self.recover_on_first_connect = recover_on_first_connect
        self.stats = EventStats()
        self.subscriptions: set[str] = set()
        self.state = ConnState.IDLE
        self.connected = asyncio.Event()
        self.queue: asyncio.Queue[AriEvent] = asyncio.Queue()
        self._sleep = sleep
        self._rand = rand
        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._state_listeners: list[Callable[[ConnState], None]] = []
        self.kind_log = KindLog()

    def is_stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self.state is ConnState.STOPPED

    def on_state(self, listener: Callable[[ConnState], None]) -> None:
        """Call ``listener`` on every state change."""
        self._state_listeners.append(listener)

    def _set_state(self, state: ConnState) -> None:
        if state is self.state:
            return
        self.state = state
        if state is ConnState.CONNECTED:
            self.connected.set()
        else:
            self.connected.clear()
        for listener in self._state_listeners:
            listener(state)

    async def start(self) -> None:
        """Start the connection task (returns at once; await ``connected`` to wait)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"ari-events-{self.client.app}")

    async def stop(self) -> None:
        """Close the socket, cancel any backoff timer and end the task."""
        self._set_state(ConnState.STOPPED)
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                if not self._task.cancelled():
                    raise
            self._task = None

    async def drop(self) -> None:
        """Close the current socket as if the network dropped it (it will reconnect)."""
        if self._ws is not None:
            await self._ws.close()

    def __aiter__(self) -> AsyncIterator[AriEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[AriEvent]:
        while True:
            yield await self.queue.get()

    async def _run(self) -> None:
        failures = 0
        ever_connected = False
        while not self.is_stopped():
            self._set_state(ConnState.CONNECTING)
            try:
                async with asyncio.timeout(self.client.timeout):
                    ws = await self._connect()
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                failures += 1
                self.stats.failures += 1
                self._log_failure(failures, f"cannot connect: {exc!r}")
                await self._back_off(failures)
                continue
            except Exception:
                # A bug or an unexpected library error must not end the listener for good.
                failures += 1
                self.stats.failures += 1
                log.exception("unexpected error connecting the ARI events WebSocket")
                await self._back_off(failures)
                continue
            self._ws = ws
            self.stats.connects += 1
            recovering = ever_connected or failures > 0 or self.recover_on_first_connect
            if ever_connected:
                counters.ARI_RECONNECTS.inc()
            if failures or ever_connected:
                log.info("ARI events connected again after %d failed attempt(s)", failures)
            failures = 0
            ever_connected = True
            if recovering:
                await self._resubscribe()
                await self._recover()
            self._set_state(ConnState.CONNECTED)
            try:
                await self._read(ws)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Whatever the socket or a frame did, the listener carries on.
                log.exception("unexpected error reading the ARI events WebSocket")
            self._ws = None
            if self.is_stopped():
                break
            failures = 1
            self.stats.failures += 1
            self._log_failure(failures, "connection closed")
            await self._back_off(failures)
        self._set_state(ConnState.STOPPED)

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        return await self.client.session.ws_connect(
            self.client.events_url,
            params={
                "app": self.client.app,
                "subscribeAll": "true" if self.subscribe_all else "false",
            },
            headers=self.client.auth_headers,
            heartbeat=self.heartbeat,
            max_msg_size=4 * MAX_FRAME_BYTES,
            timeout=aiohttp.ClientWSTimeout(ws_close=self.client.timeout),
        )

    async def subscribe(self, event_sources: Sequence[str]) -> None:
        """Subscribe our app to ``event_sources`` (e.g. ``deviceState:PJSIP/201``), again
        after every reconnect."""
        await self.client.subscribe(event_sources)
        self.subscriptions.update(event_sources)

    async def _resubscribe(self) -> None:
        if not self.subscriptions:
            return
        try:
            await self.client.subscribe(sorted(self.subscriptions))
        except (AriError, ValueError, TypeError, AttributeError) as exc:  # odd answers too
            log.warning("could not re-subscribe %s after reconnect: %s", self.client.app, exc)

    def _log_failure(self, failures: int, what: str) -> None:
        if failures == 1:
            log.warning("ARI events WebSocket %s; reconnecting with backoff", what)
        else:
            log.debug("ARI events WebSocket %s (attempt %d)", what, failures)

    async def _back_off(self, failures: int) -> None:
        if self.is_stopped():
            return
        self._set_state(ConnState.BACKOFF)
        await self._sleep(self.backoff.delay(failures, self._rand()))

    async def _recover(self) -> None:
        try:
            channels = await self.client.channels_in_app()
        except (AriError, ValueError, TypeError, AttributeError) as exc:
            log.warning("could not list channels after reconnect: %s", exc)
            return
        log.info("%d channel(s) still in app %s after reconnect", len(channels), self.client.app)
        if self.on_recovered is None:
            return
        try:
            result = self.on_recovered(channels)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats.handler_errors += 1
            log.exception("the recovery callback failed; events keep flowing")

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                await self.dispatch(msg.data)
            elif msg.type is aiohttp.WSMsgType.BINARY:
                self._malformed(MalformedEvent("binary message", "binary"))
            else:
                if msg.type is aiohttp.WSMsgType.ERROR:
                    self._malformed(MalformedEvent(f"WebSocket error: {msg.data!r}", "websocket"))
                break

    def _malformed(self, exc: MalformedEvent) -> None:
        self.stats.malformed += 1
        label = type_label(exc.event_type)
        counters.ARI_MALFORMED_EVENTS.inc(reason=exc.reason, type=label)
        suppressed = self.kind_log.should_log((exc.reason, label))
        if suppressed is not None:
            log.warning(
                "malformed ARI event skipped (%s, type %s; %d so far, %d not logged): %s",
                exc.reason,
                exc.event_type[:64] or "unknown",
                self.stats.malformed,
                suppressed,
                str(exc)[:200],
            )

    async def dispatch(self, text: str | bytes) -> None:
        """Parse one message and hand the typed event on; bad ones are counted and skipped.

        Never raises (except cancellation): whatever the frame, the next one is read.
        """
        self.stats.received += 1
        try:
            event = parse_event(parse_envelope(text))
        except MalformedEvent as exc:
            self._malformed(exc)
            return
        except Exception as exc:  # a parser bug must not end the listener either
            self._malformed(MalformedEvent(f"parser error {exc!r}", "parser_error"))
            return
        if event is None:
            self.stats.unknown += 1
            log.debug("ARI event of unmodelled type ignored")
            return
        if self.on_event is None:
            self.queue.put_nowait(event)
            return
        try:
            result = self.on_event(event)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats.handler_errors += 1
            label = type_label(event.type)
            counters.ARI_HANDLER_ERRORS.inc(type=label)
            suppressed = self.kind_log.should_log(("handler", label))
            if suppressed is not None:
                log.exception(
                    "ARI event handler failed on %s (%d not logged since the last)",
                    event.type,
                    suppressed,
                )
