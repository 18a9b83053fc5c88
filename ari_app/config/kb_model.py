"""The knowledge base's data: entries, the base, its error, and the rules for spoken text.

The knowledge base is configuration (files an operator edits beside lines.yaml), so its
reading lives in ``config/``: ``check-config`` and a reload validate it with file:line
errors before any call needs it. ``ari_app.answer`` retrieves from what is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ari_app.errors import AriAppError, Stage

ENTRY_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_URL = re.compile(
    r"(\b[a-z][a-z0-9+.-]*://|www\.|\b[\w-]+\.(com|org|net|io|edu|gov|info|biz|co|us|uk|de)\b)",
    re.IGNORECASE,
)
MAX_SENTENCE_WORDS = 30


class KnowledgeBaseError(AriAppError):
    """The knowledge base could not be read; the message names the file and line."""

    stage = Stage.ANSWER

    def __init__(self, message: str, *, file: Path | None = None, line: int | None = None):
        super().__init__(message)
        self.file = file
        self.line = line
        self.detail = message.split(": ", 1)[1] if file is not None and ": " in message else message


def kb_error(file: Path, line: int | None, message: str) -> KnowledgeBaseError:
    """A :class:`KnowledgeBaseError` at ``file:line`` (the message starts with the place)."""
    where = f"{file}:{line}" if line else str(file)
    return KnowledgeBaseError(f"{where}: {message}", file=file, line=line)


@dataclass(frozen=True)
class Entry:
    """One answer of the knowledge base and the questions that lead to it."""

    id: str
    questions: tuple[str, ...]
    answer: str
    answer_when_closed: str | None = None
    offer_handoff: bool = False
    source: Literal["text", "hours"] = "text"
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class KnowledgeBase:
    """Every entry of a knowledge-base folder, in file order."""

    entries: tuple[Entry, ...]
    folder: Path

    def get(self, entry_id: str) -> Entry:
        """The entry called ``entry_id`` (KeyError if there is none)."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    @property
    def ids(self) -> list[str]:
        """Entry ids in file order."""
        return [e.id for e in self.entries]


def check_spoken(file: Path, line: int | None, text: str, what: str) -> None:
    """Refuse text that cannot be spoken well: web addresses, over-long sentences."""
    if _URL.search(text):
        raise kb_error(
            file,
            line,
            f"{what} contains a web address; answers are spoken, "
            "so say where to find it in words instead",
        )
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(sentence.split()) > MAX_SENTENCE_WORDS:
            raise kb_error(
                file,
                line,
                f"{what} has a sentence of {len(sentence.split())} words; "
                f"keep spoken sentences under {MAX_SENTENCE_WORDS} words",
            )
