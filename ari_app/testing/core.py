"""The base of the fake Asterisk: state, ids, lifecycle, event delivery and waiting.

:class:`FakeCore` holds every table (channels, bridges, playbacks, recordings, endpoints,
Stasis applications), serves HTTP, runs the 20 ms media clock and delivers events to the
applications' WebSockets. Behaviour lives in the layers built on it (``bridges``,
``playback``, ``channels``, ``agents``, ``fake_asterisk``).

Like Asterisk, an application that lost its WebSocket stays registered (inactive) with
its channels and bridges; events for it are dropped until it connects again, and
``Stasis()`` for it fails. Work that Asterisk does on another thread after answering a
REST request (answering an externalMedia channel, ringing an originated one) is scheduled
with :meth:`FakeCore.after_response`, so its events come after the HTTP response.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import itertools
import json
import logging
import tempfile
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from ari_app.testing.dialplan import Dialplan, lab_dialplan
from ari_app.testing.media import RtpLeg, WsMediaLeg
from ari_app.testing.model import (
    FRAME_MS,
    AgentEndpoint,
    AppState,
    FakeBridge,
    FakeChannel,
    FakePlayback,
    FakeRecording,
    Json,
    timestamp,
)
from ari_app.testing.outbound import OutboundClients
from ari_app.testing.server import build_app

log = logging.getLogger(__name__)

DEFAULT_AGENTS = ("PJSIP/201", "PJSIP/202", "PJSIP/203", "PJSIP/301", "PJSIP/302")
LOG_SIZE = 10000
"""How many requests and events the fake remembers."""
KEEP_FINISHED = 200
"""How many hung-up channels (and their RTP legs) the fake keeps for inspection."""
_AFTER: contextvars.ContextVar[list[Callable[[], object]] | None] = contextvars.ContextVar(
    "fake_after_response", default=None
)
MEDIA_ANSWER_DELAY = 0.02
"""Seconds between the externalMedia response and the channel's answer and StasisStart
(Asterisk does it on the dialling thread a moment after it answered the request)."""


class FakeCore:
    """Tables, lifecycle, events. Subclasses add the ARI behaviour."""

    def __init__(
        self,
        *,
        username: str = "asterisk",
        password: str = "asterisk",
        recordings_dir: Path | None = None,
        sounds_dir: Path | None = None,
        agents: Iterable[str] = DEFAULT_AGENTS,
        media_host: str = "127.0.0.1",
        dialplan: Dialplan | None = None,
        media_answer_delay: float = MEDIA_ANSWER_DELAY,
        system_name: str = "",
        asterisk_id: str = "fa:ce:00:00:00:01",
    ) -> None:
        self.username = username
        self.password = password
        self.recordings_dir = recordings_dir or Path(tempfile.mkdtemp(prefix="fake-ari-rec-"))
        self.sounds_dir = sounds_dir
        self.media_host = media_host
        self.dialplan = dialplan if dialplan is not None else lab_dialplan()
        """The dialplan inbound calls run (see :mod:`ari_app.testing.dialplan`)."""
        self.line_extensions: set[tuple[str, str]] = set()
        """(context, DID) extensions ``place_call`` added for DIDs the dialplan lacks."""
        self.media_answer_delay = media_answer_delay
        self.hold_media_answers = False
        """When True, externalMedia channels stay ``Down`` (not in Stasis) until
        :meth:`release_media` — lets a test put requests between response and StasisStart."""
        self.asterisk_id = asterisk_id
        """The entity id every event carries (Asterisk: the EID, a MAC address)."""
        self.system_name = system_name
        """asterisk.conf ``systemname``: prefixes unique ids, so two Asterisks never clash."""
        self.channels: dict[str, FakeChannel] = {}
        self.bridges: dict[str, FakeBridge] = {}
        self.playbacks: dict[str, FakePlayback] = {}
        self.recordings: dict[str, FakeRecording] = {}
        self.endpoints: dict[str, AgentEndpoint] = {}
        for name in agents:
            tech, _, resource = name.partition("/")
            self.endpoints[name] = AgentEndpoint(tech, resource)
        self.trunk = AgentEndpoint("PJSIP", "trunk")
        self.apps: dict[str, AppState] = {}
        self.global_vars: dict[str, str] = {}
        self.request_log: deque[Json] = deque(maxlen=LOG_SIZE)
        """The latest ARI requests received (method, path, template, params, body, status)."""
        self.event_log: deque[Json] = deque(maxlen=LOG_SIZE)
        """The latest events emitted (also those dropped because the app was not connected)."""
        self.ws_media: dict[str, WsMediaLeg] = {}
        self.rtp_legs: dict[str, RtpLeg] = {}
        self.finished_channels: dict[str, FakeChannel] = {}
        """Channels that were hung up (kept so tests can read what they heard)."""
        self.started = time.time()
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writes: set[asyncio.Task[Any]] = set()
        self._changed: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.ticks = 0
        self.web_app = build_app(self)  # type: ignore[arg-type]
        self.outbound = OutboundClients(self)  # type: ignore[arg-type]
        """ARI outbound WebSocket configurations (see :mod:`ari_app.testing.outbound`)."""

    # --- lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ari_url(self) -> str:
        """ARI base URL, ``http://host:port/ari``."""
        return f"{self.url}/ari"

    @property
    def auth_header(self) -> str:
        """An ``Authorization`` header value for HTTP clients of the control API."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 = a free port) and start the 20 ms media clock.

        An instance starts once; after :meth:`stop` make a new one (e.g. to simulate an
        Asterisk restart on the same port).
        """
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(self.web_app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addresses = self._runner.addresses
        self.host = host
        self.port = int(addresses[0][1]) if addresses else port
        self._ticker = asyncio.create_task(self._run_clock(), name="fake-asterisk-clock")
        log.info("fake Asterisk listening on %s", self.url)

    async def stop(self) -> None:
        """Hang up everything, close sockets and stop serving."""
        self.shutdown_channels()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.drop_event_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def shutdown_channels(self) -> None:
        """Hang up every channel (Asterisk shutting down); the channel layer implements it."""

    def tick(self) -> None:
        """Advance the media by 20 ms; the media layer implements it."""

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as an owned task (cancelled on stop), outside any request."""
        context = contextvars.copy_context()
        context.run(_AFTER.set, None)
        task = asyncio.get_running_loop().create_task(coro, name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("fake Asterisk task %s failed", task.get_name(), exc_info=task.exception())

    def notify(self) -> None:
        """Wake everyone waiting in :meth:`wait_until`."""
        if self._changed is not None:
            self._changed.set()

    async def wait_until(self, predicate: Callable[[], bool], within: float | None = 5.0) -> None:
        """Wait until ``predicate()`` is true (checked on every state change and tick);
        ``TimeoutError`` after ``within`` seconds (None: no limit)."""
        async with asyncio.timeout(within):
            while not predicate():
                assert self._changed is not None
                self._changed.clear()
                await self._changed.wait()

    def new_id(self, seq: int | None = None) -> str:
        """A channel-style unique id, ``<epoch>.<n>`` (``<systemname>-<epoch>.<n>``)."""
        prefix = f"{self.system_name}-" if self.system_name else ""
        return f"{prefix}{int(self.started)}.{next(self._ids) if seq is None else seq}"

    def next_seq(self) -> int:
        """The next sequence number (channel names, ids)."""
        return next(self._ids)

    # --- after the response -----------------------------------------------------------

    def begin_request(self) -> None:
        """Start collecting work to run once the current REST response is sent (per task)."""
        _AFTER.set([])

    def end_request(self) -> list[Callable[[], object]]:
        """The work collected since :meth:`begin_request` (the server runs it)."""
        work = _AFTER.get() or []
        _AFTER.set(None)
        return work

    def after_response(self, work: Callable[[], object]) -> None:
        """Run ``work`` once the current REST response has been written (at once when the
        call does not come from a REST request, e.g. from the control API)."""
        pending = _AFTER.get()
        if pending is None:
            work()
        else:
            pending.append(work)

    # --- events ---------------------------------------------------------------------

    def app_registered(self, app: str) -> bool:
        """True when an events WebSocket is open for ``app`` (the app is active)."""
        state = self.apps.get(app)
        return bool(state and state.sockets)

    def emit(self, app: str | None, event_type: str, **payload: Any) -> None:
        """Send one event to ``app``'s WebSocket(s) (dropped when none is connected)."""
        if app is None:
            return
        message: Json = {
            "type": event_type,
            "timestamp": timestamp(),
            **payload,
            "asterisk_id": self.asterisk_id,
            "application": app,
        }
        self.event_log.append(message)
        state = self.apps.get(app)
        if state is None:
            return
        text = json.dumps(message)
        for queue in state.sockets:
            queue.put_nowait(text)
        self.notify()

    def emit_subscribed(self, source: str, event_type: str, **payload: Any) -> None:
        """Send an event to every app subscribed to ``source`` (e.g. ``deviceState:PJSIP/201``)."""
        scheme, _, name = source.partition(":")
        for state in self.apps.values():
            tech_source = f"{scheme}:{name.split('/')[0]}"
            subs = state.subscriptions
            if state.subscribe_all or source in subs or tech_source in subs:
                self.emit(state.name, event_type, **payload)

    async def inject_raw_event(self, app: str, text: str) -> None:
        """Send an arbitrary text message on ``app``'s events socket (malformed-event tests)."""
        state = self.apps.get(app)
        if state is not None:
            for queue in state.sockets:
                queue.put_nowait(text)

    async def drop_event_sockets(self) -> None:
        """Close every events WebSocket, as a network failure or a killed app would.

        The applications stay registered (inactive), with their channels and bridges.
        """
        for state in self.apps.values():
            for queue in state.sockets:
                queue.put_nowait(None)
        await asyncio.sleep(0)

    # --- the media clock --------------------------------------------------------------

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += FRAME_MS / 1000
            delay = due - loop.time()
            if delay < -0.2:
                due = loop.time()
                delay = 0
            await asyncio.sleep(max(0.0, delay))
            try:
                self.tick()
            except Exception:
                log.exception("fake Asterisk media tick failed")
            self.ticks += 1
            self.notify()
