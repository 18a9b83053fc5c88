"""The AI agent's part of a call: greet, then answer until the policy says goodbye or hand off."""

from __future__ import annotations

import asyncio

from ari_app.answer.policy import Action, Decision
from ari_app.call.events import AgentSaid, CallerSaid, Dtmf, Greeting, KnowledgeGap, Silence
from ari_app.call.messages import AiUnavailableError, MessageSteps
from ari_app.call.voice import Utterance
from ari_app.routing.plan import AiAgentStep


class ConverseSteps(MessageSteps):
    """The conversation loop of :class:`~ari_app.call.session.CallSession`."""

    async def _converse(self, step: AiAgentStep) -> Decision:
        """Greet and answer questions until the policy says goodbye or hand off."""
        loop = asyncio.get_running_loop()
        answered_at = loop.time()
        greeting = await self._say_message(step.greeting, step.greeting_audio)
        latency = None
        if greeting.first_audio_at is not None:
            latency = round((greeting.first_audio_at - answered_at) * 1000)
        self._emit(Greeting, text=step.greeting, latency_ms=latency)
        # After the greeting: a line's engine built on first use (after a reload) never
        # delays the caller's first audio; what they say meanwhile is already being heard.
        try:
            conversation = await self.services.new_conversation(self.config, self.line_name)
        except Exception as err:  # the line's knowledge base or the models cannot be used
            raise AiUnavailableError.from_failure(err) from err
        while True:
            heard = await self._next_input()
            utterance: Utterance | None = None
            if isinstance(heard, str):
                self._emit(Dtmf, digit=heard)
                decision = conversation.dtmf(heard)
            elif heard is None or not heard.text:
                self._emit(Silence)
                decision = conversation.silence()
            else:
                utterance = heard
                self._last_question = heard.text
                self._emit(
                    CallerSaid,
                    text=heard.text,
                    confidence=round(heard.confidence, 3),
                    recognised_ms=round((heard.recognised_at - heard.end_of_speech_at) * 1000),
                )
                decision = await conversation.hear(heard.text, self.services.now())
            if decision.gap and utterance is not None:
                self._emit(KnowledgeGap, question=utterance.text)
            if decision.action is Action.IGNORE:
                continue
            if decision.action is Action.HANDOFF:
                return decision
            result = await self._say(decision.say, barge_in=decision.action is not Action.GOODBYE)
            latency = None
            if utterance is not None and result.first_audio_at is not None:
                latency = round((result.first_audio_at - utterance.end_of_speech_at) * 1000)
            self._emit(
                AgentSaid,
                text=decision.say,
                action=str(decision.action),
                confidence=round(decision.confidence, 3),
                latency_ms=latency,
                interrupted=result.interrupted,
            )
            if decision.action is Action.GOODBYE:
                return decision
