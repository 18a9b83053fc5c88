"""Knowledge-base entries written as Markdown, for people who prefer prose to YAML.

One entry per second-level heading, whose text is the entry's id::

    ## parking
    - Is there parking?
    - Where can I park my car?

    Yes, there is free parking behind the building.
    Use the entrance on Derby Lane.

    When closed: (optional) words spoken instead while the line is closed.
    Offer handoff: yes       (optional)
    Source: hours            (optional: the answer comes from the line's hours)

The bullet lines are the questions; the other lines are the answer. Text before the first
``##`` (a title, notes) is ignored, and so are HTML comments on one line. Mistakes are
reported with the file and line, like the YAML format.
"""

from __future__ import annotations

import re
from pathlib import Path

from ari_app.config.kb_model import ENTRY_ID, Entry, check_spoken, kb_error

_HEADING = re.compile(r"^##\s+(.+?)\s*$")
_BULLET = re.compile(r"^\s*[-*]\s+(.+?)\s*$")
_OPTION = re.compile(r"^(when closed|offer handoff|source)\s*:\s*(.*?)\s*$", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


class _Draft:
    """An entry being read."""

    def __init__(self, entry_id: str, line: int) -> None:
        self.id = entry_id
        self.line = line
        self.questions: list[str] = []
        self.answer: list[str] = []
        self.closed: list[str] = []
        self.closed_line = 0
        self.answer_line = 0
        self.offer = False
        self.source = "text"
        self.in_closed = False


def _finish(path: Path, draft: _Draft) -> Entry:
    if not draft.questions:
        raise kb_error(path, draft.line, f"entry {draft.id!r} needs a list of questions (- ...)")
    answer = " ".join(draft.answer)
    if not answer and draft.source == "text":
        raise kb_error(path, draft.line, f"entry {draft.id!r} has no answer")
    if answer:
        check_spoken(path, draft.answer_line, answer, "answer")
    closed = " ".join(draft.closed) or None
    if closed:
        check_spoken(path, draft.closed_line, closed, "answer_when_closed")
    return Entry(
        id=draft.id,
        questions=tuple(draft.questions),
        answer=answer,
        answer_when_closed=closed,
        offer_handoff=draft.offer,
        source="hours" if draft.source == "hours" else "text",
        file=str(path),
        line=draft.line,
    )


def _option(path: Path, number: int, draft: _Draft, key: str, value: str) -> None:
    key = key.lower()
    if key == "when closed":
        draft.in_closed = True
        draft.closed_line = number
        if value:
            draft.closed.append(value)
    elif key == "offer handoff":
        if value.lower() not in ("yes", "no", "true", "false"):
            raise kb_error(path, number, "Offer handoff must be yes or no")
        draft.offer = value.lower() in ("yes", "true")
    else:
        if value.lower() not in ("text", "hours"):
            raise kb_error(path, number, "Source must be text or hours")
        draft.source = value.lower()


def parse_markdown(path: Path, text: str) -> list[Entry]:
    """The entries of a Markdown knowledge-base file."""
    entries: list[Entry] = []
    draft: _Draft | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if _COMMENT.match(raw):
            continue
        heading = _HEADING.match(raw)
        if heading:
            if draft is not None:
                entries.append(_finish(path, draft))
            entry_id = heading.group(1)
            if not ENTRY_ID.match(entry_id):
                raise kb_error(
                    path,
                    number,
                    f"id {entry_id!r} must be lower-case letters, digits and underscores",
                )
            draft = _Draft(entry_id, number)
            continue
        if draft is None or not raw.strip():
            if draft is not None:
                draft.in_closed = False
            continue
        bullet = _BULLET.match(raw)
        option = _OPTION.match(raw.strip())
        if bullet and not draft.answer and not draft.closed:
            draft.questions.append(bullet.group(1))
        elif option:
            _option(path, number, draft, option.group(1), option.group(2))
        elif draft.in_closed:
            draft.closed.append(raw.strip())
        else:
            if not draft.answer:
                draft.answer_line = number
            draft.answer.append(raw.strip())
    if draft is not None:
        entries.append(_finish(path, draft))
    return entries
