"""Pronunciations for the domain model: CMU dictionary first, then compounds, then espeak-ng.

Pocketsphinx needs every language-model word in its dictionary. Words the CMU dictionary
shipped in the pocketsphinx wheel lacks (``carecredit``, ``toothache``) are split into two
known words when possible, and otherwise given a pronunciation from espeak-ng's IPA output
mapped to the CMU (ARPAbet) phone set of the acoustic model.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from pocketsphinx import get_model_path

log = logging.getLogger(__name__)

_MIN_PART: Final = 2
_ESPEAK_TIMEOUT_S: Final = 10.0

# IPA (as espeak-ng writes it for en-us) to ARPAbet, longest symbols first.
_IPA_TO_ARPABET: Final = {
    "aɪə": "AY ER",
    "eɪ": "EY",
    "aɪ": "AY",
    "aʊ": "AW",
    "oʊ": "OW",
    "əʊ": "OW",
    "ɔɪ": "OY",
    "tʃ": "CH",
    "dʒ": "JH",
    "ɜː": "ER",
    "ɑː": "AA",
    "ɔː": "AO",
    "iː": "IY",
    "uː": "UW",
    "ɪə": "IH R",
    "ɛə": "EH R",
    "ʊə": "UH R",
    "ɑ": "AA",
    "ɒ": "AA",
    "æ": "AE",
    "ʌ": "AH",
    "ə": "AH",
    "ɐ": "AH",
    "ɚ": "ER",
    "ɝ": "ER",
    "ɛ": "EH",
    "e": "EH",
    "ɪ": "IH",
    "ᵻ": "IH",
    "i": "IY",
    "ɔ": "AO",
    "o": "OW",
    "ʊ": "UH",
    "u": "UW",
    "b": "B",
    "d": "D",
    "ð": "DH",
    "f": "F",
    "ɡ": "G",
    "g": "G",
    "h": "HH",
    "j": "Y",
    "k": "K",
    "l": "L",
    "m": "M",
    "n": "N",
    "ŋ": "NG",
    "p": "P",
    "ɹ": "R",
    "r": "R",
    "ɾ": "T",
    "s": "S",
    "ʃ": "SH",
    "t": "T",
    "θ": "TH",
    "v": "V",
    "w": "W",
    "z": "Z",
    "ʒ": "ZH",
    "ʔ": "T",
}
_IGNORED: Final = set("ˈˌː.-‿ \n")
_MAX_SYMBOL: Final = max(len(k) for k in _IPA_TO_ARPABET)


def cmudict_path() -> Path:
    """The CMU pronouncing dictionary shipped inside the pocketsphinx wheel."""
    return Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"


@functools.cache
def cmudict() -> dict[str, tuple[str, ...]]:
    """Load the CMU dictionary once per process: word -> its pronunciations."""
    entries: dict[str, list[str]] = {}
    with cmudict_path().open(encoding="utf-8") as fh:
        for line in fh:
            word, _, phones = line.strip().partition(" ")
            if not phones:
                continue
            base = word.split("(", 1)[0]
            entries.setdefault(base, []).append(phones.strip())
    return {w: tuple(p) for w, p in entries.items()}


def ipa_to_arpabet(ipa: str) -> str:
    """Map an espeak-ng IPA string to ARPAbet phones; unknown symbols are dropped."""
    phones: list[str] = []
    i = 0
    while i < len(ipa):
        if ipa[i] in _IGNORED:
            i += 1
            continue
        for size in range(_MAX_SYMBOL, 0, -1):
            symbol = ipa[i : i + size]
            if symbol in _IPA_TO_ARPABET:
                phones.append(_IPA_TO_ARPABET[symbol])
                i += size
                break
        else:
            log.debug("no ARPAbet phone for IPA symbol %r", ipa[i])
            i += 1
    return " ".join(phones)


def espeak_pronunciation(word: str) -> str | None:
    """Ask the espeak-ng program for ``word``'s IPA and map it to ARPAbet (None if unavailable)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-q", "--ipa", "-v", "en-us", word],
            capture_output=True,
            text=True,
            timeout=_ESPEAK_TIMEOUT_S,
            check=True,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("espeak-ng could not pronounce %r: %s", word, exc)
        return None
    phones = ipa_to_arpabet(done.stdout.strip())
    return phones or None


def _compound(word: str, known: dict[str, tuple[str, ...]]) -> str | None:
    for cut in range(_MIN_PART, len(word) - _MIN_PART + 1):
        head, tail = word[:cut], word[cut:]
        if head in known and tail in known:
            return f"{known[head][0]} {known[tail][0]}"
    return None


def pronounce(word: str) -> tuple[str, ...]:
    """All pronunciations of ``word``: dictionary entries, else a compound, else espeak-ng."""
    known = cmudict()
    if word in known:
        return known[word]
    guess = _compound(word.replace("'", ""), known) or espeak_pronunciation(word)
    if guess is None:
        return ()
    log.info("pronunciation for out-of-dictionary word %r: %s", word, guess)
    return (guess,)


def dictionary_lines(words: Iterable[str]) -> tuple[list[str], list[str]]:
    """Pocketsphinx dictionary lines for ``words`` (sorted) and the words left unpronounceable."""
    lines: list[str] = []
    missing: list[str] = []
    for word in sorted(set(words)):
        prons = pronounce(word)
        if not prons:
            missing.append(word)
            continue
        for n, phones in enumerate(prons):
            lines.append(f"{word} {phones}" if n == 0 else f"{word}({n + 1}) {phones}")
    return lines, missing
