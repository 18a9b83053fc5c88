"""Word error rate: word-level edit distance between a reference and a hypothesis."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ari_app.asr.text import normalise


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference word count) after normalising both."""
    ref, hyp = normalise(reference).split(), normalise(hypothesis).split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[:], i
        for j, h in enumerate(hyp, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h))
    return row[len(hyp)], len(ref)


@dataclass(frozen=True, slots=True)
class WerScore:
    """Word errors summed over a set of utterances."""

    errors: int
    words: int

    @property
    def wer(self) -> float:
        """Errors per reference word (0.0 when there are no reference words)."""
        return self.errors / self.words if self.words else 0.0


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> WerScore:
    """Word error rate over (reference, hypothesis) pairs, weighted by reference length."""
    errors = words = 0
    for ref, hyp in pairs:
        e, n = word_errors(ref, hyp)
        errors += e
        words += n
    return WerScore(errors, words)
