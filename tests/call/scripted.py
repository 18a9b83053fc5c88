"""A rig for the session's state machine: the fake Asterisk, real ARI and RTP on loopback,
and a scripted voice and conversation instead of speech engines.

The caller's turns are scripted (text, a silent turn); the conversation's decisions are
scripted per utterance; the voice "speaks" by sending a few real frames through the media
transport, so speaking takes real (short) time and can be interrupted as on a real call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ari_app.answer.policy import Action, Decision
from ari_app.ari.client import AriClient
from ari_app.ari.events import AriEvent, StasisStart
from ari_app.ari.listener import EventListener
from ari_app.call import events as ev
from ari_app.call.media_path import PCM_RATE
from ari_app.call.services import CallServices
from ari_app.call.session import CallSession
from ari_app.call.voice import SayResult, Utterance
from ari_app.config import ConfigHolder
from ari_app.config.models import Config, Line
from ari_app.media.frames import AudioFrame
from ari_app.media.pacer import MediaTransport
from ari_app.routing.plan import AiUnavailable
from ari_app.testing.fake_asterisk import FakeAsterisk, FakeCall

E = TypeVar("E", bound=ev.CallEvent)
FRAME = AudioFrame(bytes(320), PCM_RATE)
"""10 ms of silence at the call's rate (what the scripted voice sends per spoken frame)."""

GOODBYE = Decision(Action.GOODBYE, "Goodbye.", confidence=1.0)
HANDOFF = Decision(Action.HANDOFF, "Let me get someone.", reason="asked_for_person")


class ScriptedVoice:
    """Speaks by sending ``frames_per_say`` real frames; hears the scripted turns."""

    def __init__(self, transport: MediaTransport, turns: asyncio.Queue[str | None]) -> None:
        self.transport = transport
        self.turns = turns
        self.said: list[str] = []
        """Texts spoken to the end (an interrupted one is not here)."""
        self.started: list[str] = []
        self.frames_per_say = 3

    def start(self) -> None:
        """Nothing to start."""

    async def close(self) -> None:
        """Nothing to close."""

    async def say(
        self, text: str, *, barge_in: bool = True, audio: AsyncIterator[AudioFrame] | None = None
    ) -> SayResult:
        """Send a few frames and wait until they are on the wire."""
        self.started.append(text)
        loop = asyncio.get_running_loop()
        first = loop.time()
        for _ in range(self.frames_per_say):
            await self.transport.send(FRAME)
        await self.transport.wait_sent()
        self.said.append(text)
        return SayResult(False, first)

    async def listen(self) -> Utterance | None:
        """The next scripted turn (None: the caller stayed silent)."""
        text = await self.turns.get()
        if text is None:
            return None
        now = asyncio.get_running_loop().time()
        return Utterance(text, 0.9, 800, now, now)


@dataclass
class ScriptedConversation:
    """Decides by the caller's words; a silent turn or an unknown phrase hands off."""

    answers: dict[str, Decision]
    heard: list[str] = field(default_factory=list)

    async def hear(self, text: str, now: datetime) -> Decision:
        """The scripted decision for ``text``."""
        self.heard.append(text)
        return self.answers.get(text, HANDOFF)

    def silence(self) -> Decision:
        """Silence: hand off (as the policy does after the last allowed silence)."""
        return Decision(Action.HANDOFF, "", reason="silence")

    def dtmf(self, digit: str) -> Decision:
        """0 hands off at once."""
        return Decision(Action.HANDOFF, "", reason=f"dtmf_{digit}")


class Rig:
    """One fake Asterisk, one ARI client and listener, and the calls we run on them."""

    def __init__(self, fake: FakeAsterisk, client: AriClient, holder: ConfigHolder) -> None:
        self.fake = fake
        self.client = client
        self.holder = holder
        self.moment: datetime = datetime(2026, 12, 1, 15, 30).astimezone()
        self.answers: dict[str, Decision] = {}
        self.turns: asyncio.Queue[str | None] = asyncio.Queue()
        self.voices: list[ScriptedVoice] = []
        self.conversation_configs: list[Config] = []
        self.whisper_gate: asyncio.Event | None = None
        """When set by a test, the whisper waits for it after its first chunk."""
        self.ai_unavailable: AiUnavailable | None = None
        """What the supervisor tells new sessions (e.g. ``capacity``: every AI seat taken)."""
        self.conversation_error: Exception | None = None
        """Raised when a call's conversation is built (e.g. a broken knowledge base)."""
        self.events: list[ev.CallEvent] = []
        self.ari_events: list[AriEvent] = []
        self.sessions: dict[str, CallSession] = {}
        self.tasks: dict[str, asyncio.Task[object]] = {}
        self.on_event: list[Callable[[ev.CallEvent], None]] = []
        self._changed = asyncio.Event()
        self.services = CallServices(
            ari=client,
            config=lambda: holder.current,
            now=lambda: self.moment,
            voice=self._voice,
            conversation=self._conversation,
            speaker=self._speaker,
        )

    # --- seams ------------------------------------------------------------------------

    def _voice(self, transport: MediaTransport, line: Line) -> ScriptedVoice:
        voice = ScriptedVoice(transport, self.turns)
        self.voices.append(voice)
        return voice

    async def _conversation(self, config: Config, line: str) -> ScriptedConversation:
        self.conversation_configs.append(config)
        if self.conversation_error is not None:
            raise self.conversation_error
        return ScriptedConversation(self.answers)

    def _speaker(self, line: Line) -> Callable[[str], AsyncIterator[AudioFrame]]:
        async def speak(text: str) -> AsyncIterator[AudioFrame]:
            yield FRAME
            if self.whisper_gate is not None:
                await self.whisper_gate.wait()
            yield FRAME

        return speak

    # --- events -----------------------------------------------------------------------

    async def route(self, event: AriEvent) -> None:
        """The supervisor's job, minimally: new callers start a session; the rest goes to
        the session whose channels the event is about."""
        self.ari_events.append(event)
        self._changed.set()
        for session in list(self.sessions.values()):
            if session.inbox.owns(event):
                session.deliver(event)
                return
        if isinstance(event, StasisStart) and event.args and event.args[0] != "agent":
            self.start(event)

    def start(self, event: StasisStart) -> CallSession:
        """Start a session for a caller's StasisStart (its config snapshot is taken now)."""
        session = CallSession(
            self.services, event.channel, event.args[0], listeners=[self._on_call_event]
        )
        session.ai_unavailable = self.ai_unavailable
        self.sessions[event.channel.id] = session
        self.tasks[event.channel.id] = asyncio.create_task(session.run())
        return session

    def _on_call_event(self, event: ev.CallEvent) -> None:
        self.events.append(event)
        self._changed.set()
        for hook in self.on_event:
            hook(event)

    async def wait_for(self, test: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait (on event arrival, no polling clock) until ``test()`` is truthy."""
        async with asyncio.timeout(within):
            while not (found := test()):
                self._changed.clear()
                await self._changed.wait()
        return found

    async def event(self, call_id: str, kind: type[E], within: float = 10.0) -> E:
        """The first call event of ``kind`` on ``call_id``, once it happens."""
        found: list[E] = await self.wait_for(lambda: self.of(call_id, kind), within)
        return found[0]

    async def ari_event(
        self, kind: str, test: Callable[[AriEvent], bool] = lambda e: True
    ) -> AriEvent:
        """The first ARI event of type ``kind`` that passes ``test``."""
        found: list[AriEvent] = await self.wait_for(
            lambda: [e for e in self.ari_events if e.type == kind and test(e)]
        )
        return found[0]

    def of(self, call_id: str, kind: type[E]) -> list[E]:
        """The call events of one kind on one call."""
        return [e for e in self.events if isinstance(e, kind) and e.call_id == call_id]

    def kinds(self, call_id: str) -> list[str]:
        """The kinds of the call's events, in order."""
        return [e.type.value for e in self.events if e.call_id == call_id]

    # --- calls ------------------------------------------------------------------------

    async def call(self, line: str = "main", *, turns: Iterable[str | None] = ()) -> FakeCall:
        """Place a call; its session starts on its StasisStart."""
        for turn in turns:
            self.turns.put_nowait(turn)
        config = self.holder.current
        placed = await self.fake.place_call(
            did=config.lines[line].did or "100", app=self.client.app, args=[line]
        )
        await self.wait_for(lambda: placed.channel_id in self.sessions)
        return placed

    async def ended(self, call: FakeCall, within: float = 20.0) -> ev.Ended:
        """The call's Ended event, once its task is done."""
        ended = await self.event(call.channel_id, ev.Ended, within)
        await self.tasks[call.channel_id]
        return ended

    def left_behind(self, call_id: str) -> list[str]:
        """Channels and bridges of the call still alive in the fake Asterisk."""
        channels = [
            c.id for c in self.fake.channels.values() if c.id.startswith(call_id) and not c.gone()
        ]
        return channels + [b for b in self.fake.bridges if b.startswith(call_id)]


@contextlib.asynccontextmanager
async def rig(config_dir: Path, recordings: Path) -> AsyncIterator[Rig]:
    """A fake Asterisk with a rig listening to it."""
    holder = ConfigHolder(config_dir)
    app = holder.current.app
    fake = FakeAsterisk(
        username=app.ari.username, password="rig-password-123456", recordings_dir=recordings
    )
    await fake.start("127.0.0.1", 0)
    client = AriClient(fake.ari_url, fake.username, fake.password, app.ari.app, timeout=5.0)
    the_rig = Rig(fake, client, holder)
    listener = EventListener(client, the_rig.route)
    try:
        await listener.start()
        async with asyncio.timeout(5):
            await listener.connected.wait()
        yield the_rig
    finally:
        for task in the_rig.tasks.values():
            task.cancel()
        await asyncio.gather(*the_rig.tasks.values(), return_exceptions=True)
        await listener.stop()
        await client.close()
        await fake.stop()
