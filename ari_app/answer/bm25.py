"""Okapi BM25 over a small set of documents, with scores scaled to roughly 0..1.

A raw BM25 score grows with the query's length, so it is divided by the score the query
would get against a document made of itself: 1.0 means every query word was found as
strongly as it could be.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


class BM25:
    """A BM25 index over pre-tokenised documents."""

    def __init__(
        self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75
    ) -> None:
        self.k1 = k1
        self.b = b
        self._tfs = [Counter(doc) for doc in documents]
        self._lengths = [len(doc) for doc in documents]
        self._avg = (sum(self._lengths) / len(documents)) if documents else 1.0
        df: Counter[str] = Counter()
        for tf in self._tfs:
            df.update(tf.keys())
        n = len(documents)
        self._idf = {t: math.log(1.0 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def _term(self, tf: int, length: int) -> float:
        norm = 1.0 - self.b + self.b * length / self._avg
        return tf * (self.k1 + 1.0) / (tf + self.k1 * norm)

    def raw_scores(self, query: Sequence[str]) -> list[float]:
        """BM25 score of ``query`` against every document, in document order."""
        terms = [t for t in set(query) if t in self._idf]
        scores = []
        for tf, length in zip(self._tfs, self._lengths, strict=True):
            scores.append(sum(self._idf[t] * self._term(tf[t], length) for t in terms if t in tf))
        return scores

    def scores(self, query: Sequence[str]) -> list[float]:
        """BM25 scores divided by the query's best possible score (0 when nothing matches)."""
        raw = self.raw_scores(query)
        counts = Counter(query)
        # Unknown words get the highest idf: a question full of words the knowledge base never
        # uses cannot look like a perfect lexical match.
        top_idf = max(self._idf.values(), default=1.0)
        ceiling = sum(
            self._idf.get(t, top_idf) * self._term(n, len(query)) for t, n in counts.items()
        )
        if ceiling <= 0.0:
            return [0.0 for _ in raw]
        return [min(1.0, s / ceiling) for s in raw]
