"""One caller's conversation with the answer engine: analysis, policy and knowledge gaps.

The call session owns one :class:`Conversation` per call and feeds it what happens:
``await hear(text, now)`` for a transcript, ``silence()`` for a silent turn, ``dtmf(digit)``
for a key. Each returns the policy's :class:`~ari_app.answer.policy.Decision`. Embedding runs
in a worker thread, so the event loop stays free.
"""

from __future__ import annotations

from datetime import datetime

from ari_app.answer.engine import Analysis, AnswerEngine
from ari_app.answer.gaps import Gap, KnowledgeGaps
from ari_app.answer.policy import (
    Decision,
    DialogState,
    Dtmf,
    Event,
    Heard,
    PolicySettings,
    Silence,
    decide,
)
from ari_app.config.models import Line


def policy_settings(line: Line) -> PolicySettings:
    """Policy limits from a line's ``handoff`` settings."""
    return PolicySettings(
        max_failed_turns=line.handoff.max_failed_turns, max_silences=line.handoff.max_silences
    )


class Conversation:
    """The dialog state of one call and the engine it asks."""

    def __init__(
        self,
        engine: AnswerEngine,
        settings: PolicySettings,
        *,
        line: str = "",
        gaps: KnowledgeGaps | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.line = line
        self.gaps = gaps
        self.state = DialogState()
        self.last_analysis: Analysis | None = None

    def _step(self, event: Event) -> Decision:
        self.state, decision = decide(self.state, event, self.settings)
        return decision

    async def hear(self, text: str, now: datetime) -> Decision:
        """The decision after the caller said ``text`` at ``now``."""
        analysis = await self.engine.analyse_async(text, now)
        self.last_analysis = analysis
        decision = self._step(Heard(analysis))
        if decision.gap and self.gaps is not None:
            await self.gaps.record(
                Gap(
                    line=self.line,
                    question=text,
                    closest_entry=analysis.entry_id,
                    confidence=round(analysis.confidence, 3),
                    reason=str(analysis.verdict),
                    at=now,
                )
            )
        return decision

    def silence(self) -> Decision:
        """The decision after a silent turn."""
        return self._step(Silence())

    def dtmf(self, digit: str) -> Decision:
        """The decision after a key press."""
        return self._step(Dtmf(digit))
