"""A line's chosen messages: a greeting spoken from text, or a recording played instead.

A WAV in the config folder goes through our own media path, resampled to the call's rate,
like synthesised speech, so the caller's voice (barge-in) and key presses (``#``) stop it
the same way. An Asterisk sound (``sound:custom/closed``) is played by Asterisk on the
caller's channel; a key press stops it. A recording that cannot be played (the file
vanished, Asterisk has no such sound) is logged and the message's text is spoken instead,
so the caller always hears something.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import wave

from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, PlaybackFinished
from ari_app.call.core import SessionCore
from ari_app.call.recorded import Recordings
from ari_app.call.voice import SayResult
from ari_app.config.kb_model import KnowledgeBaseError
from ari_app.errors import AriAppError, Stage
from ari_app.routing.plan import AiUnavailable, Audio

_LOGGER = logging.getLogger(__name__)
RECORDINGS = Recordings()
"""Recorded messages of this process, decoded once per file version."""
SOUND_LIMIT_S = 300.0
"""Longest an Asterisk sound may play before we stop waiting for it."""
_PLAYBACKS = itertools.count(1)


class AiUnavailableError(AriAppError):
    """The AI agent cannot go on with this call (its answer engine could not be built)."""

    stage = Stage.ANSWER

    def __init__(self, reason: AiUnavailable, detail: str) -> None:
        super().__init__(f"AI agent unavailable ({reason}): {detail}")
        self.reason: AiUnavailable = reason

    @classmethod
    def from_failure(cls, err: Exception) -> AiUnavailableError:
        """``kb_broken`` for a knowledge-base problem, else ``models_failed``."""
        reason: AiUnavailable = (
            "kb_broken" if isinstance(err, KnowledgeBaseError) else ("models_failed")
        )
        return cls(reason, f"{type(err).__name__}: {err}")


class MessageSteps(SessionCore):
    """Playing a line's messages (greetings) as text or recording."""

    async def _say_message(
        self, text: str, audio: Audio | None, *, barge_in: bool = True, keys: bool = True
    ) -> SayResult:
        """Say ``text``, or play its recording ``audio`` when the line chose one."""
        if audio is not None and audio.sound is not None:
            played = await self._play_sound(audio.sound, keys=keys)
            if played is not None:
                return played
        elif audio is not None and audio.path is not None:
            try:
                await RECORDINGS.pcm(audio.path)  # read (in a thread) before we start
            except (OSError, ValueError, EOFError, wave.Error) as err:
                _LOGGER.error("call %s: cannot play %s (%s)", self.call_id, audio.reference, err)
            else:
                chunks = RECORDINGS.chunks(audio.path)
                return await self._say(text, barge_in=barge_in, keys=keys, audio=chunks)
        return await self._say(text, barge_in=barge_in, keys=keys)

    async def _play_sound(self, sound: str, *, keys: bool) -> SayResult | None:
        """Asterisk plays ``sound`` to the caller; None when it could not (say the text)."""
        playback_id = f"{self.call_id}-message-{next(_PLAYBACKS)}"
        started = asyncio.get_running_loop().time()

        def finished(event: AriEvent) -> bool:
            return isinstance(event, PlaybackFinished) and event.playback.id == playback_id

        done = asyncio.create_task(self.inbox.wait_for(finished, SOUND_LIMIT_S))
        try:
            await self.ari.play(self.call_id, sound, playback_id=playback_id)
        except AriError as err:
            done.cancel()
            _LOGGER.error("call %s: Asterisk cannot play %s (%s)", self.call_id, sound, err)
            return None
        digit = asyncio.create_task(self.inbox.dtmf.get()) if keys else None
        try:
            await asyncio.wait({done, *([digit] if digit else [])}, return_when="FIRST_COMPLETED")
        finally:
            if digit is not None and not digit.done():
                digit.cancel()
        if digit is not None and digit.done() and not digit.cancelled():
            self._pending_digit = digit.result()
            done.cancel()
            with contextlib.suppress(AriError):  # it may have ended by itself meanwhile
                await self.ari.stop_playback(playback_id)
            return SayResult(True, started)
        try:
            event = done.result()
        except TimeoutError:
            return SayResult(False, started)
        assert isinstance(event, PlaybackFinished)
        if event.playback.state == "failed":
            _LOGGER.error("call %s: Asterisk has no sound %s", self.call_id, sound)
            return None
        return SayResult(False, started)
