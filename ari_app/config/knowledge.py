"""Loads the knowledge base: YAML FAQ files an operator edits, one entry per answer.

A knowledge-base folder holds ``*.yaml`` files, each with a list ``entries``. An entry has an
``id``, the ``questions`` callers might ask (a few wordings), and the ``answer`` spoken back,
written for the ear. Optional keys: ``answer_when_closed`` (spoken instead while the line is
closed), ``offer_handoff: true`` (the answer ends by offering a person; "yes" hands off),
``source: hours`` (the answer is built from the line's business hours at the moment of the
call, never from text). Mistakes are reported with the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from ari_app.errors import AriAppError, Stage

ENTRY_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_URL = re.compile(r"(https?://|www\.|\b[\w-]+\.(com|org|net|io)\b)", re.IGNORECASE)
_KEYS = {"id", "questions", "answer", "answer_when_closed", "offer_handoff", "source"}
MAX_SENTENCE_WORDS = 30


class KnowledgeBaseError(AriAppError):
    """The knowledge base could not be read; the message names the file and line."""

    stage = Stage.ANSWER


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


def _where(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _scalar(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise KnowledgeBaseError(f"{_where(path, node)}: {what} must be non-empty text")
    return " ".join(str(node.value).split())


def _check_spoken(path: Path, node: yaml.Node, text: str, what: str) -> None:
    check_spoken(_where(path, node), text, what)


def check_spoken(where: str, text: str, what: str) -> None:
    """Refuse text that cannot be spoken well: web addresses, over-long sentences."""
    if _URL.search(text):
        raise KnowledgeBaseError(
            f"{where}: {what} contains a web address; answers are spoken, "
            "so say where to find it in words instead"
        )
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(sentence.split()) > MAX_SENTENCE_WORDS:
            raise KnowledgeBaseError(
                f"{where}: {what} has a sentence of {len(sentence.split())} words; "
                f"keep spoken sentences under {MAX_SENTENCE_WORDS} words"
            )


def _entry(path: Path, node: yaml.Node) -> Entry:
    if not isinstance(node, yaml.MappingNode):
        raise KnowledgeBaseError(f"{_where(path, node)}: each entry must be a mapping")
    fields: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key not in _KEYS:
            raise KnowledgeBaseError(
                f"{_where(path, key_node)}: unknown key {key!r} (expected one of "
                f"{', '.join(sorted(_KEYS))})"
            )
        fields[key] = value_node
    if "id" not in fields:
        raise KnowledgeBaseError(f"{_where(path, node)}: entry has no id")
    entry_id = _scalar(path, fields["id"], "id")
    if not ENTRY_ID.match(entry_id):
        raise KnowledgeBaseError(
            f"{_where(path, fields['id'])}: id {entry_id!r} must be lower-case letters, "
            "digits and underscores"
        )
    qnode = fields.get("questions")
    if not isinstance(qnode, yaml.SequenceNode) or not qnode.value:
        raise KnowledgeBaseError(
            f"{_where(path, qnode or node)}: entry {entry_id!r} needs a list of questions"
        )
    questions = tuple(_scalar(path, q, "a question") for q in qnode.value)
    source: Literal["text", "hours"] = "text"
    if "source" in fields:
        value = _scalar(path, fields["source"], "source")
        if value not in ("text", "hours"):
            raise KnowledgeBaseError(
                f"{_where(path, fields['source'])}: source must be 'text' or 'hours'"
            )
        source = "hours" if value == "hours" else "text"
    answer = ""
    if "answer" in fields:
        answer = _scalar(path, fields["answer"], "answer")
        _check_spoken(path, fields["answer"], answer, "answer")
    elif source == "text":
        raise KnowledgeBaseError(f"{_where(path, node)}: entry {entry_id!r} has no answer")
    closed = None
    if "answer_when_closed" in fields:
        closed = _scalar(path, fields["answer_when_closed"], "answer_when_closed")
        _check_spoken(path, fields["answer_when_closed"], closed, "answer_when_closed")
    offer = False
    if "offer_handoff" in fields:
        raw = fields["offer_handoff"]
        if not isinstance(raw, yaml.ScalarNode) or raw.value not in ("true", "false"):
            raise KnowledgeBaseError(f"{_where(path, raw)}: offer_handoff must be true or false")
        offer = raw.value == "true"
    return Entry(
        id=entry_id,
        questions=questions,
        answer=answer,
        answer_when_closed=closed,
        offer_handoff=offer,
        source=source,
        file=str(path),
        line=node.start_mark.line + 1,
    )


def load_file(path: Path) -> list[Entry]:
    """Read the entries of one knowledge-base YAML file."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise KnowledgeBaseError(f"{path}{line}: not valid YAML: {exc.problem}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot read: {exc}") from exc
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise KnowledgeBaseError(f"{_where(path, root)}: expected a mapping with 'entries'")
    for key_node, value_node in root.value:
        if key_node.value == "entries":
            if not isinstance(value_node, yaml.SequenceNode):
                raise KnowledgeBaseError(f"{_where(path, value_node)}: entries must be a list")
            return [_entry(path, item) for item in value_node.value]
        raise KnowledgeBaseError(f"{_where(path, key_node)}: unknown key {key_node.value!r}")
    return []


def load_markdown(path: Path) -> list[Entry]:
    """Read the entries of one knowledge-base Markdown file (format in the module docstring)."""
    from ari_app.answer.kb_markdown import parse_markdown  # noqa: PLC0415 - avoids a cycle

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot read: {exc}") from exc
    return parse_markdown(path, text)


def load_knowledge_base(folder: Path) -> KnowledgeBase:
    """Read every ``*.yaml``/``*.yml``/``*.md`` file of ``folder`` (sorted) into one base.

    ``README.md`` is documentation, not entries, and is skipped.
    """
    if not folder.is_dir():
        raise KnowledgeBaseError(f"{folder}: knowledge base folder not found")
    markdown = [p for p in folder.glob("*.md") if p.name.lower() != "readme.md"]
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml"), *markdown])
    entries: list[Entry] = []
    seen: dict[str, Entry] = {}
    for path in files:
        loaded = load_markdown(path) if path.suffix == ".md" else load_file(path)
        for entry in loaded:
            if entry.id in seen:
                first = seen[entry.id]
                raise KnowledgeBaseError(
                    f"{entry.file}:{entry.line}: duplicate id {entry.id!r} "
                    f"(first at {first.file}:{first.line})"
                )
            seen[entry.id] = entry
            entries.append(entry)
    if not entries:
        raise KnowledgeBaseError(f"{folder}: the knowledge base has no entries")
    return KnowledgeBase(entries=tuple(entries), folder=folder)
