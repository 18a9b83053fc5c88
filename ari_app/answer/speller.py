"""Maps misheard words in a transcript onto the knowledge base's own words.

Only words that are neither in the knowledge base nor ordinary English are touched: such a
word is replaced when it sounds like a known word (same rough phonetic key) or is a letter
or two away from one, and neighbouring words are joined when together they make a known
word ("met life" -> "metlife", "sat today" -> "saturday"). Real words heard in place of
others ("feeling" for "filling") get sound-alike suggestions for a second reading.

Lookups go through indexes built once (sound keys, and every spelling with one or two
letters deleted), so a question is corrected in well under a millisecond.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import combinations

from ari_app.answer.text import STOPWORDS, edit_distance, normalize, sound_key, stem


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` letters deleted (including ``word`` itself)."""
    out = {word}
    for k in range(1, min(depth, len(word) - 1) + 1):
        for drop in combinations(range(len(word)), k):
            out.add("".join(c for i, c in enumerate(word) if i not in drop))
    return out


class Speller:
    """Corrects unknown words of a normalised transcript towards a fixed vocabulary."""

    def __init__(self, vocabulary: Iterable[str], dictionary: Iterable[str] = ()) -> None:
        counts = Counter(w for w in vocabulary if w)
        self._known = set(counts) | STOPWORDS
        self._english = frozenset(dictionary)
        self._targets = {w: n for w, n in counts.items() if len(w) >= 4 and w not in STOPWORDS}
        self._by_key: dict[str, list[str]] = {}
        self._by_deletion: dict[str, set[str]] = {}
        self._by_initial: dict[str, list[str]] = {}
        for word in self._targets:
            self._by_key.setdefault(sound_key(word), []).append(word)
            self._by_initial.setdefault(word[0], []).append(word)
            for variant in _deletions(word, 2):
                self._by_deletion.setdefault(variant, set()).add(word)

    def known(self, word: str) -> bool:
        """Whether ``word`` is in the vocabulary (or a stopword)."""
        return word in self._known

    def real_word(self, word: str) -> bool:
        """Whether ``word`` (or its stem) is known or an ordinary English word: never corrected."""
        return (
            word in self._known
            or word in self._english
            or stem(word) in self._known
            or stem(word) in self._english
        )

    def _near(self, word: str, limit: int) -> set[str]:
        """Targets within ``limit`` (at most 2) edits of ``word``."""
        found: set[str] = set()
        for variant in _deletions(word, limit):
            found |= self._by_deletion.get(variant, set())
        return {t for t in found if edit_distance(word, t, limit=limit) <= limit}

    def _sound_mates(self, word: str, max_distance: int) -> set[str]:
        key = sound_key(word)
        if len(key) < 3:
            return set()
        return {
            t
            for t in self._by_key.get(key, [])
            if edit_distance(word, t, limit=max_distance) <= max_distance
        }

    def _closest(self, word: str) -> str | None:
        if len(word) < 4 or word.isdigit():
            return None
        limit = 0 if len(word) < 5 else 1 if len(word) < 8 else 2
        same_sound = self._sound_mates(word, 2)
        near = self._near(word, limit) if limit else set()
        ranked = [
            (0 if t in same_sound else 1, edit_distance(word, t, limit=2), -self._targets[t], t)
            for t in same_sound | near
        ]
        return min(ranked)[3] if ranked else None

    def sound_alikes(self, word: str) -> list[str]:
        """Knowledge-base words a real but unexpected word may have been misheard for.

        Used only for a second reading when the first found no confident answer: "feeling"
        for "filling", "ours" for "hours", "whiting" for "whitening".
        """
        if len(word) < 4 or word in self._targets or word.isdigit():
            return []
        found = self._sound_mates(word, 3)
        if "h" + word in self._targets:
            found.add("h" + word)
        if len(word) >= 5:
            found |= self._near(word, 1)
        return sorted(found)

    def joined_alikes(self, first: str, second: str) -> list[str]:
        """Knowledge-base words two heard words may be one misheard word for ("say nation")."""
        joined = first + second
        if first in self._targets or second in self._targets or len(joined) < 8:
            return []
        return sorted(
            t
            for t in self._by_initial.get(joined[0], [])
            if len(t) >= 8
            and abs(len(t) - len(joined)) <= 2
            and edit_distance(joined, t, limit=3) <= 3
        )

    def _join(self, *parts: str) -> str | None:
        joined = "".join(parts)
        if joined in self._targets:
            return joined
        first = parts[0]
        if len(parts) > 2 and self.known(parts[1]):
            return None
        if (len(parts) == 2 and self.known(first)) or len(joined) < 7 + 2 * (len(parts) - 2):
            return None
        fits = [
            (edit_distance(joined, t, limit=2), -self._targets[t], t)
            for t in self._near(joined, 2)
            if len(t) >= 7 and edit_distance(first, t, limit=2) > 2
        ]
        return min(fits)[2] if fits else None

    def correct(self, text: str) -> str:
        """Return ``text`` normalised, with unknown words replaced by known ones where clear."""
        tokens = normalize(text).split()
        out: list[str] = []
        i = 0
        while i < len(tokens):
            word = tokens[i]
            joined = None
            for size in (3, 2):
                if i + size <= len(tokens):
                    joined = self._join(*tokens[i : i + size])
                    if joined is not None:
                        out.append(joined)
                        i += size
                        break
            if joined is not None:
                continue
            if not self.real_word(word):
                word = self._closest(word) or word
            out.append(word)
            i += 1
        return " ".join(out)
