"""Hybrid retrieval over the knowledge base: BM25 on words plus sentence-embedding similarity.

Each entry is scored by the best cosine similarity between the question and the entry's
example questions (embeddings encoded once, at load) and by BM25 over the entry's questions
and answer. The blend is the confidence; the gap to the best *other* entry is the margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ari_app.answer.bm25 import BM25
from ari_app.answer.embedder import Embedder, Vectors
from ari_app.answer.kb import Entry, KnowledgeBase
from ari_app.answer.text import content_tokens

EMBEDDING_WEIGHT = 0.65
"""Share of the embedding similarity in the blended score (the rest is BM25)."""


@dataclass(frozen=True)
class Candidate:
    """One entry's scores for a question."""

    entry: Entry
    score: float
    embedding: float
    lexical: float


@dataclass(frozen=True)
class Retrieval:
    """Entries ranked for a question, best first; ``margin`` is best minus runner-up."""

    ranked: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate:
        """The top candidate."""
        return self.ranked[0]

    @property
    def score(self) -> float:
        """The top candidate's blended score (0..1)."""
        return self.ranked[0].score

    @property
    def margin(self) -> float:
        """How far the top candidate is ahead of the second."""
        if len(self.ranked) < 2:
            return self.ranked[0].score
        return self.ranked[0].score - self.ranked[1].score


class Retriever:
    """Scores questions against a knowledge base; embeddings of its questions made once."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder) -> None:
        self.kb = kb
        self.embedder = embedder
        owners: list[int] = []
        texts: list[str] = []
        for index, entry in enumerate(kb.entries):
            for question in entry.questions:
                owners.append(index)
                texts.append(question)
        self._owners = np.asarray(owners, dtype=np.int64)
        self._vectors: Vectors = embedder.encode(texts)
        self._bm25 = BM25([content_tokens(" ".join([*e.questions, e.answer])) for e in kb.entries])

    def rank(self, text: str, vector: Vectors) -> Retrieval:
        """Rank entries for ``text`` whose embedding is ``vector`` (pure arithmetic, fast)."""
        sims = self._vectors @ vector
        best = np.full(len(self.kb.entries), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owners, sims)
        lexical = self._bm25.scores(content_tokens(text))
        candidates = [
            Candidate(
                entry=entry,
                score=float(
                    EMBEDDING_WEIGHT * max(0.0, float(best[i]))
                    + (1.0 - EMBEDDING_WEIGHT) * lexical[i]
                ),
                embedding=float(best[i]),
                lexical=lexical[i],
            )
            for i, entry in enumerate(self.kb.entries)
        ]
        candidates.sort(key=lambda c: c.score, reverse=True)
        return Retrieval(tuple(candidates))

    def lexical_best(self, text: str) -> float:
        """The best BM25 score (0..1) any entry gets for ``text`` (cheap: no model)."""
        return max(self._bm25.scores(content_tokens(text)), default=0.0)

    def search(self, text: str) -> Retrieval:
        """Embed ``text`` and rank entries (blocking: runs the model)."""
        return self.rank(text, self.embedder.encode_one(text))

    async def search_async(self, text: str) -> Retrieval:
        """Like :meth:`search`, with the model run in a worker thread."""
        return self.rank(text, await self.embedder.encode_one_async(text))
