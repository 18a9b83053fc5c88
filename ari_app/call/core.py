"""The state every step of a call shares, and the steps they all use: emit, speak, listen.

:class:`SessionCore` holds one call's resources (bridge, media path, voice, ringer,
recording) and its configuration snapshot, emits its typed events, connects its media,
speaks and listens. The steps (conversation, people, voicemail) build on it, and
:class:`~ari_app.call.session.CallSession` runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ari_app.ari.errors import AriError, NotFound
from ari_app.ari.events import AriEvent, ChannelDestroyed, Envelope
from ari_app.ari.models import Channel
from ari_app.call.events import Answered as AnsweredEvent
from ari_app.call.events import BargeIn as BargeInEvent
from ari_app.call.events import CallEvent, CallEventListener
from ari_app.call.handoff import Ringer
from ari_app.call.ids import CallIds
from ari_app.call.inbox import CallInbox
from ari_app.call.media_path import MediaPath, open_media
from ari_app.call.seams import CallVoice
from ari_app.call.services import CallServices
from ari_app.call.settle import settled
from ari_app.call.voice import SayResult, Utterance
from ari_app.config.models import Config, Line
from ari_app.media.frames import AudioFrame
from ari_app.outcomes import Outcome
from ari_app.routing.plan import AiUnavailable

_LOGGER = logging.getLogger(__name__)
SORRY_MESSAGE = "I'm sorry, something went wrong on our side. Please call again later. Goodbye."
GONE_CAUSE_TXT = "gone while the events connection was down"
"""``cause_txt`` of the ChannelDestroyed a session makes up for a channel found gone."""


class CallerGone(Exception):
    """The caller hung up."""


@dataclass(slots=True)
class Recording:
    """The voicemail recording this call started."""

    name: str
    duration_s: float | None = None


class SessionCore:
    """One call's resources, configuration snapshot and event stream."""

    def __init__(
        self,
        services: CallServices,
        caller: Channel,
        line_name: str,
        *,
        listeners: list[CallEventListener] | None = None,
        already_answered: bool = False,
        config: Config | None = None,
    ) -> None:
        self.services = services
        self.ari = services.ari
        self.config = config if config is not None else services.config()
        """The call's configuration, fixed from StasisStart to the end (reloads: new calls)."""
        self.caller = caller
        self.call_id = caller.id
        self.line_name = line_name
        self.inbox = CallInbox(caller.id)
        self.listeners = listeners or []
        self.already_answered = already_answered
        self.events: list[CallEvent] = []
        self.outcome: Outcome | None = None
        self.handoff_reason: str | None = None
        self.ai_unavailable: AiUnavailable | None = None
        """Set by the supervisor when the AI agent cannot take this call, and why."""
        self.agent: str | None = None
        self.error: str | None = None
        self.ids = CallIds.for_call(self.call_id)
        self.bridge_id = self.ids.bridge
        self._bridges: set[str] = set()
        self._media: MediaPath | None = None
        self._voice: CallVoice | None = None
        self._ringer: Ringer | None = None
        self._recording: Recording | None = None
        self._protect_recording = False
        self._listen_task: asyncio.Task[Utterance | None] | None = None
        self._pending_digit: str | None = None
        self._last_question = ""
        self._started = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    # --- events -----------------------------------------------------------------------

    def _at_ms(self) -> int:
        return int((asyncio.get_running_loop().time() - self._started) * 1000)

    def _emit(self, cls: type[CallEvent], **fields: Any) -> None:
        """Emit one event of kind ``cls`` to every listener (a failing listener is logged)."""
        event = cls(call_id=self.call_id, at_ms=self._at_ms(), **fields)
        self.events.append(event)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("call %s: event listener failed", self.call_id)

    def deliver(self, event: AriEvent) -> None:
        """Hand an ARI event about one of our channels to this call."""
        self.inbox.deliver(event)

    def reconcile(self, live_channel_ids: set[str]) -> None:
        """After a reconnect: learn which of our channels Asterisk no longer has.

        ``live_channel_ids`` are the channels Asterisk listed once the events socket was
        back. Each channel of ours not in it (and not already known gone) is checked
        with ``GET /channels/{id}`` (it may have been created after the listing); a 404
        delivers a ChannelDestroyed to the inbox, as if we had heard it.
        """
        missing = sorted(self.inbox.channels - live_channel_ids - self.inbox.gone)
        if missing:
            self._spawn(self._confirm_gone(missing), f"call-{self.call_id}-reconcile")

    async def _confirm_gone(self, channel_ids: list[str]) -> None:
        for channel_id in channel_ids:
            try:
                await self.ari.get_channel(channel_id)
            except NotFound:
                _LOGGER.warning("call %s: channel %s is gone", self.call_id, channel_id)
                self.deliver(gone_event(channel_id))
            except AriError as err:
                _LOGGER.warning("call %s: cannot check %s: %s", self.call_id, channel_id, err)

    def _spawn(self, work: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- media and speech -------------------------------------------------------------

    async def _connect_media(self, line: Line) -> None:
        ari = self.ari
        settings = self.config.app.media
        media_id = self.ids.media
        self.inbox.channels.add(media_id)

        async def bridge() -> None:
            self._bridges.add(self.bridge_id)  # before asking: a cancelled request may land
            await settled(ari.create_bridge("mixing", bridge_id=self.bridge_id))

        async def media() -> None:
            self._media = await open_media(ari, settings, media_id, self.inbox.entered)

        # A task group, not gather: when one step fails or the caller hangs up meanwhile,
        # the others are cancelled *and awaited*, so each cleans up what it created.
        try:
            async with asyncio.TaskGroup() as steps:
                steps.create_task(bridge())
                steps.create_task(media())
                if not self.already_answered:
                    steps.create_task(ari.answer(self.call_id))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        self._emit(AnsweredEvent)
        assert self._media is not None
        await ari.add_channel(self.bridge_id, [self.call_id, self._media.channel_id])
        self._voice = self.services.new_voice(self._media.transport, line)
        self._voice.start()

    async def _say(
        self,
        text: str,
        *,
        barge_in: bool = True,
        keys: bool = True,
        audio: AsyncIterator[AudioFrame] | None = None,
    ) -> SayResult:
        """Speak (or play ``audio``, a recorded message); with ``keys`` a key press stops
        it too (kept for the next turn)."""
        assert self._voice is not None
        speaking = asyncio.create_task(self._voice.say(text, barge_in=barge_in, audio=audio))
        if not keys:
            return await speaking
        digit = asyncio.create_task(self.inbox.dtmf.get())
        try:
            await asyncio.wait({speaking, digit}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            speaking.cancel()
            raise
        finally:
            if not digit.done():
                digit.cancel()
        if digit.done() and not digit.cancelled():
            self._pending_digit = digit.result()
            if not speaking.done():
                speaking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await speaking
                if self._media is not None:
                    self._media.transport.flush()
                return SayResult(True, None)
        result = await speaking
        if result.interrupted:
            self._emit(BargeInEvent, text=text)
        return result

    async def _next_input(self) -> Utterance | str | None:
        """The caller's next utterance, a digit they pressed, or None for silence."""
        if self._pending_digit is not None:
            pressed, self._pending_digit = self._pending_digit, None
            return pressed
        assert self._voice is not None
        if self._listen_task is None:
            self._listen_task = asyncio.create_task(self._voice.listen())
        digit = asyncio.create_task(self.inbox.dtmf.get())
        try:
            await asyncio.wait({self._listen_task, digit}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not digit.done():
                digit.cancel()
        if digit.done() and not digit.cancelled():
            return digit.result()
        task, self._listen_task = self._listen_task, None
        return task.result()

    def _forget_keys(self) -> None:
        """Drop digits pressed so far (e.g. the ``#`` that ended a recording)."""
        self._pending_digit = None
        while not self.inbox.dtmf.empty():
            self.inbox.dtmf.get_nowait()

    # --- endings ----------------------------------------------------------------------

    async def _apologise(self) -> None:
        if self._voice is None or self.inbox.caller_gone.is_set():
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(15):
                await self._voice.say(SORRY_MESSAGE, barge_in=False)

    async def _hang_up_caller(self) -> None:
        if self.call_id not in self.inbox.gone:
            with contextlib.suppress(AriError):
                await self.ari.hangup(self.call_id)

    async def _destroy_bridge(self, bridge_id: str) -> None:
        self._bridges.discard(bridge_id)
        with contextlib.suppress(AriError):
            await self.ari.destroy_bridge(bridge_id)


def gone_event(channel_id: str) -> ChannelDestroyed:
    """A ChannelDestroyed for a channel found gone without its event (after an outage)."""
    envelope = Envelope("ChannelDestroyed", "", "", {"synthetic": True})
    return ChannelDestroyed(
        envelope=envelope, channel=Channel(id=channel_id), cause=0, cause_txt=GONE_CAUSE_TXT
    )
