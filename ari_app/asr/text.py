"""Text normalisation for speech: lower case, no punctuation, numbers spoken as words.

Recognisers output lower-case words without punctuation and say "press one", not "press 1";
the language-model builder and the word-error-rate scorer both normalise through here so
that reference, training text and hypothesis are comparable.
"""

from __future__ import annotations

import re
from typing import Final

_ONES: Final = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS: Final = [
    "_",
    "_",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
]
_ORDINAL_EXCEPTIONS: Final = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_LONG_NUMBER_DIGITS: Final = 5
"""Digit runs this long or longer (phone numbers, codes) are read digit by digit."""

_MONEY = re.compile(r"\$(\d[\d,]*)(?:\.(\d\d))?")
_TIME = re.compile(r"\b(\d{1,2}):(\d\d)\b")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_PERCENT = re.compile(r"(\d)\s*%")
_NUMBER = re.compile(r"\d+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_NOT_WORD = re.compile(r"[^a-z' ]+")
_QUOTE = re.compile(r"(?<![a-z])'|'(?![a-z])")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_BLOCK_START = re.compile(r"^(?:[-*#>|]|\d+[.)]\s)")
_PHONE = re.compile(r"\b(\d{3})[ .-](\d{3})[ .-](\d{4})\b")
_DIGIT_GROUPS = re.compile(r"\b\d{3,}(?:-\d{3,})+\b")
"""Hyphen-joined digit groups ("617-5550199", as Whisper writes numbers read digit by digit)."""
_LISTED_DIGITS = re.compile(r"\b\d{2,4}(?:(?:, |-)\d{2,4}){1,4}\b")
"""Digit groups joined by commas or hyphens ("617, 555, 0199", "617-55-55", as Whisper
writes a number read in groups with pauses); spelled digit by digit when they hold a phone
number's seven digits or more."""
_PHONE_DIGITS: Final = 7


def number_words(n: int) -> str:
    """Spell a non-negative integer below a million in English words (``42`` -> ``forty two``)."""
    if n < 0 or n >= 1_000_000:
        raise ValueError(f"number out of range for words: {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = f"{_ONES[hundreds]} hundred"
        return head if rest == 0 else f"{head} {number_words(rest)}"
    thousands, rest = divmod(n, 1000)
    head = f"{number_words(thousands)} thousand"
    return head if rest == 0 else f"{head} {number_words(rest)}"


def ordinal_words(n: int) -> str:
    """Spell an ordinal number (``4`` -> ``fourth``, ``21`` -> ``twenty first``)."""
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINAL_EXCEPTIONS:
        words[-1] = _ORDINAL_EXCEPTIONS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _digits(run: str, *, spell: bool = False) -> str:
    if spell or len(run) >= _LONG_NUMBER_DIGITS or (len(run) > 1 and run.startswith("0")):
        return " ".join(_ONES[int(d)] for d in run)
    return number_words(int(run))


def _money(match: re.Match[str]) -> str:
    dollars = int(match.group(1).replace(",", ""))
    words = f"{_digits(str(dollars))} dollars"
    if match.group(2) and int(match.group(2)):
        words += f" {number_words(int(match.group(2)))} cents"
    return f" {words} "


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute == 0:
        return f" {number_words(hour)} "
    if minute < 10:
        return f" {number_words(hour)} oh {number_words(minute)} "
    return f" {number_words(hour)} {number_words(minute)} "


def _listed_digits(match: re.Match[str]) -> str:
    digits = match.group(0).replace(", ", "").replace("-", "")
    if len(digits) < _PHONE_DIGITS:
        return match.group(0)
    return " " + _digits(digits, spell=True) + " "


def normalise(text: str) -> str:
    """Lower-case ``text``, spell numbers as words and drop punctuation (keeps in-word ``'``)."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _THOUSANDS.sub("", text)
    text = _PHONE.sub(lambda m: " " + _digits("".join(m.groups()), spell=True) + " ", text)
    text = _DIGIT_GROUPS.sub(
        lambda m: " " + _digits(m.group(0).replace("-", ""), spell=True) + " ", text
    )
    text = _LISTED_DIGITS.sub(_listed_digits, text)
    text = _MONEY.sub(_money, text)
    text = _TIME.sub(_time, text)
    text = _ORDINAL.sub(lambda m: f" {ordinal_words(int(m.group(1)))} ", text)
    text = _PERCENT.sub(r"\1 percent", text)
    text = _NUMBER.sub(lambda m: f" {_digits(m.group(0))} ", text)
    text = text.lower().replace("&", " and ")
    text = _NOT_WORD.sub(" ", text)
    text = _QUOTE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Split prose or Markdown into sentences (at ``.!?``, blank lines, headings, list items)."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if _BLOCK_START.match(line):
            flush()
        current.append(line.lstrip("-*#>| \t"))
        if line.startswith("#"):
            flush()
    flush()
    parts = (p.strip() for block in blocks for p in _SENTENCE_END.split(block))
    return [p for p in parts if p]
