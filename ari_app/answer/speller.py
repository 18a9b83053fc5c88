"""Maps misheard words in a transcript onto the knowledge base's own words.

Only words the knowledge base does not know are touched: a word is replaced when it sounds
like a known word (same rough phonetic key) or is one or two letters away from one, and two
neighbouring words are joined when together they make a known word ("met life" ->
"metlife", "sat today" -> "saturday").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ari_app.answer.text import STOPWORDS, edit_distance, normalize, sound_key, stem


class Speller:
    """Corrects unknown words of a normalised transcript towards a fixed vocabulary."""

    def __init__(self, vocabulary: Iterable[str], dictionary: Iterable[str] = ()) -> None:
        counts = Counter(w for w in vocabulary if w)
        self._known = set(counts) | STOPWORDS
        self._english = frozenset(dictionary)
        self._targets = {w: n for w, n in counts.items() if len(w) >= 4 and w not in STOPWORDS}
        self._by_key: dict[str, list[str]] = {}
        for word in self._targets:
            self._by_key.setdefault(sound_key(word), []).append(word)

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

    def _closest(self, word: str) -> str | None:
        if len(word) < 4 or word.isdigit():
            return None
        key = sound_key(word)
        limit = 0 if len(word) < 5 else 1 if len(word) < 8 else 2
        ranked: list[tuple[int, int, int, str]] = []
        for target in self._targets:
            if abs(len(target) - len(word)) > 2:
                continue
            distance = edit_distance(word, target, limit=2)
            same_sound = len(key) >= 3 and sound_key(target) == key and distance <= 2
            if same_sound or distance <= limit:
                ranked.append((0 if same_sound else 1, distance, -self._targets[target], target))
        return min(ranked)[3] if ranked else None

    def sound_alikes(self, word: str) -> list[str]:
        """Knowledge-base words a real but unexpected word may have been misheard for.

        Used only for a second reading when the first found no confident answer: "feeling"
        for "filling", "ours" for "hours", "whiting" for "whitening".
        """
        if len(word) < 4 or word in self._targets or word.isdigit():
            return []
        key = sound_key(word)
        found = []
        for target in self._targets:
            if abs(len(target) - len(word)) > 2:
                continue
            distance = edit_distance(word, target, limit=2)
            distance = edit_distance(word, target, limit=3)
            if (
                (len(key) >= 3 and sound_key(target) == key and distance <= 3)
                or target == "h" + word
                or (distance <= 1 and len(word) >= 5)
            ):
                found.append(target)
        return sorted(found)

    def joined_alikes(self, first: str, second: str) -> list[str]:
        """Knowledge-base words two heard words may be one misheard word for ("say nation")."""
        joined = first + second
        if first in self._targets or second in self._targets or len(joined) < 8:
            return []
        return sorted(
            t
            for t in self._targets
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
        for target in self._targets:
            if (
                len(target) >= 7
                and abs(len(target) - len(joined)) <= 2
                and edit_distance(joined, target, limit=2) <= 2
                and edit_distance(first, target, limit=2) > 2
            ):
                return target
        return None

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
