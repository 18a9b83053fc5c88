"""A caller who follows a script: waits for the agent to finish, then speaks real audio.

Used by the demo, the benchmark and the end-to-end tests. Speech is synthesised (a
different voice from the agent's) and sent through the fake Asterisk at real time; what
the caller hears is measured from the audio frames the fake delivered to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ari_app.testing.fake_asterisk import SILENCE_RMS, FakeCall
from ari_app.testing.model import RATE, LoudCount

Speak = Callable[[str], Awaitable[bytes]]
"""Text -> 16-bit PCM at 16 kHz."""
TRAILING_SILENCE_MS = 1000


class ScriptedCaller:
    """One simulated caller on a :class:`FakeCall`."""

    def __init__(self, call: FakeCall, speak: Speak) -> None:
        self.call = call
        self.speak = speak

    async def wait_agent_done(self, quiet_ms: int = 1200, within: float = 60.0) -> bytes:
        """Wait until the agent has spoken and then been quiet for ``quiet_ms`` (as a person
        waits for a pause); return what the caller heard since the last call (and forget it)."""
        loop = asyncio.get_running_loop()
        seen = -1
        last_change = loop.time()
        count = LoudCount(self.call.channel, SILENCE_RMS)

        def finished() -> bool:
            nonlocal seen, last_change
            if self.call.state == "Gone":
                return True
            loud = count()
            if loud != seen:
                seen, last_change = loud, loop.time()
            return loud > 0 and loop.time() - last_change >= quiet_ms / 1000

        await self.call.fake.wait_until(finished, within)
        return self.call.heard(clear=True)

    async def wait_speech(self, ms: int = 200, within: float = 60.0) -> None:
        """Wait until the caller hears at least ``ms`` of sound (agent speech, tone)."""
        await self.call.wait_heard_speech(ms, within=within)

    async def say(self, text: str) -> float:
        """Speak ``text`` followed by a second of silence; returns the speech length in s."""
        pcm = await self.speak(text)
        silence = bytes(RATE * 2 * TRAILING_SILENCE_MS // 1000)
        self.call.channel.heard.clear()
        self.call.channel.heard_levels.clear()
        await self.call.send_audio(pcm + silence, RATE)
        return len(pcm) / 2 / RATE

    async def wait_said(self, within: float = 60.0) -> None:
        """Wait until everything queued by :meth:`say` has been played into the call."""
        await self.call.fake.wait_until(lambda: not self.call.channel.inbound, within)
