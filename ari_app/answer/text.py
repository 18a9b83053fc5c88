"""Text helpers for spoken questions: normalising, tokens, a light stemmer and phonetic keys.

Speech recognisers return lower-case words with fillers ("um", "uh") and homophones
("signa" for "cigna"); these helpers turn a transcript into comparable tokens and give
each word a rough sound key so misheard words can be matched to the knowledge base's words.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHE = re.compile(r"['’`]")

FILLERS = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "hmm", "hm", "ah", "oh", "mm"})

_STOPWORD_TEXT = """
    a an the and or but if of to in on at by for with from into about as is are was were be
    been being am do does did doing have has had having i me my mine we us our ours you your
    yours he him his she her it its they them their this that these those there here what
    which who whom whose when where why how can could would should will shall may might must
    just please so very really well okay ok yes no not any some get got go going want wanted
    wanna like hi hello hey know tell let lets need im ive id thats theres whats hows wheres
    dont doesnt also too then than there s t ll re ve d m
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Words that carry no topic of their own (dropped before lexical matching)."""


def normalize(text: str) -> str:
    """Lower-case, drop apostrophes and punctuation, remove fillers, squeeze spaces."""
    text = _APOSTROPHE.sub("", text.lower())
    words = [w for w in _WORD.findall(text) if w not in FILLERS]
    return " ".join(words)


def words(text: str) -> list[str]:
    """The normalised words of ``text`` in order (fillers removed)."""
    return normalize(text).split()


def stem(word: str) -> str:
    """A light English stemmer: plural and verb endings only, so 'cancellation' stays apart."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses", "zes")):
                continue
            base = word[: len(word) - len(suffix)] + keep
            if suffix in ("ing", "ed") and len(base) >= 4 and base[-1] == base[-2]:
                base = base[:-1]  # cancelling -> cancel, stopped -> stop
            return base
    return word


def content_tokens(text: str) -> list[str]:
    """Stemmed words of ``text`` without stopwords (what lexical retrieval compares)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def sound_key(word: str) -> str:
    """A rough phonetic key: c/k/q, s/z and f/ph merged, vowels after the first letter dropped."""
    w = word.lower()
    w = re.sub(r"thes$", "s", w)  # "clothes" is said like "close"
    w = re.sub(r"c(?=[eiy])", "s", w)
    w = w.replace("ph", "f").replace("ck", "k").replace("q", "k").replace("x", "ks")
    w = w.replace("c", "k").replace("z", "s").replace("wh", "w").replace("gh", "g")
    if not w:
        return w
    head = "a" if w[0] in "aeiouy" else w[0]
    tail = re.sub(r"[aeiouyhw]", "", w[1:])
    key = head + tail
    return re.sub(r"(.)\1+", r"\1", key)


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance between ``a`` and ``b``, stopping early above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
