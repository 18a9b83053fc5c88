"""A fake Asterisk 22 on aiohttp: ARI REST + events WebSocket + real RTP, for tests and demos.

:class:`FakeAsterisk` holds the PBX state and behaves like Asterisk at the network
boundary: it places simulated inbound calls into a Stasis application, emits the events
Asterisk emits in Asterisk's order, rings agent endpoints that answer, ring out, are busy
or offline, mixes bridges every 20 ms, exchanges real RTP or chan_websocket media with
externalMedia channels, plays sound files and records to real WAV files. Its control API
(:meth:`FakeAsterisk.place_call` and :class:`FakeCall`, also over HTTP under ``/fake``)
lets a test or the demo be the caller.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from ari_app.media.codecs import resample
from ari_app.testing import audio
from ari_app.testing.media import RtpLeg
from ari_app.testing.mixer import tick
from ari_app.testing.model import (
    CAUSE_TEXT,
    FRAME_BYTES,
    FRAME_MS,
    RATE,
    AgentEndpoint,
    AppState,
    Behaviour,
    ChannelKind,
    FakeBridge,
    FakeChannel,
    FakeError,
    FakePlayback,
    FakeRecording,
    Json,
    timestamp,
)
from ari_app.testing.server import build_app

log = logging.getLogger(__name__)

DEFAULT_AGENTS = ("PJSIP/201", "PJSIP/202", "PJSIP/203", "PJSIP/301", "PJSIP/302")
SILENCE_RMS = 300.0
"""Below this level a recorded frame counts as silence (maxSilenceSeconds)."""
LOG_SIZE = 10000
"""How many requests and events the fake remembers."""
KEEP_FINISHED = 200
"""How many hung-up channels (and their RTP legs) the fake keeps for inspection."""
RECORD_FORMATS = {"wav": 8000, "wav16": 16000}
"""Record formats the fake supports: name -> sample rate in Hertz (file suffix = name)."""


class FakeCall:
    """The caller's side of one simulated inbound call."""

    def __init__(self, fake: FakeAsterisk, channel: FakeChannel) -> None:
        self.fake = fake
        self.channel = channel

    @property
    def channel_id(self) -> str:
        """The ARI channel id of the caller's channel."""
        return self.channel.id

    @property
    def state(self) -> str:
        """The channel's state (``Ring``, ``Up``) or ``Gone`` once destroyed."""
        return "Gone" if self.channel.destroyed else self.channel.state

    async def send_audio(self, pcm: bytes, rate: int = RATE) -> None:
        """Speak: queue PCM (16-bit little-endian at ``rate``); the fake plays it at real time."""
        self.fake.send_audio(self.channel.id, pcm, rate)

    async def send_dtmf(self, digits: str) -> None:
        """Press keys (each gives a ChannelDtmfReceived event)."""
        self.fake.press_dtmf(self.channel.id, digits)

    async def hangup(self, cause: int = 16) -> None:
        """Hang up from the caller's side."""
        await self.fake.hangup_from_party(self.channel.id, cause)

    def heard(self, rate: int = RATE, *, clear: bool = False) -> bytes:
        """What the caller heard so far, as PCM at ``rate``."""
        return self.fake.heard(self.channel.id, rate, clear=clear)

    async def wait_state(self, state: str, within: float = 5.0) -> None:
        """Wait until the channel reaches ``state`` (``Up`` or ``Gone``)."""
        await self.fake.wait_until(lambda: self.state == state, within)

    async def wait_heard_speech(
        self, ms: int = 200, level: float = SILENCE_RMS, within: float = 5.0
    ) -> None:
        """Wait until the caller has heard ``ms`` of audio louder than ``level``."""

        def loud() -> bool:
            return sum(1 for r in self.channel.heard_levels if r > level) * FRAME_MS >= ms

        await self.fake.wait_until(loud, within)


class FakeAsterisk:
    """The fake PBX; ``await start(host, port)``, then point an ARI client at :attr:`ari_url`."""

    def __init__(
        self,
        *,
        username: str = "asterisk",
        password: str = "asterisk",
        recordings_dir: Path | None = None,
        sounds_dir: Path | None = None,
        agents: Iterable[str] = DEFAULT_AGENTS,
        media_host: str = "127.0.0.1",
    ) -> None:
        self.username = username
        self.password = password
        self.recordings_dir = recordings_dir or Path(tempfile.mkdtemp(prefix="fake-ari-rec-"))
        self.sounds_dir = sounds_dir
        self.media_host = media_host
        self.asterisk_id = "fa:ce:00:00:00:01"
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
        """The latest ARI requests received (method, path, template, params, body)."""
        self.event_log: deque[Json] = deque(maxlen=LOG_SIZE)
        """The latest events emitted."""
        self.ws_media: dict[str, Any] = {}
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
        self.rtp_legs: dict[str, RtpLeg] = {}
        self.finished_channels: dict[str, FakeChannel] = {}
        """Channels that were hung up (kept so tests can read what they heard)."""
        self.web_app = build_app(self)

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
        for channel in list(self.channels.values()):
            self._destroy(channel, 16, remote=True)
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

    async def __aenter__(self) -> FakeAsterisk:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as an owned task (cancelled on stop)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(name)
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

    def new_id(self) -> str:
        """A channel-style unique id, ``<epoch>.<n>``."""
        return f"{int(self.started)}.{next(self._ids)}"

    # --- events ---------------------------------------------------------------------

    def app_registered(self, app: str) -> bool:
        """True when an events WebSocket is open for ``app``."""
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
        """Close every events WebSocket, as a network failure would."""
        for state in self.apps.values():
            for queue in state.sockets:
                queue.put_nowait(None)
        await asyncio.sleep(0)

    # --- channels -------------------------------------------------------------------

    def channel(self, channel_id: str) -> FakeChannel:
        """The live channel ``channel_id`` or a 404 FakeError."""
        channel = self.channels.get(channel_id)
        if channel is None or channel.destroyed:
            raise FakeError(404, "Channel not found")
        return channel

    def stasis_channel(self, channel_id: str) -> FakeChannel:
        """Like :meth:`channel` but 409 when the channel is not in a Stasis app."""
        channel = self.channel(channel_id)
        if not channel.in_stasis:
            raise FakeError(409, "Channel not in Stasis application")
        return channel

    def add_channel(self, channel: FakeChannel) -> FakeChannel:
        """Register a new channel."""
        if channel.id in self.channels:
            raise FakeError(409, "Channel with given unique ID already exists")
        self.channels[channel.id] = channel
        self.notify()
        return channel

    def enter_stasis(self, channel: FakeChannel, app: str, args: Sequence[str]) -> None:
        """Put ``channel`` into ``Stasis(app, args)`` and emit StasisStart."""
        channel.app = app
        channel.in_stasis = True
        channel.app_name = "Stasis"
        channel.app_data = ",".join([app, *args])
        self.emit(app, "StasisStart", args=list(args), channel=channel.to_json())

    def set_state(self, channel: FakeChannel, state: str) -> None:
        """Change the channel state and emit ChannelStateChange."""
        if channel.state == state:
            return
        channel.state = state
        self.emit(channel.app, "ChannelStateChange", channel=channel.to_json())
        self.notify()

    async def place_call(
        self,
        did: str = "100",
        caller_number: str = "+15550100",
        caller_name: str = "",
        *,
        app: str = "ari_app",
        args: Sequence[str] = (),
        context: str = "from-trunk",
    ) -> FakeCall:
        """Simulate an inbound call to ``did`` that runs ``Stasis(app, args)``."""
        if not self.app_registered(app):
            raise FakeError(409, f"Stasis application {app!r} is not registered")
        seq = next(self._ids)
        channel = FakeChannel(
            id=f"{int(self.started)}.{seq}",
            name=f"PJSIP/trunk-{seq:08x}",
            kind=ChannelKind.CALLER,
            state="Ring",
            caller_name=caller_name,
            caller_number=caller_number,
            context=context,
            exten=did,
            endpoint=self.trunk,
        )
        self.add_channel(channel)
        self.trunk.channel_ids.append(channel.id)
        self.enter_stasis(channel, app, args)
        return FakeCall(self, channel)

    def call(self, channel_id: str) -> FakeCall:
        """Control handle for any live channel (caller or agent)."""
        return FakeCall(self, self.channel(channel_id))

    def send_audio(self, channel_id: str, pcm: bytes, rate: int = RATE) -> None:
        """Queue audio the party behind ``channel_id`` says."""
        if len(pcm) % 2:
            raise FakeError(400, "16-bit audio needs an even number of bytes")
        channel = self.channel(channel_id)
        channel.inbound.extend(resample(pcm, rate, RATE))

    def press_dtmf(self, channel_id: str, digits: str) -> None:
        """The party behind ``channel_id`` presses ``digits``."""
        channel = self.channel(channel_id)
        for digit in digits:
            if digit.upper() not in audio.DTMF_FREQS:
                raise FakeError(400, f"not a DTMF digit: {digit!r}")
            self.emit(
                channel.app,
                "ChannelDtmfReceived",
                digit=digit.upper(),
                duration_ms=100,
                channel=channel.to_json(),
            )
            if channel.recording:
                recording = self.recordings.get(channel.recording)
                if recording is not None and (recording.terminate_on in ("any", digit)):
                    self.finish_recording(recording, "done")

    def heard(self, channel_id: str, rate: int = RATE, *, clear: bool = False) -> bytes:
        """What the party behind ``channel_id`` heard (works after hangup too)."""
        channel = self.channels.get(channel_id) or self.finished_channels.get(channel_id)
        if channel is None:
            raise FakeError(404, "Channel not found")
        pcm = bytes(channel.heard)
        if clear:
            channel.heard.clear()
            channel.heard_levels.clear()
        return resample(pcm, RATE, rate)

    async def hangup_from_party(self, channel_id: str, cause: int = 16) -> None:
        """The far party hangs up (ChannelHangupRequest, StasisEnd, ChannelDestroyed)."""
        self._destroy(self.channel(channel_id), cause, remote=True)

    def hangup(self, channel: FakeChannel, cause: int = 16) -> None:
        """Hang ``channel`` up at the app's request."""
        self._destroy(channel, cause, remote=False)

    def _destroy(self, channel: FakeChannel, cause: int, *, remote: bool) -> None:
        if channel.destroyed:
            return
        if channel.dial_caller is not None:
            caller = self.channels.get(channel.dial_caller) if channel.dial_caller else None
            channel.dial_caller = None
            if not remote:
                self._dial_event(channel, caller, "CANCEL")
        if remote:
            self.emit(channel.app, "ChannelHangupRequest", cause=cause, channel=channel.to_json())
        for playback_id in list(channel.playback_ids):
            playback = self.playbacks.get(playback_id)
            if playback is not None:
                self.finish_playback(playback, "done")
        if channel.recording and channel.recording in self.recordings:
            self.finish_recording(self.recordings[channel.recording], "done")
        if channel.bridge_id and channel.bridge_id in self.bridges:
            self.bridge_remove(self.bridges[channel.bridge_id], channel)
        if channel.in_stasis:
            channel.in_stasis = False
            self.emit(channel.app, "StasisEnd", channel=channel.to_json())
        channel.destroyed = True
        channel.variables.setdefault("HANGUPCAUSE", str(cause))
        self.emit(
            channel.app,
            "ChannelDestroyed",
            cause=cause,
            cause_txt=CAUSE_TEXT.get(cause, "Unknown"),
            channel=channel.to_json(),
        )
        del self.channels[channel.id]
        self.finished_channels[channel.id] = channel
        for kept in (self.finished_channels, self.rtp_legs):
            while len(kept) > KEEP_FINISHED:
                del kept[next(iter(kept))]
        for closer in channel.closers:
            result = closer()
            if asyncio.iscoroutine(result):
                self.spawn(result, f"close-{channel.id}")
        endpoint = channel.endpoint
        if endpoint is not None and channel.id in endpoint.channel_ids:
            endpoint.channel_ids.remove(channel.id)
            endpoint.ringing_ids.discard(channel.id)
            self.endpoint_changed(endpoint)
        self.notify()

    def endpoint_changed(self, endpoint: AgentEndpoint) -> None:
        """Emit DeviceStateChanged and EndpointStateChange to subscribed apps."""
        if endpoint is self.trunk:
            return
        self.emit_subscribed(
            f"deviceState:{endpoint.name}",
            "DeviceStateChanged",
            device_state={"name": endpoint.name, "state": endpoint.device_state},
        )
        self.emit_subscribed(
            f"endpoint:{endpoint.name}", "EndpointStateChange", endpoint=endpoint.to_json()
        )

    def configure_endpoint(
        self, name: str, behaviour: Behaviour | str, answer_delay: float | None = None
    ) -> AgentEndpoint:
        """Set how agent endpoint ``name`` (``PJSIP/201``) reacts; adds it if unknown."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            tech, _, resource = name.partition("/")
            if not tech or not resource:
                raise FakeError(400, f"endpoint name must be TECH/RESOURCE, got {name!r}")
            endpoint = self.endpoints[name] = AgentEndpoint(tech, resource)
        endpoint.behaviour = Behaviour(behaviour)
        if answer_delay is not None:
            endpoint.answer_delay = float(answer_delay)
        self.endpoint_changed(endpoint)
        return endpoint

    # --- dialing agents -------------------------------------------------------------

    def new_agent_channel(
        self,
        endpoint: AgentEndpoint,
        app: str | None,
        *,
        channel_id: str | None = None,
        caller_id: str = "",
    ) -> FakeChannel:
        """Create the channel that will ring ``endpoint``."""
        seq = next(self._ids)
        name, number = _parse_caller_id(caller_id)
        channel = FakeChannel(
            id=channel_id or f"{int(self.started)}.{seq}",
            name=f"{endpoint.name}-{seq:08x}",
            kind=ChannelKind.AGENT,
            caller_name=name,
            caller_number=number,
            connected_number=endpoint.resource,
            exten=endpoint.resource,
            endpoint=endpoint,
        )
        channel.app = app
        self.add_channel(channel)
        return channel

    def ring(
        self,
        channel: FakeChannel,
        *,
        timeout_s: float | None,
        caller: FakeChannel | None,
        stasis_args: Sequence[str] | None,
    ) -> None:
        """Start ringing ``channel``'s endpoint; the outcome follows its behaviour."""
        self.spawn(self._ring(channel, timeout_s, caller, stasis_args), f"ring-{channel.id}")

    def _dial_event(self, channel: FakeChannel, caller: FakeChannel | None, status: str) -> None:
        payload: Json = {
            "peer": channel.to_json(),
            "dialstatus": status,
            "dialstring": channel.endpoint.resource if channel.endpoint else "",
        }
        if caller is not None and not caller.destroyed:
            payload["caller"] = caller.to_json()
        self.emit(channel.app, "Dial", **payload)

    async def _ring(
        self,
        channel: FakeChannel,
        timeout_s: float | None,
        caller: FakeChannel | None,
        stasis_args: Sequence[str] | None,
    ) -> None:
        endpoint = channel.endpoint
        assert endpoint is not None
        self._dial_event(channel, caller, "")
        if endpoint.behaviour is Behaviour.OFFLINE:
            self._dial_event(channel, caller, "CHANUNAVAIL")
            self._destroy(channel, 20, remote=True)
            return
        if endpoint.behaviour is Behaviour.BUSY:
            self._dial_event(channel, caller, "BUSY")
            self._destroy(channel, 17, remote=True)
            return
        endpoint.channel_ids.append(channel.id)
        endpoint.ringing_ids.add(channel.id)
        channel.dial_caller = caller.id if caller is not None else ""
        self.endpoint_changed(endpoint)
        self.set_state(channel, "Ringing")
        self._dial_event(channel, caller, "RINGING")
        answers = endpoint.behaviour is Behaviour.ANSWER
        wait = endpoint.answer_delay if answers else None
        if timeout_s is not None and (wait is None or wait > timeout_s):
            wait, answers = timeout_s, False
        with contextlib.suppress(TimeoutError):
            # The phone rings until it answers, the dial times out or the channel is hung up.
            await self.wait_until(lambda: channel.destroyed, wait)
        if channel.destroyed:
            return
        endpoint.ringing_ids.discard(channel.id)
        channel.dial_caller = None
        if not answers:
            self._dial_event(channel, caller, "NOANSWER")
            self._destroy(channel, 19, remote=True)
            return
        self._dial_event(channel, caller, "ANSWER")
        self.set_state(channel, "Up")
        self.endpoint_changed(endpoint)
        if stasis_args is not None and channel.app is not None:
            self.enter_stasis(channel, channel.app, stasis_args)

    # --- bridges ----------------------------------------------------------------------

    def bridge(self, bridge_id: str) -> FakeBridge:
        """The bridge ``bridge_id`` or a 404 FakeError."""
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise FakeError(404, "Bridge not found")
        return bridge

    def create_bridge(
        self, bridge_type: str, bridge_id: str | None, name: str, app: str
    ) -> FakeBridge:
        """Create a bridge for ``app``."""
        types = {t.strip() for t in bridge_type.split(",") if t.strip()} or {"mixing"}
        if bridge_id and bridge_id in self.bridges:
            raise FakeError(409, "Bridge with the same bridgeId already exists")
        kind = "holding" if "holding" in types else "mixing"
        bridge = FakeBridge(id=bridge_id or str(uuid.uuid4()), bridge_type=kind, name=name, app=app)
        self.bridges[bridge.id] = bridge
        self.emit(app, "BridgeCreated", bridge=bridge.to_json())
        self.notify()
        return bridge

    def bridge_add(self, bridge: FakeBridge, channel: FakeChannel) -> None:
        """Add ``channel`` (leaving any other bridge first)."""
        if channel.bridge_id == bridge.id:
            return
        if channel.bridge_id and channel.bridge_id in self.bridges:
            self.bridge_remove(self.bridges[channel.bridge_id], channel)
        bridge.channels.append(channel.id)
        channel.bridge_id = bridge.id
        if bridge.app is None:
            bridge.app = channel.app
        self.emit(
            bridge.app or channel.app,
            "ChannelEnteredBridge",
            bridge=bridge.to_json(),
            channel=channel.to_json(),
        )
        self.notify()

    def bridge_remove(self, bridge: FakeBridge, channel: FakeChannel) -> None:
        """Remove ``channel`` from ``bridge``."""
        if channel.id in bridge.channels:
            bridge.channels.remove(channel.id)
        channel.bridge_id = None
        self.emit(
            bridge.app or channel.app,
            "ChannelLeftBridge",
            bridge=bridge.to_json(),
            channel=channel.to_json(),
        )
        self.notify()

    def destroy_bridge(self, bridge: FakeBridge) -> None:
        """Destroy ``bridge`` (its channels leave it first)."""
        for channel_id in list(bridge.channels):
            channel = self.channels.get(channel_id)
            if channel is not None:
                self.bridge_remove(bridge, channel)
        for playback_id in list(bridge.playback_ids):
            if playback_id in self.playbacks:
                self.finish_playback(self.playbacks[playback_id], "done")
        if bridge.recording and bridge.recording in self.recordings:
            self.finish_recording(self.recordings[bridge.recording], "done")
        del self.bridges[bridge.id]
        self.emit(bridge.app, "BridgeDestroyed", bridge=bridge.to_json())
        self.notify()

    # --- playbacks ------------------------------------------------------------------

    def load_media(self, uri: str, lang: str) -> bytes | None:
        """PCM for ``sound:``, ``recording:``, ``tone:``, ``digits:`` URIs; None if missing."""
        scheme, _, name = uri.partition(":")
        if scheme == "sound":
            return self._load_sound(name, lang)
        if scheme == "recording":
            for fmt in RECORD_FORMATS:
                path = self.recording_path(name, fmt)
                if path.exists():
                    return audio.read_wav(path.read_bytes())
            return None
        if scheme == "tone":
            tone_name = name.split(";")[0]
            freq = {"beep": 1000, "ring": 440, "busy": 480, "dial": 350}.get(tone_name, 440)
            return audio.tone(freq, 1000 if tone_name != "beep" else 250)
        if scheme == "digits":
            out = bytearray()
            for digit in name:
                low, high = audio.DTMF_FREQS.get(digit.upper(), (0, 0))
                if low:
                    out += audio.mix([audio.tone(low, 100, 0.2), audio.tone(high, 100, 0.2)])
                    out += bytes(FRAME_BYTES * 5)
            return bytes(out)
        if scheme == "silence":
            return bytes(RATE * 2 * max(1, int(name or "1")))
        return None

    def _load_sound(self, name: str, lang: str) -> bytes | None:
        if self.sounds_dir is None or ".." in Path(name).parts:
            return None
        for base in (self.sounds_dir / lang, self.sounds_dir):
            for suffix in (".wav", ".wav16"):
                path = base / f"{name}{suffix}"
                if path.is_file():
                    try:
                        return audio.read_wav(path.read_bytes())
                    except ValueError as exc:
                        log.warning("sound %s unusable: %s", path, exc)
                        return None
        return None

    async def start_playback(
        self,
        target: FakeChannel | FakeBridge,
        media: Sequence[str],
        lang: str,
        playback_id: str | None,
        app: str | None,
    ) -> FakePlayback:
        """Queue a playback on a channel or bridge (PlaybackStarted when it begins)."""
        if playback_id and playback_id in self.playbacks:
            raise FakeError(409, "Playback with the same id already exists")
        pcm = bytearray()
        failed = False
        for uri in media:
            loaded = await asyncio.to_thread(self.load_media, uri, lang)
            if loaded is None:
                failed = True
                break
            pcm += loaded
        kind = "channel" if isinstance(target, FakeChannel) else "bridge"
        playback = FakePlayback(
            id=playback_id or str(uuid.uuid4()),
            media_uri=media[0],
            target_uri=f"{kind}:{target.id}",
            app=app,
            pcm=bytes(pcm),
            language=lang,
            failed=failed,
        )
        self.playbacks[playback.id] = playback
        target.playback_ids.append(playback.id)
        if target.playback_ids[0] == playback.id:
            self._begin_playback(playback)
        return playback

    def _begin_playback(self, playback: FakePlayback) -> None:
        playback.state = "playing"
        self.emit(playback.app, "PlaybackStarted", playback=playback.to_json())
        if playback.failed:
            self.finish_playback(playback, "failed")

    def finish_playback(self, playback: FakePlayback, state: str) -> None:
        """End a playback (``done`` or ``failed``) and start the next queued one."""
        if playback.id not in self.playbacks:
            return
        playback.state = state
        del self.playbacks[playback.id]
        self.emit(playback.app, "PlaybackFinished", playback=playback.to_json())
        kind, _, target_id = playback.target_uri.partition(":")
        holder: FakeChannel | FakeBridge | None = (
            self.channels.get(target_id) if kind == "channel" else self.bridges.get(target_id)
        )
        if holder is not None and playback.id in holder.playback_ids:
            holder.playback_ids.remove(playback.id)
            if holder.playback_ids and holder.playback_ids[0] in self.playbacks:
                self._begin_playback(self.playbacks[holder.playback_ids[0]])
        self.notify()

    # --- recordings -------------------------------------------------------------------

    def recording_path(self, name: str, fmt: str) -> Path:
        """Where stored recording ``name`` in ``fmt`` lives."""
        if not name or ".." in Path(name).parts or name.startswith("/"):
            raise FakeError(400, f"invalid recording name {name!r}")
        return self.recordings_dir / f"{name}.{fmt}"

    def stored_recordings(self) -> list[tuple[str, str, Path]]:
        """(name, format, path) of every stored recording."""
        out = []
        if self.recordings_dir.is_dir():
            for path in sorted(self.recordings_dir.rglob("*")):
                fmt = path.suffix.lstrip(".")
                if path.is_file() and fmt in RECORD_FORMATS:
                    name = str(path.relative_to(self.recordings_dir).with_suffix(""))
                    out.append((name, fmt, path))
        return out

    def find_stored(self, name: str) -> tuple[str, Path]:
        """(format, path) of stored recording ``name`` or a 404 FakeError."""
        for fmt in RECORD_FORMATS:
            path = self.recording_path(name, fmt)
            if path.is_file():
                return fmt, path
        raise FakeError(404, "Recording not found")

    def start_recording(
        self,
        target: FakeChannel | FakeBridge,
        name: str,
        fmt: str,
        *,
        max_duration_s: int,
        max_silence_s: int,
        if_exists: str,
        beep: bool,
        terminate_on: str,
        app: str | None,
    ) -> FakeRecording:
        """Start recording what ``target`` says (channel) or its mix (bridge)."""
        if fmt not in RECORD_FORMATS:
            raise FakeError(422, "The format specified is unknown on this system")
        path = self.recording_path(name, fmt)
        if name in self.recordings:
            raise FakeError(409, "Recording with the same name is in progress")
        if path.exists() and if_exists == "fail":
            raise FakeError(409, "A recording with the same name already exists on the system")
        kind = "channel" if isinstance(target, FakeChannel) else "bridge"
        recording = FakeRecording(
            name=name,
            format=fmt,
            target_uri=f"{kind}:{target.id}",
            app=app,
            path=path,
            rate=RECORD_FORMATS[fmt],
            max_duration_s=max_duration_s,
            max_silence_s=max_silence_s,
            terminate_on=terminate_on,
            beep_frames=(250 // FRAME_MS) if beep else 0,
        )
        recording.append = if_exists == "append"
        self.recordings[name] = recording
        target.recording = name
        self.emit(app, "RecordingStarted", recording=recording.to_json())
        return recording

    def record_frame(self, recording: FakeRecording, frame: bytes) -> None:
        """Add 20 ms to a live recording and apply its limits."""
        if recording.state != "recording":
            return
        recording.pcm += frame
        recording.total_frames += 1
        if audio.rms(frame) < SILENCE_RMS:
            recording.silence_frames += 1
            recording.silence_run += 1
        else:
            recording.talking_frames += 1
            recording.silence_run = 0
        if (
            recording.max_silence_s
            and recording.silence_run * FRAME_MS >= recording.max_silence_s * 1000
        ) or (
            recording.max_duration_s
            and recording.total_frames * FRAME_MS >= recording.max_duration_s * 1000
        ):
            self.finish_recording(recording, "done")

    def finish_recording(self, recording: FakeRecording, state: str) -> None:
        """Stop a recording: ``done`` writes the WAV file, ``canceled`` discards it."""
        if self.recordings.get(recording.name) is not recording:
            return
        del self.recordings[recording.name]
        kind, _, target_id = recording.target_uri.partition(":")
        holder: FakeChannel | FakeBridge | None = (
            self.channels.get(target_id) if kind == "channel" else self.bridges.get(target_id)
        )
        if holder is not None and holder.recording == recording.name:
            holder.recording = None
        recording.state = state
        task = self.spawn(self._store_recording(recording), f"store-{recording.name}")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _store_recording(self, recording: FakeRecording) -> None:
        """Write the WAV file in a thread, then emit RecordingFinished (file is on disk)."""
        if recording.state == "done":
            pcm = resample(bytes(recording.pcm), RATE, recording.rate)
            await asyncio.to_thread(
                audio.write_wav, recording.path, pcm, recording.rate, append=recording.append
            )
        self.emit(recording.app, "RecordingFinished", recording=recording.to_json())
        self.notify()

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
                tick(self)
            except Exception:
                log.exception("fake Asterisk media tick failed")
            self.ticks += 1
            self.notify()


def _parse_caller_id(caller_id: str) -> tuple[str, str]:
    """Split ``"Name" <number>`` into (name, number)."""
    caller_id = caller_id.strip()
    if "<" in caller_id and caller_id.endswith(">"):
        name, _, number = caller_id[:-1].partition("<")
        return name.strip().strip('"'), number.strip()
    return "", caller_id
