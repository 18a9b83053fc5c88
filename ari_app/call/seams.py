"""What a call session talks through: its voice and its conversation, as protocols.

The real ones are :class:`~ari_app.call.voice.Voice` (VAD, recognition, synthesis over the
media transport) and :class:`~ari_app.answer.conversation.Conversation` (answer engine and
policy). :class:`~ari_app.call.services.CallServices` holds factories for both, so tests
can pass scripted ones and walk the session's state machine in milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Protocol

from ari_app.answer.policy import Decision
from ari_app.call.voice import SayResult, Utterance
from ari_app.config.models import Config, Line
from ari_app.media.frames import AudioFrame
from ari_app.media.pacer import MediaTransport


class CallVoice(Protocol):
    """The call's ears and mouth on one media transport."""

    def start(self) -> None:
        """Start hearing the caller."""

    async def close(self) -> None:
        """Stop hearing and release the recogniser."""

    async def say(
        self, text: str, *, barge_in: bool = True, audio: AsyncIterator[AudioFrame] | None = None
    ) -> SayResult:
        """Speak ``text`` (or play ``audio``, a recorded message's frames); with
        ``barge_in``, stop when the caller talks over it."""

    async def listen(self) -> Utterance | None:
        """The caller's next utterance, or None for a silent turn."""


class CallConversation(Protocol):
    """The dialog of one call: what to do after each thing the caller does."""

    async def hear(self, text: str, now: datetime) -> Decision:
        """The decision after the caller said ``text``."""

    def silence(self) -> Decision:
        """The decision after a silent turn."""

    def dtmf(self, digit: str) -> Decision:
        """The decision after a key press."""


SpeechChunks = Callable[[str], AsyncIterator[AudioFrame]]
"""Text -> audio frames at the call's rate (the whisper speaks through this)."""
VoiceFactory = Callable[[MediaTransport, Line], CallVoice]
"""Builds a call's voice on its media transport, for the line's voice settings."""
ConversationFactory = Callable[[Config, str], Awaitable[CallConversation]]
"""Builds a call's conversation for a line of the call's own configuration snapshot."""
SpeakerFactory = Callable[[Line], SpeechChunks]
"""Synthesis in the line's voice (for the whisper to the agent)."""
