"""Intents heard before any knowledge-base lookup: a person, a handoff phrase, goodbye, yes/no.

Rules over normalised words, so they are fast, predictable and easy to read in a log:
asking for a person ("agent", "talk to someone", "a real person", a colleague's name),
the line's own handoff phrases ("refund", "cancel my appointment"), goodbye, yes or no
(to "anything else?" or to an offer), and "say that again".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ari_app.answer.text import STOPWORDS, stem, words


class IntentKind(StrEnum):
    """What the caller wants, when it is not a question for the knowledge base."""

    PERSON = "person"
    CUSTOM_PHRASE = "custom_phrase"
    GOODBYE = "goodbye"
    YES = "yes"
    NO = "no"
    REPEAT = "repeat"
    NONE = "none"


@dataclass(frozen=True)
class Intent:
    """A detected intent; ``phrase`` names the handoff phrase that matched, if any."""

    kind: IntentKind
    phrase: str | None = None


NO_INTENT = Intent(IntentKind.NONE)

# Words that mean a human on their own.
_PERSON_WORDS = frozenset(
    {
        "agent",
        "agents",
        "representative",
        "representatives",
        "rep",
        "operator",
        "human",
        "humans",
        "receptionist",
        "receptionists",
        "secretary",
        "staffer",
    }
)
_PERSON_PAIRS = (
    ("real", "person"),
    ("live", "person"),
    ("actual", "person"),
    ("real", "human"),
    ("live", "agent"),
    ("customer", "service"),
    ("customer", "support"),
    ("real", "people"),
    ("live", "human"),
    ("actual", "human"),
)
# "talk to someone": a verb of reaching plus who.
_REACH_VERBS = frozenset(
    {
        "talk",
        "talking",
        "speak",
        "speaking",
        "connect",
        "transfer",
        "chat",
        "reach",
        "get",
        "put",
        "patch",
        "send",
        "call",
        "ring",
    }
)
_WHO = frozenset(
    {
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "person",
        "people",
        "staff",
        "dentist",
        "doctor",
        "hygienist",
        "nurse",
        "manager",
        "office",
        "desk",
        "team",
        "man",
        "woman",
        "lady",
        "guy",
        "one",
    }
)
_WHO_FIRST = frozenset({"someone", "somebody", "anyone", "anybody", "person", "human"})
_TALK = frozenset({"talk", "speak", "chat"})
_PERSON_NOUNS = frozenset({"person", "human", "somebody", "someone"})
_TRANSFER = (
    ("transfer", "me"),
    ("connect", "me"),
    ("put", "me", "through"),
    ("patch", "me", "through"),
    ("put", "through"),
    ("speak", "with", "someone"),
)
_NEGATIONS = frozenset({"dont", "not", "never", "without", "no", "nobody"})
_NOT_A_PERSON = frozenset({"you", "yourself", "me", "myself", "it", "this", "that", "about"})
"""After "speak to" / "talk with": words that do not name someone to be put through to
(the AI agent itself, the caller, a topic)."""

_GOODBYE_SEQUENCES = (
    ("bye",),
    ("goodbye",),
    ("bye", "bye"),
    ("thats", "all"),
    ("that", "is", "all"),
    ("thats", "it"),
    ("that", "is", "it"),
    ("nothing", "else"),
    ("all", "set"),
    ("im", "done"),
    ("i", "am", "done"),
    ("have", "a", "good", "day"),
    ("have", "a", "nice", "day"),
    ("that", "will", "be", "all"),
    ("thatll", "be", "all"),
    ("thats", "everything"),
    ("see", "you"),
    ("take", "care"),
    ("hang", "up"),
)
_LAST_WORD_GOODBYE = frozenset({"bye", "goodbye"})
"""A short utterance ending with one of these is a goodbye."""
_YES_WORDS = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yup",
        "yah",
        "ya",
        "sure",
        "okay",
        "ok",
        "alright",
        "right",
        "correct",
        "absolutely",
        "definitely",
        "certainly",
        "please",
        "go",
        "ahead",
        "do",
        "that",
        "would",
        "be",
        "great",
        "good",
        "sounds",
        "fine",
        "thanks",
        "thank",
        "you",
        "i",
        "uh",
        "huh",
        "mhm",
        "of",
        "course",
        "it",
        "perfect",
        "lovely",
    }
)
_YES_LEADS = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yup",
        "yah",
        "ya",
        "sure",
        "okay",
        "ok",
        "alright",
        "absolutely",
        "definitely",
        "certainly",
        "please",
        "correct",
        "mhm",
        "perfect",
    }
)
_NO_WORDS = frozenset(
    {
        "no",
        "nope",
        "nah",
        "more",
        "not",
        "really",
        "thanks",
        "thank",
        "you",
        "im",
        "good",
        "fine",
        "all",
        "set",
        "i",
        "am",
        "thats",
        "it",
        "ok",
        "okay",
        "alright",
        "then",
        "actually",
        "nothing",
        "else",
        "need",
        "dont",
        "think",
        "so",
        "sorry",
    }
)
_NO_LEADS = frozenset({"no", "nope", "nah", "nothing", "not"})
_REPEAT_SEQUENCES = (
    ("repeat",),
    ("say", "that", "again"),
    ("say", "it", "again"),
    ("come", "again"),
    ("pardon",),
    ("didnt", "catch"),
    ("didnt", "hear"),
    ("did", "not", "hear"),
    ("what", "did", "you", "say"),
    ("one", "more", "time"),
    ("say", "again"),
    ("once", "more"),
    ("missed", "that"),
)


def _contains(seq: list[str], pattern: tuple[str, ...]) -> bool:
    n = len(pattern)
    return any(tuple(seq[i : i + n]) == pattern for i in range(len(seq) - n + 1))


def _negated(seq: list[str], index: int) -> bool:
    return any(w in _NEGATIONS for w in seq[max(0, index - 3) : index])


def _word_matches(said: str, wanted: str) -> bool:
    if said == wanted:
        return True
    a, b = stem(said), stem(wanted)
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 6 and long_.startswith(short) and len(long_) - len(short) <= 2


class PhraseMatcher:
    """Finds a configured phrase in a transcript, ignoring small words and word endings."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._phrases: list[tuple[str, list[str]]] = []
        for phrase in phrases:
            content = [w for w in words(phrase) if w not in STOPWORDS] or words(phrase)
            if content:
                self._phrases.append((phrase, content))

    @property
    def vocabulary(self) -> set[str]:
        """Every word of every phrase (so the speller can steer misheard words to them)."""
        return {w for _, content in self._phrases for w in content}

    def find(self, text: str) -> str | None:
        """The first phrase whose words appear in order (at most two words between)."""
        said = words(text)
        for phrase, content in self._phrases:
            if _in_order(said, content):
                return phrase
        return None


def _in_order(said: list[str], wanted: list[str]) -> bool:
    for start, word in enumerate(said):
        if not _word_matches(word, wanted[0]):
            continue
        position = start
        ok = True
        for target in wanted[1:]:
            window = said[position + 1 : position + 4]
            hit = next((k for k, w in enumerate(window) if _word_matches(w, target)), None)
            if hit is None:
                ok = False
                break
            position += 1 + hit
        if ok:
            return True
    return False


class IntentDetector:
    """Detects the intents of one line: its handoff phrases and the names of its people."""

    def __init__(
        self,
        handoff_phrases: Iterable[str] = (),
        people: Iterable[str] = (),
        teams: Iterable[str] = (),
    ) -> None:
        self.custom = PhraseMatcher(handoff_phrases)
        self._names = frozenset(w for name in people for w in words(name) if len(w) >= 3)
        team_words = {w for team in teams for w in words(team.replace("_", " ")) if len(w) >= 3}
        self._who = _WHO | (team_words - STOPWORDS)

    def asks_for_person(self, seq: list[str]) -> bool:
        """Whether the words ask for a human."""
        for i, word in enumerate(seq):
            if (word in _PERSON_WORDS or word in self._names) and not _negated(seq, i):
                return True
        for pair in _PERSON_PAIRS:
            if _contains(seq, pair):
                return not _negated(seq, seq.index(pair[0]))
        for pattern in _TRANSFER:
            if _contains(seq, pattern):
                return not _negated(seq, seq.index(pattern[0]))
        for i, word in enumerate(seq):
            if (
                word in _TALK
                and seq[i + 1 : i + 2] in (["to"], ["with"])
                and i + 2 < len(seq)
                and seq[i + 2] not in _NOT_A_PERSON
                and not _negated(seq, i)
            ):
                # "I'd like to speak with a ..." asks for someone, even when the name or
                # role after it is misheard ("a person please" -> "a perfect lean").
                return True
            if word in _WHO_FIRST and not _negated(seq, i):
                ahead = seq[i + 1 : i + 6]
                if any(w in _TALK for w in ahead):
                    return True
            if (
                word in ("give", "get", "want", "need")
                and seq[i + 1 : i + 2] in (["me"], ["a"])
                and any(w in _PERSON_NOUNS for w in seq[i + 1 : i + 5])
            ):
                return True
            if word in _REACH_VERBS and not _negated(seq, i):
                ahead = seq[i + 1 : i + 5]
                if any(w in self._who for w in ahead) and word not in (
                    "get",
                    "call",
                    "send",
                    "ring",
                ):
                    return True
                if (
                    word in ("get", "put", "send")
                    and ahead[:1] == ["me"]
                    and any(w in self._who for w in ahead[1:])
                ):
                    return True
        return False

    def detect(self, text: str) -> Intent:
        """The intent of one utterance (``NO_INTENT`` when it is a question to look up)."""
        seq = words(text)
        if not seq:
            return NO_INTENT
        if self.asks_for_person(seq):
            return Intent(IntentKind.PERSON)
        phrase = self.custom.find(text)
        if phrase is not None:
            return Intent(IntentKind.CUSTOM_PHRASE, phrase)
        if len(seq) <= 8 and any(_contains(seq, p) for p in _REPEAT_SEQUENCES):
            return Intent(IntentKind.REPEAT)
        if seq[0] in _YES_LEADS and all(w in _YES_WORDS for w in seq):
            return Intent(IntentKind.YES)
        if len(seq) <= 8 and any(_contains(seq, p) for p in _GOODBYE_SEQUENCES):
            rest = [w for w in seq if w not in _NO_WORDS and w not in STOPWORDS]
            if len(rest) <= 2:
                return Intent(IntentKind.GOODBYE)
        if len(seq) <= 10 and seq[-1] in _LAST_WORD_GOODBYE:
            # "... thank you, goodbye": the caller is leaving, however the words before it
            # were heard ("no happy mall thank you goodbye" on a real call, for "no, nothing
            # at all, thank you, goodbye").
            return Intent(IntentKind.GOODBYE)
        if seq[0] in _NO_LEADS and all(w in _NO_WORDS or w in STOPWORDS for w in seq):
            return Intent(IntentKind.NO)
        if seq in (["im", "good"], ["im", "fine"], ["i", "am", "good"], ["all", "good"]):
            return Intent(IntentKind.NO)
        return NO_INTENT
