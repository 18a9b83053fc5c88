"""The people part of a call: ring steps with ringback, the whisper, the bridge to an agent."""

from __future__ import annotations

import asyncio
import contextlib

from ari_app.ari.events import ChannelDestroyed, StasisEnd
from ari_app.call.core import SessionCore
from ari_app.call.events import AgentAnswered, Bridged, Ringing, Whisper
from ari_app.call.handoff import Answered, Ringer
from ari_app.call.media_path import PCM_RATE, open_media
from ari_app.call.tones import ringback
from ari_app.config.models import Line
from ari_app.outcomes import Outcome
from ari_app.routing.plan import Member, RingStep


def spoken_number(number: str) -> str:
    """A caller number as it is read out: "+16175550111" -> "6 1 7, 5 5 5, 0 1 1 1"."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if not digits:
        return "an unknown number"
    groups = [digits[:3], digits[3:6], digits[6:]] if len(digits) == 10 else [digits]
    return ", ".join(" ".join(group) for group in groups)


class PeopleSteps(SessionCore):
    """Ringing people and connecting the one who answers."""

    async def _ring(self, step: RingStep) -> Answered | None:
        assert self._media is not None
        if self._ringer is None:
            self._ringer = Ringer(
                self.ari,
                self.inbox,
                self.call_id,
                self.caller.caller.number,
                leg_prefix=self.ids.agent_prefix,
                history=self.services.routing or self.services.ring_history,
                on_ring=self._on_ring,
            )
        tone = asyncio.create_task(self._ringback(), name=f"call-{self.call_id}-ringback")
        try:
            answered = await self._ringer.ring(step)
        finally:
            tone.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tone
            self._media.transport.flush()
        if answered is not None:
            self._emit(
                AgentAnswered,
                agent=answered.member.user,
                endpoint=answered.member.endpoint,
                channel=answered.channel_id,
            )
        return answered

    def _on_ring(self, step: RingStep, members: list[Member]) -> None:
        self._emit(
            Ringing,
            target=step.target,
            members=tuple(m.endpoint for m in members),
            agents=tuple(m.user for m in members),
        )

    async def _ringback(self) -> None:
        assert self._media is not None
        cycle = ringback(PCM_RATE)
        while True:
            await self._media.transport.send(cycle)
            await self._media.transport.wait_sent()

    async def _connect_agent(self, line: Line, answered: Answered) -> bool:
        """Whisper to the agent, then bridge them with the caller until either hangs up.

        False when the agent hung up during the whisper (the caller is still ours).
        """
        leg = answered.channel_id
        if line.handoff.whisper:
            await self._whisper(line, answered)
        if leg in self.inbox.gone:
            return False
        assert self._media is not None
        assert self._voice is not None
        await self._voice.close()
        await self._media.close(self.ari)
        self._media = None
        await self.ari.add_channel(self.bridge_id, leg)
        self.agent = answered.member.user
        self.outcome = Outcome.HANDED_OFF
        self._emit(Bridged, agent=answered.member.user)
        if leg not in self.inbox.gone:
            await self.inbox.wait_for(
                lambda e: isinstance(e, ChannelDestroyed | StasisEnd) and e.channel.id == leg
            )
        await self._hang_up_caller()
        return True

    async def _whisper(self, line: Line, answered: Answered) -> None:
        number = spoken_number(self.caller.caller.number)
        about = self._last_question or "a question for a person"
        text = f"Call from {number}, about: {about}. Connecting you now."
        whisper_id = self.ids.whisper
        bridge_id = self.ids.whisper_bridge
        self.inbox.channels.add(whisper_id)
        media = await open_media(self.ari, self.config.app.media, whisper_id, self.inbox.entered)
        try:
            self._bridges.add(bridge_id)
            await self.ari.create_bridge("mixing", bridge_id=bridge_id)
            await self.ari.add_channel(bridge_id, [answered.channel_id, whisper_id])
            self._emit(Whisper, agent=answered.member.user, text=text)
            speak = self.services.speaker_for(line)
            async for chunk in speak(text):
                if answered.channel_id in self.inbox.gone:
                    break
                await media.transport.send(chunk)
            await media.transport.wait_sent()
        finally:
            await media.close(self.ari)
            await self._destroy_bridge(bridge_id)
