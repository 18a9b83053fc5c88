"""What every call shares in one process: ARI, configuration, speech, answers, seams.

Models (recognition, embeddings, synthesis) are loaded once here and shared by all calls;
a call only opens its own recognition stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ari_app.answer.conversation import Conversation, policy_settings
from ari_app.answer.engine import AnswerEngine
from ari_app.ari.client import AriClient
from ari_app.call.seams import (
    CallConversation,
    CallVoice,
    ConversationFactory,
    SpeakerFactory,
    SpeechChunks,
    VoiceFactory,
)
from ari_app.call.speech import SpeechKit
from ari_app.call.voice import Voice
from ari_app.config.models import Config, Line
from ari_app.media.endpointer import EndpointerSettings
from ari_app.media.pacer import MediaTransport
from ari_app.routing.ring import RingHistory
from ari_app.shared.protocols import RoutingState


@dataclass(slots=True)
class CallServices:
    """Everything a :class:`~ari_app.call.session.CallSession` needs from the process.

    A session takes one snapshot of ``config()`` at StasisStart and uses it to the end;
    its voice and conversation come from the factories here (scripted ones in tests).
    """

    ari: AriClient
    config: Callable[[], Config]
    """The configuration in force (each call snapshots it once; reloads affect new calls)."""
    speech: SpeechKit | None = None
    answers: Callable[[Config, str], Awaitable[AnswerEngine]] | None = None
    """The answer engine of a line of one configuration (built once per line and config)."""
    ring_history: RingHistory = field(default_factory=RingHistory)
    routing: RoutingState | None = None
    """Routing state shared by a pool of workers (None: ``ring_history``, this process's)."""
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """Wall clock for routing decisions (a fixed moment in the demo and tests)."""
    endpointer: EndpointerSettings = field(default_factory=EndpointerSettings)
    voice: VoiceFactory | None = None
    """Builds a call's voice (default: :class:`Voice` on ``speech``)."""
    conversation: ConversationFactory | None = None
    """Builds a call's conversation (default: :class:`Conversation` on ``answers``)."""
    speaker: SpeakerFactory | None = None
    """Synthesis for the whisper (default: ``speech``)."""

    def new_voice(self, transport: MediaTransport, line: Line) -> CallVoice:
        """The voice of one call on its media transport."""
        if self.voice is not None:
            return self.voice(transport, line)
        speech = self._speech()
        chunks = speech.chunks(line.ai_agent.voice, line.ai_agent.rate)
        return Voice(transport, chunks, speech.recognizer, self.endpointer)

    def speaker_for(self, line: Line) -> SpeechChunks:
        """Synthesis in ``line``'s voice."""
        if self.speaker is not None:
            return self.speaker(line)
        return self._speech().chunks(line.ai_agent.voice, line.ai_agent.rate)

    async def new_conversation(self, config: Config, line_name: str) -> CallConversation:
        """The conversation of one call on ``line_name`` of the call's ``config``."""
        if self.conversation is not None:
            return await self.conversation(config, line_name)
        if self.answers is None:
            raise RuntimeError("CallServices has neither answers nor a conversation factory")
        engine = await self.answers(config, line_name)
        line = config.lines[line_name]
        return Conversation(engine, policy_settings(line), line=line_name)

    def _speech(self) -> SpeechKit:
        if self.speech is None:
            raise RuntimeError("CallServices has no speech kit and no voice/speaker factory")
        return self.speech
