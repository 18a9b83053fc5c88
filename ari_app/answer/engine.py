"""The answer engine of one line: intents first, then hybrid retrieval, then a verdict.

``AnswerEngine.analyse(text, now)`` turns one transcript into an :class:`Analysis`: the intent
(a person, a handoff phrase, goodbye, yes/no, repeat), or the knowledge-base entry with its
confidence and margin, the verdict (confident, low confidence, no match), the answer text to
speak (hours answers are built from the line's hours at ``now``) and the routing topic the
words match. The dialog policy decides what to do with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from ari_app.answer.embedder import Embedder, Vectors, english_words, get_embedder
from ari_app.answer.hours_answer import answer_hours
from ari_app.answer.intents import NO_INTENT, Intent, IntentDetector, IntentKind, PhraseMatcher
from ari_app.answer.kb import Entry, KnowledgeBase, load_knowledge_base
from ari_app.answer.retrieval import Retrieval, Retriever
from ari_app.answer.speller import Speller
from ari_app.answer.text import normalize, words
from ari_app.config.models import Config, Line
from ari_app.config.values import MONTHS, WEEKDAYS
from ari_app.routing.hours import BusinessHours


class Verdict(StrEnum):
    """How a transcript was understood."""

    INTENT = "intent"
    CONFIDENT = "confident"
    LOW_CONFIDENCE = "low_confidence"
    NO_MATCH = "no_match"
    EMPTY = "empty"


@dataclass(frozen=True)
class Thresholds:
    """When an answer is given: calibrated on the evaluation set (see BENCHMARKS.md)."""

    answer: float = 0.58
    """Blended score at or above which the best entry is answered..."""
    margin: float = 0.04
    """...if it leads the runner-up by at least this much."""
    close_answer: float = 0.48
    """A lower score is also answered..."""
    clear_margin: float = 0.15
    """...when the lead over the runner-up is at least this wide."""
    floor: float = 0.45
    """Below this the question matches nothing (no_match rather than low_confidence)."""


@dataclass(frozen=True)
class Analysis:
    """What one transcript means for the conversation."""

    text: str
    corrected: str
    intent: Intent
    verdict: Verdict
    entry: Entry | None = None
    answer: str | None = None
    confidence: float = 0.0
    margin: float = 0.0
    topic: str | None = None
    retrieval: Retrieval | None = None

    @property
    def entry_id(self) -> str | None:
        """The matched entry's id, if any."""
        return self.entry.id if self.entry else None


class AnswerEngine:
    """Intents, retrieval and answers for one line."""

    def __init__(
        self,
        kb: KnowledgeBase,
        embedder: Embedder,
        *,
        hours: BusinessHours | None = None,
        handoff_phrases: list[str] | None = None,
        topics: dict[str, list[str]] | None = None,
        people: list[str] | None = None,
        teams: list[str] | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.kb = kb
        self.hours = hours
        self.thresholds = thresholds or Thresholds()
        self.intents = IntentDetector(handoff_phrases or [], people or [], teams or [])
        self.topics = {name: PhraseMatcher(p) for name, p in (topics or {}).items()}
        self.retriever = Retriever(kb, embedder)
        vocabulary: list[str] = [*WEEKDAYS, *MONTHS, "tomorrow", "today", "weekend"]
        for entry in kb.entries:
            for text in (*entry.questions, entry.answer):
                vocabulary.extend(words(text))
        vocabulary.extend(self.intents.custom.vocabulary)
        for matcher in self.topics.values():
            vocabulary.extend(matcher.vocabulary)
        self.speller = Speller(vocabulary, english_words())

    @classmethod
    def for_line(
        cls,
        config: Config,
        line_name: str,
        *,
        embedder: Embedder | None = None,
        thresholds: Thresholds | None = None,
    ) -> AnswerEngine:
        """Build the engine of a configured line (loads its knowledge-base folder)."""
        line: Line = config.lines[line_name]
        folder = Path(config.config_dir) / line.ai_agent.knowledge_base
        return cls(
            load_knowledge_base(folder),
            embedder or get_embedder(),
            hours=BusinessHours.from_line(line),
            handoff_phrases=list(line.handoff.phrases),
            topics={t.name: list(t.phrases) for t in line.routing.topics},
            people=[u.name for u in config.users.values()],
            teams=[*config.teams, *(t.name for t in config.teams.values() if t.name)],
            thresholds=thresholds,
        )

    @classmethod
    def for_config(
        cls, config: Config, *, embedder: Embedder | None = None
    ) -> dict[str, AnswerEngine]:
        """One engine per line whose AI agent is enabled (build once per process, share)."""
        shared = embedder or get_embedder()
        return {
            name: cls.for_line(config, name, embedder=shared)
            for name, line in config.lines.items()
            if line.ai_agent.enabled
        }

    def topic_of(self, text: str) -> str | None:
        """The first routing topic whose phrases occur in ``text``."""
        for name, matcher in self.topics.items():
            if matcher.find(text) is not None:
                return name
        return None

    def _intent(self, text: str, corrected: str) -> Intent:
        intent = self.intents.detect(text)
        if intent.kind is IntentKind.NONE and corrected != normalize(text):
            intent = self.intents.detect(corrected)
        return intent

    def _reading(self, text: str) -> tuple[str, Intent]:
        """The corrected words of ``text`` and the intent they carry."""
        corrected = self.speller.correct(text)
        if not corrected:
            return corrected, NO_INTENT
        return corrected, self._intent(text, corrected)

    def second_reading(self, text: str, corrected: str) -> str | None:
        """Another reading with sound-alike words swapped in ("feeling" -> "filling").

        Each unexpected word is replaced by the sound-alike that most raises the best
        lexical match; None when nothing changes.
        """
        raw = normalize(text).split()
        tokens = corrected.split()
        if len(raw) != len(tokens):
            raw = tokens
        changed = False
        for i, word in enumerate(tokens):
            options = self.speller.sound_alikes(raw[i])
            if not options:
                continue
            best_score = self.retriever.lexical_best(" ".join(tokens))
            best_word = word
            for option in options:
                trial = [*tokens[:i], option, *tokens[i + 1 :]]
                score = self.retriever.lexical_best(" ".join(trial))
                if score > best_score:
                    best_score, best_word = score, option
            if best_word != word:
                tokens[i] = best_word
                changed = True
        if not changed and len(raw) == len(tokens):
            for i in range(len(tokens) - 1):
                best_score = self.retriever.lexical_best(" ".join(tokens))
                for option in self.speller.joined_alikes(raw[i], raw[i + 1]):
                    trial = [*tokens[:i], option, *tokens[i + 2 :]]
                    if self.retriever.lexical_best(" ".join(trial)) > best_score:
                        return " ".join(trial)
        return " ".join(tokens) if changed else None

    def _judge(
        self, text: str, corrected: str, vector: Vectors, now: datetime, topic: str | None
    ) -> Analysis:
        retrieval = self.retriever.rank(corrected, vector)
        best = retrieval.best
        t = self.thresholds
        if (best.score >= t.answer and retrieval.margin >= t.margin) or (
            best.score >= t.close_answer and retrieval.margin >= t.clear_margin
        ):
            verdict = Verdict.CONFIDENT
        elif best.score < t.floor:
            verdict = Verdict.NO_MATCH
        else:
            verdict = Verdict.LOW_CONFIDENCE
        answer = None
        if verdict is Verdict.CONFIDENT:
            answer = self.answer_text(best.entry, corrected, now)
        return Analysis(
            text,
            corrected,
            NO_INTENT,
            verdict,
            entry=best.entry,
            answer=answer,
            confidence=best.score,
            margin=retrieval.margin,
            topic=topic,
            retrieval=retrieval,
        )

    def _topic(self, text: str, corrected: str) -> str | None:
        return self.topic_of(text) or self.topic_of(corrected)

    def _readings(self, text: str) -> tuple[str, Intent, list[str]]:
        """Corrected text, intent, and the texts to embed (none when an intent decides)."""
        corrected, intent = self._reading(text)
        if not corrected or intent.kind is not IntentKind.NONE:
            return corrected, intent, []
        again = self.second_reading(text, corrected)
        return corrected, intent, [corrected] if again is None else [corrected, again]

    def _decide(
        self,
        text: str,
        corrected: str,
        intent: Intent,
        readings: list[str],
        *,
        vectors: Vectors | None,
        now: datetime,
    ) -> Analysis:
        topic = self._topic(text, corrected)
        if not corrected:
            return Analysis(text, corrected, NO_INTENT, Verdict.EMPTY)
        if intent.kind is not IntentKind.NONE or vectors is None:
            return Analysis(text, corrected, intent, Verdict.INTENT, confidence=1.0, topic=topic)
        first = self._judge(text, corrected, vectors[0], now, topic)
        if first.verdict is Verdict.CONFIDENT or len(readings) < 2:
            return first
        second = self._judge(text, readings[1], vectors[1], now, topic)
        return second if second.verdict is Verdict.CONFIDENT else first

    def analyse(self, text: str, now: datetime) -> Analysis:
        """Analyse one transcript (blocking: runs the embedding model when needed).

        When a sound-alike reading exists ("feeling" -> "filling"), both readings are embedded
        in one batch; the second is used only if the first finds no confident answer.
        """
        corrected, intent, readings = self._readings(text)
        vectors = self.retriever.embedder.encode(readings) if readings else None
        return self._decide(text, corrected, intent, readings, vectors=vectors, now=now)

    async def analyse_async(self, text: str, now: datetime) -> Analysis:
        """Analyse one transcript with the embedding model run in a worker thread."""
        corrected, intent, readings = self._readings(text)
        vectors = await self.retriever.embedder.encode_async(readings) if readings else None
        return self._decide(text, corrected, intent, readings, vectors=vectors, now=now)

    def answer_text(self, entry: Entry, question: str, now: datetime) -> str:
        """The words to speak for ``entry``: hours built at ``now``, or the closed variant."""
        if entry.source == "hours":
            if self.hours is None:
                return "I'm sorry, I don't have our opening hours."
            return answer_hours(question, self.hours, now)
        closed = entry.answer_when_closed
        if closed and self.hours is not None and not self.hours.state_at(now).is_open:
            return closed
        return entry.answer
