"""Calls without a PBX: the real application against the embedded fake Asterisk.

A :class:`Simulation` starts the fake Asterisk on loopback and the same runtime
``ari-app run`` uses (ARI client, events, external media over real RTP, speech, answers,
store), then plays scripted callers into it. The demo, ``ari-app simulate``, the benchmark
and the end-to-end tests all go through here.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, overload

from ari_app.app import Runtime, start_runtime
from ari_app.ari.outbound import OutboundEvents
from ari_app.call.events import CallEvent, CallEventType, Ended
from ari_app.config import ConfigHolder
from ari_app.config.models import DEFAULT_FORMAT
from ari_app.testing import Behaviour, FakeAsterisk
from ari_app.testing.fake_asterisk import FakeCall
from ari_app.testing.outbound import PERSISTENT, OutboundWebsocket
from ari_app.testing.scripted_caller import ScriptedCaller
from ari_app.tts.base import Synthesizer, VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer

E = TypeVar("E", bound=CallEvent)
CALLER_VOICE = VoiceSettings(voice="en-us", rate_wpm=150, sample_rate=16000)
"""How simulated callers sound (slower than the agent, to tell them apart)."""


@dataclass(frozen=True, slots=True)
class Say:
    """The caller says ``text`` (after the agent has finished speaking)."""

    text: str


@dataclass(frozen=True, slots=True)
class SayWav:
    """The caller plays 16-bit PCM (``pcm`` at ``rate`` Hz) into the call."""

    pcm: bytes
    rate: int
    label: str = "audio"


@dataclass(frozen=True, slots=True)
class Press:
    """The caller presses keys."""

    digits: str


@dataclass(frozen=True, slots=True)
class HangUp:
    """The caller hangs up."""


@dataclass(frozen=True, slots=True)
class WaitFor:
    """The caller waits until the call reaches an event (e.g. the voicemail greeting)."""

    kind: CallEventType


@dataclass(frozen=True, slots=True)
class AfterBeep:
    """The caller waits until Asterisk records them (the voicemail beep has played)."""


Step = Say | SayWav | Press | HangUp | WaitFor | AfterBeep


@dataclass(slots=True)
class CallResult:
    """What happened on one simulated call."""

    call_id: str
    events: list[CallEvent] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """The outcome named by the ``Ended`` event."""
        ended = self.of(Ended)
        return ended[-1].outcome if ended else "unfinished"

    @overload
    def of(self, kind: type[E]) -> list[E]: ...
    @overload
    def of(self, kind: CallEventType) -> list[CallEvent]: ...
    def of(self, kind: type[CallEvent] | CallEventType) -> list[Any]:
        """The events of one kind (an event class, or its :class:`CallEventType`)."""
        if isinstance(kind, CallEventType):
            return [e for e in self.events if e.type is kind]
        return [e for e in self.events if isinstance(e, kind)]


class Simulation:
    """The fake Asterisk plus the real runtime, in this process."""

    def __init__(
        self,
        config_dir: Path,
        *,
        cache_dir: Path = Path("var/cache"),
        store_path: Path | None = None,
        voicemail_dir: Path | None = None,
        with_store: bool = True,
        listeners: Sequence[Callable[[CallEvent], None]] = (),
        media_transport: str | None = None,
        notify: bool = False,
        ari_mode: Literal["inbound", "outbound"] = "inbound",
        connection_type: Literal["persistent", "per_call_config"] = "persistent",
        caller_voice: Synthesizer | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.cache_dir = cache_dir
        self.store_path = store_path
        self.voicemail_dir = voicemail_dir
        self.with_store = with_store
        self.listeners = list(listeners)
        self.media_transport = media_transport
        self.notify = notify
        self.ari_mode = ari_mode
        """``outbound``: the fake connects to the runtime (ARI outbound WebSocket)."""
        self.connection_type = connection_type
        """websocket_client.conf ``connection_type`` in outbound mode."""
        """Deliver voicemail notifications as configured (off by default: a simulated
        voicemail must not e-mail the real front desk)."""
        self.moment: datetime | None = None
        """The wall-clock moment routing sees (None: the real time)."""
        self.password = secrets.token_urlsafe(12)
        self.fake: FakeAsterisk | None = None
        self.runtime: Runtime | None = None
        self.holder: ConfigHolder | None = None
        """The configuration the runtime runs with (set on entering)."""
        self.caller_voice: Synthesizer = caller_voice or EspeakSynthesizer(
            CALLER_VOICE, cache_dir / "tts"
        )
        """How scripted callers sound (espeak-ng unless given: light and quick to start)."""
        self._results: dict[str, CallResult] = {}
        self._signal = asyncio.Event()

    async def _start_fake(self) -> ConfigHolder:
        """Start the fake Asterisk; the configuration, pointed at it, becomes :attr:`holder`."""
        holder = ConfigHolder(self.config_dir)
        self.fake = FakeAsterisk(
            username=holder.current.app.ari.username,
            password=self.password,
            recordings_dir=self.cache_dir / "fake-recordings",
        )
        await self.fake.start()
        self.configure(holder, self.fake.url)
        self.holder = holder
        return holder

    async def __aenter__(self) -> Self:
        holder = await self._start_fake()
        app = holder.current.app
        assert self.fake is not None
        try:
            self.runtime = await start_runtime(
                holder,
                self.password,
                cache_dir=self.cache_dir,
                now=self._now,
                listeners=[self._on_event, *self.listeners],
                with_store=self.with_store,
                outbound_password=self.password,
            )
            listener = self.runtime.listener
            if isinstance(listener, OutboundEvents):
                self.fake.outbound.add(
                    OutboundWebsocket(
                        uri=listener.server.url,
                        apps=[app.ari.app],
                        connection_type=self.connection_type,
                        username=app.ari.outbound.username,
                        password=self.password,
                    )
                )
            if self.connection_type == PERSISTENT or not isinstance(listener, OutboundEvents):
                await asyncio.wait_for(listener.connected.wait(), 10)
        except BaseException:
            await self.fake.stop()
            raise
        return self

    def configure(self, holder: ConfigHolder, fake_url: str) -> None:
        """Point ``holder``'s configuration at the fake Asterisk at ``fake_url`` and apply the
        simulation's settings (store paths, media transport, wideband callers, no mail)."""
        app = holder.current.app
        ari_update: dict[str, object] = {"url": fake_url.rstrip("/"), "mode": self.ari_mode}
        if self.ari_mode == "outbound":
            ari_update["outbound"] = app.ari.outbound.model_copy(update={"port": 0})
        updates: dict[str, object] = {"ari": app.ari.model_copy(update=ari_update)}
        store = app.store
        if self.store_path is not None:
            store = store.model_copy(update={"path": str(self.store_path)})
        if self.voicemail_dir is not None:
            store = store.model_copy(update={"voicemail_dir": str(self.voicemail_dir)})
        updates["store"] = store
        # Simulated callers speak synthesised wideband audio, as an HD-voice softphone would.
        updates["speech"] = app.speech.model_copy(update={"caller_band": "wide"})
        if not self.notify:
            updates["notifications"] = app.notifications.model_copy(update={"enabled": False})
        if self.media_transport is not None:
            media = {"transport": self.media_transport}
            media["format"] = DEFAULT_FORMAT.get(self.media_transport, app.media.format)
            updates["media"] = app.media.model_copy(update=media)
        holder.current = holder.current.model_copy(update={"app": app.model_copy(update=updates)})

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.runtime is not None:
            await self.runtime.stop(drain_s=10)
        if self.fake is not None:
            await self.fake.stop()

    def _now(self) -> datetime:
        return self.moment if self.moment is not None else datetime.now().astimezone()

    def _on_event(self, event: CallEvent) -> None:
        result = self._results.setdefault(event.call_id, CallResult(event.call_id))
        result.events.append(event)
        self._signal.set()

    def result(self, call_id: str) -> CallResult:
        """Events so far of call ``call_id``."""
        return self._results.setdefault(call_id, CallResult(call_id))

    @overload
    async def wait_event(self, call_id: str, kind: type[E], within: float = ...) -> E: ...
    @overload
    async def wait_event(
        self, call_id: str, kind: CallEventType, within: float = ...
    ) -> CallEvent: ...
    async def wait_event(
        self, call_id: str, kind: type[CallEvent] | CallEventType, within: float = 60.0
    ) -> Any:
        """Wait for the first event of ``kind`` on call ``call_id``."""
        async with asyncio.timeout(within):
            while True:
                found = self.result(call_id).of(kind)
                if found:
                    return found[0]
                self._signal.clear()
                await self._signal.wait()

    async def wait_ended(self, call_id: str, within: float = 60.0) -> CallResult:
        """Wait for call ``call_id`` to end."""
        await self.wait_event(call_id, Ended, within)
        return self.result(call_id)

    async def settle(self) -> None:
        """Wait until the calls' records are written and voicemails handed over are saved
        (both happen from the event stream, after a call's ``Ended``)."""
        assert self.runtime is not None
        if self.runtime.recorder is not None:
            await self.runtime.recorder.drain()
        if self.runtime.voicemail is not None:
            await self.runtime.voicemail.wait_idle()

    def agents(
        self, behaviour: Behaviour | str, *endpoints: str, answer_delay: float = 1.0
    ) -> None:
        """Make agent phones answer, ring unanswered, be busy or offline."""
        assert self.fake is not None
        for endpoint in endpoints:
            self.fake.configure_endpoint(endpoint, behaviour, answer_delay)

    async def place(self, line: str, caller_number: str = "+16175550100") -> FakeCall:
        """Place an inbound call into ``Stasis(app, line)``."""
        assert self.fake is not None
        assert self.holder is not None
        config = self.holder.current
        did = config.lines[line].did or "100"
        return await self.fake.place_call(
            did=did, caller_number=caller_number, app=config.app.ari.app, args=[line]
        )

    async def run_call(
        self,
        line: str,
        steps: Sequence[Step],
        *,
        caller_number: str = "+16175550100",
        within: float = 120.0,
    ) -> CallResult:
        """Place a call, play ``steps`` as the caller, and wait for the call's end."""
        call = await self.place(line, caller_number)
        return await self.run_call_on(call, steps, within=within)

    async def run_call_on(
        self, call: FakeCall, steps: Sequence[Step], *, within: float = 120.0
    ) -> CallResult:
        """Play ``steps`` as the caller of a placed call, and wait for the call's end."""
        caller = ScriptedCaller(call, self.caller_voice.synthesize)
        async with asyncio.timeout(within):
            for step in steps:
                if call.state == "Gone":
                    break
                if isinstance(step, HangUp):
                    await call.hangup()
                    break
                if isinstance(step, WaitFor):
                    await self.wait_event(call.channel_id, step.kind)
                    continue
                if isinstance(step, AfterBeep):
                    await call.fake.wait_until(lambda: call.channel.recording is not None, 60)
                    continue
                if isinstance(step, Press):
                    await self.wait_event(call.channel_id, CallEventType.ANSWERED)
                    await call.send_dtmf(step.digits)
                    continue
                await caller.wait_agent_done()
                if call.state == "Gone":
                    break
                if isinstance(step, Say):
                    await caller.say(step.text)
                else:
                    await call.send_audio(step.pcm + bytes(step.rate * 2), step.rate)
                await caller.wait_said()
        return await self.wait_ended(call.channel_id, within)
