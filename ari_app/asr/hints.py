"""Words of the business for Whisper's prompt: the names a general model may misspell.

From the knowledge base's text we keep the capitalised words that do not start a sentence
(business, street and insurer names: "Harbour Light Dental", "Cigna", "CareCredit"),
joined into runs, most frequent first. Given as the decoder's preceding text, they make
Whisper write "Cigna" rather than "signa" (measured in BENCHMARKS.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Final

from ari_app.asr.text import split_sentences

_TOKEN: Final = re.compile(r"[A-Za-z][A-Za-z'&-]*|[,;:()/]")
_COMMON: Final = frozenset({"I", "I'm", "I'll", "I've", "OK", "Yes", "No", "We", "You"})


def business_words(texts: Iterable[str], limit: int = 40) -> str:
    """Up to ``limit`` proper names from ``texts``, as a comma-separated prompt."""
    counts: Counter[str] = Counter()
    for text in texts:
        for sentence in split_sentences(text):
            run: list[str] = []
            for index, match in enumerate(_TOKEN.finditer(sentence)):
                word = match.group(0)
                if index > 0 and word[0].isupper() and word not in _COMMON:
                    run.append(word)
                    continue
                if run:
                    counts[" ".join(run)] += 1
                    run = []
            if run:
                counts[" ".join(run)] += 1
    names = [name for name, _ in counts.most_common(limit)]
    return ", ".join(names)
