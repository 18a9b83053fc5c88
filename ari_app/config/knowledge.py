"""Reads the knowledge base: YAML FAQ files an operator edits, one entry per answer.

A knowledge-base folder holds ``*.yaml`` files, each with a list ``entries``. An entry has an
``id``, the ``questions`` callers might ask (a few wordings), and the ``answer`` spoken back,
written for the ear. Optional keys: ``answer_when_closed`` (spoken instead while the line is
closed), ``offer_handoff: true`` (the answer ends by offering a person; "yes" hands off),
``source: hours`` (the answer is built from the line's business hours at the moment of the
call, never from text). Markdown files (``*.md``) are read by :mod:`.kb_markdown`.

Mistakes are reported with the file and line: :func:`load_knowledge_base` raises the first,
:func:`knowledge_problems` lists the first of every file (for ``check-config`` and reloads).
YAML is read within the bounds of :mod:`.marked_yaml` (size, depth, alias expansion).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml

from ari_app.config.kb_markdown import parse_markdown
from ari_app.config.kb_model import (
    ENTRY_ID,
    MAX_SENTENCE_WORDS,
    Entry,
    KnowledgeBase,
    KnowledgeBaseError,
    check_spoken,
    kb_error,
)
from ari_app.config.marked_yaml import (
    ConfigProblem,
    KeyPath,
    MarkedDocument,
    YamlBoundError,
    compose_bounded,
)
from ari_app.config.models import Line

__all__ = [
    "ENTRY_ID",
    "MAX_SENTENCE_WORDS",
    "Entry",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "check_spoken",
    "knowledge_files",
    "knowledge_problems",
    "line_knowledge_problems",
    "load_file",
    "load_knowledge_base",
    "load_markdown",
]

_KEYS = {"id", "questions", "answer", "answer_when_closed", "offer_handoff", "source"}


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise kb_error(path, _line(node), f"{what} must be non-empty text")
    return " ".join(str(node.value).split())


def _entry(path: Path, node: yaml.Node) -> Entry:
    if not isinstance(node, yaml.MappingNode):
        raise kb_error(path, _line(node), "each entry must be a mapping")
    fields: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key not in _KEYS:
            raise kb_error(
                path,
                _line(key_node),
                f"unknown key {key!r} (expected one of {', '.join(sorted(_KEYS))})",
            )
        fields[key] = value_node
    if "id" not in fields:
        raise kb_error(path, _line(node), "entry has no id")
    entry_id = _scalar(path, fields["id"], "id")
    if not ENTRY_ID.match(entry_id):
        raise kb_error(
            path,
            _line(fields["id"]),
            f"id {entry_id!r} must be lower-case letters, digits and underscores",
        )
    qnode = fields.get("questions")
    if not isinstance(qnode, yaml.SequenceNode) or not qnode.value:
        raise kb_error(path, _line(qnode or node), f"entry {entry_id!r} needs a list of questions")
    questions = tuple(_scalar(path, q, "a question") for q in qnode.value)
    source: Literal["text", "hours"] = "text"
    if "source" in fields:
        value = _scalar(path, fields["source"], "source")
        if value not in ("text", "hours"):
            raise kb_error(path, _line(fields["source"]), "source must be 'text' or 'hours'")
        source = "hours" if value == "hours" else "text"
    answer = ""
    if "answer" in fields:
        answer = _scalar(path, fields["answer"], "answer")
        check_spoken(path, _line(fields["answer"]), answer, "answer")
    elif source == "text":
        raise kb_error(path, _line(node), f"entry {entry_id!r} has no answer")
    closed = None
    if "answer_when_closed" in fields:
        closed = _scalar(path, fields["answer_when_closed"], "answer_when_closed")
        check_spoken(path, _line(fields["answer_when_closed"]), closed, "answer_when_closed")
    offer = False
    if "offer_handoff" in fields:
        raw = fields["offer_handoff"]
        if not isinstance(raw, yaml.ScalarNode) or raw.value not in ("true", "false"):
            raise kb_error(path, _line(raw), "offer_handoff must be true or false")
        offer = raw.value == "true"
    return Entry(
        id=entry_id,
        questions=questions,
        answer=answer,
        answer_when_closed=closed,
        offer_handoff=offer,
        source=source,
        file=str(path),
        line=_line(node),
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise kb_error(path, None, f"cannot read: {exc}") from exc


def load_file(path: Path) -> list[Entry]:
    """Read the entries of one knowledge-base YAML file."""
    try:
        root = compose_bounded(_read_text(path))
    except YamlBoundError as exc:
        raise kb_error(path, exc.line, exc.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise kb_error(path, line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise kb_error(path, None, f"not valid YAML: {exc}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise kb_error(path, _line(root), "expected a mapping with 'entries'")
    for key_node, value_node in root.value:
        if key_node.value == "entries":
            if not isinstance(value_node, yaml.SequenceNode):
                raise kb_error(path, _line(value_node), "entries must be a list")
            return [_entry(path, item) for item in value_node.value]
        raise kb_error(path, _line(key_node), f"unknown key {key_node.value!r}")
    return []


def load_markdown(path: Path) -> list[Entry]:
    """Read the entries of one knowledge-base Markdown file (format in :mod:`.kb_markdown`)."""
    return parse_markdown(path, _read_text(path))


def knowledge_files(folder: Path) -> list[Path]:
    """The entry files of ``folder``: ``*.yaml``, ``*.yml``, ``*.md`` but README.md, sorted."""
    if not folder.is_dir():
        raise kb_error(folder, None, "knowledge base folder not found")
    markdown = [p for p in folder.glob("*.md") if p.name.lower() != "readme.md"]
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml"), *markdown])


def _load(path: Path) -> list[Entry]:
    return load_markdown(path) if path.suffix == ".md" else load_file(path)


def _gather(folder: Path, errors: list[KnowledgeBaseError]) -> list[Entry]:
    """Entries of every readable file; the first error of each file goes to ``errors``."""
    entries: list[Entry] = []
    seen: dict[str, Entry] = {}
    for path in knowledge_files(folder):
        try:
            loaded = _load(path)
        except KnowledgeBaseError as exc:
            errors.append(exc)
            continue
        for entry in loaded:
            if entry.id in seen:
                first = seen[entry.id]
                errors.append(
                    kb_error(
                        Path(entry.file),
                        entry.line,
                        f"duplicate id {entry.id!r} (first at {first.file}:{first.line})",
                    )
                )
                continue
            seen[entry.id] = entry
            entries.append(entry)
    if not entries and not errors:
        errors.append(kb_error(folder, None, "the knowledge base has no entries"))
    return entries


def load_knowledge_base(folder: Path) -> KnowledgeBase:
    """Read every ``*.yaml``/``*.yml``/``*.md`` file of ``folder`` (sorted) into one base.

    ``README.md`` is documentation, not entries, and is skipped. Raises the first problem.
    """
    errors: list[KnowledgeBaseError] = []
    entries = _gather(folder, errors)
    if errors:
        raise errors[0]
    return KnowledgeBase(entries=tuple(entries), folder=folder)


def knowledge_problems(folder: Path) -> list[KnowledgeBaseError]:
    """Every file's first problem in ``folder`` (empty when it loads)."""
    errors: list[KnowledgeBaseError] = []
    try:
        _gather(folder, errors)
    except KnowledgeBaseError as exc:
        return [exc]
    return errors


def line_knowledge_problems(
    root: Path, lines_doc: MarkedDocument, lines: dict[str, Line]
) -> list[ConfigProblem]:
    """Problems of every knowledge base an enabled AI agent of ``lines`` uses.

    The folder must exist inside the config directory ``root`` (no ``..``, no absolute
    path, no symlink out of it) and load without a problem; each problem names the
    knowledge-base file and line, or the ``knowledge_base`` key of lines.yaml.
    """
    problems: list[ConfigProblem] = []
    checked: set[Path] = set()
    base = root.resolve()
    for name, line in lines.items():
        if not line.ai_agent.enabled:
            continue
        key: KeyPath = ("lines", name, "ai_agent", "knowledge_base")
        folder = root / line.ai_agent.knowledge_base
        resolved = folder.resolve()
        if not resolved.is_relative_to(base):
            problems.append(
                lines_doc.problem(
                    key, f"the knowledge base {folder} is outside the config directory {root}"
                )
            )
            continue
        if resolved in checked:
            continue
        checked.add(resolved)
        if not folder.is_dir():
            problems.append(lines_doc.problem(key, f"knowledge base folder {folder} not found"))
            continue
        for err in knowledge_problems(folder):
            problems.append(ConfigProblem(err.file or folder, err.line, "", err.detail))
    return problems
